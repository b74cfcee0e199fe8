"""Which ``Stripe-Version`` values exist, as Stripe documents its versioning
(https://docs.stripe.com/api-versions, https://docs.stripe.com/changelog).

A version is a release date, ``YYYY-MM-DD``. Since 2024-09-30 every version also carries the name
of its major release (``2024-09-30.acacia``; "Starting with the 2024-09-30.acacia release, Stripe
follows a new API release process ... Twice a year, we issue a new major release"): a release's
first version brings its breaking changes and the monthly versions after it carry its name until
the next release begins. Earlier versions are bare dates (``2023-08-16``). Stripe refuses any
other value (400, ``invalid_request_error``, "Invalid Stripe API version: ...").

What is checked here: the format, a real calendar day, the release name that belongs to the date
(acacia from 2024-09-30, basil from 2025-03-31, clover from 2025-09-30, dahlia from 2026-03-25,
endive from 2026-09-30), no name before 2024-09-30, and no date after today. Stripe accepts only
the exact days it released a version; that list is not copied here, so a well-formed date inside
a release that Stripe never released is accepted by this check and refused by Stripe.
"""

from __future__ import annotations

import re
from datetime import date

# (first version of the release, its name), oldest first.
RELEASES: tuple[tuple[str, str], ...] = (
    ("2024-09-30", "acacia"),
    ("2025-03-31", "basil"),
    ("2025-09-30", "clover"),
    ("2026-03-25", "dahlia"),
    ("2026-09-30", "endive"),
)
CURRENT = "2026-09-30.endive"  # "The current version of the API is 2026-09-30.endive" (api-versions)
_FORMAT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([a-z]+))?$")


def release_of(day: str) -> str | None:
    """The major release a version of this date belongs to; None before the named releases."""
    name = None
    for first, release in RELEASES:
        if day >= first:
            name = release
    return name


def problem(version: str, *, today: date | None = None) -> str | None:
    """Why ``version`` is not a Stripe API version (None: it is one by the rules above)."""
    found = _FORMAT.match(version)
    if found is None:
        return "a Stripe API version is a date such as 2023-08-16, or 2025-03-31.basil from 2024-09-30 on"
    day, name = found.group(1), found.group(2)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return f"{day} is not a calendar date"
    if when > (today or date.today()):
        return f"{day} is after today; Stripe has released no such version"
    release = release_of(day)
    if release is None and name is not None:
        return f"versions before {RELEASES[0][0]} carry no release name ({day}, not {version})"
    if release is not None and name != release:
        return f"a version of {day} belongs to the {release} release: {day}.{release}"
    return None
