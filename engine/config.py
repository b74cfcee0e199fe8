"""tether.yaml, version 1 (SPEC section 3): read, check, and turn into a frozen ``Config``.

Loading is offline and writes nothing. It reads ``tether.yaml`` and ``tether.d/*.yaml`` through
the guarded parser in ``engine.yamlsafe``, checks each file against ``schemas/config.schema.json``,
then checks what a schema cannot see (references between files, providers that are installed,
endpoints that would send a credential in clear text, secrets written where a reference belongs).
Every problem found is reported at once, each with ``file:line`` and what to do, in one
``ConfigError``: users fix a file in one round trip, not one error per run.

Credentials are references (``${env:NAME}``, ``${file:PATH}``) and stay references in the
``Config``; ``resolve_credentials`` reads them only when a command is about to talk to a provider,
so ``tether validate`` works on a machine that holds no secrets. No message ever quotes a value
found where a credential belongs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from engine.errors import ConfigError, Diagnostic
from engine.model import (
    Account,
    CancelAt,
    Config,
    Defaults,
    Ensure,
    IgnoreRule,
    Integration,
    Kind,
    Money,
    SecretRef,
    Terms,
    Undeclared,
)
from engine.parallel import split_map
from engine.yamlsafe import YamlDocument, YamlPath, decode_text, parse_yaml
from providers import registry
from providers.http import is_loopback
from schemas import compile_check, load_schema, schema_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = [
    "CONFIG_DIR",
    "CONFIG_FILE",
    "MAX_FILE_BYTES",
    "SCHEMA_URL_COMMENT",
    "default_paths",
    "load_config",
    "parse_secret_ref",
    "resolve_credentials",
    "schema_comment",
]

CONFIG_FILE = "tether.yaml"
CONFIG_DIR = "tether.d"
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_SECRET_FILE_BYTES = 64 * 1024
SCHEMA_URL_COMMENT = "# yaml-language-server: $schema="

_SECRET_REF = re.compile(r"\$\{(env|file):([^}\n]+)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_LIKE_KEY = re.compile(
    r"(?:^|[_-])(secret|token|password|passwd|passphrase|api[_-]?key|private[_-]?key|access[_-]?key)$",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --------------------------------------------------------------------------------------------
# public helpers


def parse_secret_ref(value: Any) -> SecretRef | None:
    """``SecretRef`` for exactly ``${env:NAME}`` or ``${file:PATH}``; None for anything else."""
    if not isinstance(value, str):
        return None
    found = _SECRET_REF.fullmatch(value)
    if not found:
        return None
    scheme, target = found.group(1), found.group(2)
    if scheme == "env" and not _ENV_NAME.fullmatch(target):
        return None
    return SecretRef(scheme, target)


def schema_comment(schema: str | Path | None = None, *, relative_to: str | Path | None = None) -> str:
    """The first line editors read to find the schema: ``# yaml-language-server: $schema=...``.

    ``schema`` is a URL (kept as given) or a path; a path is written relative to ``relative_to``
    (the directory holding tether.yaml) when given, so the line stays valid in every checkout.
    Without ``schema``, the config schema shipped with this tether is used.
    """
    if schema is None:
        schema = schema_path("config")
    if isinstance(schema, Path):
        text = schema.as_posix()
        if relative_to is not None:
            try:
                text = Path(os.path.relpath(schema, relative_to)).as_posix()
            except ValueError:  # another drive on Windows: keep it absolute
                text = schema.resolve().as_posix()
    else:
        text = schema
    return SCHEMA_URL_COMMENT + text


def default_paths(config: str | Path) -> list[Path]:
    """``config`` followed by the ``tether.d/*.yaml`` beside it, sorted by name.

    Hidden files (editor locks such as ``.#x.yaml``) are left out.
    """
    config = Path(config)
    extra_dir = config.parent / CONFIG_DIR
    extra = sorted(
        (p for p in extra_dir.glob("*.yaml") if not p.name.startswith(".")),
        key=lambda p: p.name,
    ) if extra_dir.is_dir() else []
    return [config, *extra]


# --------------------------------------------------------------------------------------------
# schema


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    """JSON Schema patterns are ECMA-262, where ``$`` ends the string; in Python it also matches
    before a final newline, which would let ``"name\\n"`` through."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    if re.search(pattern, instance) is None or (pattern.endswith("$") and instance.endswith("\n")):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_date(value: Any) -> bool:
    """The schema's ``date`` format: a real calendar date written YYYY-MM-DD."""
    if not isinstance(value, str):
        return True
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _quick_check() -> Callable[[Any], bool]:
    """The compiled yes/no check; jsonschema (``_validator``) runs only to explain a failure."""
    return compile_check("config", formats={"date": _is_date})


@lru_cache(maxsize=1)
def _validator() -> Any:
    """jsonschema, to say where and why a file is invalid (imported only then: it is slow to load)."""
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.validators import extend

    formats = FormatChecker(formats=())
    formats.checks("date")(_is_date)
    schema = load_schema("config")
    Draft202012Validator.check_schema(schema)
    cls = extend(Draft202012Validator, {"pattern": _ecma_pattern})
    return cls(schema, format_checker=formats)


# --------------------------------------------------------------------------------------------
# phrasing


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{_short(value)}"'
    return _short(json.dumps(value, default=str))


def _dotted(path: YamlPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += ("." if out else "") + part
        else:
            out += f'["{_short(part, 40)}"]'
    return out


def _at(path: YamlPath, text: str) -> str:
    return f"{_dotted(path)}: {text}" if path else text


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing"


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    words = [_TYPE_WORDS[t] for t in names if t in _TYPE_WORDS]
    return " or ".join(words) or "something else"


def _suggest(word: Any, choices: Sequence[str]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else ""


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _is_credential(path: YamlPath) -> bool:
    return len(path) >= 4 and path[0] == "accounts" and path[2] == "credentials"


def _env_suggestion(data: Any, path: YamlPath) -> str:
    provider = ""
    if isinstance(data, dict):
        account = (data.get("accounts") or {}).get(path[1]) if isinstance(data.get("accounts"), dict) else None
        if isinstance(account, dict) and isinstance(account.get("provider"), str):
            provider = account["provider"]
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{provider}_{path[3]}" if provider else str(path[3])).strip("_").upper()
    return name or "NAME"


def _literal_secret(data: Any, path: YamlPath) -> tuple[str, str]:
    env = _env_suggestion(data, path)
    return (
        f"{_dotted(path)} holds a literal value; secrets are never written in tether.yaml: "
        f'use "${{env:{env}}}" or "${{file:path}}"',
        "the value is not shown here; if it was a real secret that reached git, rotate it",
    )


def _phrase(error: ValidationError, data: Any) -> list[tuple[YamlPath, str, str]]:
    """One JSON Schema error as (path, message, hint) items a person can act on."""
    path: YamlPath = tuple(error.absolute_path)
    check = error.validator
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}

    if "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path:
        key_path = path + (value,)
        rule = schema.get("patternErrorMessage")
        if check == "minLength":
            return [(key_path, _at(path, "a key here is empty"), "give the field a name")]
        return [(key_path, _at(path, f"{_show(value)} is not a valid name"), _sentence(rule) if rule else "")]

    if check == "additionalProperties" and error.validator_value is False and isinstance(value, dict):
        known = list(schema.get("properties", {}))
        out = []
        for key in value:
            if key in known:
                continue
            what = f'unknown top-level key "{_short(key)}"' if not path else f'unknown key "{_short(key)}"'
            hint = _suggest(key, known) or f"allowed keys: {', '.join(known)}"
            out.append((path + (key,), _at(path, what), hint))
        return out

    if check == "required" and isinstance(value, dict):
        props = schema.get("properties", {})
        out = []
        for key in error.validator_value:
            if key not in value:
                about = props.get(key, {}).get("description", "")
                hint = f"{key}: {_sentence(about)}" if about else ""
                out.append((path, _at(path, f'missing required key "{key}"'), hint))
        return out

    if _is_credential(path):
        if check == "pattern" and isinstance(value, str) and value.startswith("${"):
            return [(
                path,
                f"{_dotted(path)} is not a valid credential reference",
                'use "${env:NAME}" (NAME: letters, digits and _) or "${file:PATH}"',
            )]
        if check in ("pattern", "type"):
            return [(path, *_literal_secret(data, path))]
        return [(path, f"{_dotted(path)} is not a valid credential reference", 'use "${env:NAME}" or "${file:PATH}"')]

    if check == "type":
        if not path:
            return [(
                path,
                f"the file must hold a mapping of top-level keys (version, accounts, defaults, integrations, "
                f"ignore), not {_kind_of(value)}",
                "",
            )]
        examples = schema.get("examples") or []
        hint = f"for example {_show(examples[0])}" if examples else ""
        return [(path, _at(path, f"expected {_expected(error.validator_value)}, got {_kind_of(value)}"), hint)]

    if check == "enum":
        options = [str(o) for o in error.validator_value]
        return [(path, _at(path, f"{_show(value)} is not one of {', '.join(options)}"), _suggest(value, options))]

    if check == "const":
        hint = "this tether reads version 1 files" if path == ("version",) else ""
        return [(path, _at(path, f"must be {_show(error.validator_value)}, not {_show(value)}"), hint)]

    if check == "pattern":
        rule = schema.get("patternErrorMessage")
        return [(path, _at(path, f"{_show(value)} is not valid"), _sentence(rule) if rule else "")]

    if check == "format":
        return [(path, _at(path, f"{_show(value)} is not a valid date"), "write dates as YYYY-MM-DD, e.g. 2027-01-31")]

    if check == "minProperties":
        if path and path[-1] == "match":
            return [(path, _at(path, "must name at least one field"), "an empty match would select every binding")]
        return [(path, _at(path, "must not be empty"), "")]

    if check == "minItems":
        return [(path, _at(path, "must not be empty"), "leave the key out to use the default")]

    if check == "uniqueItems":
        return [(path, _at(path, "lists the same item more than once"), "")]

    if check == "minimum":
        return [(path, _at(path, f"must be at least {error.validator_value}, not {_show(value)}"), "")]

    return [(path, _at(path, error.message), "")]


# --------------------------------------------------------------------------------------------
# loading


@dataclass
class _Source:
    path: Path
    label: str
    raw: bytes
    doc: YamlDocument
    index: int

    @property
    def data(self) -> Any:
        return self.doc.data

    def line(self, path: YamlPath) -> int | None:
        return self.doc.line(path)

    def where(self, path: YamlPath) -> str:
        line = self.line(path)
        return f"{self.label}:{line}" if line else self.label


@dataclass
class _Report:
    """Diagnostics in file and line order, and which paths the schema already complained about."""

    items: list[tuple[int, int, int, Diagnostic]] = field(default_factory=list)
    flagged: set[tuple[int, YamlPath]] = field(default_factory=set)

    def add(self, source: _Source, path: YamlPath, message: str, hint: str = "") -> None:
        line = source.line(path)
        self.items.append((source.index, line or 0, len(self.items), Diagnostic(source.label, line, message, hint)))

    def add_plain(self, diagnostic: Diagnostic, index: int) -> None:
        self.items.append((index, diagnostic.line or 0, len(self.items), diagnostic))

    def ok(self, source: _Source, path: YamlPath) -> bool:
        return (source.index, path) not in self.flagged

    def diagnostics(self) -> list[Diagnostic]:
        seen: set[Diagnostic] = set()
        out = []
        for *_, diagnostic in sorted(self.items, key=lambda item: item[:3]):
            if diagnostic not in seen:
                seen.add(diagnostic)
                out.append(diagnostic)
        return out


def _label(path: Path, base: Path) -> str:
    try:
        return path.absolute().relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path, label: str, first: bool) -> bytes:
    def fail(message: str, hint: str = "") -> ConfigError:
        return ConfigError([Diagnostic(label, None, message, hint)])

    try:
        info = path.stat()
    except FileNotFoundError:
        if first:
            raise fail(
                f"not found in {path.parent.absolute()}; run `tether init` to create it, "
                "or give the path of your file with --config"
            ) from None
        raise fail("file not found") from None
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise fail("is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise fail(
            f"the file is {info.st_size / 1048576:.1f} MiB; tether reads files of up to 2 MiB",
            "split the declarations across tether.d/*.yaml",
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail("the file is larger than 2 MiB; tether reads files of up to 2 MiB",
                   "split the declarations across tether.d/*.yaml")
    return raw


PARALLEL_BYTES = 1 << 20
"""From this much YAML on (about 9,000 integrations), about half the files are parsed in a
forked child (engine.parallel): parsing is most of loading, and the files are independent."""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # _read reports it


def _parse_file(job: tuple[Path, str, bool]) -> tuple[bytes, YamlDocument, bool] | list[Diagnostic]:
    """One file read, parsed and given the schema's yes/no; or what stops it being read. It
    returns the diagnostics rather than raising them, since it may run in a child process."""
    path, label, first = job
    try:
        raw = _read(path, label, first)
        doc = parse_yaml(decode_text(raw, label), label)
    except ConfigError as exc:
        return list(exc.diagnostics)
    return raw, doc, _quick_check()(doc.data)


def _sha256(sources: Sequence[_Source], base_dir: Path) -> str:
    digest = hashlib.sha256()
    for source in sources:
        try:
            name = source.path.absolute().relative_to(base_dir).as_posix()
        except ValueError:
            name = source.path.absolute().as_posix()
        for part in (name.encode("utf-8"), source.raw):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def load_config(paths: Sequence[str | Path] | None = None, *, cwd: str | Path | None = None) -> Config:
    """Read, check and return the configuration; ConfigError lists every problem found.

    Without ``paths``: ``tether.yaml`` in ``cwd`` (default: the process's working directory) and
    the ``tether.d/*.yaml`` beside it (``default_paths`` gives the same list for another file).
    Given ``paths`` are opened as given, exactly those, in that order; ``cwd`` then only makes the
    file names in messages short. Credentials are not resolved (see ``resolve_credentials``);
    nothing is written.
    """
    base = (Path(cwd) if cwd is not None else Path.cwd()).absolute()
    if paths is None:
        files = default_paths(base / CONFIG_FILE)
    else:
        files = [Path(p) for p in paths]
        if not files:
            raise ConfigError([Diagnostic(CONFIG_FILE, None, "no configuration file was given")])

    report = _Report()
    sources: list[_Source] = []
    labels = [_label(path, base) for path in files]
    _quick_check()  # compiled once, before a child process may be forked to share it
    parsed = split_map(
        _parse_file,
        [(path, label, index == 0) for index, (path, label) in enumerate(zip(files, labels))],
        [_size(path) for path in files],
        min_weight=PARALLEL_BYTES,
    )
    valid: dict[int, bool] = {}
    for index, (path, label, outcome) in enumerate(zip(files, labels, parsed)):
        if isinstance(outcome, list):
            for diagnostic in outcome:
                report.add_plain(diagnostic, index)
            continue
        raw, doc, valid[index] = outcome
        source = _Source(path, label, raw, doc, index)
        sources.append(source)
        for problem in doc.problems:
            report.add_plain(problem, index)
    if len(sources) != len(files):  # unreadable files: references into them would only mislead
        raise ConfigError(report.diagnostics())

    for source in sources:
        if valid[source.index]:
            continue
        for error in _validator().iter_errors(source.data):
            for where, message, hint in _phrase(error, source.data):
                report.flagged.add((source.index, where))
                report.add(source, where, message, hint)

    merged = _merge(sources, report)
    _check(merged, report)
    problems = report.diagnostics()
    if problems:
        raise ConfigError(problems)

    base_dir = files[0].absolute().parent
    return _build(merged, sources, base_dir)


# --------------------------------------------------------------------------------------------
# merging and cross-file checks


@dataclass
class _Entry:
    source: _Source
    path: YamlPath
    value: Any


@dataclass
class _Merged:
    accounts: dict[str, _Entry] = field(default_factory=dict)
    integrations: dict[str, _Entry] = field(default_factory=dict)
    ignore: list[_Entry] = field(default_factory=list)
    defaults: _Entry | None = None


def _merge(sources: Sequence[_Source], report: _Report) -> _Merged:
    merged = _Merged()
    for source in sources:
        data = source.data
        if not isinstance(data, dict):
            continue
        for section in ("accounts", "integrations"):
            table = data.get(section)
            if not isinstance(table, dict):
                continue
            seen: dict[str, _Entry] = getattr(merged, section)
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
                seen[name] = _Entry(source, path, value)
        rules = data.get("ignore")
        if isinstance(rules, list):
            merged.ignore.extend(_Entry(source, ("ignore", i), rule) for i, rule in enumerate(rules))
        if "defaults" in data:
            if merged.defaults is not None:
                report.add(
                    source,
                    ("defaults",),
                    f"defaults is set here and at {merged.defaults.source.where(merged.defaults.path)}",
                    "defaults may appear in one file only; merge them",
                )
            else:
                merged.defaults = _Entry(source, ("defaults",), data["defaults"])
    return merged


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def _check(merged: _Merged, report: _Report) -> None:
    """What the schema cannot see: references, installed providers, endpoints, stray secrets."""
    installed = registry.names()
    account_names = list(merged.accounts)

    for entry in merged.accounts.values():
        _check_account(entry, installed, report)

    def check_account_ref(entry: _Entry, path: YamlPath, name: Any) -> None:
        if not isinstance(name, str) or name in merged.accounts or not report.ok(entry.source, path):
            return
        listed = f"declared accounts: {_names(account_names)}" if account_names else "no accounts are declared"
        report.add(
            entry.source,
            path,
            _at(path, f'no account named "{_short(name)}"; {listed}'),
            _suggest(name, account_names) or "declare it under accounts, or fix the name",
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


def _check_money(entry: _Entry, path: YamlPath, value: Any, report: _Report) -> None:
    if not isinstance(value, str) or not report.ok(entry.source, path):
        return
    try:
        Money.parse(value)
    except ValueError as exc:
        report.add(entry.source, path, _at(path, str(exc)), "")


def _check_account(entry: _Entry, installed: Sequence[str], report: _Report) -> None:
    spec = entry.value
    if not isinstance(spec, dict):
        return
    source, base = entry.source, entry.path
    provider = spec.get("provider")
    if isinstance(provider, str) and report.ok(source, base + ("provider",)) and provider not in installed:
        report.add(
            source,
            base + ("provider",),
            _at(base + ("provider",), f'unknown provider "{_short(provider)}"; installed providers: {_names(installed)}'),
            _suggest(provider, installed)
            or "third-party providers register under the 'tether.providers' entry-point group",
        )
    endpoint = spec.get("endpoint")
    if isinstance(endpoint, str) and report.ok(source, base + ("endpoint",)):
        problem = _endpoint_problem(endpoint)
        if problem:
            report.add(source, base + ("endpoint",), _at(base + ("endpoint",), problem[0]), problem[1])
    credentials = spec.get("credentials")
    if isinstance(credentials, dict):
        for key, value in credentials.items():
            path = base + ("credentials", key)
            if isinstance(value, str) and report.ok(source, path) and parse_secret_ref(value) is None:
                message, hint = _literal_secret(source.data, path)
                report.add(source, path, message, hint)
    options = spec.get("options")
    if isinstance(options, dict):
        for path in _secret_like_options(options, base + ("options",)):
            report.add(
                source,
                path,
                f"{_dotted(path)} looks like a secret; secrets are never written in tether.yaml",
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
        return f"{_show(url)} is not a valid URL", "write it like https://api.example.com/path"
    if parts.username is not None or parts.password is not None:
        return (
            "holds a user name or password; credentials never go in the URL",
            'remove them and put the credential under credentials as "${env:NAME}"',
        )
    if parts.scheme not in ("http", "https") or not host:
        return f"{_show(url)} is not an http(s) URL with a host", "write it like https://api.example.com/path"
    if parts.scheme == "http" and not is_loopback(url):
        return (
            f"{_show(url)} is not https; credentials are sent only over https",
            "plain http is allowed only to this machine: 127.0.0.1, ::1 or localhost, as for the sandbox",
        )
    return None


# --------------------------------------------------------------------------------------------
# building the frozen Config (only ever from data that passed every check)


def _build(merged: _Merged, sources: Sequence[_Source], base_dir: Path) -> Config:
    accounts = {name: _build_account(name, entry.value) for name, entry in merged.accounts.items()}
    integrations = {name: _build_integration(name, entry) for name, entry in merged.integrations.items()}
    ignore = tuple(
        IgnoreRule(
            match=dict(entry.value["match"]),
            reason=entry.value["reason"].strip(),
            owner=entry.value["owner"].strip(),
            expires=date.fromisoformat(entry.value["expires"]),
        )
        for entry in merged.ignore
    )
    defaults = _build_defaults(merged.defaults.value if merged.defaults else None)
    return Config(
        accounts=accounts,
        integrations=integrations,
        defaults=defaults,
        ignore=ignore,
        sha256=_sha256(sources, base_dir),
        files=tuple(str(source.path.absolute()) for source in sources),
        base_dir=str(base_dir),
    )


def _build_account(name: str, spec: Mapping[str, Any]) -> Account:
    credentials = {}
    for key, value in (spec.get("credentials") or {}).items():
        ref = parse_secret_ref(value)
        assert ref is not None  # checked before building
        credentials[key] = ref
    return Account(
        name=name,
        provider=spec["provider"],
        endpoint=spec.get("endpoint"),
        options=dict(spec.get("options") or {}),
        credentials=credentials,
    )


def _build_integration(name: str, entry: _Entry) -> Integration:
    spec = entry.value
    terms_spec = spec.get("terms")
    terms = None
    if isinstance(terms_spec, dict):
        end = terms_spec.get("commitment_end")
        fee = terms_spec.get("early_termination_fee")
        terms = Terms(
            commitment_end=date.fromisoformat(end) if end else None,
            early_termination_fee=Money.parse(fee) if fee else None,
        )
    sides = spec.get("sides")
    backup = spec.get("backup")
    cancel_at = spec.get("cancel_at")
    return Integration(
        name=name,
        account=spec["account"],
        kind=_KINDS[spec["kind"]],  # the schema admitted only these texts
        match=dict(spec["match"]),
        ensure=_ENSURES[spec.get("ensure", "present")],
        expect=dict(spec.get("expect") or {}),
        backup=tuple(backup) if backup else (),
        sides=tuple(sides) if sides is not None else None,
        protect=bool(spec.get("protect", False)),
        terms=terms,
        cancel_at=CancelAt(cancel_at) if cancel_at else None,
        file=entry.source.label,
        line=entry.source.line(entry.path),
    )


# Enum members by their text: a dict lookup, where calling the enum costs a microsecond, and a
# large tether.d builds tens of thousands of integrations.
_KINDS = {kind.value: kind for kind in Kind}
_ENSURES = {ensure.value: ensure for ensure in Ensure}


def _build_defaults(spec: Mapping[str, Any] | None) -> Defaults:
    base = Defaults()
    if not spec:
        return base
    return Defaults(
        undeclared=Undeclared(spec.get("undeclared", base.undeclared.value)),
        max_fee=Money.parse(spec["max_fee"]) if "max_fee" in spec else base.max_fee,
        cancel_at=CancelAt(spec.get("cancel_at", base.cancel_at.value)),
        max_cancels=int(spec.get("max_cancels", base.max_cancels)),
    )


# --------------------------------------------------------------------------------------------
# credentials, resolved late


class _Unresolved(Exception):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def _resolve(ref: SecretRef, base_dir: Path, environ: Mapping[str, str]) -> str:
    if ref.scheme == "env":
        if ref.target not in environ:
            raise _Unresolved(f"{ref} is not set", f"export {ref.target} before running tether (in CI, from its secret store)")
        if not environ[ref.target]:
            raise _Unresolved(f"{ref} is set but empty", f"give {ref.target} the credential's value")
        return environ[ref.target]
    target = Path(ref.target).expanduser()
    path = target if target.is_absolute() else base_dir / target
    hint = f"create the file or fix the path; relative paths start at {base_dir}"
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _Unresolved(f"{ref}: {path} is not a regular file", hint)
        if info.st_size > MAX_SECRET_FILE_BYTES:
            raise _Unresolved(f"{ref}: {path} is larger than 64 KiB", "a credential file holds one credential")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _Unresolved(f"{ref}: file {path} not found", hint) from None
    except OSError as exc:
        raise _Unresolved(f"{ref}: {path} cannot be read ({exc.strerror or type(exc).__name__})", hint) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unresolved(f"{ref}: {path} is not UTF-8 text", "store the credential as text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise _Unresolved(f"{ref}: {path} is empty", "write the credential into the file")
    return text


def resolve_credentials(
    account: Account, base_dir: str | Path, *, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The account's credentials as values, read now from the environment or from files.

    ``${file:...}`` paths are taken from ``base_dir`` (``Config.base_dir``) unless absolute; one
    trailing newline is dropped. Every reference that cannot be read is reported together, by
    reference and never by value.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    values: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for key, ref in account.credentials.items():
        where = f"accounts.{account.name}.credentials.{key}"
        parsed = ref if isinstance(ref, SecretRef) else parse_secret_ref(ref)
        if parsed is None:
            problems.append(
                Diagnostic(CONFIG_FILE, None, f"{where} is not a credential reference", 'use "${env:NAME}" or "${file:PATH}"')
            )
            continue
        try:
            values[key] = _resolve(parsed, Path(base_dir), env)
        except _Unresolved as exc:
            problems.append(Diagnostic(CONFIG_FILE, None, f"{where}: {exc}", exc.hint))
    if problems:
        raise ConfigError(problems)
    return values
