"""Asking providers what is live: every account concurrently, each bounded by its vendor's limits.

This is the imperative edge of planning. It builds one provider per account (credentials are
resolved here, late, and never stored), lists the kinds the configuration cares about, and asks
for the rights each credential holds. A provider that fails becomes an incomplete ``Listing`` with
the reason, never a crash, so one broken account cannot hide the plan for the others.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

import structlog

from engine.bounds import listing_within, scoped_http
from engine.config import resolve_credentials
from engine.endpoints import credential_host, vendor_hosts_of
from engine.errors import TetherError
from engine.model import Config, Gap, GapReason, Kind, Listing
from engine.plan import AccountInfo
from providers import registry
from providers.http import HttpFactory
from providers.sdk import Provider, ProviderContext

log = structlog.get_logger("tether.refresh")

Progress = Callable[[str, Listing], None]


def open_providers(config: Config, http: HttpFactory, accounts: list[str] | None = None) -> dict[str, Provider]:
    """One provider per account. Raises ConfigError for an unknown provider or a missing secret."""
    providers: dict[str, Provider] = {}
    for name in accounts if accounts is not None else list(config.accounts):
        account = config.accounts[name]
        cls = registry.provider_class(account.provider)
        credentials = resolve_credentials(account, config.base_dir)
        context = ProviderContext(account=account, credentials=credentials, http=scoped_http(http, account))
        providers[name] = cls(context)
    return providers


async def close_providers(providers: Mapping[str, Provider]) -> None:
    for provider in providers.values():
        await provider.aclose()


def app_accounts(config: Config) -> frozenset[str]:
    """Accounts where an integration names the app itself (one pass over the integrations)."""
    return frozenset(i.account for i in config.integrations.values() if i.kind is Kind.APP)


def kinds_for(
    config: Config, account: str, provider: Provider, wanted_apps: frozenset[str] | None = None
) -> frozenset[Kind]:
    """Every kind the provider lists, except the app itself unless an integration names it:
    the installation a token belongs to is always there and is no news.

    ``wanted_apps`` (from ``app_accounts``) saves a scan of every integration per account, which
    across hundreds of accounts would be quadratic.
    """
    kinds = set(provider.capabilities.kinds)
    wants_app = account in (wanted_apps if wanted_apps is not None else app_accounts(config))
    if not wants_app:
        kinds.discard(Kind.APP)
    return frozenset(kinds)


def catalog(providers: Mapping[str, Provider], config: Config | None = None) -> dict[str, AccountInfo]:
    """What the planner may know of each provider; with ``config``, the host each account's
    credential goes to (shown in the plan, so a reviewer sees it change)."""
    info = {}
    for account, provider in providers.items():
        runbook = getattr(provider, "runbook", None)
        host = ""
        if config is not None and account in config.accounts:
            spec = config.accounts[account]
            host = credential_host(spec, vendor_hosts_of(type(provider), spec))
        info[account] = AccountInfo(
            capabilities=provider.capabilities, required=provider.required, runbook=runbook, host=host
        )
    return info


async def _listing(
    config: Config, account: str, provider: Provider, kinds: frozenset[Kind]
) -> tuple[Listing, bool]:
    """The provider's listing, or a failed one (and False) when it raised."""
    name = config.accounts[account].provider
    try:
        return await provider.list_bindings(kinds), True
    except TetherError as exc:
        log.warning("refresh.failed", account=account, error=str(exc))
        failed = Listing(
            account=account,
            provider=name,
            bindings=(),
            gaps=(Gap(kind=None, reason=GapReason.FAILED, detail=str(exc)),),
        )
        return failed, False


async def _granted(account: str, provider: Provider) -> frozenset[str] | None:
    try:
        return await provider.granted()
    except TetherError as exc:
        log.info("refresh.rights_unknown", account=account, error=str(exc))
        return None


async def refresh_account(
    config: Config, account: str, provider: Provider, wanted_apps: frozenset[str] | None = None
) -> Listing:
    """The listing of one account with the rights its credential holds.

    A provider whose ``granted()`` does not depend on what the listing saw (it says so with
    ``granted_independent = True``) is asked both at once; the others in turn, because their
    rights are learnt from the listing's answers (an SP-API 403 withdraws a role).
    """
    kinds = kinds_for(config, account, provider, wanted_apps)
    if getattr(provider, "granted_independent", False):
        (listing, listed), granted = await asyncio.gather(
            _listing(config, account, provider, kinds), _granted(account, provider)
        )
        return replace(listing, granted=granted) if listed else listing
    listing, listed = await _listing(config, account, provider, kinds)
    if not listed:
        return listing
    return replace(listing, granted=await _granted(account, provider))


async def refresh(
    config: Config,
    providers: Mapping[str, Provider],
    progress: Progress | None = None,
    *,
    deadline: float | None = None,
    timeout_s: float | None = None,
) -> dict[str, Listing]:
    """Every account at once; the HTTP factory's limits (global, per host, per vendor account)
    decide what is actually in flight, and serve accounts in the order they are given here, so
    accounts finish one after another and ``progress`` moves all along, not only at the end.

    The closing ``refresh.done`` log event says how long it took and how steadily accounts
    finished (``first_s``: the first one; ``max_gap_s``: the longest wait between two).
    """
    wanted_apps = app_accounts(config)
    started, cpu = time.monotonic(), time.process_time()
    finished: list[float] = []

    async def one(account: str, provider: Provider) -> tuple[str, Listing]:
        listing = await listing_within(  # past the run's deadline: a timed-out listing (engine.bounds)
            refresh_account(config, account, provider, wanted_apps),
            deadline, account, config.accounts[account].provider, timeout_s,
        )
        finished.append(time.monotonic() - started)
        if progress is not None:
            progress(account, listing)
        return account, listing

    pairs = await asyncio.gather(*(one(a, p) for a, p in providers.items()))
    seconds = time.monotonic() - started
    marks = [0.0, *finished]
    log.info(
        "refresh.done",
        accounts=len(finished),
        bindings=sum(len(listing.bindings) for _, listing in pairs),
        seconds=round(seconds, 3),
        cpu_s=round(time.process_time() - cpu, 3),
        first_s=round(finished[0], 3) if finished else None,
        max_gap_s=round(max((b - a for a, b in itertools.pairwise(marks)), default=0.0), 3),
    )
    return dict(pairs)
