"""Every emulated operation, and every request the client makes, checked against eBay's OAS3 files.

Response bodies are validated with jsonschema against ``components/schemas`` (``$ref``s resolved
through a ``referencing`` registry), made strict: an object schema that names its properties
admits no others, so a misspelt or invented field fails. Status codes must be documented for the
operation (or be one of eBay's errors common to every API: 401, 403, 429), and every errorId must
be documented for the operation or be a common one (1001, 1100, 2001). Requests must name a
documented operation, send only its documented query parameters, its required ones, and no body.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from engine.model import CancelAt, Kind
from providers.ebay.client import EbayProvider
from providers.sdk import CancelRequest
from tests.vendor_specs import SPECS as VENDOR_SPECS

SPEC_DIR = VENDOR_SPECS / "ebay"
COMMON_STATUSES = {401, 403, 429}
COMMON_ERROR_IDS = {1001, 1100, 2001}
EMULATED = {
    "getFulfillmentPolicies",
    "getFulfillmentPolicy",
    "deleteFulfillmentPolicy",
    "getSubscriptions",
    "getSubscription",
    "deleteSubscription",
}

pytestmark = pytest.mark.skipif(not SPEC_DIR.is_dir(), reason=f"vendor specs not found at {SPEC_DIR}")


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        if "properties" in node and node.get("type", "object") == "object":
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    api: Api


class Api:
    def __init__(self, file: str) -> None:
        document = json.loads((SPEC_DIR / file).read_text(encoding="utf-8"))
        document = copy.deepcopy(document)
        document["components"]["schemas"] = _strict(document["components"]["schemas"])
        self.uri = f"urn:ebay:{file}"
        self.base = document["servers"][0]["variables"]["basePath"]["default"]
        self.registry = Registry().with_resource(
            self.uri, Resource.from_contents(document, default_specification=DRAFT7)
        )
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            for method, spec in item.items():
                if method not in ("get", "put", "post", "delete", "patch"):
                    continue
                pattern = re.compile("^" + re.escape(self.base) + regex + "$")
                self.operations.append(Operation(spec["operationId"], method.upper(), pattern, spec, self))
        # Literal paths win over templated ones (/fulfillment_policy/get_by_policy_name).
        self.operations.sort(key=lambda op: "[^/]+" in op.pattern.pattern)

    def validator(self, schema: dict[str, Any]) -> Draft7Validator:
        if "$ref" in schema:
            schema = {"$ref": self.uri + schema["$ref"]}
        return Draft7Validator(schema, registry=self.registry)

    def error_validator(self) -> Draft7Validator:
        envelope = {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": self.uri + "#/components/schemas/Error"},
                }
            },
            "required": ["errors"],
            "additionalProperties": False,
        }
        return Draft7Validator(envelope, registry=self.registry)


APIS = (
    [Api("sell_account_v1_oas3.json"), Api("commerce_notification_v1_oas3.json")] if SPEC_DIR.is_dir() else []
)


def operation_for(request: httpx.Request) -> Operation:
    path = request.url.path.removeprefix("/ebay")
    for api in APIS:
        for op in api.operations:
            if op.method == request.method and op.pattern.match(path):
                return op
    raise AssertionError(f"{request.method} {path} is not an operation of eBay's specs")


def documented_error_ids(op: Operation) -> set[int]:
    ids: set[int] = set()
    for response in op.spec["responses"].values():
        ids |= {int(k) for k in response.get("x-response-codes", {}).get("errors", {})}
    return ids


def check_request(request: httpx.Request) -> Operation:
    op = operation_for(request)
    declared = {p["name"]: p for p in op.spec.get("parameters", []) if p["in"] == "query"}
    sent = dict(request.url.params)
    assert set(sent) <= set(
        declared
    ), f"{op.operation_id}: undocumented query parameters {set(sent) - set(declared)}"
    for name, parameter in declared.items():
        if parameter.get("required"):
            assert name in sent, f"{op.operation_id}: required parameter {name} missing"
        if name in sent:
            errors = list(Draft7Validator(parameter["schema"]).iter_errors(sent[name]))
            assert not errors, f"{op.operation_id}: parameter {name}: {errors[0].message}"
    assert request.content == b"", f"{op.operation_id} takes no request body"
    assert request.headers["authorization"].startswith("Bearer ")
    return op


def check_response(op: Operation, response: httpx.Response) -> None:
    status = response.status_code
    documented = {int(code) for code in op.spec["responses"]}
    assert status in documented | COMMON_STATUSES, f"{op.operation_id}: status {status} is not documented"
    if status == 204:
        assert response.content == b""
        return
    body = response.json()
    if status < 300:
        schema = op.spec["responses"][str(status)]["content"]["application/json"]["schema"]
        errors = sorted(op.api.validator(schema).iter_errors(body), key=str)
        assert (
            not errors
        ), f"{op.operation_id} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"
        return
    errors = list(op.api.error_validator().iter_errors(body))
    assert not errors, f"{op.operation_id} {status} error body: {errors[0].message}"
    for error in body["errors"]:
        assert (
            error["errorId"] in documented_error_ids(op) | COMMON_ERROR_IDS
        ), f"{op.operation_id}: errorId {error['errorId']} is not documented for it"


def exercise_client(harness) -> None:
    """Drive every emulated operation through the client, successes and refusals alike."""

    async def flows(provider: EbayProvider) -> None:
        listing = await provider.list_bindings(frozenset({Kind.CARRIER, Kind.WEBHOOK}))
        found = {b.id: b for b in listing.bindings}
        for binding_id in ("6196932001", "3f1c9a7e"):
            assert await provider.fetch(found[binding_id]) is not None
            for _ in range(2):  # 204, then 404
                await provider.cancel(CancelRequest(found[binding_id], "platform", CancelAt.NOW, "k"))
            assert await provider.fetch(found[binding_id]) is None
        await provider.cancel(CancelRequest(found["6196932000"], "platform", CancelAt.NOW, "k"))  # 409

    harness.run(flows, options={"marketplaces": ["EBAY_DE", "EBAY_GB"], "page_size": 10})


def test_the_clients_requests_and_the_emulators_answers_follow_the_specs(harness, scenario) -> None:
    scenario["demo-seller"]["subscriptions"] += [
        {"subscriptionId": f"extra-{n}", "topicId": "ORDER_CONFIRMATION", "destinationId": "d-2"}
        for n in range(12)
    ]
    harness.emulator.load(scenario)
    exercise_client(harness)

    seen: dict[str, set[int]] = {}
    for exchange in harness.exchanges:
        op = check_request(exchange.request)
        check_response(op, exchange.response)
        seen.setdefault(op.operation_id, set()).add(exchange.response.status_code)

    assert set(seen) == EMULATED
    assert seen["deleteFulfillmentPolicy"] == {204, 404, 409}
    assert seen["deleteSubscription"] == {204, 404}
    assert seen["getSubscriptions"] == {200}
    assert (
        len(
            [
                e
                for e in harness.exchanges
                if "subscription" in e.request.url.path and e.request.method == "GET"
            ]
        )
        >= 3
    )


@pytest.mark.parametrize(
    ("method", "path", "params", "token", "status"),
    [
        ("GET", "/sell/account/v1/fulfillment_policy", {}, "v^1.1#demo", 400),
        ("GET", "/sell/account/v1/fulfillment_policy", {"marketplace_id": "DE"}, "v^1.1#demo", 400),
        ("GET", "/sell/account/v1/fulfillment_policy", {"marketplace_id": "EBAY_DE"}, "v^1.1#wrong", 401),
        ("GET", "/sell/account/v1/fulfillment_policy/404404", {}, "v^1.1#demo", 404),
        ("DELETE", "/sell/account/v1/fulfillment_policy/6196932001", {}, "v^1.1#readonly", 403),
        ("GET", "/commerce/notification/v1/subscription", {"limit": "500"}, "v^1.1#demo", 400),
        ("GET", "/commerce/notification/v1/subscription", {"continuation_token": "x"}, "v^1.1#demo", 400),
        ("GET", "/commerce/notification/v1/subscription/nope", {}, "v^1.1#demo", 404),
        ("DELETE", "/commerce/notification/v1/subscription/8cd7d4b3", {}, "v^1.1#readonly", 403),
    ],
)
def test_error_answers_follow_the_specs(emulator, method, path, params, token, status) -> None:
    request = httpx.Request(
        method,
        "http://127.0.0.1:8787/ebay" + path,
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )
    response = emulator.handle(request, path)
    assert response.status_code == status
    check_response(operation_for(request), response)


def test_the_quota_answer_follows_the_specs(emulator) -> None:
    emulator.daily_quotas["sell.account"] = 0
    request = httpx.Request(
        "GET",
        "http://127.0.0.1:8787/ebay/sell/account/v1/fulfillment_policy",
        params={"marketplace_id": "EBAY_DE"},
        headers={"Authorization": "Bearer v^1.1#demo"},
    )
    response = emulator.handle(request, request.url.path[len("/ebay") :])
    assert response.status_code == 429 and response.json()["errors"][0]["errorId"] == 2001
    check_response(operation_for(request), response)


def test_the_strict_schemas_catch_an_invented_field() -> None:
    op = next(op for api in APIS for op in api.operations if op.operation_id == "getFulfillmentPolicy")
    with pytest.raises(AssertionError, match="Additional properties"):
        check_response(op, httpx.Response(200, json={"fulfillmentPolicyId": "1", "carrier": "DHL"}))
    with pytest.raises(AssertionError, match="not documented"):
        check_response(op, httpx.Response(409, json={"errors": [{"errorId": 20409}]}))
