"""eBay's error body, ``{"errors": [{"errorId", "domain", "category", "message", "longMessage",
"parameters"}]}``, turned into one line a user can act on."""

from __future__ import annotations

from typing import Any

import httpx

from providers.http import json_body

MAX_ERRORS = 3


def _errors(response: httpx.Response) -> list[dict[str, Any]] | None:
    try:
        body = json_body(response)
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return None
    return [e for e in errors if isinstance(e, dict)]


def error_ids(response: httpx.Response) -> set[int]:
    """The errorIds in an error body (empty when it is not eBay's error body)."""
    found: set[int] = set()
    for error in _errors(response) or []:
        try:
            found.add(int(error.get("errorId")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return found


def _one(error: dict[str, Any]) -> str:
    message = str(error.get("message") or "").strip()
    long_message = str(error.get("longMessage") or "").strip()
    if long_message.startswith(message):
        text = long_message or "no message"
    elif long_message:
        text = f"{message} ({long_message})"
    else:
        text = message
    parameters = error.get("parameters")
    if isinstance(parameters, list):
        pairs = [
            f"{p.get('name')}={p.get('value')}"
            for p in parameters
            if isinstance(p, dict) and p.get("name") is not None
        ]
        if pairs:
            text = f"{text} [{', '.join(pairs)}]"
    error_id = error.get("errorId")
    return f"errorId {error_id}: {text}" if error_id is not None else text


def describe_error(response: httpx.Response) -> str:
    """One line: ``errorId 20409: Invalid default policy type. (...)``, several joined by ``; ``."""
    errors = _errors(response)
    if errors:
        text = "; ".join(_one(e) for e in errors[:MAX_ERRORS])
        if len(errors) > MAX_ERRORS:
            text += f"; and {len(errors) - MAX_ERRORS} more"
    else:
        text = response.text.strip()[:300] or f"HTTP {response.status_code} with an empty body"
    return " ".join(text.split())
