"""Injected faults: latency, a seeded random 503 rate, vendor rate limits on or off, and scripted
rules that answer a status or *drop* a response after the emulator acted on it (how a lost
response to a cancel is reproduced)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.sandbox.errors import SandboxError

_RULE_KEYS = frozenset({"method", "path", "operation", "status", "action", "count", "after"})
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
    operation: str = "*"  # a glob on the GraphQL operation name (every GraphQL call shares a path)
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
        operation = raw.get("operation", "*")
        if not isinstance(operation, str) or not operation:
            raise SandboxError(f"{where}: operation must be a GraphQL operation name or glob, e.g. 'Tether*Delete'")
        return cls(
            method=method.upper(),
            path=path,
            operation=operation,
            status=status,
            action=action,
            count=_integer(raw.get("count", 1), f"{where}: count", minimum=1),
            after=_integer(raw.get("after", 0), f"{where}: after", minimum=0),
        )

    def matches(self, method: str, path: str, operation: str | None = None) -> bool:
        return (
            (self.method == "*" or self.method == method)
            and fnmatch.fnmatchcase(path, self.path)
            and (self.operation == "*" or fnmatch.fnmatchcase(operation or "", self.operation))
        )

    def fires(self) -> bool:
        """Count one matching request; true when this one is to fail."""
        self.seen += 1
        if self.seen <= self.after or self.fired >= self.count:
            return False
        self.fired += 1
        return True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.operation != "*":
            out["operation"] = self.operation
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


def parse_faults(changes: Any, current: Faults) -> Faults:
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

