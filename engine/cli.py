"""The ``tether`` command: parses options and dispatches. No decisions are taken here.

Exit codes follow Terraform: 0 success; 1 error (bad input, refused, a cancel failed or stayed
blocked); 2 from ``plan --detailed-exitcode`` when apply would change something, and from
``audit`` when anything needs a look; 3 an internal error (a bug: please report it); 130 Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import structlog
import typer
from rich.console import Console
from rich.text import Text

from engine import __version__
from engine.errors import USER_ERRORS
from engine.i18n import detect_lang, t
from providers.http import DEFAULT_PARALLELISM

T = TypeVar("T")

app = typer.Typer(
    name="tether",
    help=(
        "Declare which integrations your store should have (carriers, paid subscriptions, apps, "
        "webhooks); tether compares them with what is live at each provider, plans, and cancels "
        "the rest safely: backup first, then cancel, then verify.\n\n"
        "Typical flow: tether init, edit tether.yaml, tether plan, tether apply."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
state_app = typer.Typer(help="Inspect or forget the bindings recorded in .tether/state.json.", no_args_is_help=True)
backups_app = typer.Typer(help="List backups and re-check their checksums.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Run the local emulator of the providers' APIs.", no_args_is_help=True)
app.add_typer(state_app, name="state")
app.add_typer(backups_app, name="backups")
app.add_typer(sandbox_app, name="sandbox")

log = structlog.get_logger("tether.cli")


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class LogFormat(str, Enum):
    console = "console"
    json = "json"


ConfigOpt = Annotated[
    list[Path] | None,
    typer.Option("--config", "-c", help="tether.yaml to read (repeat for more files). Default: ./tether.yaml plus ./tether.d/*.yaml."),
]
StateOpt = Annotated[Path | None, typer.Option("--state", help="State file. Default: .tether/state.json beside tether.yaml.")]
BackupOpt = Annotated[Path | None, typer.Option("--backup-dir", help="Backup directory. Default: .tether/backups.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="Language of human output: en or zh (or set TETHER_LANG).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="text for people, json for machines, markdown for pull requests.")]
TargetOpt = Annotated[list[str] | None, typer.Option("--target", help="Plan only this integration (repeatable).")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Leave this integration out (repeatable).")]
FeesOpt = Annotated[bool, typer.Option("--accept-fees", help="Allow cancels whose early-termination fee exceeds defaults.max_fee.")]
MassOpt = Annotated[bool, typer.Option("--allow-mass-cancel", help="Lift the mass-cancel guards (max_cancels, all of an account, empty listings).")]
ParallelOpt = Annotated[int, typer.Option("--parallelism", min=1, max=256, help="Requests in flight at once, across all providers (each vendor's own rate limits still apply).")]


def _examples(*lines: str) -> str:
    """An epilog of examples; the \\b line keeps click from re-wrapping it."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _interactive() -> bool:
    """Whether a person can answer the confirmation prompt."""
    return sys.stdin.isatty()


# Every string tether prints may hold data it did not write (addresses with a vendor's id in
# brackets, names, messages): rich must print it as it is, never read it as markup or emoji
# codes. "legacy-erp-cloud[sub_1LegacyERP]" was printed as "legacy-erp-cloud".
_PLAIN = {"soft_wrap": True, "highlight": False, "markup": False, "emoji": False}


def _out() -> Console:
    return Console(file=sys.stdout, **_PLAIN)


def _print_text(text: Text) -> None:
    """A long report to stdout: through rich where it has colours to show, as its plain text
    where it has none (a pipe, a file, CI, NO_COLOR). Rich renders text span by span, which for
    the plan of 500 shops (139,000 actions, 19 MB) took seven seconds to print what is, without
    colours, exactly ``text.plain``."""
    console = _out()
    if console.color_system is None:
        sys.stdout.write(text.plain)
    else:
        console.print(text, end="")


def _err() -> Console:
    return Console(file=sys.stderr, **_PLAIN)


def _fail(message: str, lang: str, code: int = 1) -> NoReturn:
    console = _err()
    console.print(Text(t("plan.label", lang, label=t("error", lang)), style="bold red") + Text(message))
    raise typer.Exit(code)


