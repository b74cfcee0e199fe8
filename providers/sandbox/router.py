"""The router: every provider emulator mounted behind one prefix each, the faults and the request
log around them, and the admin paths under ``/_sandbox``.

Provider code is exercised against the vendors' own paths and JSON shapes by pointing its endpoint
at the sandbox (SPEC section 8). The emulators model the vendors; the sandbox adds what no single
emulator should own:

- routing by mount prefix (longest wins), so ``/amazon-sp/auth/o2/token`` can belong to a different
  emulator than ``/amazon-sp`` if one is ever split out;
- a scenario that is kept, so ``POST /_sandbox/reset`` restores the exact starting world;
- injected faults (``faults``): latency (the emulator acts on arrival and the answer waits out the
  latency, awaited, so slow answers never serialise other requests), a seeded random 503 rate,
  and scripted rules that answer a status or drop a response after the emulator acted on it;
- a bounded log of what arrived (``requestlog``): never a header's value, never a body.

The same object serves in-process (``handle``, ``ahandle``, ``transport()``) and over real HTTP
(``providers.sandbox.server``); both paths share ``respond``/``arespond`` so they cannot drift.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

import httpx

from providers.sandbox.errors import SandboxError
from providers.sandbox.faults import Faults, parse_faults
from providers.sandbox.requestlog import Arrival, RequestLog, graphql_operation
from providers.sandbox.scenario import as_scenario, plain_copy, read_scenario
from providers.sdk.errors import ConfigError, Diagnostic, TetherError

if TYPE_CHECKING:
    from providers.sdk import Emulator

log = logging.getLogger("tether.sandbox")

ADMIN_PREFIX = "/_sandbox"
_FAULT_BODY = {"errors": "sandbox fault"}


def path_segments(request: httpx.Request, path: str) -> list[str]:
    """``path.split("/")``, but split *before* percent-decoding.

    A mount hands its emulator ``path`` decoded (``request.url.path`` after the mount prefix), so
    an id such as ``..%2F..%2Fx``, which clients send as one segment, would split at its slash and
    miss its route. The raw path keeps that slash encoded inside its segment: it is cut where
    ``path`` begins, split, and only then decoded. A ``path`` that is not the tail of the request's
    URL (an emulator called directly) is split as it is.
    """
    raw = request.url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    decoded = unquote(raw)
    if decoded.endswith(path):
        prefix = decoded[: len(decoded) - len(path)]
        if raw.startswith(prefix):
            return [unquote(part) for part in raw[len(prefix) :].split("/")]
    return path.split("/")



class Reply(NamedTuple):
    """What the sandbox answers; ``dropped`` means the caller must lose the response on purpose."""

    response: httpx.Response
    dropped: bool = False


class Pending(NamedTuple):
    """An answer the emulator has given, to deliver after ``delay`` seconds of latency."""

    reply: Reply
    delay: float
    finish: Callable[[], None] | None  # records it in the request log; None: already recorded

    def finish_now(self) -> None:
        if self.finish is not None:
            self.finish()


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _fault_response(status: int) -> httpx.Response:
    return _json(status, _FAULT_BODY, {"Retry-After": "0"} if status == 429 else None)


def _is_admin(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")



class Sandbox:
    """Mounts emulators by prefix and answers requests for all of them. Thread-safe.

    The lock matters because ``SandboxServer`` answers from its own thread while a test reads
    state or reloads the scenario from another; emulators themselves are plain synchronous code.
    """

    def __init__(self, emulators: Sequence[Emulator] | None = None, *, seed: int = 0) -> None:
        if emulators is None:
            from providers import registry

            emulators = [cls() for cls in registry.emulator_classes()]
        self._emulators: dict[str, Emulator] = {}
        prefixes: dict[str, str] = {}
        for emulator in emulators:
            name = emulator.name
            prefix = "/" + emulator.prefix.strip("/") if emulator.prefix.strip("/") else ""
            if name in self._emulators:
                raise ValueError(f"two emulators are named {name!r}")
            if prefix in prefixes:
                raise ValueError(f"emulators {prefixes[prefix]!r} and {name!r} share the prefix {prefix!r}")
            if prefix == ADMIN_PREFIX or prefix.startswith(ADMIN_PREFIX + "/"):
                raise ValueError(f"emulator {name!r} cannot mount under {ADMIN_PREFIX}")
            self._emulators[name] = emulator
            prefixes[prefix] = name
        self._routes = sorted(((p, self._emulators[n]) for p, n in prefixes.items()), key=lambda r: -len(r[0]))
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._faults = Faults()
        self._log = RequestLog()
        self._scenario: dict[str, Any] = {}
        self.scenario_label = "empty"

    # -- what is mounted -----------------------------------------------------------------------

    @property
    def emulators(self) -> Mapping[str, Emulator]:
        return MappingProxyType(self._emulators)

    def mounts(self) -> dict[str, str]:
        """Provider name -> mount prefix."""
        return {emulator.name: prefix or "/" for prefix, emulator in sorted(self._routes)}

    def route(self, path: str) -> tuple[Emulator, str] | None:
        """The emulator for a full URL path, and the rest of the path (always starting with '/')."""
        for prefix, emulator in self._routes:
            if path == prefix or path.startswith(prefix + "/") or not prefix:
                return emulator, path[len(prefix) :] or "/"
        return None

    # -- scenarios -----------------------------------------------------------------------------

    @property
    def scenario(self) -> dict[str, Any]:
        """A copy of the scenario that ``reset`` restores."""
        with self._lock:
            copied: dict[str, Any] = plain_copy(self._scenario)
            return copied

    def load_scenario(
        self, scenario: Mapping[str, Any], *, origin: str = "scenario", label: str | None = None
    ) -> None:
        """Give each emulator its section (``{}`` when absent) and keep the scenario for reset.

        All or nothing: if one emulator refuses its section, the previous scenario is reloaded.
        """
        data = as_scenario(scenario, origin)
        unknown = sorted(set(data) - set(self._emulators))
        if unknown:
            known = ", ".join(sorted(self._emulators)) or "none"
            raise ConfigError(
                Diagnostic(
                    origin,
                    None,
                    f"unknown provider section(s) {', '.join(map(repr, unknown))}; known providers: {known}",
                )
            )
        for name, section in data.items():
            if section is not None and not isinstance(section, Mapping):
                kind = type(section).__name__
                raise ConfigError(
                    Diagnostic(origin, None, f"section {name!r} must map tenants to their data, not a {kind}")
                )
        data = plain_copy(data)
        with self._lock:
            previous = self._scenario
            try:
                self._load_all(data, origin)
            except Exception:
                try:
                    self._load_all(previous, origin)
                except Exception:  # it loaded once; if it no longer does, the first error matters more
                    log.exception("sandbox: could not restore the previous scenario")
                raise
            self._scenario = data
            if label is not None:
                self.scenario_label = label

    def _load_all(self, data: Mapping[str, Any], origin: str) -> None:
        for name, emulator in self._emulators.items():
            try:
                emulator.load(plain_copy(data.get(name) or {}))
            except TetherError:
                raise
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                message = f"section {name!r}: {type(exc).__name__}: {exc}"
                raise ConfigError(Diagnostic(origin, None, message)) from exc
        self._apply_rate_limits()

    def load_scenario_source(self, source: str) -> dict[str, Any]:
        """``demo`` (sections of providers that are not mounted are skipped) or a YAML file path."""
        data = read_scenario(source)
        if source == "demo":
            data = {name: section for name, section in data.items() if name in self._emulators}
        self.load_scenario(data, origin="demo" if source == "demo" else source, label=source)
        return data

    def reset(self, scenario: Mapping[str, Any] | None = None) -> None:
        """Reload the kept scenario, or load (and keep) a new one. Faults and the log stay."""
        with self._lock:
            if scenario is None:
                self.load_scenario(self._scenario)
            else:
                self.load_scenario(scenario, label="custom")

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {name: emulator.dump() for name, emulator in self._emulators.items()}

    # -- faults --------------------------------------------------------------------------------

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return self._faults.as_dict()

    def set_faults(self, changes: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """Change some fault settings (the rest stay); ``rules`` replaces the whole rule list."""
        merged = {**(changes or {}), **kwargs}
        with self._lock:
            self._faults = parse_faults(merged, self._faults)
            self._apply_rate_limits()
            return self._faults.as_dict()

    def clear_faults(self) -> dict[str, Any]:
        with self._lock:
            self._faults = Faults()
            self._apply_rate_limits()
            return self._faults.as_dict()

    def _apply_rate_limits(self) -> None:
        for emulator in self._emulators.values():
            # Not part of the Emulator protocol: an emulator that models no limits ignores it.
            emulator.enforce_rate_limits = self._faults.rate_limits  # type: ignore[attr-defined]

    @property
    def latency_ms(self) -> float:
        return self._faults.latency_ms

    # -- request log ---------------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """What arrived, oldest first (see ``requestlog``: no header values, no bodies)."""
        return self._log.entries()

    def clear_requests(self) -> None:
        self._log.clear()

    # -- answering -----------------------------------------------------------------------------

    def respond(self, request: httpx.Request, *, _started: float | None = None) -> Reply:
        """Answer one request (admin paths included) without latency and without raising for a drop."""
        started = time.perf_counter() if _started is None else _started
        path = request.url.path
        if _is_admin(path):
            return Reply(self._admin(request, path[len(ADMIN_PREFIX) :] or "/"))
        method = request.method.upper()
        arrival = Arrival(request, method, path, started)
        with self._lock:
            response, dropped = self._dispatch(request, method, path)
        self._log.record(arrival, response.status_code, dropped)
        return Reply(response, dropped)

    def arrive(self, request: httpx.Request) -> Pending:
        """Let the emulator act now, as a vendor does when a request arrives (its rate limits
        count arrivals), and say how much of the latency the answer must still wait.

        Counting after the wait instead would add the event loop's timer lag to every
        arrival, and make a client that paces exactly at a published rate look too fast.
        """
        started = time.perf_counter()
        path = request.url.path
        latency = self._faults.latency_ms
        if latency <= 0 or _is_admin(path):
            return Pending(self.respond(request, _started=started), 0.0, None)
        method = request.method.upper()
        arrival = Arrival(request, method, path, started)
        with self._lock:
            response, dropped = self._dispatch(request, method, path)

        def finish() -> None:
            self._log.record(arrival, response.status_code, dropped)

        delay = latency / 1000 - (time.perf_counter() - started)
        return Pending(Reply(response, dropped), max(0.0, delay), finish)

    async def arespond(self, request: httpx.Request) -> Reply:
        """``respond`` with the configured latency, awaited so other requests proceed meanwhile
        (the emulator acts on arrival, see ``arrive``)."""
        pending = self.arrive(request)
        if pending.delay > 0:
            await asyncio.sleep(pending.delay)
        pending.finish_now()
        return pending.reply

    def handle(self, request: httpx.Request) -> httpx.Response:
        """In-process, synchronous, no latency; a dropped response raises ``httpx.ReadError``."""
        return self._deliver(request, self.respond(request))

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        return self._deliver(request, await self.arespond(request))

    def transport(self) -> httpx.MockTransport:
        """For ``httpx.AsyncClient(transport=...)`` or ``HttpFactory(transport=...)`` in tests."""
        return httpx.MockTransport(self.ahandle)

    @staticmethod
    def _deliver(request: httpx.Request, reply: Reply) -> httpx.Response:
        if reply.dropped:
            raise httpx.ReadError("sandbox fault: the response was dropped", request=request)
        return reply.response

    def _dispatch(self, request: httpx.Request, method: str, path: str) -> tuple[httpx.Response, bool]:
        drop = False
        named = any(rule.operation != "*" for rule in self._faults.rules)
        operation = graphql_operation(request)[1] if named else None
        for rule in self._faults.rules:
            if rule.matches(method, path, operation) and rule.fires():
                if rule.status is not None:
                    return _fault_response(rule.status), False
                drop = True
                break
        if not drop and self._faults.error_rate > 0 and self._rng.random() < self._faults.error_rate:
            return _fault_response(503), False
        found = self.route(path)
        if found is None:
            mounted = ", ".join(self.mounts().values()) or "nothing"
            message = f"Not Found: no emulator is mounted at {path} (mounted: {mounted})"
            return _json(404, {"errors": message}), drop
        emulator, rest = found
        try:
            response = emulator.handle(request, rest)
            if not isinstance(response, httpx.Response):
                raise TypeError(f"handle() returned {type(response).__name__}, not httpx.Response")
            response.read()
        except Exception as exc:
            log.exception("sandbox: emulator %s failed on %s %s", emulator.name, method, path)
            message = f"sandbox: emulator {emulator.name} failed ({type(exc).__name__})"
            return _json(500, {"errors": message}), drop
        return response, drop

    # -- admin ---------------------------------------------------------------------------------

    def _admin(self, request: httpx.Request, path: str) -> httpx.Response:
        method = request.method.upper()
        routes: dict[str, dict[str, Any]] = {
            "/": {"GET": lambda: {"mounts": self.mounts(), "scenario": self.scenario_label}},
            "/state": {"GET": self.state},
            "/reset": {"POST": lambda: self._admin_reset(request)},
            "/faults": {
                "GET": self.faults,
                "POST": lambda: self.set_faults(self._body(request)),
                "DELETE": self.clear_faults,
            },
            "/requests": {"GET": self.requests, "DELETE": self._admin_clear_requests},
        }
        handlers = routes.get(path.rstrip("/") or "/")
        if handlers is None:
            known = ", ".join(ADMIN_PREFIX + p for p in routes if p != "/")
            return _json(404, {"errors": f"Not Found: {ADMIN_PREFIX}{path}; admin paths: {known}"})
        handler = handlers.get(method)
        if handler is None:
            allowed = ", ".join(handlers)
            return _json(405, {"errors": f"method {method} not allowed; use {allowed}"}, {"Allow": allowed})
        try:
            return _json(200, handler())
        except (SandboxError, ConfigError) as exc:
            return _json(400, {"errors": str(exc)})
        except Exception as exc:
            log.exception("sandbox: admin %s %s failed", method, path)
            return _json(500, {"errors": f"sandbox: {method} {ADMIN_PREFIX}{path} failed ({type(exc).__name__})"})

    def _admin_clear_requests(self) -> dict[str, Any]:
        self.clear_requests()
        return {"cleared": True}

    def _admin_reset(self, request: httpx.Request) -> dict[str, Any]:
        body = self._body(request)
        if not isinstance(body, Mapping) or set(body) - {"scenario"}:
            raise SandboxError('reset takes no body or {"scenario": {...}}')
        with self._lock:
            self.reset(body.get("scenario"))
            return self.state()

    @staticmethod
    def _body(request: httpx.Request) -> Any:
        content = request.content
        if not content.strip():
            return {}
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SandboxError(f"the request body is not valid JSON ({exc})") from None

