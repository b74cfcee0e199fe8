"""Where providers and their emulators are found: built-ins by name, plug-ins by entry point.

Third-party packages register a provider factory under the ``tether.providers`` entry-point
group; the factory is a class meeting ``providers.sdk.Provider`` and taking a ProviderContext.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from providers.sdk.errors import ConfigError
from providers.sdk.model import Account
from providers.sdk.provider import Authority

# provider name -> (module of the client, class), (module of the emulator, class)
BUILTIN: dict[str, tuple[str, str | None]] = {
    "shopify": ("providers.shopify.client:ShopifyProvider", "providers.shopify.emulator:ShopifyEmulator"),
    "amazon-sp": ("providers.amazon_sp.client:AmazonSPProvider", "providers.amazon_sp.emulator:AmazonSPEmulator"),
    "ebay": ("providers.ebay.client:EbayProvider", "providers.ebay.emulator:EbayEmulator"),
    "stripe": ("providers.stripe.client:StripeProvider", "providers.stripe.emulator:StripeEmulator"),
    "http": ("providers.generic_http.client:HttpVendorProvider", "providers.generic_http.emulator:HttpVendorEmulator"),
    "manual": ("providers.manual.client:ManualProvider", None),
}


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group="tether.providers")}


def names() -> list[str]:
    return sorted(set(BUILTIN) | set(_plugins()))


def provider_class(name: str) -> Any:
    """The provider class for a name in tether.yaml; a clear error when none is installed."""
    if name in BUILTIN:
        try:
            return _load(BUILTIN[name][0])
        except ModuleNotFoundError as exc:
            raise ConfigError(f"provider {name!r} is not available in this build ({exc})") from None
    plugins = _plugins()
    if name in plugins:
        return plugins[name].load()
    raise ConfigError(
        f"unknown provider {name!r}; installed providers: {', '.join(names())} "
        "(third-party providers register under the 'tether.providers' entry-point group)"
    )


def emulator_classes() -> list[Any]:
    """Every built-in emulator that is present, for the sandbox."""
    found = []
    for _, emulator in BUILTIN.values():
        if emulator is None:
            continue
        try:
            found.append(_load(emulator))
        except ModuleNotFoundError:
            continue
    return found


def credential_hosts(account: Account) -> tuple[str, ...]:
    """Where an account's credential may be sent, as its provider declares (offline; a provider
    without the declaration answers ``()``, which lets the credential go to loopback only)."""
    hosts = getattr(provider_class(account.provider), "credential_hosts", None)
    return tuple(hosts(account)) if callable(hosts) else ()


def authority(name: str) -> tuple[Authority, ...]:
    """The vendor-truth rows of a provider (docs/vendors.md, ``tether providers --detail``)."""
    capabilities = getattr(provider_class(name), "capabilities", None)
    return tuple(getattr(capabilities, "authority", ()))
