"""Asking providers what is live: every account concurrently, each bounded by its vendor's limits.

This is the imperative edge of planning. It builds one provider per account (credentials are
resolved here, late, and never stored), lists the kinds the configuration cares about, and asks
for the rights each credential holds. A provider that fails becomes an incomplete ``Listing`` with
the reason, never a crash, so one broken account cannot hide the plan for the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Callable, Mapping

import structlog

from engine.config import resolve_credentials
from engine.errors import TetherError
from engine.model import Config, Kind, Listing
from engine.plan import AccountInfo
from providers import registry
from providers.base import Provider, ProviderContext

log = structlog.get_logger("tether.refresh")

Progress = Callable[[str, Listing], None]


def open_providers(config: Config, http: object, accounts: list[str] | None = None) -> dict[str, Provider]:
    """One provider per account. Raises ConfigError for an unknown provider or a missing secret."""
    providers: dict[str, Provider] = {}
    for name in accounts if accounts is not None else list(config.accounts):
        account = config.accounts[name]
        cls = registry.provider_class(account.provider)
        credentials = resolve_credentials(account, config.base_dir)
        providers[name] = cls(ProviderContext(account=account, credentials=credentials, http=http))
    return providers


async def close_providers(providers: Mapping[str, Provider]) -> None:
    for provider in providers.values():
        await provider.aclose()


def kinds_for(config: Config, account: str, provider: Provider) -> frozenset[Kind]:
    """Every kind the provider lists, except the app itself unless an integration names it:
    the installation a token belongs to is always there and is no news."""
    kinds = set(provider.capabilities.kinds)
    wants_app = any(i.account == account and i.kind is Kind.APP for i in config.integrations.values())
    if not wants_app:
        kinds.discard(Kind.APP)
    return frozenset(kinds)


def catalog(providers: Mapping[str, Provider]) -> dict[str, AccountInfo]:
    info = {}
    for account, provider in providers.items():
        runbook = getattr(provider, "runbook", None)
        info[account] = AccountInfo(
            capabilities=provider.capabilities, required=provider.required, runbook=runbook
        )
    return info


async def refresh_account(config: Config, account: str, provider: Provider) -> Listing:
    name = config.accounts[account].provider
    try:
        listing = await provider.list_bindings(kinds_for(config, account, provider))
    except TetherError as exc:
        log.warning("refresh.failed", account=account, error=str(exc))
        return Listing(account=account, provider=name, bindings=(), complete=False, problems=(str(exc),))
    try:
        granted: frozenset[str] | None = await provider.granted()
    except TetherError as exc:
        log.info("refresh.rights_unknown", account=account, error=str(exc))
        granted = None
    return replace(listing, granted=granted)


async def refresh(
    config: Config, providers: Mapping[str, Provider], progress: Progress | None = None
) -> dict[str, Listing]:
    async def one(account: str, provider: Provider) -> tuple[str, Listing]:
        listing = await refresh_account(config, account, provider)
        if progress is not None:
            progress(account, listing)
        return account, listing

    pairs = await asyncio.gather(*(one(a, p) for a, p in providers.items()))
    return dict(pairs)