def _guard(lang: str, body: Callable[[], int], *, batch: bool = True) -> NoReturn:
    """Run a command body; turn every known error into one clear message and an exit code.

    A batch command (all but the sandbox server) runs with the cyclic collector off: see
    engine.gctune."""
    from contextlib import nullcontext

    from engine import gctune

    try:
        with gctune.batch() if batch else nullcontext():
            code = body()
    except typer.Exit:
        raise
    except USER_ERRORS as exc:
        _fail(str(exc), lang, getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        _err().print("Interrupted.")
        raise typer.Exit(130)
    except BrokenPipeError:
        # Whoever read stdout has gone (`tether plan | head`), while tether wrote it itself
        # (_print_text): stop as rich does for what it prints, quietly with status 1, stdout
        # sent to /dev/null so the exit's flush does not fail again.
        _out().on_broken_pipe()
    except Exception as exc:  # a bug: keep the traceback in the log, not in the user's face
        log.exception("internal_error", error=repr(exc))
        _fail(
            f"internal error ({type(exc).__name__}: {exc}). This is a bug in tether {__version__}; "
            "please report it with the log above (--log-level debug).",
            lang,
            3,
        )
    raise typer.Exit(code)


def _print_version(asked: bool) -> None:
    # Eager: it answers while the options are read, before a missing command is an error.
    if asked:
        print(f"tether {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    log_format: Annotated[LogFormat | None, typer.Option("--log-format", help="Logs on stderr: console, or json (default in CI).")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "warning",
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    from engine.logs import configure
    from providers.http import REDACTOR

    configure(log_level, log_format.value if log_format else None, REDACTOR)


# -- helpers shared by commands -------------------------------------------------------------------


def _workspace(config: list[Path] | None, state: Path | None = None, backup_dir: Path | None = None) -> Any:
    from engine.workspace import Workspace

    return Workspace.from_options(config, state, backup_dir)


def _load(ws: Any) -> Any:
    from engine.config import default_paths, load_config
    from engine.gctune import kept

    paths = list(ws.config_paths) if ws.config_paths else None
    if paths and len(paths) == 1:
        paths = default_paths(paths[0])  # --config x/tether.yaml brings x/tether.d/*.yaml too
    started, cpu = time.monotonic(), time.process_time()
    loaded = kept(load_config(paths, cwd=ws.root))
    log.info(
        "config.loaded",
        files=len(loaded.files),
        accounts=len(loaded.accounts),
        integrations=len(loaded.integrations),
        seconds=round(time.monotonic() - started, 3),
        cpu_s=round(time.process_time() - cpu, 3),
    )
    return loaded


def _store(ws: Any) -> Any:
    from states.local import LocalStateStore

    return LocalStateStore(ws.state_path)


def _progress() -> Any:
    """A progress bar per provider on a terminal; nothing when stderr is not one."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(TextColumn("refreshing {task.description}"), BarColumn(), MofNCompleteColumn(), console=_err(), transient=True)
    return progress, {}


def _run(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, with the result handed back outside the task. On the way out
    asyncio.run puts the SIGINT handler back, and Python's signal module builds the text of the
    old handler, which names the task and so its result: for a plan of 150,000 bindings that text
    took seconds to build and was thrown away."""
    box: list[T] = []

    async def keep() -> None:
        box.append(await work)

    asyncio.run(keep())
    return box[0]


def _plan(config: Any, state: Any, request: Any) -> Any:
    from engine.gctune import kept
    from engine.runner import build_plan

    progress, tasks = _progress()
    if progress is None:
        return kept(_run(build_plan(config, state, request)))
    totals: dict[str, int] = {}
    for account in config.accounts.values():
        totals[account.provider] = totals.get(account.provider, 0) + 1
    with progress:
        for provider, total in sorted(totals.items()):
            tasks[provider] = progress.add_task(provider, total=total)

        def advance(account: str, _: Any) -> None:
            progress.advance(tasks[config.accounts[account].provider])

        return kept(_run(build_plan(config, state, request, advance)))


def _write_bytes(data: bytes) -> None:
    """UTF-8 bytes to stdout as they are (a large plan is not decoded only to be encoded again)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's capture)
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)
        buffer.flush()


def _render(plan: Any, fmt: Format, lang: str, state: Any, *, audit: bool = False) -> None:
    started, cpu = time.monotonic(), time.process_time()
    _render_plan(plan, fmt, lang, state, audit=audit)
    log.info(
        "output.written",
        format=fmt.value,
        seconds=round(time.monotonic() - started, 3),
        cpu_s=round(time.process_time() - cpu, 3),
    )


def _render_plan(plan: Any, fmt: Format, lang: str, state: Any, *, audit: bool) -> None:
    if fmt is Format.json:
        from engine.planfile import dump_bytes

        _write_bytes(dump_bytes(plan))
    elif fmt is Format.markdown:
        from engine.render.markdown import render_markdown

        sys.stdout.write(render_markdown(plan, lang, state_changes=plan.state_changes(state), audit=audit))
    else:
        from engine.render.text import render_plan

        _print_text(render_plan(plan, lang, state_changes=plan.state_changes(state), audit=audit))


def _parse_age(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text[-1] in units:
            return timedelta(seconds=float(text[:-1]) * units[text[-1]])
        return timedelta(hours=float(text))
    except (ValueError, IndexError):
        raise typer.BadParameter(f"{text!r} is not a duration like 24h, 90m or 2d") from None


# -- commands -----------------------------------------------------------------------------------


@app.command(epilog=_examples("tether init", "tether init --example demo   # the bundled example that `make demo` runs"))
def init(
    example: Annotated[str | None, typer.Option("--example", help="Write a ready-made example instead of a starter file: demo.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing tether.yaml.")] = False,
    directory: Annotated[Path, typer.Option("--dir", help="Where to write.")] = Path("."),
    lang: LangOpt = None,
) -> None:
    """Write tether.yaml (with a schema comment for editors), .tether/ and .tether/.gitignore."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.scaffold import write_init

        for line in write_init(directory, example, force):
            _out().print(line)
        return 0

    _guard(lang, body)


@app.command()
def validate(config: ConfigOpt = None, lang: LangOpt = None) -> None:
    """Check tether.yaml offline: schema, references, credentials syntax. Exit 0 valid, 1 invalid."""
    lang = detect_lang(lang)

    def body() -> int:
        from providers import registry

        ws = _workspace(config)
        cfg = _load(ws)
        for account in cfg.accounts.values():  # provider-specific options, still offline
            check = getattr(registry.provider_class(account.provider), "validate_account", None)
            if check is not None:
                check(account)
        _out().print(
            f"{', '.join(str(f) for f in cfg.files)}: valid ({len(cfg.accounts)} accounts, "
            f"{len(cfg.integrations)} integrations, {len(cfg.ignore)} ignore rules)"
        )
        return 0

    _guard(lang, body)


@app.command(epilog=_examples(
    "tether plan",
    "tether plan --out tether.plan          # save it; apply exactly this later",
    "tether plan --format markdown          # for a pull-request comment",
    "tether plan --detailed-exitcode        # CI: exit 2 when apply would change something",
    "tether plan --target legacy-erp-hooks  # only this integration",
))
def plan(
    config: ConfigOpt = None,
    state: StateOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Save the plan to apply it later, exactly as shown.")] = None,
    fmt: FormatOpt = Format.text,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="Exit 2 when apply would change something.")] = False,
    target: TargetOpt = None,
    exclude: ExcludeOpt = None,
    accept_fees: FeesOpt = False,
    allow_mass_cancel: MassOpt = False,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show details of kept bindings too.")] = False,
    lang: LangOpt = None,
) -> None:
    """Refresh live bindings, compare with tether.yaml, and print the plan. Read-only."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.runner import PlanRequest

        ws = _workspace(config, state)
        cfg = _load(ws)
        _check_names(cfg, target, exclude)
        current = _store(ws).read()
        request = PlanRequest(accept_fees, allow_mass_cancel, tuple(target or ()), tuple(exclude or ()), parallelism)
        result = _plan(cfg, current, request)
        if fmt is Format.text and verbose:
            from engine.render.text import render_plan

            _print_text(render_plan(result, lang, state_changes=result.state_changes(current), verbose=True))
        else:
            _render(result, fmt, lang, current)
        if out is not None:
            from engine.planfile import write_plan

            write_plan(out, result)
            if fmt is Format.text:
                _out().print(t("plan.saved", lang, path=out))
        if _refresh_failed(result):
            return 1
        if detailed_exitcode and result.has_changes(current):
            return 2
        return 0

    _guard(lang, body)


def _refresh_failed(plan: Any) -> bool:
    """A provider could not be listed fully: the plan is not the whole truth (exit 1)."""
    return bool(plan.incomplete)


def _check_names(cfg: Any, target: list[str] | None, exclude: list[str] | None) -> None:
    from engine.errors import ConfigError

    unknown = [n for n in (target or []) + (exclude or []) if n not in cfg.integrations]
    if unknown:
        raise ConfigError(
            f"--target/--exclude name no integration: {', '.join(unknown)} "
            f"(integrations: {', '.join(sorted(cfg.integrations)) or 'none'})"
        )


@app.command(epilog=_examples(
    "tether apply                    # plan, show it, ask for 'yes'",
    "tether apply tether.plan        # a saved plan: refused if the world moved since",
    "tether apply --auto-approve     # CI, after review",
))
def apply(
    planfile: Annotated[Path | None, typer.Argument(help="A plan saved with `tether plan --out`. Without it, tether plans and asks.")] = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    backup_dir: BackupOpt = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")] = False,
    accept_fees: FeesOpt = False,
    allow_mass_cancel: MassOpt = False,
    max_plan_age: Annotated[str, typer.Option("--max-plan-age", help="Refuse a saved plan older than this (24h, 90m, 2d).")] = "24h",
    target: TargetOpt = None,
    exclude: ExcludeOpt = None,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    lang: LangOpt = None,
) -> None:
    """Carry out a plan: for each cancel, back up, cancel, verify, record. Blocked ones are skipped."""
    lang = detect_lang(lang)
    age = _parse_age(max_plan_age)

    def body() -> int:
        from engine.apply import ApplySettings
        from engine.planfile import read_plan
        from engine.render.text import render_apply
        from engine.runner import PlanRequest, plan_sha256, run_apply
        from engine.workspace import new_run_id

        ws = _workspace(config, state, backup_dir)
        if planfile is not None:
            saved, sha = read_plan(planfile)  # a corrupt plan is refused before anything else
        cfg = _load(ws)
        store = _store(ws)
        if planfile is None and not auto_approve and not _interactive():
            _fail(t("apply.no_tty", lang), lang)
        with store.lock("apply"):
            current = store.read()
            if planfile is not None:
                the_plan, max_age = saved, age
                if accept_fees and not saved.accept_fees:
                    _err().print("Note: --accept-fees does not change a saved plan; make a new plan with --accept-fees.")
            else:
                _check_names(cfg, target, exclude)
                request = PlanRequest(accept_fees, allow_mass_cancel, tuple(target or ()), tuple(exclude or ()), parallelism)
                the_plan, max_age = _plan(cfg, current, request), None
                _render(the_plan, Format.text, lang, current)
                if not the_plan.has_changes(current):
                    from engine.journal import close_interrupted

                    # The refresh just re-read everything an interrupted run left open.
                    close_interrupted(ws.journal_dir, current_run="")
                    _out().print(t("apply.nothing", lang))
                    return 1 if _refresh_failed(the_plan) else 0
                if not auto_approve:
                    answer = typer.prompt(t("apply.confirm", lang), default="", show_default=False)
                    if answer.strip() != "yes":
                        _out().print(t("apply.cancelled_by_user", lang))
                        return 1
                sha = plan_sha256(the_plan)
            ws.ensure_private_dirs()
            now = datetime.now(timezone.utc)
            run_id = new_run_id(now)
            settings = ApplySettings(
                run_id=run_id,
                plan_sha256=sha,
                now=now,
                config_sha256=cfg.sha256,
                backup_dir=ws.backup_dir,
                journal_dir=ws.journal_dir,
                max_plan_age=max_age,
            )
            console = _out()

            def report(event: str, fields: dict[str, Any]) -> None:
                if event == "backup":
                    datasets = " + ".join(fields["datasets"])
                    console.print(t("apply.backup", lang, address=fields["address"], backup_id=fields["backup_id"], datasets=datasets))
                elif event == "verified":
                    console.print(t("apply.verified", lang, address=fields["address"]))
                elif event == "preflight":
                    console.print(t("apply.preflight", lang, **fields), style="dim")
                elif event == "resume":
                    console.print(t("apply.resume", lang, **fields), style="yellow")

            result = _run(
                run_apply(the_plan, cfg, store, settings, ws.audit_dir / f"{run_id}.jsonl", report, parallelism)
            )
            if not result.results and not result.blocked:
                changes = the_plan.state_changes(current)
                console.print(t("apply.state_only", lang, count=len(changes)))
                return 1 if _refresh_failed(the_plan) else 0
            console.print(render_apply(result, lang), end="")
            audit_file = ws.audit_dir / f"{run_id}.jsonl"
            if audit_file.exists():
                console.print(t("apply.audit", lang, path=audit_file), style="dim")
            return 0 if result.ok and not _refresh_failed(the_plan) else 1

    _guard(lang, body)


@app.command()
def show(
    planfile: Annotated[Path | None, typer.Argument(help="A saved plan. Without it, the recorded state is shown.")] = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    fmt: FormatOpt = Format.text,
    lang: LangOpt = None,
) -> None:
    """Render a saved plan, or the recorded state. Reads nothing live."""
    lang = detect_lang(lang)

    def body() -> int:
        ws = _workspace(config, state)
        current = _store(ws).read()
        if planfile is not None:
            from engine.planfile import read_plan

            saved, _ = read_plan(planfile)
            _render(saved, fmt, lang, current)
            return 0
        _print_state(current, fmt, lang)
        return 0

    _guard(lang, body)


def _print_state(current: Any, fmt: Format, lang: str) -> None:
    if fmt is Format.json:
        from states.codec import encode

        sys.stdout.write(encode(current).decode("utf-8"))
        return
    if not current.records:
        _out().print(t("state.empty", lang))
        return
    console = _out()
    console.print(f"state serial {current.serial}, lineage {current.lineage}")
    for address in sorted(current.records):
        record = current.records[address]
        flags = " [protected]" if record.protect else ""
        console.print(f"  {address}  {record.kind} \"{record.name}\" ({record.live_id}) on {record.account}: {record.status.value}{flags}")


@app.command(epilog=_examples(
    "tether audit --format markdown  # nightly, with a read-only credential",
))
def audit(
    config: ConfigOpt = None,
    state: StateOpt = None,
    fmt: FormatOpt = Format.text,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    lang: LangOpt = None,
) -> None:
    """Read-only report of every live binding against tether.yaml, undeclared ones included.
    Exit 0 clean, 2 something to look at, 1 error."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.runner import PlanRequest

        ws = _workspace(config, state)
        cfg = _load(ws)
        current = _store(ws).read()
        result = _plan(cfg, current, PlanRequest(parallelism=parallelism, audit=True))
        _render(result, fmt, lang, current, audit=True)
        if _refresh_failed(result):
            return 1
        return 2 if result.needs_attention() else 0

    _guard(lang, body)


