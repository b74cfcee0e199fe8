"""The GraphQL documents the Shopify client sends, written from the GraphQL Admin API reference
(https://shopify.dev/docs/api/admin-graphql/latest).

One query per shop lists the first page of every resource tether manages, each under an alias
(``LISTING``); a connection with more pages is walked with its own query and an ``after`` cursor
(``NEXT_PAGE``). Every change is one mutation (``MUTATIONS``); ``NODE`` re-reads one binding by
its global id to verify a cancel.

Sources, one per document:
- webhook subscriptions: https://shopify.dev/docs/api/admin-graphql/latest/queries/webhookSubscriptions
  ("created using the API for the current app and shop")
- carrier services: https://shopify.dev/docs/api/admin-graphql/latest/queries/carrierServices
- fulfillment services: https://shopify.dev/docs/api/admin-graphql/latest/objects/Shop (``fulfillmentServices``)
- the app itself, its scopes and its subscriptions:
  https://shopify.dev/docs/api/admin-graphql/latest/objects/AppInstallation (``currentAppInstallation``)
- orders (backup): https://shopify.dev/docs/api/admin-graphql/latest/queries/orders
- mutations: webhookSubscriptionDelete, carrierServiceDelete, fulfillmentServiceDelete,
  appSubscriptionCancel, appUninstall ("can only be used by apps to uninstall themselves"), under
  https://shopify.dev/docs/api/admin-graphql/latest/mutations/
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.sdk.model import Kind

FIRST_PAGE = 50
"""Nodes per connection in the combined listing query: three connections of 50 keep its requested
cost near 160 points, well under the 1,000 a single query may cost
(https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits)."""

NEXT_PAGE_SIZE = 250
"""Nodes per page when one connection is walked on its own (250 is the largest ``first``)."""

PAGE_SIZES = {"app_subscriptions": 100}
"""Smaller pages where a node costs more than one point: a subscription with its line items and
pricing costs about 5, so 250 of them would ask for more than the 1,000 points one query may cost."""


def page_size(resource: str) -> int:
    return PAGE_SIZES.get(resource, NEXT_PAGE_SIZE)

WEBHOOK_FIELDS = "id topic uri format createdAt updatedAt"
CARRIER_FIELDS = "id name formattedName active callbackUrl supportsServiceDiscovery"
FULFILLMENT_FIELDS = "id handle serviceName callbackUrl trackingSupport inventoryManagement type"
SUBSCRIPTION_FIELDS = (
    "id name status test trialDays createdAt currentPeriodEnd "
    "lineItems { id plan { pricingDetails { __typename "
    "... on AppRecurringPricing { interval price { amount currencyCode } } } } }"
)
APP_FIELDS = "id title handle"
ORDER_FIELDS = (
    "id name email createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus "
    "totalPriceSet { shopMoney { amount currencyCode } }"
)
PAGE_INFO = "pageInfo { hasNextPage endCursor }"


@dataclass(frozen=True)
class Collection:
    """One resource tether lists: its alias in the listing, the binding kind, and how a page of it
    is reached on its own."""

    resource: str  # LiveBinding.resource, and the scenario's collection name
    kind: Kind
    label: str  # for messages
    typename: str  # the GraphQL object type (global ids are gid://shopify/<typename>/<n>)
    fields: str
    paged: bool  # a connection (pages) or a plain list
    right: str  # the access scope that lists it, in Shopify's terms


WEBHOOKS = Collection(
    "webhook_subscriptions", Kind.WEBHOOK, "webhook subscriptions", "WebhookSubscription", WEBHOOK_FIELDS, True,
    "",  # an app lists its own webhook subscriptions with any scope
)
CARRIERS = Collection(
    "carrier_services", Kind.CARRIER, "carrier services", "DeliveryCarrierService", CARRIER_FIELDS, True,
    "read_shipping",
)
FULFILLMENTS = Collection(
    "fulfillment_services", Kind.CARRIER, "fulfillment services", "FulfillmentService", FULFILLMENT_FIELDS, False,
    "read_fulfillments",
)
SUBSCRIPTIONS = Collection(
    "app_subscriptions", Kind.SUBSCRIPTION, "app subscriptions", "AppSubscription", SUBSCRIPTION_FIELDS, True,
    "",  # an app reads its own installation and charges with any scope
)
COLLECTIONS: tuple[Collection, ...] = (WEBHOOKS, CARRIERS, FULFILLMENTS, SUBSCRIPTIONS)
BY_RESOURCE = {c.resource: c for c in COLLECTIONS}
APP_RESOURCE = "app_installation"


APP_FIELDS_BLOCK = f"id app {{ {APP_FIELDS} }} accessScopes {{ handle }}"


def name_of(document: str) -> str:
    """The operation name of a document (``query TetherListing(...) {...}`` -> ``TetherListing``)."""
    head = document.split("(", 1)[0].split("{", 1)[0].split()
    return head[1] if len(head) > 1 else ""


def _connection(fields: str, first: str, after: str = "") -> str:
    arguments = f"first: {first}" + (f", after: {after}" if after else "")
    return f"({arguments}) {{ nodes {{ {fields} }} {PAGE_INFO} }}"


def _parts(kinds: frozenset[Kind]) -> dict[str, str]:
    """The listing's parts, each a selection on the query root, by the name of its own query."""
    parts: dict[str, str] = {}
    if Kind.WEBHOOK in kinds:
        parts["TetherListWebhooks"] = "webhookSubscriptions" + _connection(WEBHOOK_FIELDS, "$first")
    if Kind.CARRIER in kinds:
        parts["TetherListCarriers"] = "carrierServices" + _connection(CARRIER_FIELDS, "$first")
        parts["TetherListFulfillments"] = f"shop {{ fulfillmentServices {{ {FULFILLMENT_FIELDS} }} }}"
    installation = [APP_FIELDS_BLOCK]
    if Kind.SUBSCRIPTION in kinds:
        installation.append("allSubscriptions" + _connection(SUBSCRIPTION_FIELDS, "$first"))
    # The installation is always read: it names the calling app, which owns what it lists.
    parts["TetherListInstallation"] = "currentAppInstallation { " + " ".join(installation) + " }"
    return parts


