"""Where an account's credential may go (SPEC section 3, invariant 7).

A credential is sent only to its vendor's own hosts (each provider class says which, offline:
``credential_hosts(account)``, exact names or ``*.`` suffixes), to loopback (the sandbox), or to a
host allowed outside tether.yaml (``--allow-endpoint HOST``, ``TETHER_ALLOW_ENDPOINTS``). So a
change to tether.yaml alone, in a pull request, cannot send a secret somewhere new.

An ``http`` vendor has no fixed host: it is whatever the user described. Its host is trusted on
first use and pinned in the state by the first apply; a different host later needs the same
allowance outside tether.yaml as any foreign host.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from engine.errors import ConfigError, Diagnostic
from engine.model import Account, Config, SecretRef
from providers.http import is_loopback_host

__all__ = [
    "PINNED_PROVIDERS",
    "HostCheck",
    "HostVerdict",
    "check_account_host",
    "credential_host",
    "enforce_pins",
    "host_matches",
    "normalise_host",
    "pins_for",
    "refusal_for_spec",
    "require_pins",
]

PINNED_PROVIDERS = frozenset({"http"})
"""Providers whose vendor host comes from tether.yaml itself: pinned by the first apply."""

class HostVerdict(str, Enum):
    NO_CREDENTIAL = "no-credential"  # nothing secret is sent
    VENDOR = "vendor"  # one of the vendor's own hosts
    LOOPBACK = "loopback"  # this machine: the sandbox
    ALLOWED = "allowed"  # allowed outside tether.yaml
    PINNED = "pinned"  # an http vendor's host, as the state pinned it
    FIRST_USE = "first-use"  # an http vendor's host, not pinned yet: the next apply pins it
    REFUSED = "refused"


@dataclass(frozen=True)
class HostCheck:
    """Where one account's credential goes, and whether it may. ``message``/``hint`` explain a
    refusal for a user (the caller adds file and line)."""

    account: str
    host: str
    verdict: HostVerdict
    message: str = ""
    hint: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict is not HostVerdict.REFUSED


def normalise_host(text: str) -> str:
    """``HOST``, ``HOST:PORT`` or a URL, as a bare lower-case host name without a final dot."""
    value = text.strip()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    elif value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.lower().rstrip(".")


def host_matches(host: str, patterns: Collection[str]) -> bool:
    """``host`` is one of ``patterns``: an exact name, or under a ``*.suffix`` (a strict
    subdomain: ``*.myshopify.com`` admits ``demo.myshopify.com``, not ``myshopify.com``)."""
    name = normalise_host(host)
    for pattern in patterns:
        wanted = pattern.strip().lower().rstrip(".")
        if wanted.startswith("*."):
            if name.endswith(wanted[1:]) and len(name) > len(wanted) - 1:
                return True
        elif name == wanted:
            return True
    return False


def credential_host(account: Account, vendor_hosts: tuple[str, ...]) -> str:
    """The host this account's credential goes to: its endpoint's, else the vendor's first exact
    host (empty when the provider names none)."""
    if account.endpoint:
        try:
            return normalise_host(account.endpoint)
        except ValueError:
            return ""
    return next((h.lower() for h in vendor_hosts if not h.startswith("*.")), "")


def check_account_host(
    account: Account,
    vendor_hosts: tuple[str, ...],
    allowed: Collection[str],
    pinned: str | None = None,
) -> HostCheck:
    """Whether ``account``'s credential may go where its configuration sends it.

    ``vendor_hosts``: the provider's ``credential_hosts(account)``; ``allowed``: hosts allowed
    outside tether.yaml; ``pinned``: the host the state pinned for an ``http`` account."""
    host = credential_host(account, vendor_hosts)
    allowed_names = {normalise_host(a) for a in allowed if a.strip()}
    if not account.credentials:
        return HostCheck(account.name, host, HostVerdict.NO_CREDENTIAL)
    if account.provider in PINNED_PROVIDERS:
        if host and is_loopback_host(host):
            return HostCheck(account.name, host, HostVerdict.LOOPBACK)
        if pinned is None:
            return HostCheck(account.name, host, HostVerdict.FIRST_USE)
        if host == normalise_host(pinned):
            return HostCheck(account.name, host, HostVerdict.PINNED)
        if host in allowed_names:
            return HostCheck(account.name, host, HostVerdict.ALLOWED)
        return HostCheck(
            account.name,
            host,
            HostVerdict.REFUSED,
            f"the credential of {account.name} would go to {host}, but the state pinned {pinned} for "
            "this account when an apply first used it; a change to tether.yaml alone cannot send a "
            "secret to a new host",
            _how_to_allow(host),
        )
    if not account.endpoint:
        return HostCheck(account.name, host, HostVerdict.VENDOR)
    if host and is_loopback_host(host):
        return HostCheck(account.name, host, HostVerdict.LOOPBACK)
    if host_matches(host, vendor_hosts):
        return HostCheck(account.name, host, HostVerdict.VENDOR)
    if host in allowed_names:
        return HostCheck(account.name, host, HostVerdict.ALLOWED)
    own = ", ".join(vendor_hosts) if vendor_hosts else "none known"
    return HostCheck(
        account.name,
        host,
        HostVerdict.REFUSED,
        f"the credential of {account.name} would go to {host or account.endpoint}, which is not one of "
        f"{account.provider}'s own hosts ({own}) nor this machine",
        _how_to_allow(host),
    )


def _how_to_allow(host: str) -> str:
    return (
        f"if {host} is yours (a proxy, a gateway), allow it outside tether.yaml: "
        f"--allow-endpoint {host}, or TETHER_ALLOW_ENDPOINTS={host} in the environment of the "
        "run; otherwise remove the endpoint"
    )


def vendor_hosts_of(provider_class: object, account: Account) -> tuple[str, ...]:
    """The provider class's ``credential_hosts(account)``; () for a provider that names none."""
    hosts_of = getattr(provider_class, "credential_hosts", None)
    if not callable(hosts_of):
        return ()
    hosts = hosts_of(account)
    return tuple(str(h) for h in hosts)


