"""Shopify on the GraphQL Admin API (default version 2026-10): the provider client and its
emulator.

``client.ShopifyProvider`` lists a shop's webhook subscriptions, carrier and fulfillment services,
the calling app's own subscriptions and the app itself, and cancels them by mutation (documents in
``queries``, objects to bindings in ``mapping``, the query cost budget in ``throttle``);
``emulator.ShopifyEmulator`` stands in for ``https://<handle>.myshopify.com`` under
``/shopify/<handle>`` in the sandbox, executing the schema subset in ``schema.graphql``.
"""

from __future__ import annotations

DEFAULT_API_VERSION = "2026-10"
TOKEN_HEADER = "X-Shopify-Access-Token"  # https://shopify.dev/api/admin/getting-started (Authentication)
