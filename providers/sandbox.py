"""The sandbox: every provider emulator mounted behind one router, plus faults and a request log.

Provider code is exercised against the vendors' own paths and JSON shapes by pointing its endpoint
at the sandbox (SPEC section 8). The emulators model the vendors; the sandbox adds what no single
emulator should own:

- routing by mount prefix (longest wins), so ``/amazon-sp/auth/o2/token`` can belong to a different
  emulator than ``/amazon-sp`` if one is ever split out;
- a scenario that is kept, so ``POST /_sandbox/reset`` restores the exact starting world between
  test runs or demo takes;
- injected faults: latency (awaited, so slow answers never serialise other requests; the
  emulator acts on arrival and the answer waits out the latency), a seeded
  random 503 rate, and scripted rules that answer a status or *drop* a response after the emulator
  acted on it, which is how a lost response to a cancel is reproduced;
- a bounded log of what arrived. It holds method, path, status and timing only: headers, query
  strings and bodies carry credentials, and a sandbox log must be safe to paste into an issue.

The same object serves in-process (``handle``, ``ahandle``, ``transport()``) and over real HTTP
(``providers.sandbox_server``); both paths share ``respond``/``arespond`` so they cannot drift.
"""

from __future__ import annotations

import asyncio
import copy
import fnmatch
import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

import httpx
import yaml

from providers.sdk.errors import ConfigError, Diagnostic, TetherError

if TYPE_CHECKING:
    from providers.sdk import Emulator

log = logging.getLogger("tether.sandbox")

ADMIN_PREFIX = "/_sandbox"
REQUEST_LOG_LIMIT = 10_000
DEMO_ROOT = Path(__file__).resolve().parent  # every ``<provider package>/demo.yaml`` under here
_FAULT_BODY = {"errors": "sandbox fault"}


class SandboxError(TetherError):
    """A sandbox setting or request the user got wrong (bad fault rule, refused bind address)."""


# --------------------------------------------------------------------------------------------
# Scenarios


def _yaml_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            Diagnostic(
                str(path),
                None,
                "scenario file not found",
                hint="pass 'demo' or the path to a scenario YAML file",
            )
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Diagnostic(str(path), None, f"cannot read scenario file: {exc}")) from None
    if text.lstrip().startswith("{"):
        # JSON is YAML too, and a generated scenario of hundreds of shops (tens of megabytes)
        # parses ~50x faster as JSON; anything json refuses goes to the YAML parser below.
        try:
            return json.loads(text)
        except ValueError:
            pass
    try:
        # libyaml's parser when present: the same safe loader, several times faster.
        return yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            Diagnostic(str(path), line, f"invalid YAML: {problem}", hint="fix the syntax and retry")
        ) from None


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_IMMUTABLE = (str, int, float, bool, type(None), date, datetime)


