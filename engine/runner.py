"""The imperative shell around the pure core: refresh -> plan, and plan -> apply.

The CLI calls these; they own the event loop, the HTTP factory and the providers' lifetimes.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from engine import __version__
from engine.bounds import deadline_after
from engine.endpoints import pins_for, require_pins
from engine.model import Config, Listing
from engine.plan import AccountInfo, Plan, PlanOptions, make_plan
from engine.planfile import dump_bytes
from engine.refresh import catalog, close_providers, open_providers, refresh
from providers.http import DEFAULT_PARALLELISM, HttpFactory
from states.model import State

log = structlog.get_logger("tether.runner")

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 15 * 60.0
"""The deadline of a whole plan, apply or audit run (``--timeout``, SPEC section 5)."""

if TYPE_CHECKING:  # apply's machinery is imported only by run_apply: plan starts faster
    from engine.apply import ApplyResult, ApplySettings, Report


@dataclass(frozen=True)
class PlanRequest:
    accept_fees: bool = False
    allow_mass_cancel: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    parallelism: int = DEFAULT_PARALLELISM
    audit: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S  # the deadline of the whole run, refresh included


def accounts_in_scope(config: Config, request: PlanRequest) -> list[str]:
    if not request.targets:
        return sorted(config.accounts)
    return sorted({config.integrations[t].account for t in request.targets if t in config.integrations})


@dataclass(frozen=True)
class Refreshed:
    """What a plan is made from besides the configuration and the state: every account's listing,
    what each account's provider can do, and the moment of the refresh."""

    listings: Mapping[str, Listing]
    catalog: Mapping[str, AccountInfo]
    moment: datetime


async def refresh_for_plan(
    config: Config,
    state: State,
    request: PlanRequest,
    progress: Callable[[str, Listing], None] | None = None,
    now: datetime | None = None,
    transport: Any = None,
) -> Refreshed:
    """The refresh a plan needs, every provider opened and closed here. ``transport`` mounts
    emulators in-process (tests); None speaks real HTTP."""
    moment = now or datetime.now(timezone.utc)
    require_pins(config, state.hosts)  # before any request: a moved http vendor host needs an allowance
    deadline = deadline_after(request.timeout_s)
    http = HttpFactory(parallelism=request.parallelism, transport=transport)
    providers = open_providers(config, http, accounts_in_scope(config, request))
    try:
        listings = await refresh(config, providers, progress, deadline=deadline, timeout_s=request.timeout_s)
        info = catalog(providers, config)
    finally:
        await close_providers(providers)
        await http.aclose()
    return Refreshed(listings, info, moment)


def plan_refreshed(config: Config, state: State, request: PlanRequest, refreshed: Refreshed) -> Plan:
    """The plan from a refresh: the pure planner, timed for the log."""
    started, cpu = time.monotonic(), time.process_time()
    moment = refreshed.moment
    plan = make_plan(
        config,
        refreshed.listings,
        refreshed.catalog,
        state,
        PlanOptions(
            today=moment.date(),
            now=moment.isoformat(timespec="seconds"),
            tether_version=__version__,
            accept_fees=request.accept_fees,
            allow_mass_cancel=request.allow_mass_cancel,
            targets=request.targets,
            excludes=request.excludes,
            audit=request.audit,
        ),
    )
    log.info(
        "plan.made",
        actions=len(plan.actions),
        seconds=round(time.monotonic() - started, 3),
        cpu_s=round(time.process_time() - cpu, 3),
    )
    return plan


async def build_plan(config: Config, state: State, request: PlanRequest, *, transport: Any = None) -> Plan:
    """Refresh, then plan, in one call (the CLI calls the two steps itself and freezes each result
    out of the collector's generations in between). ``transport`` mounts emulators in-process
    (tests); None speaks real HTTP."""
    refreshed = await refresh_for_plan(config, state, request, transport=transport)
    return plan_refreshed(config, state, request, refreshed)


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, with the result handed back outside the task. On the way out
    asyncio.run puts the SIGINT handler back, and Python's signal module builds the text of the
    old handler, which names the task and so its result: for a plan of 150,000 bindings that text
    took seconds to build and was thrown away."""
    box: list[T] = []

    async def keep() -> None:
        box.append(await work)

    asyncio.run(keep())
    return box[0]


def plan_sha256(plan: Plan) -> str:
    return hashlib.sha256(dump_bytes(plan)).hexdigest()


async def run_apply(
    plan: Plan,
    config: Config,
    store: object,
    settings: ApplySettings,
    audit_path: object,
    report: Report,
    parallelism: int = DEFAULT_PARALLELISM,
    transport: Any = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ApplyResult:
    """``timeout_s``: the deadline of the run; no new cancel starts after it."""
    from engine.apply import Applier
    from engine.audit import AuditTrail

    settings = replace(
        settings,
        deadline=deadline_after(timeout_s),
        encrypt_to=config.defaults.backup_recipients,
        pin_hosts=pins_for(config),
        allowed_hosts=config.allowed_hosts,
    )
    trail = AuditTrail(audit_path, settings.run_id, settings.plan_sha256)  # type: ignore[arg-type]
    http = HttpFactory(parallelism=parallelism, audit=trail.hook, transport=transport)
    accounts = sorted({a.account for a in plan.actions if a.actionable})
    providers: Mapping[str, object] = open_providers(config, http, accounts)
    try:
        return await Applier(plan, store, providers, settings, report).run()  # type: ignore[arg-type]
    finally:
        await close_providers(providers)  # type: ignore[arg-type]
        await http.aclose()
        trail.close()
