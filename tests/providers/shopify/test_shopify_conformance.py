"""The schema subset against Shopify's reference, and every document the client sends against the
schema and the emulator's answers.

Shopify publishes its GraphQL Admin API as reference pages, not as a file we may copy; the field
names, types and nullability below are restated from those pages (each row names its page) and
the schema subset must hold them. Then each of the client's documents must validate, and the
emulator's answer to it must have the shape the schema promises.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from graphql import GraphQLNonNull, get_named_type
from graphql_shapes import SCHEMA_FILE, assert_conforms, plain_schema, validated

from providers.shopify import queries
from providers.shopify.emulator import ShopifyEmulator

SCHEMA = plain_schema()
REF = "https://shopify.dev/docs/api/admin-graphql/2026-10"
DEMO = Path(__file__).resolve().parents[3] / "providers" / "shopify" / "demo.yaml"
TODAY = date(2026, 12, 6)

# (type, field, type as the reference page writes it, page)
DOCUMENTED: list[tuple[str, str, str, str]] = [
    ("WebhookSubscription", "id", "ID!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "topic", "WebhookSubscriptionTopic!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "uri", "String!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "format", "WebhookSubscriptionFormat!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "includeFields", "[String!]!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "metafieldNamespaces", "[String!]!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "filter", "String", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "createdAt", "DateTime!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "updatedAt", "DateTime!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscription", "apiVersion", "ApiVersion!", f"{REF}/objects/WebhookSubscription"),
    ("WebhookSubscriptionDeletePayload", "deletedWebhookSubscriptionId", "ID", f"{REF}/mutations/webhookSubscriptionDelete"),
    ("DeliveryCarrierService", "callbackUrl", "URL", f"{REF}/objects/DeliveryCarrierService"),
    ("DeliveryCarrierService", "active", "Boolean!", f"{REF}/objects/DeliveryCarrierService"),
    ("DeliveryCarrierService", "supportsServiceDiscovery", "Boolean!", f"{REF}/objects/DeliveryCarrierService"),
    ("DeliveryCarrierService", "formattedName", "String", f"{REF}/objects/DeliveryCarrierService"),
    ("CarrierServiceDeletePayload", "deletedId", "ID", f"{REF}/mutations/carrierServiceDelete"),
    ("CarrierServiceDeletePayload", "userErrors", "[CarrierServiceDeleteUserError!]!", f"{REF}/mutations/carrierServiceDelete"),
    ("FulfillmentService", "serviceName", "String!", f"{REF}/objects/FulfillmentService"),
    ("FulfillmentService", "handle", "String!", f"{REF}/objects/FulfillmentService"),
    ("FulfillmentService", "callbackUrl", "URL", f"{REF}/objects/FulfillmentService"),
    ("FulfillmentServiceDeletePayload", "deletedId", "ID", f"{REF}/payloads/FulfillmentServiceDeletePayload"),
    ("Shop", "fulfillmentServices", "[FulfillmentService!]!", f"{REF}/objects/Shop"),
    ("AppSubscription", "name", "String!", f"{REF}/objects/AppSubscription"),
    ("AppSubscription", "status", "AppSubscriptionStatus!", f"{REF}/objects/AppSubscription"),
    ("AppSubscription", "currentPeriodEnd", "DateTime", f"{REF}/objects/AppSubscription"),
    ("AppSubscription", "trialDays", "Int!", f"{REF}/objects/AppSubscription"),
    ("AppSubscription", "test", "Boolean!", f"{REF}/objects/AppSubscription"),
    ("AppSubscription", "lineItems", "[AppSubscriptionLineItem!]!", f"{REF}/objects/AppSubscription"),
    ("AppSubscription", "returnUrl", "URL!", f"{REF}/objects/AppSubscription"),
    ("AppSubscriptionCancelPayload", "appSubscription", "AppSubscription", f"{REF}/payloads/AppSubscriptionCancelPayload"),
    ("AppSubscriptionCancelPayload", "userErrors", "[UserError!]!", f"{REF}/payloads/AppSubscriptionCancelPayload"),
    ("AppUninstallPayload", "app", "App", f"{REF}/payloads/AppUninstallPayload"),
    ("AppUninstallPayload", "userErrors", "[AppUninstallAppUninstallError!]!", f"{REF}/payloads/AppUninstallPayload"),
    ("PageInfo", "hasNextPage", "Boolean!", f"{REF}/objects/PageInfo"),
    ("PageInfo", "endCursor", "String", f"{REF}/objects/PageInfo"),
    ("UserError", "message", "String!", f"{REF}/objects/UserError"),
    ("UserError", "field", "[String!]", f"{REF}/objects/UserError"),
    ("ApiVersion", "supported", "Boolean!", f"{REF}/objects/ApiVersion"),
]


@pytest.mark.parametrize(("type_name", "field", "written", "page"), DOCUMENTED)
def test_the_schema_holds_what_the_reference_says(type_name: str, field: str, written: str, page: str) -> None:
    owner = SCHEMA.get_type(type_name)
    assert owner is not None and hasattr(owner, "fields"), f"{type_name} missing ({page})"
    assert field in owner.fields, f"{type_name}.{field} missing ({page})"
    assert str(owner.fields[field].type) == written, f"{type_name}.{field} is not {written} ({page})"


def test_every_documented_type_names_its_reference_page() -> None:
    undocumented = [
        name
        for name, kind in SCHEMA.type_map.items()
        if not name.startswith("__")
        and not name.endswith(("Connection", "Edge"))
        and name not in ("String", "Int", "Float", "Boolean", "ID", "QueryRoot", "Mutation")
        and "shopify.dev" not in (kind.description or "")
        and name not in ("DateTime", "URL", "Decimal")
    ]
    assert undocumented == []
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert "https://shopify.dev/changelog/new-appuninstall-mutation-to-allow-apps-to-uninstall-themselves" in text


def test_connections_page_by_first_and_after() -> None:
    for name in ("webhookSubscriptions", "carrierServices", "orders"):
        field = SCHEMA.query_type.fields[name]  # type: ignore[union-attr]
        assert {"first", "after", "last", "before"} <= set(field.args)
        assert isinstance(field.type, GraphQLNonNull)
        named = get_named_type(field.type)
        assert {"edges", "nodes", "pageInfo"} <= set(named.fields)  # type: ignore[union-attr]


@pytest.mark.parametrize("document", queries.ALL_DOCUMENTS, ids=lambda d: d.split("(")[0].split("{")[0].strip()[:40])
def test_every_client_document_validates_against_the_schema(document: str) -> None:
    validated(SCHEMA, document)


def _ask(emu: ShopifyEmulator, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    path = "/demo-shop/admin/api/2026-10/graphql.json"
    request = httpx.Request(
        "POST", f"http://h/shopify{path}", headers={"X-Shopify-Access-Token": token},
        content=json.dumps({"query": document, "variables": variables}).encode(),
    )
    response = emu.handle(request, path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _variables(document: str) -> dict[str, Any]:
    if "$id" in document:
        for kind, ident in (
            ("WebhookSubscription", 4759306),
            ("DeliveryCarrierService", 1036894960),
            ("FulfillmentService", 611870435),
            ("AppSubscription", 455696195),
        ):
            if kind in document or {
                "WebhookSubscription": "webhookSubscriptionDelete",
                "DeliveryCarrierService": "carrierServiceDelete",
                "FulfillmentService": "fulfillmentServiceDelete",
                "AppSubscription": "appSubscriptionCancel",
            }[kind] in document:
                return {"id": f"gid://shopify/{kind}/{ident}"}
    return {"first": 50} if "$first" in document else {}


@pytest.mark.parametrize("token", ["shpat_demo_admin", "shpat_legacy_demo", "shpat_nordhub_demo"])
@pytest.mark.parametrize("document", queries.ALL_DOCUMENTS, ids=lambda d: d.split("(")[0].split("{")[0].strip()[:40])
def test_every_answer_to_the_client_has_the_schemas_shape(document: str, token: str) -> None:
    emu = ShopifyEmulator(today=lambda: TODAY)
    emu.load(yaml.safe_load(DEMO.read_text(encoding="utf-8"))["shopify"])
    body = _ask(emu, token, document, _variables(document))
    assert_conforms(SCHEMA, document, body)
    assert body["extensions"]["cost"]["requestedQueryCost"] >= body["extensions"]["cost"]["actualQueryCost"] or (
        body["extensions"]["cost"]["actualQueryCost"] is None
    )


def test_the_authority_rows_cover_what_the_client_lists_and_cite_shopify() -> None:
    from providers.shopify.authority import AUTHORITY

    resources = {row.resource for row in AUTHORITY}
    assert {c.resource for c in queries.COLLECTIONS} | {queries.APP_RESOURCE} <= resources
    for row in AUTHORITY:
        assert row.source.startswith(("https://shopify.dev/", "https://help.shopify.com/")), row
        assert row.who_sees and row.who_cancels and row.otherwise
    text = (Path(__file__).resolve().parents[3] / "docs" / "vendors.md").read_text(encoding="utf-8")
    shopify = text.split("## Shopify", 1)[1].split("\n## ", 1)[0]
    for row in AUTHORITY:
        assert row.source in shopify, f"docs/vendors.md does not cite {row.source}"
