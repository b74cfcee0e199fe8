"""The emulator's objects against what Shopify documents, and the client against Shopify's payloads.

Shopify publishes no OpenAPI for the REST Admin API. The schemas below restate the field table
for 2024-01 in tests/vendor_specs/README.md; the fixtures in tests/vendor_specs/shopify/ are older
shapes, so for them the check is weaker: every key a fixture has must be in the emulator's object,
with the same JSON type (null is compatible with anything, because Shopify nulls unset fields).
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from shopify_support import (  # noqa: F401  (fixtures)
    ADMIN,
    FakeClock,
    Wire,
    clock,
    demo_section,
    emulator,
    make_factory,
    make_provider,
    sync_client,
    wire,
)

from engine.model import Kind
from providers.shopify.emulator import ShopifyEmulator
from tests.vendor_specs import SPECS as VENDOR_SPECS

SPECS = VENDOR_SPECS / "shopify"
V = "/admin/api/2024-01"

DATE_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$"}
DATE_OR_TIME = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}"}
STRINGS = {"type": "array", "items": {"type": "string"}}


def gid(kind: str) -> dict[str, Any]:
    return {"type": "string", "pattern": rf"^gid://shopify/{kind}/\d+$"}


DEFS: dict[str, Any] = {
    "carrier_service": {
        "type": "object",
        "required": ["id", "name", "active", "service_discovery", "carrier_service_type", "format",
                     "callback_url", "admin_graphql_api_id"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "minLength": 1},
            "active": {"type": "boolean"},
            "service_discovery": {"type": "boolean"},
            "carrier_service_type": {"enum": ["api", "legacy"]},
            "format": {"enum": ["json", "xml"]},
            "callback_url": {"type": ["string", "null"]},
            "admin_graphql_api_id": gid("DeliveryCarrierService"),
        },
    },
    "fulfillment_service": {
        "type": "object",
        "required": ["id", "name", "handle", "service_name", "location_id", "callback_url",
                     "inventory_management", "tracking_support", "fulfillment_orders_opt_in",
                     "permits_sku_sharing", "provider_id", "admin_graphql_api_id"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "handle": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "service_name": {"type": "string"},
            "location_id": {"type": ["integer", "null"]},
            "callback_url": {"type": ["string", "null"]},
            "inventory_management": {"type": "boolean"},
            "tracking_support": {"type": "boolean"},
            "fulfillment_orders_opt_in": {"type": "boolean"},
            "permits_sku_sharing": {"type": "boolean"},
            "provider_id": {"type": ["string", "integer", "null"]},
            "admin_graphql_api_id": gid("ApiFulfillmentService"),
        },
    },
    "webhook": {
        "type": "object",
        "required": ["id", "address", "topic", "format", "fields", "metafield_namespaces",
                     "private_metafield_namespaces", "api_version", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "integer"},
            "address": {"type": "string", "pattern": r"^(https://|pubsub://|arn:aws:events:)"},
            "topic": {"type": "string", "pattern": r"^[a-z_]+/[a-z_]+$"},
            "format": {"enum": ["json", "xml"]},
            "fields": STRINGS,
            "metafield_namespaces": STRINGS,
            "private_metafield_namespaces": STRINGS,
            "api_version": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
        },
    },
    "recurring_application_charge": {
        "type": "object",
        "required": ["id", "name", "price", "status", "billing_on", "activated_on", "cancelled_on",
                     "trial_days", "trial_ends_on", "test", "capped_amount", "balance_used", "currency",
                     "return_url", "decorated_return_url", "confirmation_url", "api_client_id"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "price": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
            "status": {"enum": ["pending", "accepted", "active", "declined", "expired", "frozen", "cancelled"]},
            "billing_on": DATE_OR_TIME,
            "activated_on": DATE_OR_TIME,
            "cancelled_on": DATE_OR_TIME,
            "trial_days": {"type": "integer", "minimum": 0},
            "trial_ends_on": DATE_OR_TIME,
            "test": {"enum": [True, None]},
            "capped_amount": {"type": ["string", "null"]},
            "balance_used": {"type": "number"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "return_url": {"type": "string"},
            "decorated_return_url": {"type": "string"},
            "confirmation_url": {"type": ["string", "null"]},
            "api_client_id": {"type": "integer"},
        },
    },
    "access_scope": {
        "type": "object",
        "required": ["handle"],
        "additionalProperties": False,
        "properties": {"handle": {"type": "string", "pattern": "^[a-z_]+$"}},
    },
    "error": {
        "type": "object",
        "required": ["errors"],
        "additionalProperties": False,
        "properties": {
            "errors": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "object", "additionalProperties": {"oneOf": [STRINGS, {"type": "string"}]}},
                ]
            }
        },
    },
}


@functools.cache
def envelope(key: str, item: str, *, many: bool) -> Draft202012Validator:
    ref = {"$ref": f"#/$defs/{item}"}
    schema = {
        "$defs": DEFS,
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {key: {"type": "array", "items": ref} if many else ref},
    }
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def error_validator() -> Draft202012Validator:
    return Draft202012Validator({"$defs": DEFS, "$ref": "#/$defs/error"})


COLLECTIONS = {
    "carrier_services": "carrier_service",
    "fulfillment_services": "fulfillment_service",
    "webhooks": "webhook",
    "recurring_application_charges": "recurring_application_charge",
}


def assert_valid(validator: Draft202012Validator, body: Any) -> None:
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert problems == []


@pytest.fixture
def rich_emulator(emulator: ShopifyEmulator) -> ShopifyEmulator:
    """The demo, plus a usage-capped pending charge, so every charge field has a non-null sample."""
    section = demo_section()
    section["demo-shop"]["recurring_application_charges"].append(
        {"id": 455696197, "name": "Nordhub Usage", "price": "0.00", "capped_amount": "100.00",
         "terms": "EUR 0.05 per synced order", "status": "pending", "test": True}
    )
    emulator.load(section)
    return emulator


@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
def test_lists_and_single_objects_match_the_2024_01_fields(rich_emulator: ShopifyEmulator, collection: str) -> None:
    singular = COLLECTIONS[collection]
    wire = Wire(rich_emulator)
    with sync_client(wire) as http:
        listed = http.get(f"{V}/{collection}.json")
        assert listed.status_code == 200
        assert_valid(envelope(collection, singular, many=True), listed.json())
        objects = listed.json()[collection]
        assert objects
        for obj in objects:
            one = http.get(f"{V}/{collection}/{obj['id']}.json")
            assert_valid(envelope(singular, singular, many=False), one.json())


def test_objects_stay_valid_after_changes(rich_emulator: ShopifyEmulator) -> None:
    wire = Wire(rich_emulator)
    with sync_client(wire) as http:
        http.delete(f"{V}/recurring_application_charges/455696195.json")
        cancelled = http.get(f"{V}/recurring_application_charges/455696195.json")
        hook = http.post(f"{V}/webhooks.json", json={"webhook": {"topic": "orders/paid", "address": "https://a.example/x"}})
        carrier = http.post(
            f"{V}/carrier_services.json",
            json={"carrier_service": {"name": "GLS Rates", "callback_url": "https://gls.example/rates"}},
        )
    assert_valid(envelope("recurring_application_charge", "recurring_application_charge", many=False), cancelled.json())
    assert_valid(envelope("webhook", "webhook", many=False), hook.json())
    assert_valid(envelope("carrier_service", "carrier_service", many=False), carrier.json())


def test_access_scopes_shape(wire: Wire) -> None:
    with sync_client(wire) as http:
        body = http.get("/admin/oauth/access_scopes.json").json()
    assert_valid(envelope("access_scopes", "access_scope", many=True), body)
    for fixture in ("shopify_python_api/access_scopes.json", "shopify-api-ruby-legacy/access_scopes.json"):
        assert_valid(envelope("access_scopes", "access_scope", many=True), json.loads((SPECS / fixture).read_text()))


def test_every_error_body_has_shopifys_shape(wire: Wire, clock: FakeClock) -> None:
    validator = error_validator()
    bodies = []
    with sync_client(wire, "wrong") as http:
        bodies.append(http.get(f"{V}/webhooks.json"))
    with sync_client(wire, "shpat_demo_readonly") as http:
        bodies.append(http.delete(f"{V}/carrier_services/1036894960.json"))
    with sync_client(wire) as http:
        bodies.append(http.get(f"{V}/webhooks/1.json"))
        bodies.append(http.get(f"{V}/webhooks.json", params={"limit": 999}))
        bodies.append(http.post(f"{V}/webhooks.json", json={"webhook": {"topic": "", "address": ""}}))
        bodies.append(http.post(f"{V}/webhooks.json", json={}))
        for _ in range(45):
            last = http.get(f"{V}/webhooks/count.json")
        bodies.append(last)
    assert [b.status_code for b in bodies] == [401, 403, 404, 400, 422, 400, 429]
    for response in bodies:
        assert_valid(validator, response.json())
        assert response.headers["content-type"].startswith("application/json")


# -- the old fixtures ----------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


# Where the fixtures themselves disagree with 2024-01 (and with each other).
KNOWN_DISAGREEMENTS = {
    # The 2015 python fixture sends capped_amount as a number (100); the legacy ruby fixture and
    # the 2024-01 reference send a decimal string ("100.00"). The emulator follows 2024-01.
    ("shopify_python_api/recurring_application_charges.json", "capped_amount"),
}

FIXTURES = [
    ("shopify_python_api/carrier_service.json", "carrier_services", 1036894960),
    ("shopify_python_api/fulfillment_service.json", "fulfillment_services", 611870435),
    ("shopify-api-ruby-legacy/fulfillment_service.json", "fulfillment_services", 611870435),
    ("shopify-api-ruby-legacy/webhook.json", "webhooks", 4759306),
    ("shopify-api-ruby-legacy/webhooks.json", "webhooks", 4759306),
    ("shopify-api-ruby-legacy/recurring_application_charge.json", "recurring_application_charges", 455696197),
    ("shopify-api-ruby-legacy/recurring_application_charges.json", "recurring_application_charges", 455696197),
    ("shopify_python_api/recurring_application_charges.json", "recurring_application_charges", 455696197),
    ("shopify_python_api/recurring_application_charges_no_active.json", "recurring_application_charges", 455696197),
]


def fixture_objects(name: str) -> list[dict[str, Any]]:
    body = json.loads((SPECS / name).read_text())
    (value,) = body.values()  # one root key; webhook.json wrongly names it "webhooks"
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name, collection, ident", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_fixture_keys_are_served_with_the_same_types(
    rich_emulator: ShopifyEmulator, name: str, collection: str, ident: int
) -> None:
    wire = Wire(rich_emulator)
    with sync_client(wire) as http:
        served = http.get(f"{V}/{collection}/{ident}.json").json()[COLLECTIONS[collection]]
    mismatches = []
    for sample in fixture_objects(name):
        for key, value in sample.items():
            if key not in served:
                mismatches.append(f"{key}: missing")
                continue
            theirs, ours = json_type(value), json_type(served[key])
            if "null" in (theirs, ours) or theirs == ours or (name, key) in KNOWN_DISAGREEMENTS:
                continue
            mismatches.append(f"{key}: fixture {theirs}, emulator {ours}")
    assert sorted(set(mismatches)) == []


def test_the_fixture_covering_every_status_of_a_charge_is_read_right(clock: FakeClock, emulator: ShopifyEmulator) -> None:
    """Served verbatim to the client: ended charges are left out, live ones kept."""
    payload = (SPECS / "shopify-api-ruby-legacy/recurring_application_charges.json").read_bytes()
    wire = Wire(emulator)
    wire.fault = lambda request: (
        httpx.Response(200, content=payload, headers={"Content-Type": "application/json"})
        if request.url.path.endswith("/recurring_application_charges.json") else None
    )

    async def main() -> Any:
        factory = make_factory(wire, clock)
        try:
            return await make_provider(factory, clock, token=ADMIN).list_bindings(frozenset({Kind.SUBSCRIPTION}))
        finally:
            await factory.aclose()

    listing = asyncio.run(main())
    assert listing.complete
    assert sorted((b.id, b.status) for b in listing.bindings) == [
        ("455696194", "active"),
        ("455696195", "pending"),
        ("455696197", "accepted"),
        ("455696199", "accepted"),
    ]


def test_fixtures_with_a_repeated_id_are_flagged(clock: FakeClock, emulator: ShopifyEmulator) -> None:
    """Shopify's own webhooks.json fixture lists id 123456 twice: a listing like that is partial."""
    payload = (SPECS / "shopify-api-ruby-legacy/webhooks.json").read_bytes()
    wire = Wire(emulator)
    wire.fault = lambda request: (
        httpx.Response(200, content=payload, headers={"Content-Type": "application/json"})
        if request.url.path.endswith("/webhooks.json") else None
    )

    async def main() -> Any:
        factory = make_factory(wire, clock)
        try:
            return await make_provider(factory, clock).list_bindings(frozenset({Kind.WEBHOOK}))
        finally:
            await factory.aclose()

    listing = asyncio.run(main())
    assert not listing.complete and "123456 came back twice" in listing.problems[0]
    assert [b.id for b in listing.bindings] == ["123456"]


def test_link_header_has_the_documented_form(emulator: ShopifyEmulator) -> None:
    section = demo_section()
    section["demo-shop"]["webhooks"] = [
        {"id": i, "topic": "shop/update", "address": f"https://a.example/{i}"} for i in range(1, 6)
    ]
    emulator.load(section)
    wire = Wire(emulator)
    with sync_client(wire) as http:
        first = http.get(f"{V}/webhooks.json", params={"limit": 2})
        link = first.headers["link"]
        assert link.startswith("<http://127.0.0.1:8787/shopify/demo-shop/admin/api/2024-01/webhooks.json?")
        assert link.endswith('>; rel="next"')
        second = http.get(link[1 : link.index(">")])
    rels = sorted(part.split("rel=")[1] for part in second.headers["link"].split(", "))
    assert rels == ['"next"', '"previous"']
