"""Every emulated operation answers in the shapes the vendor models define, and the client sends
request bodies the models accept.

Validation is stricter than the models: an object may not carry a property its schema does not
declare (``additionalProperties: false`` is added where the model leaves it open), so a misspelt
field fails here instead of slipping through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import pytest
from amazon_sp_support import SELLER, Client, SpecValidator, demo_section, harness, run

from engine.model import CancelAt, Kind
from providers.amazon_sp.replies import ROUTES as _ROUTES
from providers.sdk import CancelRequest

SHIPPING = SpecValidator("shippingV2.json")
NOTIFICATIONS = SpecValidator("notifications.json")


@dataclass(frozen=True)
class Case:
    """One request to the emulator, in order (earlier cases change the state later ones see)."""

    method: str
    template: str  # the model's path template
    path: str = ""  # the request path; the template when empty
    status: int = 200
    token: str = "seller"  # seller | grantless | none | bogus
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def model(self) -> SpecValidator:
        return SHIPPING if self.template.startswith("/shipping/") else NOTIFICATIONS


CA = "/shipping/v2/carrierAccounts"
CA_ID = CA + "/{carrierId}"
UNLINK = CA + "/{carrierId}/unlink"
FORMS = "/shipping/v2/carrierAccountFormInputs"
SUBS = "/notifications/v1/subscriptions"
SUB_TYPE = SUBS + "/{notificationType}"
SUB_ID = SUBS + "/{notificationType}/{subscriptionId}"
DESTS = "/notifications/v1/destinations"
DEST_ID = DESTS + "/{destinationId}"
LINK_BODY = {
    "carrierAccountType": "SHIPPER_ACCOUNT",
    "carrierAccountAttributes": [{"attributeName": "ACCOUNT_NUMBER", "propertyGroup": "g", "value": "12345"}],
}
REFERENCES = {
    "clientReferenceDetails": [{"clientReferenceType": "IntegratorShipperId", "clientReferenceId": "x"}]
}
NEW_SUB = {"payloadVersion": "1.0", "destinationId": "dest-nordhub"}
FILTERED_SUB = {
    **NEW_SUB,
    "processingDirective": {
        "eventFilter": {"eventFilterType": "ORDER_CHANGE", "marketplaceIds": ["A1PA6795UKMFR9"]}
    },
}
SQS = {"name": "dpd", "resourceSpecification": {"sqs": {"arn": "arn:aws:sqs:eu-west-1:1:dpd"}}}
BRIDGE = {
    "name": "bridge",
    "resourceSpecification": {"eventBridge": {"region": "eu-west-1", "accountId": "2109"}},
}
ORDER_CHANGE = {"notificationTypes": "ORDER_CHANGE"}

CASES: tuple[Case, ...] = (
    # Shipping v2
    Case("PUT", CA, body={}),
    Case("PUT", CA, body=REFERENCES),
    Case("PUT", CA, body={}, status=400, headers={"x-amzn-shipping-business-id": "AmazonShipping_DE"}),
    Case("PUT", CA, body={}, status=403, token="none"),
    Case("PUT", CA, body={}, status=401, token="bogus"),
    Case("GET", FORMS),
    Case("PUT", CA_ID, CA + "/ROYAL_MAIL", body=LINK_BODY),
    Case("POST", CA_ID, CA + "/ROYAL_MAIL", body=LINK_BODY),
    Case("PUT", CA_ID, CA + "/ROYAL_MAIL", body={"carrierAccountType": "X"}, status=400),
    Case("PUT", UNLINK, CA + "/HERMES/unlink", body={"accountId": "HERMES-0815"}),
    Case("PUT", UNLINK, CA + "/HERMES/unlink", body={"accountId": "HERMES-0815"}, status=404),
    Case("PUT", UNLINK, CA + "/DPD/unlink", status=400),
    # Notifications: subscriptions
    Case("GET", SUBS, params={**ORDER_CHANGE, "pageSize": "30"}),
    Case("GET", SUBS, params={**ORDER_CHANGE, "pageSize": "5"}, status=400),
    Case("GET", SUBS, params=ORDER_CHANGE, status=403, token="none"),
    Case("GET", SUB_TYPE, SUBS + "/ORDER_CHANGE"),
    Case("GET", SUB_TYPE, SUBS + "/ORDER_CHANGE", params={"payloadVersion": "2.0"}, status=404),
    Case("POST", SUB_TYPE, SUBS + "/FEED_PROCESSING_FINISHED", body=FILTERED_SUB),
    Case("POST", SUB_TYPE, SUBS + "/FEED_PROCESSING_FINISHED", body=NEW_SUB, status=409),
    Case("POST", SUB_TYPE, SUBS + "/ORDER_CHANGE", body={**NEW_SUB, "destinationId": "nowhere"}, status=400),
    Case("GET", SUB_ID, SUBS + "/ORDER_CHANGE/sub-legacy-1", token="grantless"),
    Case("GET", SUB_ID, SUBS + "/ORDER_CHANGE/nope", token="grantless", status=404),
    Case("GET", SUB_ID, SUBS + "/ORDER_CHANGE/sub-legacy-1", status=403),
    Case("DELETE", SUB_ID, SUBS + "/BRANDED_ITEM_CONTENT_CHANGE/sub-brand", token="grantless", status=403),
    # Notifications: destinations
    Case("GET", DESTS, token="grantless"),
    Case("POST", DESTS, body=SQS, token="grantless"),
    Case("POST", DESTS, body=BRIDGE, token="grantless"),
    Case("POST", DESTS, body={**SQS, "name": "again"}, token="grantless", status=409),
    Case("POST", DESTS, body={"name": "nothing", "resourceSpecification": {}}, token="grantless", status=400),
    Case("GET", DEST_ID, DESTS + "/dest-legacy", token="grantless"),
    Case("GET", DEST_ID, DESTS + "/nope", token="grantless", status=404),
    Case("DELETE", DEST_ID, DESTS + "/dest-legacy", token="grantless", status=409),
    Case("DELETE", SUB_ID, SUBS + "/ORDER_CHANGE/sub-legacy-1", token="grantless"),
    Case("DELETE", SUB_ID, SUBS + "/ORDER_CHANGE/sub-legacy-1", token="grantless", status=404),
    Case("DELETE", DEST_ID, DESTS + "/dest-legacy", token="grantless"),
    Case("DELETE", DEST_ID, DESTS + "/dest-legacy", token="grantless", status=404),
)


def _section() -> dict[str, Any]:
    section = demo_section()
    section[SELLER]["subscriptions"]["BRANDED_ITEM_CONTENT_CHANGE"] = [
        {"subscriptionId": "sub-brand", "destinationId": "dest-nordhub"}
    ]
    section[SELLER]["linkable_carriers"] = [
        {
            "carrierId": "FedEx",
            "linkableAccountTypes": [
                {
                    "accountTypeId": "",
                    "carrierAccountInputs": [
                        {
                            "name": "ACCOUNT_NUMBER",
                            "inputType": "TEXTBOX",
                            "isMandatory": True,
                            "isConfidential": True,
                            "isHidden": False,
                            "descriptionLocalizationKey": "accountNumberDescriptionString",
                            "validationMetadata": [
                                {"errorMessage": "e", "validationStrategy": "MIN_LENGTH", "value": "5"}
                            ],
                        }
                    ],
                }
            ],
        }
    ]
    return section


def _check_headers(response: httpx.Response) -> None:
    assert response.headers["x-amzn-RequestId"]
    assert response.headers["content-type"] == "application/json"
    if response.status_code < 300:
        assert float(response.headers["x-amzn-RateLimit-Limit"]) > 0


def test_every_emulated_operation_answers_in_the_models_shapes() -> None:
    client = Client(_section())
    client.emulator.enforce_rate_limits = False
    tokens: dict[str, Callable[[], str | None]] = {
        "seller": client.seller_token,
        "grantless": client.grantless_token,
        "none": lambda: None,
        "bogus": lambda: "Atza|never-issued",
    }
    covered: set[tuple[str, str]] = set()
    for case in CASES:
        if case.body is not None and case.status < 300:
            case.model.request(case.method, case.template, case.body)
        response = client.call(
            case.method,
            case.path or case.template,
            token=tokens[case.token](),
            json_body=case.body,
            params=case.params,
            headers=case.headers,
        )
        assert response.status_code == case.status, (case, response.text)
        _check_headers(response)
        case.model.response(case.method, case.template, case.status, response.json())
        covered.add((case.method, case.template))
    routes = {(m, "/" + t) for m, t, _, _ in _ROUTES}
    assert covered == routes


def test_throttled_answers_match_the_models() -> None:
    client = Client()
    seller, grantless = client.seller_token(), client.grantless_token()
    for _ in range(100):
        client.call("PUT", CA, token=seller, json_body={})
    shipping = client.call("PUT", CA, token=seller, json_body={})
    assert shipping.status_code == 429
    SHIPPING.response("PUT", CA, 429, shipping.json())
    for _ in range(5):
        client.call("GET", DESTS, token=grantless)
    notifications = client.call("GET", DESTS, token=grantless)
    assert notifications.status_code == 429
    NOTIFICATIONS.response("GET", DESTS, 429, notifications.json())


def test_paged_and_unpaged_subscription_lists_match_the_model() -> None:
    section = demo_section()
    section[SELLER]["subscriptions"]["ORDER_CHANGE"] = [
        {"subscriptionId": f"s{i}", "destinationId": "dest-legacy"} for i in range(31)
    ]
    client = Client(section)
    page = client.call("GET", SUBS, token=client.seller_token(), params={"notificationTypes": "ORDER_CHANGE"})
    assert page.json()["payload"]["nextToken"]
    NOTIFICATIONS.response("GET", SUBS, 200, page.json())
    section[SELLER]["paged_list"] = False
    unpaged = Client(section)
    missing = unpaged.call(
        "GET", SUBS, token=unpaged.seller_token(), params={"notificationTypes": "ORDER_CHANGE"}
    )
    assert missing.status_code == 404
    NOTIFICATIONS.response("GET", SUBS, 404, missing.json())


def test_the_clients_request_bodies_match_the_models() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        listing = await provider.list_bindings(frozenset({Kind.CARRIER, Kind.WEBHOOK}))
        for binding in listing.bindings:
            if binding.resource != "destinations":
                await provider.cancel(CancelRequest(binding, "platform", CancelAt.NOW, "k"))
        bodies = 0
        for exchange in h.log:
            if exchange.path == CA and exchange.request.method == "PUT":
                SHIPPING.request("PUT", CA, exchange.body())
                bodies += 1
            elif exchange.path.endswith("/unlink"):
                SHIPPING.request("PUT", CA + "/{carrierId}/unlink", exchange.body())
                bodies += 1
            elif exchange.request.method in ("GET", "DELETE"):
                assert exchange.request.content == b""
        assert bodies == 3  # one list, two unlinks
        listed = {p.request.url.params["notificationTypes"] for p in h.log if p.path == SUBS}
        assert len(listed) == 6  # one type per call, as the model requires (maxItems 1)

    run(go())


def test_strict_validation_catches_an_undeclared_field() -> None:
    with pytest.raises(jsonschema.ValidationError):
        SHIPPING.response("PUT", CA, 200, {"activeAcounts": []})
    with pytest.raises(jsonschema.ValidationError):
        SHIPPING.response("PUT", CA, 200, {"activeAccounts": [{"accountId": "a", "carrierName": "DPD"}]})


def test_the_models_own_examples_show_the_documented_defects() -> None:
    """The shipping model's examples disagree with its schemas (README: known spec defects);
    the emulator answers in the schema's form and the client tolerates the example's."""
    paths = SHIPPING.spec["paths"]
    form_example = paths["/shipping/v2/carrierAccountFormInputs"]["get"]["responses"]["200"]["examples"][
        "application/json"
    ]
    with pytest.raises(jsonschema.ValidationError):
        SHIPPING.response("GET", "/shipping/v2/carrierAccountFormInputs", 200, form_example)
    unlink_example = paths[CA + "/{carrierId}/unlink"]["put"]["responses"]["200"]["examples"][
        "application/json"
    ]
    assert unlink_example.get("merchantId") == ""
    with pytest.raises(jsonschema.ValidationError):
        SHIPPING.response("PUT", CA + "/{carrierId}/unlink", 200, unlink_example)
    lenient = SpecValidator("shippingV2.json", strict=False)
    lenient.response("PUT", CA + "/{carrierId}/unlink", 200, unlink_example)
    ids = [op.get("operationId") for item in paths.values() for op in item.values() if isinstance(op, dict)]
    assert ids.count("linkCarrierAccount") == 2
