"""Where a request may go: https, or plain http to loopback (the sandbox) only; and which vendor
host a base URL stands for, which the per-host concurrency limit counts."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from providers.sdk.errors import ProviderError


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_safe_endpoint(url: str) -> None:
    """Credentials travel only over https, except to the sandbox on this machine."""
    scheme = urlsplit(url).scheme
    if scheme == "https" or (scheme == "http" and is_loopback(url)):
        return
    raise ProviderError(
        f"endpoint {url} is not https; credentials are sent only over https "
        "(plain http is allowed for loopback addresses such as the sandbox)"
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_key(url: str) -> str:
    """The vendor host a base URL stands for, which ``per_host`` limits.

    A real vendor is its origin. The sandbox on loopback may serve many vendors' hosts on one
    origin, one per path prefix (``/shopify/<shop>`` stands for ``https://<shop>.myshopify.com``),
    so there the base URL itself is the host; otherwise every shop would share one host's limit.
    """
    if is_loopback(url):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" + parts.path.rstrip("/")
    return origin(url)
