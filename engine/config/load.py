"""``load_config``: read every file, check each against the schema, then across files, and build
the ``Config``; or raise one ``ConfigError`` listing every problem found, each at ``file:line``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.config.build import build_config
from engine.config.messages import phrase
from engine.config.references import check, merge
from engine.config.schema import quick_check, validator
from engine.config.sources import CONFIG_FILE, Report, Source, default_paths, label_for, read_file
from engine.errors import ConfigError, Diagnostic
from engine.model import Config
from engine.yamlsafe import decode_text, parse_yaml

__all__ = ["load_config"]


def load_config(
    paths: Sequence[str | Path] | None = None,
    *,
    cwd: str | Path | None = None,
    allowed_hosts: frozenset[str] = frozenset(),
) -> Config:
    """Read, check and return the configuration; ConfigError lists every problem found.

    Without ``paths``: ``tether.yaml`` in ``cwd`` (default: the process's working directory) and
    the ``tether.d/*.yaml`` beside it (``default_paths`` gives the same list for another file).
    Given ``paths`` are opened as given, exactly those, in that order; ``cwd`` then only makes the
    file names in messages short. ``allowed_hosts`` are the endpoint hosts allowed outside
    tether.yaml (``--allow-endpoint``, ``TETHER_ALLOW_ENDPOINTS``) to receive a credential.
    Credentials are not resolved (see ``resolve_credentials``); nothing is written.
    """
    base = (Path(cwd) if cwd is not None else Path.cwd()).absolute()
    if paths is None:
        files = default_paths(base / CONFIG_FILE)
    else:
        files = [Path(p) for p in paths]
        if not files:
            raise ConfigError([Diagnostic(CONFIG_FILE, None, "no configuration file was given")])

    report = Report()
    sources: list[Source] = []
    valid: dict[int, bool] = {}
    is_valid = quick_check()
    for index, path in enumerate(files):
        label = label_for(path, base)
        try:
            raw = read_file(path, label, index == 0)
            doc = parse_yaml(decode_text(raw, label), label)
        except ConfigError as exc:
            for diagnostic in exc.diagnostics:
                report.add_plain(diagnostic, index)
            continue
        valid[index] = is_valid(doc.data)
        source = Source(path, label, raw, doc, index)
        sources.append(source)
        for problem in doc.problems:
            report.add_plain(problem, index)
    if len(sources) != len(files):  # unreadable files: references into them would only mislead
        raise ConfigError(report.diagnostics())

    for source in sources:
        if valid[source.index]:
            continue
        for error in validator().iter_errors(source.data):
            for where, message, hint in phrase(error, source.data):
                report.flagged.add((source.index, where))
                report.add(source, where, message, hint)

    merged = merge(sources, report)
    base_dir = files[0].absolute().parent
    check(merged, report, allowed_hosts=allowed_hosts, base_dir=base_dir)
    problems = report.diagnostics()
    if problems:
        raise ConfigError(problems)

    return replace(build_config(merged, sources, base_dir), allowed_hosts=allowed_hosts)
