"""What a failed listing step leaves in a ``Listing``: one ``Gap``, by what failed.

Every client walks its collections step by step and keeps what the other steps found when one
fails; the client alone decides whether a refusal is the whole credential's (a 401: raise) or one
right's (a 403 on one collection: a gap). This turns the error of a step into its gap.
"""

from __future__ import annotations

from providers.sdk.errors import AuthError, ProviderError
from providers.sdk.model import Gap, GapReason, Kind
from providers.sdk.paging import PagingError


def listing_gap(kind: Kind | None, error: ProviderError, detail: str, *, right: str = "") -> Gap:
    """A cursor loop (``PagingError``), a refusal naming the ``right`` the vendor wants
    (``AuthError``), or any other failure with its HTTP status; ``detail`` is the vendor's words."""
    if isinstance(error, PagingError):
        return Gap(kind, GapReason.CURSOR_LOOP, detail=detail)
    if isinstance(error, AuthError):
        return Gap(kind, GapReason.REFUSED, {"right": right}, detail)
    return Gap(kind, GapReason.FAILED, {"status": str(error.status)} if error.status else {}, detail)
