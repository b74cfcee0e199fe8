"""Reading the eBay account's options and eBay's list answers (for ``client``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from providers.ebay import api
from providers.http import json_body
from providers.sdk.errors import ConfigError


def json_list(response: httpx.Response, key: str) -> list[Any] | None:
    """The list under ``key``; eBay leaves the key out when there is nothing to list."""
    try:
        body = json_body(response)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    items = body.get(key, [])
    return items if isinstance(items, list) else None


def continuation_token(next_url: str) -> str | None:
    values = parse_qs(urlsplit(next_url).query).get("continuation_token")
    return values[0] if values and values[0] else None


def marketplaces(account: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"account {account}: options.marketplaces must be a list such as [EBAY_DE, EBAY_GB]"
        )
    bad = [v for v in value if not api.MARKETPLACE_ID.match(v)]
    if bad:
        raise ConfigError(
            f"account {account}: options.marketplaces has {', '.join(map(repr, bad))}; eBay "
            "marketplace ids look like EBAY_DE, EBAY_GB, EBAY_US"
        )
    return tuple(dict.fromkeys(value))


def declared_scopes(account: str, value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"account {account}: options.scopes must be a list of OAuth scopes such as [sell.account]"
        )
    return frozenset(api.expand_scope(v) for v in value)


def page_size(account: str, value: Any) -> int:
    if value is None:
        return api.SUBSCRIPTION_PAGE_MAX
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (api.SUBSCRIPTION_PAGE_MIN <= value <= api.SUBSCRIPTION_PAGE_MAX)
    ):
        raise ConfigError(
            f"account {account}: options.page_size must be a whole number from "
            f"{api.SUBSCRIPTION_PAGE_MIN} to {api.SUBSCRIPTION_PAGE_MAX}"
        )
    return value


def quotas(account: str, value: Any) -> dict[str, int]:
    quotas = dict(api.DEFAULT_DAILY_QUOTAS)
    if value is None:
        return quotas
    if not isinstance(value, Mapping):
        raise ConfigError(f"account {account}: options.quotas must map an API name to its daily call quota")
    for key, number in value.items():
        if key not in quotas:
            raise ConfigError(
                f"account {account}: options.quotas.{key} is not an API this provider calls "
                f"(known: {', '.join(sorted(quotas))})"
            )
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ConfigError(f"account {account}: options.quotas.{key} must be a positive whole number")
        quotas[key] = number
    return quotas
