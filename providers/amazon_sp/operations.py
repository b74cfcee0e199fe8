"""Facts about the SP-API operations tether uses, shared by the client and the emulator.

Why one table: the client's token buckets and the emulator's enforcement must agree with the
vendor's published usage plans, and both must agree on which operations are grantless (called
with an application token from ``grant_type=client_credentials``) and which need the selling
partner's authorization (a token from the seller's refresh token).

Rates and bursts are copied by hand from the "Usage Plan" table in each operation's
``description`` in the vendor models (tests/vendor_specs/amazon/):

- shippingV2.json: getCarrierAccounts, getCarrierAccountFormInputs, unlinkCarrierAccount and
  ``PUT`` linkCarrierAccount are 80 requests/s with a burst of 100; ``POST`` linkCarrierAccount
  (the same operationId used twice, a defect of that model) is 5/s, burst 10.
- notifications.json: every operation is 1 request/s with a burst of 5. getSubscriptionById,
  deleteSubscriptionById, getDestinations, getDestination, createDestination and
  deleteDestination say "is grantless" in their descriptions; getSubscriptions, getSubscription
  and createSubscription do not.

The model also says that a selling partner may have higher limits than these defaults; the
``x-amzn-RateLimit-Limit`` response header carries the rate actually applied.
"""

from __future__ import annotations

from dataclasses import dataclass

SHIPPING_ROLE = "sellingpartnerapi::shipping"
NOTIFICATIONS_ROLE = "sellingpartnerapi::notifications"
ALL_ROLES = frozenset({SHIPPING_ROLE, NOTIFICATIONS_ROLE})

# The LWA scope a grantless token for the Notifications API must be requested with.
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"


@dataclass(frozen=True)
class Operation:
    name: str
    rate: float  # requests per second, sustained
    burst: int
    role: str  # the right the operation needs (for grantless ones: the scope of the token)
    grantless: bool = False


def _shipping(name: str, rate: float = 80.0, burst: int = 100) -> Operation:
    return Operation(name, rate, burst, SHIPPING_ROLE)


def _notifications(name: str, *, grantless: bool = False) -> Operation:
    return Operation(name, 1.0, 5, NOTIFICATIONS_ROLE, grantless)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        _shipping("getCarrierAccounts"),
        _shipping("getCarrierAccountFormInputs"),
        _shipping("linkCarrierAccount"),  # PUT /shipping/v2/carrierAccounts/{carrierId}
        _shipping("linkCarrierAccount#POST", 5.0, 10),  # POST, same operationId in the model
        _shipping("unlinkCarrierAccount"),
        _notifications("getSubscriptions"),
        _notifications("getSubscription"),
        _notifications("createSubscription"),
        _notifications("getSubscriptionById", grantless=True),
        _notifications("deleteSubscriptionById", grantless=True),
        _notifications("getDestinations", grantless=True),
        _notifications("getDestination", grantless=True),
        _notifications("createDestination", grantless=True),
        _notifications("deleteDestination", grantless=True),
    )
}

REGIONS: dict[str, str] = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}

# Seller Central per SP-API region, for runbooks.
SELLER_CENTRAL: dict[str, str] = {
    "na": "https://sellercentral.amazon.com",
    "eu": "https://sellercentral-europe.amazon.com",
    "fe": "https://sellercentral.amazon.co.jp",
}

LWA_TOKEN_ENDPOINT = "https://api.amazon.com/auth/o2/token"

# Values of the x-amzn-shipping-business-id header enum in shippingV2.json (no AmazonShipping_DE).
SHIPPING_BUSINESS_IDS = frozenset(
    {
        "AmazonShipping_US",
        "AmazonShipping_IN",
        "AmazonShipping_UK",
        "AmazonShipping_UAE",
        "AmazonShipping_SA",
        "AmazonShipping_EG",
        "AmazonShipping_IT",
        "AmazonShipping_ES",
        "AmazonShipping_FR",
        "AmazonShipping_JP",
    }
)
DEFAULT_BUSINESS_ID = "AmazonShipping_UK"

# The notifications model has no enum of notification types (its path parameter is a free
# string); these are common types from Amazon's published list of notification type values.
DEFAULT_NOTIFICATION_TYPES: tuple[str, ...] = (
    "ORDER_CHANGE",
    "ANY_OFFER_CHANGED",
    "FEED_PROCESSING_FINISHED",
    "REPORT_PROCESSING_FINISHED",
    "FBA_INVENTORY_AVAILABILITY_CHANGES",
    "ITEM_INVENTORY_EVENT_CHANGE",
)
