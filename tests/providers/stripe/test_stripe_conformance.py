"""The emulator's answers and the client's requests against Stripe's published descriptions.

Two sources disagree, on purpose: the spec extract is API version 2023-08-16, the fixtures are
the current version. The emulator stores the current shape and renders the older one for a
request pinned to a version before 2025-03-31, as Stripe does. So the extract's schemas are
checked strictly against pinned answers, and the current shape is checked to differ from the
extract in exactly the fields listed here (and nowhere else).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from stripe_harness import Harness, Wire, demo_section, run

from engine.model import CancelAt, Kind
from providers.sdk import CancelRequest
from providers.stripe.forms import decode_form
from providers.stripe.objects import TEMPLATES
from tests.vendor_specs import SPECS as VENDOR_SPECS

ROOT = Path(__file__).resolve().parents[3]
URN = "urn:stripe:spec3-2023-08-16"
LEGACY = {"Stripe-Version": "2023-08-16"}

# Where the current shape (fixtures3.json, and the emulator by default) and the extract differ.
CURRENT_ONLY = {
    "subscription": {"billing_cycle_anchor_config", "billing_mode", "billing_schedules", "customer_account", "discounts",
                     "invoice_settings", "managed_payments"},
    "subscription_item": {"current_period_end", "current_period_start", "discounts", "plan"},
    "invoice": {"amount_overpaid", "automatically_finalizes_at", "customer_account", "issuer", "parent", "rendering",
                "total_pretax_credit_amounts", "total_taxes"},
}
EXTRACT_ONLY = {
    "subscription": {"current_period_end", "current_period_start", "discount"},
    "subscription_item": set(),
    "invoice": {"application_fee_amount", "charge", "discount", "paid", "paid_out_of_band", "payment_intent", "quote",
                "rendering_options", "subscription_details", "subscription_proration_date", "tax", "threshold_reason",
                "total_tax_amounts", "transfer_data"},
}


def _specs_dir() -> Path:
    return VENDOR_SPECS / "stripe"


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes an alternative ``null``."""
    if isinstance(node, dict):
        out = {key: _to_json_schema(value) for key, value in node.items() if key != "nullable" and not key.startswith("x-")}
        return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") is True else out
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    return node


@lru_cache(maxsize=1)
def _spec() -> tuple[dict[str, Any], Registry]:
    raw = json.loads((_specs_dir() / "spec3_subscriptions_subset_2023-08-16.json").read_text())
    converted = _to_json_schema(raw)
    return raw, Registry().with_resource(URN, Resource(contents=converted, specification=DRAFT202012))


def _validator(pointer: str) -> Draft202012Validator:
    _, registry = _spec()
    return Draft202012Validator({"$ref": f"{URN}#{pointer}"}, registry=registry)


def _errors(pointer: str, instance: Any) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in _validator(pointer).iter_errors(instance))


def _op(path: str, method: str) -> str:
    return "/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


SUBSCRIPTION = "/components/schemas/subscription"
INVOICE = "/components/schemas/invoice"
ERROR = "/components/schemas/error"
LIST_200 = _op("/v1/subscriptions", "get") + "/responses/200/content/application~1json/schema"


def _section() -> dict[str, Any]:
    subs = [
        {"id": "sub_active", "metadata": {"name": "A"}},
        {"id": "sub_pending", "cancel_at_period_end": True},
        {"id": "sub_trial", "status": "trialing"},
        {"id": "sub_gone", "status": "canceled"},
        {"id": "sub_yearly", "items": {"data": [{"price": {"unit_amount": 12000, "currency": "eur", "nickname": "Yearly",
                                                            "recurring": {"interval": "year", "interval_count": 1}}}]}},
        {"id": "sub_two", "items": [{"price": {"id": "price_a"}}, {"price": {"id": "price_b"}, "quantity": 3}]},
    ]
    return demo_section(subscriptions=subs, invoices=[{"id": "in_a", "subscription": "sub_active"}, {"id": "in_loose", "amount_due": 100}])


