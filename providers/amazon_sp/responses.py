"""Reading SP-API's answers: its ``ErrorList`` bodies, a refused token, JSON payloads, and the
account's notification types. Used by the client; the emulator has its own side (``replies``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from providers.http import json_body
from providers.sdk.errors import ConfigError, ProviderError

from .operations import DEFAULT_NOTIFICATION_TYPES


def describe_sp_error(response: httpx.Response) -> str:
    """``{"errors": [{"code", "message", "details"}]}`` as ``Code: message (details)``."""
    try:
        body = json_body(response)
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return response.text[:200]
    parts = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        text = f"{error.get('code', 'Error')}: {error.get('message', '')}".rstrip()
        if error.get("details"):
            text += f" ({error['details']})"
        parts.append(text)
    return "; ".join(parts) or response.text[:200]


def error_text(response: httpx.Response) -> str:
    try:
        body = json_body(response)
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return " ".join(
        f"{e.get('message', '')} {e.get('details', '')}" for e in errors if isinstance(e, Mapping)
    )


def token_rejected(response: httpx.Response) -> bool:
    """A 401, or a 403 that blames the access token (expired, revoked, malformed)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    text = error_text(response).lower()
    return "access token" in text or "expired" in text


def json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json_body(response)
    except ValueError:
        raise ProviderError(
            f"amazon-sp: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code} with a body that is not JSON",
            status=response.status_code,
            request_id=response.headers.get("x-amzn-RequestId"),
        ) from None
    return body if isinstance(body, dict) else {}


def payload(response: httpx.Response) -> Mapping[str, Any]:
    payload = json_object(response).get("payload")
    if not isinstance(payload, Mapping):
        raise ProviderError(
            f"amazon-sp: {response.request.url.path} answered without a payload object",
            status=response.status_code,
            request_id=response.headers.get("x-amzn-RequestId"),
        )
    return payload


def notification_types(account: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_NOTIFICATION_TYPES
    if (
        isinstance(value, str)
        or not isinstance(value, (list, tuple))
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ConfigError(
            f"account {account!r}: options.notification_types must be a list of notification "
            "types such as [ORDER_CHANGE, ANY_OFFER_CHANGED]"
        )
    return tuple(dict.fromkeys(v.strip() for v in value))