def refusal_for_spec(name: str, spec: Mapping[str, object], allowed: Collection[str]) -> tuple[str, str] | None:
    """For ``validate``: the message and hint refusing an account (as written in tether.yaml)
    whose credential would go to a host that is neither its vendor's, loopback, nor allowed;
    None when it may go there. Pins are checked where the state is read (``enforce_pins``)."""
    from providers import registry  # the registry loads plug-ins: only when an account names one

    provider = spec.get("provider")
    endpoint = spec.get("endpoint")
    credentials = spec.get("credentials")
    if not isinstance(provider, str) or not isinstance(endpoint, str) or not credentials:
        return None
    options = spec.get("options")
    account = Account(
        name=name,
        provider=provider,
        endpoint=endpoint,
        options=dict(options) if isinstance(options, Mapping) else {},
        credentials={"credential": SecretRef("env", "UNRESOLVED")},
    )
    try:
        provider_class = registry.provider_class(provider)
    except ConfigError:  # an unknown provider is reported by its own check
        return None
    check = check_account_host(account, vendor_hosts_of(provider_class, account), allowed)
    return None if check.ok else (check.message, check.hint)


def enforce_pins(config: Config, pinned: Mapping[str, str], allowed: Collection[str]) -> list[HostCheck]:
    """Every ``http`` account whose host moved away from the one pinned in the state without an
    allowance outside tether.yaml (empty: all may proceed). Checked before any request."""
    refused = []
    for name, account in config.accounts.items():
        if account.provider not in PINNED_PROVIDERS:
            continue
        check = check_account_host(account, (), allowed, pinned.get(name))
        if not check.ok:
            refused.append(check)
    return refused


def pins_for(config: Config) -> dict[str, str]:
    """The host each ``http`` account with a credential sends it to (loopback left out): what
    an apply pins in the state."""
    out: dict[str, str] = {}
    for name, account in config.accounts.items():
        if account.provider not in PINNED_PROVIDERS or not account.credentials:
            continue
        host = credential_host(account, ())
        if host and not is_loopback_host(host):
            out[name] = host
    return out


def require_pins(config: Config, pinned: Mapping[str, str]) -> None:
    """Refuse, before any request, an ``http`` account whose host moved away from the one the
    state pinned, unless the new host is allowed outside tether.yaml."""
    refused = enforce_pins(config, pinned, config.allowed_hosts)
    if refused:
        file = config.files[0] if config.files else "tether.yaml"
        raise ConfigError(
            [Diagnostic(file, None, f"accounts.{c.account}.endpoint: {c.message}", c.hint) for c in refused]
        )