@state_app.command("list")
def state_list(config: ConfigOpt = None, state: StateOpt = None, lang: LangOpt = None) -> None:
    """List recorded bindings, one address a line."""
    lang = detect_lang(lang)

    def body() -> int:
        current = _store(_workspace(config, state)).read()
        for address in sorted(current.records):
            _out().print(address)
        return 0

    _guard(lang, body)


@state_app.command("show")
def state_show(address: str, config: ConfigOpt = None, state: StateOpt = None, lang: LangOpt = None) -> None:
    """Show one recorded binding."""
    lang = detect_lang(lang)

    def body() -> int:
        current = _store(_workspace(config, state)).read()
        record = current.records.get(address)
        if record is None:
            _fail(f"no recorded binding at {address}; see `tether state list`", lang)
        sys.stdout.write(json.dumps(record.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return 0

    _guard(lang, body)


@state_app.command("rm")
def state_rm(address: str, config: ConfigOpt = None, state: StateOpt = None, lang: LangOpt = None) -> None:
    """Forget a recorded binding (nothing is cancelled; protection recorded for it is dropped)."""
    lang = detect_lang(lang)

    def body() -> int:
        store = _store(_workspace(config, state))
        with store.lock("state rm"):
            current = store.read()
            if address not in current.records:
                _fail(f"no recorded binding at {address}; see `tether state list`", lang)
            store.persist(current.without(address))
        _out().print(f"Removed {address} from the state.")
        return 0

    _guard(lang, body)


@backups_app.command("list")
def backups_list(config: ConfigOpt = None, backup_dir: BackupOpt = None, lang: LangOpt = None) -> None:
    """List backups: id, binding, files and records."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.backup import list_backups

        ws = _workspace(config, None, backup_dir)
        found = list_backups(ws.backup_dir)
        if not found:
            _out().print(t("backups.none", lang))
        for manifest in found:
            _out().print(_describe_backup(manifest))
        return 0

    _guard(lang, body)


def _describe_backup(manifest: Any) -> str:
    if getattr(manifest, "complete", True) is False:
        return f"{manifest.backup_id}  INCOMPLETE"
    files = ", ".join(f"{f.name} ({f.records})" for f in manifest.files)
    return f"{manifest.backup_id}  {manifest.address or '?'}  {files}"


@backups_app.command("verify")
def backups_verify(
    backup_id: Annotated[str | None, typer.Argument(help="One backup id; all when left out.")] = None,
    config: ConfigOpt = None,
    backup_dir: BackupOpt = None,
    lang: LangOpt = None,
) -> None:
    """Re-check every file of a backup against its manifest (sha256, size, records)."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.backup import list_backups, verify_backup

        ws = _workspace(config, None, backup_dir)
        ids = [backup_id] if backup_id else [m.backup_id for m in list_backups(ws.backup_dir)]
        bad = 0
        for one in ids:
            problems = verify_backup(ws.backup_dir, one)
            if problems:
                bad += 1
                _out().print(f"{one}: FAILED")
                for problem in problems:
                    _out().print(f"  - {problem}")
            else:
                _out().print(f"{one}: ok")
        return 1 if bad else 0

    _guard(lang, body)


@app.command("force-unlock")
def force_unlock(
    lock_id: Annotated[str, typer.Argument(help="The lock id printed by the run that holds it.")],
    config: ConfigOpt = None,
    state: StateOpt = None,
    lang: LangOpt = None,
) -> None:
    """Release a stale lock left by a run that is gone. Check first that it really is gone."""
    lang = detect_lang(lang)

    def body() -> int:
        info = _store(_workspace(config, state)).force_unlock(lock_id)
        _out().print(f"Released lock {lock_id} ({info.operation}, pid {info.pid}).")
        return 0

    _guard(lang, body)


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8787,
    scenario: Annotated[str, typer.Option("--scenario", help="demo, or a scenario YAML file.")] = "demo",
    latency_ms: Annotated[int, typer.Option("--latency-ms", min=0, help="Added to every answer.")] = 0,
    error_rate: Annotated[float, typer.Option("--error-rate", min=0.0, max=1.0, help="Share of requests answered 503.")] = 0.0,
    host: Annotated[str, typer.Option("--host", help="Loopback address to bind.")] = "127.0.0.1",
) -> None:
    """Serve emulators of the Shopify, Amazon SP-API, eBay, Stripe and generic vendor APIs over
    real HTTP on loopback, so plan and apply can run without touching a real store."""

    def body() -> int:
        from providers.sandbox import main_serve

        main_serve(port=port, scenario=scenario, latency_ms=latency_ms, error_rate=error_rate, host=host)
        return 0

    _guard("en", body, batch=False)  # runs until stopped: the collector stays on


@app.command("providers")
def providers_cmd() -> None:
    """List installed providers and what each can do (kinds, backup datasets, sides, verify)."""

    def body() -> int:
        from engine.errors import ConfigError
        from providers import registry

        console = _out()
        for name in registry.names():
            try:
                cls = registry.provider_class(name)
            except ConfigError as exc:
                console.print(f"{name}: unavailable ({exc})")
                continue
            caps = cls.capabilities
            kinds = ", ".join(sorted(k.value for k in caps.kinds))
            datasets = ", ".join(["binding", *sorted(caps.datasets)])
            extra = " (manual runbooks only)" if caps.manual_only else ""
            console.print(
                f"{name}: kinds {kinds}; backup {datasets}; sides {', '.join(caps.sides)}; "
                f"verify {'yes' if caps.verify else 'no'}{extra}"
            )
        return 0

    _guard("en", body)


def main() -> None:
    """The ``tether`` console script: the command, then a quick exit (see ``leave``)."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    from engine import gctune

    gctune.exit_follows()
    try:
        app()
    except SystemExit as stop:
        leave(stop.code)
    leave(0)


def leave(code: object) -> NoReturn:
    """Exit as ``sys.exit(code)`` would, without tearing every object down first.

    At exit Python frees the objects one by one; after a plan of 165,000 bindings that took a
    third of a second, for memory the system takes back at once. The command is over by now:
    its state, journal and backup files are written through raw descriptors and fsynced, and
    its plan file closed. So this flushes stdout and stderr, runs the atexit hooks (logging's
    flush among them), and ends the process with ``os._exit``.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader has gone (tether plan | head): quietly, as above
            status = status or 1
        except (OSError, ValueError):  # any other failed flush: Python's own status for it
            status = status or 120
    os._exit(status)


if __name__ == "__main__":
    main()
