"""Facts about eBay's REST APIs that the client and the emulator share.

Sources: the Sell Account v1.9.0 and Commerce Notification v1.2.0 OpenAPI documents in
``tests/vendor_specs/ebay`` (paths, scopes, error ids of each operation), eBay's "API call limits" page
(default daily quotas: Account API 25,000 calls, Notification API 10,000 calls), and eBay's common
error ids for every REST API (1001 invalid token, 1100 missing scope, 2001 too many requests).
"""

from __future__ import annotations

import re

PRODUCTION_HOST = "api.ebay.com"
SANDBOX_HOST = "api.sandbox.ebay.com"  # "replace the api.ebay.com root URI with api.sandbox.ebay.com"
PUBLIC_BASE_URL = f"https://{PRODUCTION_HOST}"
SANDBOX_BASE_URL = f"https://{SANDBOX_HOST}"

ACCOUNT_BASE = "/sell/account/v1"
NOTIFICATION_BASE = "/commerce/notification/v1"
FULFILLMENT_POLICY_PATH = ACCOUNT_BASE + "/fulfillment_policy"
SUBSCRIPTION_PATH = NOTIFICATION_BASE + "/subscription"

# The resource names a LiveBinding carries, so cancel() and fetch() know which endpoint to use.
RESOURCE_FULFILLMENT_POLICY = "fulfillment_policy"
RESOURCE_SUBSCRIPTION = "subscription"

# API names as eBay's call-limit tables and the Developer Analytics API name them.
API_SELL_ACCOUNT = "sell.account"
API_COMMERCE_NOTIFICATION = "commerce.notification"
DEFAULT_DAILY_QUOTAS: dict[str, int] = {API_SELL_ACCOUNT: 25_000, API_COMMERCE_NOTIFICATION: 10_000}

_SCOPE_ROOT = "https://api.ebay.com/oauth/api_scope"
SCOPE_PUBLIC = _SCOPE_ROOT  # application tokens (client credentials grant)
SCOPE_SELL_ACCOUNT = _SCOPE_ROOT + "/sell.account"
SCOPE_SELL_ACCOUNT_READONLY = _SCOPE_ROOT + "/sell.account.readonly"
SCOPE_NOTIFICATION = _SCOPE_ROOT + "/commerce.notification.subscription"
SCOPE_NOTIFICATION_READONLY = _SCOPE_ROOT + "/commerce.notification.subscription.readonly"

# Scopes that each emulated operation accepts, copied from the operations' ``security`` lists.
OPERATION_SCOPES: dict[str, frozenset[str]] = {
    "getFulfillmentPolicies": frozenset({SCOPE_SELL_ACCOUNT, SCOPE_SELL_ACCOUNT_READONLY}),
    "getFulfillmentPolicy": frozenset({SCOPE_SELL_ACCOUNT, SCOPE_SELL_ACCOUNT_READONLY}),
    "deleteFulfillmentPolicy": frozenset({SCOPE_SELL_ACCOUNT}),
    "getSubscriptions": frozenset({SCOPE_PUBLIC, SCOPE_NOTIFICATION_READONLY, SCOPE_NOTIFICATION}),
    "getSubscription": frozenset({SCOPE_PUBLIC, SCOPE_NOTIFICATION_READONLY, SCOPE_NOTIFICATION}),
    "deleteSubscription": frozenset({SCOPE_PUBLIC, SCOPE_NOTIFICATION}),
}

# Common errors of every eBay REST API.
ERROR_INVALID_TOKEN = 1001
ERROR_ACCESS_DENIED = 1100
ERROR_TOO_MANY_REQUESTS = 2001
# Sell Account API (domain API_ACCOUNT).
ERROR_MISSING_FIELD = 20401
ERROR_INVALID_FIELD = 20403
ERROR_NOT_FOUND = 20404
ERROR_DEFAULT_POLICY = 20409
# Commerce Notification API (domain API_NOTIFICATION).
ERROR_INVALID_LIMIT = 195004
ERROR_INVALID_CONTINUATION_TOKEN = 195005
ERROR_INVALID_SUBSCRIPTION_ID = 195013

# getSubscriptions: "Range is from 10-100 ... Default: 20".
SUBSCRIPTION_PAGE_MIN = 10
SUBSCRIPTION_PAGE_MAX = 100
SUBSCRIPTION_PAGE_DEFAULT = 20

MARKETPLACE_ID = re.compile(r"^EBAY_[A-Z]{2}(?:_[A-Z]+)*$|^EBAY_MOTORS_US$")


def expand_scope(scope: str) -> str:
    """Accept ``sell.account`` as shorthand for the full scope URL eBay uses everywhere."""
    scope = scope.strip()
    if scope.startswith(("https://", "http://")):
        return scope
    return f"{_SCOPE_ROOT}/{scope}" if scope else scope


def api_of_path(path: str) -> str | None:
    """Which daily quota a request path counts against."""
    if path.startswith(ACCOUNT_BASE + "/"):
        return API_SELL_ACCOUNT
    if path.startswith(NOTIFICATION_BASE + "/"):
        return API_COMMERCE_NOTIFICATION
    return None
