"""The sandbox's request log (``GET /_sandbox/requests``): what arrived, safe to paste into an issue.

Per request it keeps the method, the path, the query string with the value of every
secret-looking key masked, the status, when and how long, the GraphQL operation's name when the
body is a GraphQL request, and the names of the headers sent. Never a header's value, never a
body: those carry credentials and customers' data.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus

import httpx

REQUEST_LOG_LIMIT = 10_000

_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|key|signature|sig$|auth|credential|session|^code$|assertion", re.IGNORECASE
)
_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
_COMMENT = re.compile(r"#[^\n]*")
MASK = "***"


def secret_key(name: str) -> bool:
    """Whether a query parameter's name says its value is a credential (``access_token``,
    ``client_secret``, ``api_key``, ``X-Amz-Signature``, OAuth's ``code``...)."""
    return bool(_SECRET_KEY.search(name))


def redact_query(query: str) -> str:
    """The query string as sent, with the value of every secret-looking key replaced by ``***``."""
    if not query:
        return ""
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        parts.append(f"{name}{sep}{MASK}" if sep and value and secret_key(unquote_plus(name)) else part)
    return "&".join(parts)


def graphql_operation(request: httpx.Request) -> tuple[bool, str | None]:
    """(is it a GraphQL request, the operation's name). The name is the body's ``operationName``,
    else the name of the first operation in its ``query`` text; None for an anonymous one."""
    if request.method != "POST":
        return False, None
    content = request.content
    if not content.lstrip().startswith(b"{") or b'"query"' not in content:
        return False, None
    try:
        body = json.loads(content)
    except ValueError:
        return False, None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return False, None
    name = body.get("operationName")
    if isinstance(name, str) and name:
        return True, name
    found = _OPERATION.search(_COMMENT.sub("", body["query"]))
    return True, found.group(1) if found else None


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Arrival:
    """What is kept of a request when it arrives, before the emulator sees it."""

    __slots__ = ("graphql", "headers", "method", "operation", "path", "query", "started")

    def __init__(self, request: httpx.Request, method: str, path: str, started: float) -> None:
        self.method = method
        self.path = path
        self.started = started
        self.query = redact_query(request.url.query.decode("ascii", "replace"))
        self.headers = sorted({name.lower() for name in request.headers})
        self.graphql, self.operation = graphql_operation(request)


class RequestLog:
    """A bounded, thread-safe log of what arrived (the newest ``limit`` entries)."""

    def __init__(self, limit: int | None = None) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT if limit is None else limit)
        self._lock = threading.Lock()

    def record(self, arrival: Arrival, status: int, dropped: bool) -> None:
        entry: dict[str, Any] = {
            "method": arrival.method,
            "path": arrival.path,
            "query": arrival.query,
            "status": status,
            "ms": round((time.perf_counter() - arrival.started) * 1000, 2),
            "time": _now_iso(),
            "headers": arrival.headers,
        }
        if arrival.graphql:
            entry["operation"] = arrival.operation
        if dropped:
            entry["dropped"] = True
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
