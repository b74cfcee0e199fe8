"""Shopify Admin REST API (2024-01): the provider client and its emulator.

``client.ShopifyProvider`` lists a shop's carrier and fulfillment services, webhooks, recurring
application charges and the app installation itself, and cancels them; ``emulator.ShopifyEmulator``
stands in for ``https://<handle>.myshopify.com`` under ``/shopify/<handle>`` in the sandbox.
``limiter`` holds Shopify's leaky-bucket model shared by both sides of the wire.
"""

from __future__ import annotations

DEFAULT_API_VERSION = "2024-01"
BUCKET_SIZE = 40
LEAK_PER_SECOND = 2.0
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
TOKEN_HEADER = "X-Shopify-Access-Token"

# Charges in these states no longer bind the shop to anything: they are history, not bindings.
# "rejected" is the pre-2016 name of "declined", still seen in old payloads.
ENDED_CHARGE_STATUSES = frozenset({"cancelled", "declined", "expired", "rejected"})
