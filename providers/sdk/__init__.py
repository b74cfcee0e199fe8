"""The provider SDK: everything a provider (built in or a plug-in) and the engine share.

``model`` holds the values (kinds, accounts, live bindings, listings with their gaps and blind
spots, runbooks); ``errors`` the root of tether's errors and the ones a provider raises;
``provider`` the ``Provider`` and ``Emulator`` protocols with their request and outcome values;
``paging`` the one pagination loop every client uses. A plug-in imports only this package (and
``providers.http`` for its client).
"""

from providers.sdk.errors import (
    AuthError,
    ConfigError,
    Diagnostic,
    ProviderError,
    RateLimitError,
    ResponseLostError,
    TetherError,
)
from providers.sdk.gaps import listing_gap
from providers.sdk.model import (
    Account,
    BlindReason,
    BlindSpot,
    CancelAt,
    Gap,
    GapReason,
    Kind,
    Listing,
    LiveBinding,
    Runbook,
    SecretRef,
    canonical_json,
    fingerprint,
)
from providers.sdk.paging import Page, PagingError, collect, paginate
from providers.sdk.provider import (
    Authority,
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    Emulator,
    Provider,
    ProviderContext,
    ProviderFactory,
)

__all__ = [
    "Account",
    "AuthError",
    "Authority",
    "BlindReason",
    "BlindSpot",
    "CancelAt",
    "CancelOutcome",
    "CancelRequest",
    "CancelStatus",
    "Capabilities",
    "ConfigError",
    "Diagnostic",
    "Emulator",
    "Gap",
    "GapReason",
    "Kind",
    "Listing",
    "LiveBinding",
    "Page",
    "PagingError",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "ProviderFactory",
    "RateLimitError",
    "ResponseLostError",
    "Runbook",
    "SecretRef",
    "TetherError",
    "canonical_json",
    "collect",
    "fingerprint",
    "listing_gap",
    "paginate",
]
