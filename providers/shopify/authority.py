"""Who can see and cancel each Shopify resource through the GraphQL Admin API, as Shopify
documents it: the rows of docs/vendors.md and ``tether providers --detail``
(``Capabilities.authority`` of the Shopify provider). The emulator grants exactly this
(``resolvers.py``).
"""

from __future__ import annotations

from providers.sdk.model import Kind
from providers.sdk.provider import Authority

REF = "https://shopify.dev/docs/api/admin-graphql/2026-10"
ADMIN_APPS = "Shopify admin: Settings > Apps and sales channels > the app > Uninstall"
MERCHANT_UNINSTALL = "https://help.shopify.com/manual/apps/working-with-apps#uninstall-an-app"

AUTHORITY: tuple[Authority, ...] = (
    Authority(
        resource="webhook_subscriptions",
        kind=Kind.WEBHOOK,
        who_sees=(
            "only the app that created them; ones made in the Shopify admin are returned to no app"
        ),
        who_cancels="that app (webhookSubscriptionDelete)",
        otherwise=f"uninstall the owning app ({ADMIN_APPS}): Shopify deletes its webhooks; admin-made ones: "
        "Settings > Notifications > Webhooks",
        source="https://shopify.dev/docs/api/admin-rest/latest/resources/webhook",
    ),
    Authority(
        resource="app_subscriptions",
        kind=Kind.SUBSCRIPTION,
        who_sees="only the app that bills them (currentAppInstallation)",
        who_cancels="that app (appSubscriptionCancel)",
        otherwise=f"uninstall the billing app ({ADMIN_APPS}); its charges end with it",
        source=f"{REF}/queries/currentAppInstallation",
    ),
    Authority(
        resource="carrier_services",
        kind=Kind.CARRIER,
        who_sees="every app with read_shipping: the shop's whole list",
        who_cancels="only the app that created it (carrierServiceDelete, write_shipping)",
        otherwise="the owning app's own settings, or the carrier's back office; "
        "Settings > Shipping and delivery shows the service",
        source=f"{REF}/mutations/carrierServiceUpdate",
    ),
    Authority(
        resource="fulfillment_services",
        kind=Kind.CARRIER,
        who_sees="every app with read_fulfillments: the shop's installed fulfillment services",
        who_cancels="only the app that created it (fulfillmentServiceDelete, write_fulfillments)",
        otherwise=f"uninstall the owning app ({ADMIN_APPS}) or ask the fulfillment provider",
        source=f"{REF}/objects/Shop",
    ),
    Authority(
        resource="app_installation",
        kind=Kind.APP,
        who_sees="itself (currentAppInstallation)",
        who_cancels="itself only (appUninstall: apps uninstall themselves)",
        otherwise=f"another app: {ADMIN_APPS}",
        source=f"{REF}/mutations/appUninstall",
    ),
)
