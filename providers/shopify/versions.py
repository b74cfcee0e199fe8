"""Which Admin API versions Shopify serves on a given day, and what it does with the others.

From https://shopify.dev/docs/api/usage/versioning:

- "Shopify releases a new API version every three months at the beginning of the quarter" (5pm
  UTC), named by date: 2026-01, 2026-04, 2026-07, 2026-10.
- "Each stable version is supported for a minimum of 12 months" (the page's schedule: 2023-01,
  released January 1, 2023, is supported until January 1, 2024).
- The next quarter's version is served early as the release candidate, and ``unstable`` always;
  neither is "supported" (``ApiVersion.supported`` false).
- "Shopify falls forward when your selected version becomes inaccessible": a request to a retired
  version is answered by the oldest supported stable version (and the response's
  ``X-Shopify-API-Version`` header names the version that answered).

A version that never existed (``2099-01``, ``2026-05``) is not one Shopify "fell forward" from; the
emulator answers it 404 ``{"errors": "Not Found"}``, as Shopify answers paths it does not serve.
The documentation does not describe this case; it is our choice, and says so.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

UNSTABLE = "unstable"
VERSION_HEADER = "X-Shopify-API-Version"
VERSIONING_DOC = "https://shopify.dev/docs/api/usage/versioning"
_HANDLE = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_MONTHS = (1, 4, 7, 10)


@dataclass(frozen=True)
class Served:
    """The version that answers a request, and whether the request asked for another one."""

    handle: str
    fell_forward: bool = False


def _released(today: date) -> tuple[int, int]:
    """The latest stable version released on or before ``today``, as (year, month)."""
    month = max(m for m in _QUARTER_MONTHS if m <= today.month)
    return today.year, month


def _add_quarters(year: int, month: int, quarters: int) -> tuple[int, int]:
    index = year * 4 + (month - 1) // 3 + quarters
    return index // 4, (index % 4) * 3 + 1


def _name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@functools.lru_cache(maxsize=16)
def supported_versions(today: date) -> tuple[str, ...]:
    """The stable versions supported today, oldest first: the four released in the last 12 months."""
    year, month = _released(today)
    return tuple(_name(*_add_quarters(year, month, -back)) for back in (3, 2, 1, 0))


def release_candidate(today: date) -> str:
    return _name(*_add_quarters(*_released(today), 1))


def is_supported(handle: str, today: date) -> bool:
    return handle in supported_versions(today)


def serve(requested: str, today: date) -> Served | None:
    """The version that answers a request for ``requested`` today; None: Shopify serves no such
    path (404)."""
    if requested == UNSTABLE:
        return Served(UNSTABLE)
    found = _HANDLE.match(requested)
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if month not in _QUARTER_MONTHS:
        return None
    supported = supported_versions(today)
    if requested in supported or requested == release_candidate(today):
        return Served(requested)
    if (year, month) < _released(today):  # released once, retired since: fall forward
        return Served(supported[0], fell_forward=True)
    return None