def listing_query(kinds: frozenset[Kind]) -> str:
    """The one query that lists the first page of every wanted collection, and the app itself."""
    return "query TetherListing($first: Int!) { " + " ".join(_parts(kinds).values()) + " }"


def listing_parts(kinds: frozenset[Kind]) -> list[str]:
    """The same listing as one query per collection. A refused field that cannot be null (the
    shop's ``fulfillmentServices`` without ``read_fulfillments``) nulls its parents up to the
    root, and with them every other collection of the combined answer; the client then asks
    part by part, so a refusal costs only its own kind."""
    return [
        f"query {name}($first: Int!) {{ {selection} }}" if "$first" in selection else f"query {name} {{ {selection} }}"
        for name, selection in _parts(kinds).items()
    ]


NEXT_PAGE: dict[str, str] = {
    WEBHOOKS.resource: (
        "query TetherWebhookPage($first: Int!, $after: String) { webhookSubscriptions"
        + _connection(WEBHOOK_FIELDS, "$first", "$after")
        + " }"
    ),
    CARRIERS.resource: (
        "query TetherCarrierPage($first: Int!, $after: String) { carrierServices"
        + _connection(CARRIER_FIELDS, "$first", "$after")
        + " }"
    ),
    SUBSCRIPTIONS.resource: (
        "query TetherSubscriptionPage($first: Int!, $after: String) { currentAppInstallation { allSubscriptions"
        + _connection(SUBSCRIPTION_FIELDS, "$first", "$after")
        + " } }"
    ),
}

INSTALLATION = f"query TetherInstallation {{ currentAppInstallation {{ {APP_FIELDS_BLOCK} }} }}"

NODE: dict[str, str] = {
    c.resource: f"query TetherNode($id: ID!) {{ node(id: $id) {{ __typename ... on {c.typename} {{ {c.fields} }} }} }}"
    for c in COLLECTIONS
}
"""Re-reading one binding by its global id, one document per type (their fields differ)."""

ORDERS = (
    "query TetherOrders($first: Int!, $after: String) { orders"
    + _connection(ORDER_FIELDS, "$first", "$after")
    + " }"
)

_ERRORS = "userErrors { field message }"


@dataclass(frozen=True)
class Mutation:
    """One cancel: the document, the payload field, and the field that proves it happened."""

    name: str
    document: str
    payload: str
    done_field: str


MUTATIONS: dict[str, Mutation] = {
    WEBHOOKS.resource: Mutation(
        "TetherWebhookDelete",
        "mutation TetherWebhookDelete($id: ID!) { webhookSubscriptionDelete(id: $id) "
        f"{{ deletedWebhookSubscriptionId {_ERRORS} }} }}",
        "webhookSubscriptionDelete",
        "deletedWebhookSubscriptionId",
    ),
    CARRIERS.resource: Mutation(
        "TetherCarrierDelete",
        f"mutation TetherCarrierDelete($id: ID!) {{ carrierServiceDelete(id: $id) {{ deletedId {_ERRORS} }} }}",
        "carrierServiceDelete",
        "deletedId",
    ),
    FULFILLMENTS.resource: Mutation(
        "TetherFulfillmentDelete",
        # No inventoryAction: Shopify's default (TRANSFER) moves the stock to a merchant location.
        f"mutation TetherFulfillmentDelete($id: ID!) {{ fulfillmentServiceDelete(id: $id) {{ deletedId {_ERRORS} }} }}",
        "fulfillmentServiceDelete",
        "deletedId",
    ),
    SUBSCRIPTIONS.resource: Mutation(
        "TetherSubscriptionCancel",
        "mutation TetherSubscriptionCancel($id: ID!) { appSubscriptionCancel(id: $id) "
        f"{{ appSubscription {{ id status }} {_ERRORS} }} }}",
        "appSubscriptionCancel",
        "appSubscription",
    ),
    APP_RESOURCE: Mutation(
        "TetherAppUninstall",
        f"mutation TetherAppUninstall {{ appUninstall {{ app {{ id }} {_ERRORS} }} }}",
        "appUninstall",
        "app",
    ),
}

ALL_DOCUMENTS: tuple[str, ...] = (
    listing_query(frozenset(Kind)),
    *listing_parts(frozenset(Kind)),
    *NEXT_PAGE.values(),
    INSTALLATION,
    *NODE.values(),
    ORDERS,
    *(m.document for m in MUTATIONS.values()),
)
"""Every document the client can send: the tests validate each against the schema subset."""