def plain_copy(value: Any) -> Any:
    """A deep copy of parsed YAML/JSON (dicts, lists, scalars, dates) several times faster than
    ``copy.deepcopy``, which a scenario goes through on every load and reset; anything else
    still goes through ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: plain_copy(item) for key, item in value.items()}
    if kind is list:
        return [plain_copy(item) for item in value]
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


def _as_scenario(data: Any, origin: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            Diagnostic(
                origin,
                None,
                f"a scenario must map provider names to their sections, not a {type(data).__name__}",
            )
        )
    return {str(key): value for key, value in data.items()}


def demo_scenario(root: Path | None = None) -> dict[str, Any]:
    """The built-in ``demo``: every provider package's ``demo.yaml``, merged at the top level.

    Each provider owns its own section so its emulator and its demo data change together; a
    provider defined by two files is an error rather than a silent override.
    """
    root = root if root is not None else DEMO_ROOT
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for file in sorted(root.glob("*/demo.yaml")):
        for name, section in _as_scenario(_yaml_file(file), str(file)).items():
            if name in merged:
                raise ConfigError(
                    Diagnostic(str(file), None, f"provider {name!r} is already defined in {origin[name]}")
                )
            merged[name] = section
            origin[name] = file
    return merged


def read_scenario(source: str) -> dict[str, Any]:
    """``demo`` or the path of a YAML scenario file, parsed (never executed: safe_load)."""
    if source == "demo":
        return demo_scenario()
    path = Path(source)
    return _as_scenario(_yaml_file(path), str(path))


# --------------------------------------------------------------------------------------------
# Faults


_RULE_KEYS = frozenset({"method", "path", "status", "action", "count", "after"})
_FAULT_KEYS = frozenset({"latency_ms", "error_rate", "rate_limits", "rules"})


def _integer(value: Any, what: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SandboxError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class FaultRule:
    """One scripted failure: the first ``after`` matches pass, the next ``count`` fail."""

    method: str = "*"
    path: str = "*"
    status: int | None = None
    action: str | None = None  # "drop": the emulator acts, the response is lost
    count: int = 1
    after: int = 0
    seen: int = 0
    fired: int = 0

    @classmethod
    def parse(cls, raw: Any, index: int = 0) -> FaultRule:
        where = f"fault rule {index + 1}"
        if not isinstance(raw, Mapping):
            raise SandboxError(f"{where} must be an object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - _RULE_KEYS)
        if unknown:
            raise SandboxError(
                f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_RULE_KEYS))}"
            )
        method = raw.get("method", "*")
        path = raw.get("path", "*")
        if not isinstance(method, str) or not method:
            raise SandboxError(f"{where}: method must be a string such as 'POST' or '*'")
        if not isinstance(path, str) or not path:
            raise SandboxError(f"{where}: path must be a glob on the full path, e.g. '/stripe/v1/*'")
        status = raw.get("status")
        action = raw.get("action")
        if (status is None) == (action is None):
            raise SandboxError(f"{where}: give exactly one of status (e.g. 503) or action ('drop')")
        if status is not None:
            status = _integer(status, f"{where}: status", minimum=200)
            if status > 599:
                raise SandboxError(f"{where}: status must be an HTTP status (200-599), got {status}")
        if action is not None and action != "drop":
            raise SandboxError(f"{where}: the only action is 'drop', got {action!r}")
        return cls(
            method=method.upper(),
            path=path,
            status=status,
            action=action,
            count=_integer(raw.get("count", 1), f"{where}: count", minimum=1),
            after=_integer(raw.get("after", 0), f"{where}: after", minimum=0),
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and fnmatch.fnmatchcase(path, self.path)

    def fires(self) -> bool:
        """Count one matching request; true when this one is to fail."""
        self.seen += 1
        if self.seen <= self.after or self.fired >= self.count:
            return False
        self.fired += 1
        return True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.status is not None:
            out["status"] = self.status
        else:
            out["action"] = self.action
        out.update(count=self.count, after=self.after, matched=self.seen, remaining=self.count - self.fired)
        return out


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limits: bool = True
    rules: list[FaultRule] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "rate_limits": self.rate_limits,
            "rules": [rule.as_dict() for rule in self.rules],
        }


def _parse_faults(changes: Any, current: Faults) -> Faults:
    """A new ``Faults`` with ``changes`` applied; validates everything before anything changes."""
    if not isinstance(changes, Mapping):
        raise SandboxError("faults must be a JSON object")
    unknown = sorted(set(changes) - _FAULT_KEYS)
    if unknown:
        raise SandboxError(
            f"unknown fault setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_FAULT_KEYS))}"
        )
    new = Faults(current.latency_ms, current.error_rate, current.rate_limits, list(current.rules))
    if "latency_ms" in changes:
        value = changes["latency_ms"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 600_000:
            raise SandboxError(f"latency_ms must be a number of milliseconds (0-600000), got {value!r}")
        new.latency_ms = float(value)
    if "error_rate" in changes:
        value = changes["error_rate"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise SandboxError(f"error_rate must be a probability between 0 and 1, got {value!r}")
        new.error_rate = float(value)
    if "rate_limits" in changes:
        if not isinstance(changes["rate_limits"], bool):
            raise SandboxError(f"rate_limits must be true or false, got {changes['rate_limits']!r}")
        new.rate_limits = changes["rate_limits"]
    if "rules" in changes:
        rules = changes["rules"]
        if rules is None:
            rules = []
        if not isinstance(rules, list):
            raise SandboxError("rules must be a list of fault rules")
        new.rules = [FaultRule.parse(raw, i) for i, raw in enumerate(rules)]
    return new


# --------------------------------------------------------------------------------------------
# Emulator paths


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


# --------------------------------------------------------------------------------------------
# The router


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


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        self._log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
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
            return plain_copy(self._scenario)

    def load_scenario(
        self, scenario: Mapping[str, Any], *, origin: str = "scenario", label: str | None = None
    ) -> None:
        """Give each emulator its section (``{}`` when absent) and keep the scenario for reset.

        All or nothing: if one emulator refuses its section, the previous scenario is reloaded.
        """
        data = _as_scenario(scenario, origin)
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
            self._faults = _parse_faults(merged, self._faults)
            self._apply_rate_limits()
            return self._faults.as_dict()

    def clear_faults(self) -> dict[str, Any]:
        with self._lock:
            self._faults = Faults()
            self._apply_rate_limits()
            return self._faults.as_dict()

    def _apply_rate_limits(self) -> None:
        for emulator in self._emulators.values():
            emulator.enforce_rate_limits = self._faults.rate_limits

    @property
    def latency_ms(self) -> float:
        return self._faults.latency_ms

    # -- request log ---------------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(self, method: str, path: str, status: int, started: float, dropped: bool) -> None:
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "time": _now_iso(),
        }
        if dropped:
            entry["dropped"] = True
        with self._lock:
            self._log.append(entry)

    # -- answering -----------------------------------------------------------------------------

    def respond(self, request: httpx.Request, *, _started: float | None = None) -> Reply:
        """Answer one request (admin paths included) without latency and without raising for a drop."""
        started = time.perf_counter() if _started is None else _started
        path = request.url.path
        if _is_admin(path):
            return Reply(self._admin(request, path[len(ADMIN_PREFIX) :] or "/"))
        method = request.method.upper()
        with self._lock:
            response, dropped = self._dispatch(request, method, path)
        self._record(method, path, response.status_code, started, dropped)
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
        with self._lock:
            response, dropped = self._dispatch(request, method, path)

        def finish() -> None:
            self._record(method, path, response.status_code, started, dropped)

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
        for rule in self._faults.rules:
            if rule.matches(method, path) and rule.fires():
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


_SERVER_NAMES = frozenset({"serve", "SandboxServer", "main_serve", "check_bind_host"})


def __getattr__(name: str) -> Any:
    # The HTTP server lives in its own module; re-export it lazily so importing either first works.
    if name in _SERVER_NAMES:
        from providers import sandbox_server

        return getattr(sandbox_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
