"""What a schema cannot see: names unique across files, references between sections, providers
that are installed, endpoints that would send a credential in clear text, and secrets written
where a reference belongs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.config.messages import at, dotted, literal_secret, short, show, suggest
from engine.config.secrets import parse_secret_ref
from engine.config.sources import CONFIG_DIR, CONFIG_FILE, Report, Source
from engine.endpoints import refusal_for_spec
from engine.model import Money
from engine.secret_files import secret_file_refusal
from engine.yamlsafe import YamlPath
from providers import registry
from providers.http import is_loopback

__all__ = ["Entry", "Merged", "check", "merge"]

_SECRET_LIKE_KEY = re.compile(
    r"(?:^|[_-])(secret|token|password|passwd|passphrase|api[_-]?key|private[_-]?key|access[_-]?key)$",
    re.IGNORECASE,
)


@dataclass
class Entry:
    source: Source
    path: YamlPath
    value: Any


@dataclass
class Merged:
    accounts: dict[str, Entry] = field(default_factory=dict)
    integrations: dict[str, Entry] = field(default_factory=dict)
    ignore: list[Entry] = field(default_factory=list)
    defaults: Entry | None = None


def merge(sources: Sequence[Source], report: Report) -> Merged:
    merged = Merged()
    for source in sources:
        data = source.data
        if not isinstance(data, dict):
            continue
        for section in ("accounts", "integrations"):
            table = data.get(section)
            if not isinstance(table, dict):
                continue
            seen: dict[str, Entry] = getattr(merged, section)
            for name, value in table.items():
                path: YamlPath = (section, name)
                if name in seen:
                    earlier = seen[name]
                    report.add(
                        source,
                        path,
                        f"{section}.{name} is declared twice: here and at {earlier.source.where(earlier.path)}",
                        f"names must be unique across {CONFIG_FILE} and {CONFIG_DIR}/*.yaml; rename or remove one",
                    )
                    continue
                seen[name] = Entry(source, path, value)
        rules = data.get("ignore")
        if isinstance(rules, list):
            merged.ignore.extend(Entry(source, ("ignore", i), rule) for i, rule in enumerate(rules))
        if "defaults" in data:
            if merged.defaults is not None:
                report.add(
                    source,
                    ("defaults",),
                    f"defaults is set here and at {merged.defaults.source.where(merged.defaults.path)}",
                    "defaults may appear in one file only; merge them",
                )
            else:
                merged.defaults = Entry(source, ("defaults",), data["defaults"])
    return merged


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def check(
    merged: Merged, report: Report, *, allowed_hosts: frozenset[str] = frozenset(), base_dir: Path | None = None
) -> None:
    """What the schema cannot see: references, installed providers, endpoints, stray secrets,
    credential files outside the repository.

    ``allowed_hosts``: endpoint hosts allowed outside tether.yaml to receive a credential;
    ``base_dir``: the directory of tether.yaml, where ``${file:}`` paths start (None: not checked)."""
    installed = registry.names()
    account_names = list(merged.accounts)

    for entry in merged.accounts.values():
        _check_account(entry, installed, report, allowed_hosts, base_dir)

    def check_account_ref(entry: Entry, path: YamlPath, name: Any) -> None:
        if not isinstance(name, str) or name in merged.accounts or not report.ok(entry.source, path):
            return
        listed = f"declared accounts: {_names(account_names)}" if account_names else "no accounts are declared"
        report.add(
            entry.source,
            path,
            at(path, f'no account named "{short(name)}"; {listed}'),
            suggest(name, account_names) or "declare it under accounts, or fix the name",
        )

    for entry in merged.integrations.values():
        spec = entry.value
        if not isinstance(spec, dict):
            continue
        account = spec.get("account")
        if not (isinstance(account, str) and account in merged.accounts):  # else no path to build
            check_account_ref(entry, entry.path + ("account",), account)
        terms = spec.get("terms")
        if isinstance(terms, dict):
            _check_money(entry, entry.path + ("terms", "early_termination_fee"), terms.get("early_termination_fee"), report)

    for entry in merged.ignore:
        rule = entry.value
        if isinstance(rule, dict) and isinstance(rule.get("match"), dict) and "account" in rule["match"]:
            check_account_ref(entry, entry.path + ("match", "account"), rule["match"]["account"])

    if merged.defaults is not None and isinstance(merged.defaults.value, dict):
        entry = merged.defaults
        _check_money(entry, entry.path + ("max_fee",), entry.value.get("max_fee"), report)


def _check_money(entry: Entry, path: YamlPath, value: Any, report: Report) -> None:
    if not isinstance(value, str) or not report.ok(entry.source, path):
        return
    try:
        Money.parse(value)
    except ValueError as exc:
        report.add(entry.source, path, at(path, str(exc)), "")


def _check_account(
    entry: Entry, installed: Sequence[str], report: Report, allowed_hosts: frozenset[str], base_dir: Path | None
) -> None:
    spec = entry.value
    if not isinstance(spec, dict):
        return
    source, base = entry.source, entry.path
    provider = spec.get("provider")
    if isinstance(provider, str) and report.ok(source, base + ("provider",)) and provider not in installed:
        report.add(
            source,
            base + ("provider",),
            at(base + ("provider",), f'unknown provider "{short(provider)}"; installed providers: {_names(installed)}'),
            suggest(provider, installed)
            or "third-party providers register under the 'tether.providers' entry-point group",
        )
    endpoint = spec.get("endpoint")
    if isinstance(endpoint, str) and report.ok(source, base + ("endpoint",)):
        problem = _endpoint_problem(endpoint) or refusal_for_spec(str(base[-1]), spec, allowed_hosts)
        if problem:
            report.add(source, base + ("endpoint",), at(base + ("endpoint",), problem[0]), problem[1])
    credentials = spec.get("credentials")
    if isinstance(credentials, dict):
        for key, value in credentials.items():
            path = base + ("credentials", key)
            if not isinstance(value, str) or not report.ok(source, path):
                continue
            ref = parse_secret_ref(value)
            if ref is None:
                message, hint = literal_secret(source.data, path)
                report.add(source, path, message, hint)
            elif ref.scheme == "file" and base_dir is not None:
                # Offline, so a reviewer's `tether validate` refuses it; resolving refuses it again.
                refusal = secret_file_refusal(Path(ref.target).expanduser(), base_dir, os.environ)
                if refusal:
                    report.add(source, path, at(path, f"{ref}: {refusal[0]}"), refusal[1])
    options = spec.get("options")
    if isinstance(options, dict):
        for path in _secret_like_options(options, base + ("options",)):
            report.add(
                source,
                path,
                f"{dotted(path)} looks like a secret; secrets are never written in tether.yaml",
                'move it under credentials as "${env:NAME}" or "${file:PATH}"; if it was real and reached '
                "git, rotate it",
            )


def _secret_like_options(options: Mapping[str, Any], path: YamlPath) -> Iterator[YamlPath]:
    for key, value in options.items():
        if isinstance(value, dict):
            yield from _secret_like_options(value, path + (key,))
        elif isinstance(value, str) and value.strip() and _SECRET_LIKE_KEY.search(key) and parse_secret_ref(value) is None:
            yield path + (key,)


def _endpoint_problem(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return f"{show(url)} is not a valid URL", "write it like https://api.example.com/path"
    if parts.username is not None or parts.password is not None:
        return (
            "holds a user name or password; credentials never go in the URL",
            'remove them and put the credential under credentials as "${env:NAME}"',
        )
    if parts.scheme not in ("http", "https") or not host:
        return f"{show(url)} is not an http(s) URL with a host", "write it like https://api.example.com/path"
    if parts.scheme == "http" and not is_loopback(url):
        return (
            f"{show(url)} is not https; credentials are sent only over https",
            "plain http is allowed only to this machine: 127.0.0.1, ::1 or localhost, as for the sandbox",
        )
    return None

