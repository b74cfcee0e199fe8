"""``tether audit``: every live binding against the declarations, read-only."""

from __future__ import annotations

from engine.cli.common import (
    DEFAULT_PARALLELISM,
    DEFAULT_TIMEOUT,
    AllowEndpointOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    LangOpt,
    ParallelOpt,
    StateOpt,
    TimeoutOpt,
    VerboseOpt,
    examples,
    guard,
    load,
    parse_duration,
    render,
    store_for,
    workspace,
)
from engine.i18n import detect_lang

EPILOG = examples(
    "tether audit --format markdown  # nightly, with a read-only credential",
    "tether audit --timeout 10m      # a silent vendor ends the run, reported incomplete",
)


def audit(
    config: ConfigOpt = None,
    state: StateOpt = None,
    fmt: FormatOpt = Format.text,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT,
    allow_endpoint: AllowEndpointOpt = None,
    verbose: VerboseOpt = False,
    lang: LangOpt = None,
) -> None:
    """Read-only report of every live binding against tether.yaml, undeclared ones included.
    Exit 0 clean, 2 something to look at (cancel, drift, missing, ambiguous, unmanaged, blocked,
    manual, unverifiable), 1 an error or an incomplete listing."""
    lang = detect_lang(lang)
    timeout_s = parse_duration(timeout, default_unit="s")

    def body() -> int:
        from engine.cli.progress import plan_with_progress
        from engine.runner import PlanRequest

        ws = workspace(config, state)
        cfg = load(ws, allow_endpoint)
        current = store_for(ws).read()
        request = PlanRequest(parallelism=parallelism, audit=True, timeout_s=timeout_s)
        result = plan_with_progress(cfg, current, request)
        render(result, fmt, lang, current, audit=True, verbose=verbose)
        if not result.is_complete:
            return 1
        return 2 if result.needs_attention() else 0

    guard(lang, body)
