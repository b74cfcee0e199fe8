"""eBay: fulfillment (shipping) policies as carriers, notification subscriptions as webhooks.

``client.EbayProvider`` speaks the Sell Account API v1 and the Commerce Notification API v1 with an
OAuth user token; ``emulator.EbayEmulator`` stands in for ``https://api.ebay.com`` under
``/ebay`` in the sandbox. ``api`` holds the facts both sides share (paths, scopes, error ids,
published daily quotas), so the emulator and the client cannot drift apart on them.
"""