def test_the_templates_are_stripes_fixtures_unchanged() -> None:
    fixtures = json.loads((_specs_dir() / "fixtures3.json").read_text())["resources"]
    for name in ("subscription", "invoice", "customer"):
        assert TEMPLATES[name] == fixtures[name], name


def test_pinned_subscriptions_and_lists_match_the_extract(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = make_harness(_section())
    call = Wire(harness.emulator)
    page = call("GET", "/v1/subscriptions", {"status": "all", "limit": 100}, headers=LEGACY)
    assert page.status_code == 200
    assert _errors(LIST_200, page.json()) == []
    assert len(page.json()["data"]) == 6
    for sub in page.json()["data"]:
        assert _errors(SUBSCRIPTION, sub) == [], sub["id"]
    updated = call("POST", "/v1/subscriptions/sub_active", {"cancel_at_period_end": True, "metadata": {"k": "v"}}, headers=LEGACY)
    canceled = call("DELETE", "/v1/subscriptions/sub_trial", {"invoice_now": True, "prorate": False}, headers=LEGACY)
    for response in (updated, canceled, call("GET", "/v1/subscriptions/sub_gone", headers=LEGACY)):
        assert response.status_code == 200 and _errors(SUBSCRIPTION, response.json()) == []


def test_pinned_invoices_match_the_extract(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = make_harness(_section())
    call = Wire(harness.emulator)
    invoices = call("GET", "/v1/invoices", {"limit": 100}, headers=LEGACY).json()["data"]
    assert {i["id"] for i in invoices} == {"in_a", "in_loose"}
    for invoice in invoices:
        assert _errors(INVOICE, invoice) == [], invoice["id"]


def test_error_bodies_match_the_extract(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = make_harness(_section())
    call = Wire(harness.emulator)
    answers = [
        call("GET", "/v1/subscriptions", key="sk_test_wrong"),
        call("GET", "/v1/subscriptions/sub_missing"),
        call("GET", "/v1/subscriptions", {"limit": 500}),
        call("POST", "/v1/subscriptions/sub_gone", {"cancel_at_period_end": True}),
        call("GET", "/v1/nowhere"),
    ]
    call("POST", "/v1/subscriptions/sub_active", {"metadata": {"a": "1"}}, headers={"Idempotency-Key": "k"})
    answers.append(call("POST", "/v1/subscriptions/sub_active", {"metadata": {"a": "2"}}, headers={"Idempotency-Key": "k"}))
    harness.emulator.inject_fault("GET", "/v1/invoices", status=429, code="lock_timeout", should_retry=True)
    harness.emulator.inject_fault("GET", "/v1/customers", status=500)
    answers += [call("GET", "/v1/invoices"), call("GET", "/v1/customers")]
    harness.emulator.enforce_rate_limits = True
    for _ in range(30):
        last = call("GET", "/v1/subscriptions")
    answers.append(last)
    assert [a.status_code for a in answers] == [401, 404, 400, 400, 404, 400, 429, 500, 429]
    for answer in answers:
        assert _errors(ERROR, answer.json()) == [], answer.json()
        assert answer.headers["Request-Id"].startswith("req_")
    assert answers[5].json()["error"]["type"] == "idempotency_error"
    assert answers[-1].json()["error"]["code"] == "rate_limit"


def test_the_current_shape_differs_from_the_extract_only_where_listed(make_harness) -> None:  # type: ignore[no-untyped-def]
    raw, _ = _spec()
    schemas = raw["components"]["schemas"]
    fixtures = json.loads((_specs_dir() / "fixtures3.json").read_text())["resources"]
    samples = {"subscription": fixtures["subscription"], "subscription_item": fixtures["subscription"]["items"]["data"][0],
               "invoice": fixtures["invoice"]}
    for name, sample in samples.items():
        declared = set(schemas[name]["properties"])
        assert set(sample) - declared == CURRENT_ONLY[name], name
        assert declared - set(sample) == EXTRACT_ONLY[name], name

    harness: Harness = make_harness(_section())
    current = Wire(harness.emulator)("GET", "/v1/subscriptions/sub_active").json()
    # Against the 2023-08-16 schema, the current shape misses only the period fields that moved to the items.
    assert _errors(SUBSCRIPTION, current) == [
        ": 'current_period_end' is a required property",
        ": 'current_period_start' is a required property",
    ]


# -- the client's requests ---------------------------------------------------------------------


def _coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Form values are strings; give them the JSON type the request schema asks for."""
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            candidate = _coerce(value, option)
            if not list(Draft202012Validator(option).iter_errors(candidate)):
                return candidate
        return value
    kind = schema.get("type")
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "integer" and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {k: _coerce(v, props.get(k, extra if isinstance(extra, dict) else {})) for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [_coerce(v, schema.get("items", {})) for v in value]
    return value


def _body_schema(path: str, method: str) -> dict[str, Any]:
    raw, _ = _spec()
    operation = raw["paths"][path][method]
    return _to_json_schema(operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"])


def _client_traffic(make_harness) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    harness: Harness = make_harness(demo_section())

    async def go() -> None:
        provider, factory = harness.provider(options={"invoice_now": True})
        bindings = {b.id: b for b in (await provider.list_bindings(frozenset({Kind.SUBSCRIPTION}))).bindings}
        await provider.cancel(CancelRequest(bindings["sub_1LegacyERP"], "platform", CancelAt.PERIOD_END, "k-1"))
        await provider.cancel(CancelRequest(bindings["sub_1Analytics"], "platform", CancelAt.NOW, "k-2"))
        await provider.fetch(bindings["sub_1Analytics"])
        _ = [r async for r in provider.export(bindings["sub_1LegacyERP"], "invoices")]
        await factory.aclose()

    run(go)
    yield from harness.sent


def test_the_clients_form_bodies_match_the_request_schemas(make_harness) -> None:  # type: ignore[no-untyped-def]
    sent = list(_client_traffic(make_harness))
    bodies = {(s.method, s.path): decode_form(parse_qsl(s.body.decode(), keep_blank_values=True)) for s in sent if s.method != "GET"}
    assert set(bodies) == {("POST", "/stripe/v1/subscriptions/sub_1LegacyERP"), ("DELETE", "/stripe/v1/subscriptions/sub_1Analytics")}
    for (method, _), body in bodies.items():
        schema = _body_schema("/v1/subscriptions/{subscription_exposed_id}", method.lower())
        typed = _coerce(body, schema)
        assert list(Draft202012Validator(schema).iter_errors(typed)) == [], (method, body)
    assert _coerce(bodies[("DELETE", "/stripe/v1/subscriptions/sub_1Analytics")], _body_schema("/v1/subscriptions/{subscription_exposed_id}", "delete")) == {
        "invoice_now": True, "prorate": False}
    # the schema would catch a wrong parameter name
    schema = _body_schema("/v1/subscriptions/{subscription_exposed_id}", "post")
    assert list(Draft202012Validator(schema).iter_errors({"cancel_at_end": True}))


def test_the_clients_list_queries_use_declared_parameters(make_harness) -> None:  # type: ignore[no-untyped-def]
    raw, _ = _spec()
    declared = {p["name"]: _to_json_schema(p["schema"]) for p in raw["paths"]["/v1/subscriptions"]["get"]["parameters"]}
    lists = [s for s in _client_traffic(make_harness) if s.method == "GET" and s.path == "/stripe/v1/subscriptions"]
    assert lists
    for sent in lists:
        for name, value in parse_qsl(sent.query, keep_blank_values=True):
            assert name in declared, name
            assert list(Draft202012Validator(declared[name]).iter_errors(_coerce(value, declared[name]))) == [], (name, value)
