"""Schema errors turned into sentences a person can act on: what is wrong, where, and what to
write instead. Also the small phrasing helpers the reference checks share.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.yamlsafe import YamlPath

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = ["at", "dotted", "literal_secret", "phrase", "short", "show", "suggest"]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{short(value)}"'
    return short(json.dumps(value, default=str))


def dotted(path: YamlPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += ("." if out else "") + part
        else:
            out += f'["{short(part, 40)}"]'
    return out


def at(path: YamlPath, text: str) -> str:
    return f"{dotted(path)}: {text}" if path else text


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


def suggest(word: Any, choices: Sequence[str]) -> str:
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


def literal_secret(data: Any, path: YamlPath) -> tuple[str, str]:
    env = _env_suggestion(data, path)
    return (
        f"{dotted(path)} holds a literal value; secrets are never written in tether.yaml: "
        f'use "${{env:{env}}}" or "${{file:path}}"',
        "the value is not shown here; if it was a real secret that reached git, rotate it",
    )


def phrase(error: ValidationError, data: Any) -> list[tuple[YamlPath, str, str]]:
    """One JSON Schema error as (path, message, hint) items a person can act on."""
    path: YamlPath = tuple(error.absolute_path)
    check = error.validator
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}

    if "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path:
        key_path = path + (value,)
        rule = schema.get("patternErrorMessage")
        if check == "minLength":
            return [(key_path, at(path, "a key here is empty"), "give the field a name")]
        return [(key_path, at(path, f"{show(value)} is not a valid name"), _sentence(rule) if rule else "")]

    if check == "additionalProperties" and error.validator_value is False and isinstance(value, dict):
        known = list(schema.get("properties", {}))
        out = []
        for key in value:
            if key in known:
                continue
            what = f'unknown top-level key "{short(key)}"' if not path else f'unknown key "{short(key)}"'
            hint = suggest(key, known) or f"allowed keys: {', '.join(known)}"
            out.append((path + (key,), at(path, what), hint))
        return out

    if check == "required" and isinstance(value, dict):
        props = schema.get("properties", {})
        out = []
        for key in error.validator_value:
            if key not in value:
                about = props.get(key, {}).get("description", "")
                hint = f"{key}: {_sentence(about)}" if about else ""
                out.append((path, at(path, f'missing required key "{key}"'), hint))
        return out

    if _is_credential(path):
        if check == "pattern" and isinstance(value, str) and value.startswith("${"):
            return [(
                path,
                f"{dotted(path)} is not a valid credential reference",
                'use "${env:NAME}" (NAME: letters, digits and _) or "${file:PATH}"',
            )]
        if check in ("pattern", "type"):
            return [(path, *literal_secret(data, path))]
        return [(path, f"{dotted(path)} is not a valid credential reference", 'use "${env:NAME}" or "${file:PATH}"')]

    if check == "type":
        if not path:
            return [(
                path,
                f"the file must hold a mapping of top-level keys (version, accounts, defaults, integrations, "
                f"ignore), not {_kind_of(value)}",
                "",
            )]
        examples = schema.get("examples") or []
        hint = f"for example {show(examples[0])}" if examples else ""
        return [(path, at(path, f"expected {_expected(error.validator_value)}, got {_kind_of(value)}"), hint)]

    if check == "enum":
        options = [str(o) for o in error.validator_value]
        return [(path, at(path, f"{show(value)} is not one of {', '.join(options)}"), suggest(value, options))]

    if check == "const":
        hint = "this tether reads version 1 files" if path == ("version",) else ""
        return [(path, at(path, f"must be {show(error.validator_value)}, not {show(value)}"), hint)]

    if check == "pattern":
        rule = schema.get("patternErrorMessage")
        return [(path, at(path, f"{show(value)} is not valid"), _sentence(rule) if rule else "")]

    if check == "format":
        return [(path, at(path, f"{show(value)} is not a valid date"), "write dates as YYYY-MM-DD, e.g. 2027-01-31")]

    if check == "minProperties":
        if path and path[-1] == "match":
            return [(path, at(path, "must name at least one field"), "an empty match would select every binding")]
        return [(path, at(path, "must not be empty"), "")]

    if check == "minItems":
        return [(path, at(path, "must not be empty"), "leave the key out to use the default")]

    if check == "uniqueItems":
        return [(path, at(path, "lists the same item more than once"), "")]

    if check == "minimum":
        return [(path, at(path, f"must be at least {error.validator_value}, not {show(value)}"), "")]

    return [(path, at(path, error.message), "")]

