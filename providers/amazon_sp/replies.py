"""What the SP-API emulator answers with: Amazon's error bodies, the route table, the call being
served and the request-body parser, shared by ``emulator`` and ``handlers``.

Error shapes are the models' ``ErrorList`` (``{"errors": [{"code", "message", "details"}]}``,
tests/vendor_specs/amazon/); the codes and messages are the ones those models list per status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from providers.emulation import Reply

from .operations import Operation
from .scenario import Tenant


@dataclass
class Grant:
    grantless: bool
    client_id: str
    expires_at: float
    tenant: Tenant | None = None  # the (selling partner, application) of a seller token


@dataclass
class Call:
    request: httpx.Request
    op: Operation
    grant: Grant
    args: dict[str, str]
    shipping: bool

    @property
    def tenant(self) -> Tenant:
        assert self.grant.tenant is not None  # seller operations are authorized with seller tokens
        return self.grant.tenant


def errors(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def denied(details: str = "") -> Reply:
    return Reply(403, errors("Unauthorized", "Access to requested resource is denied.", details))


def not_found(shipping: bool, details: str = "") -> Reply:
    if shipping:
        return Reply(404, errors("NotFound", "The requested resource is invalid or doesn't exist", details))
    return Reply(404, errors("NotFound", "The resource specified does not exist.", details))


def invalid(shipping: bool, details: str) -> Reply:
    if shipping:
        return Reply(400, errors("InvalidRequest", "Request is missing or has invalid parameters", details))
    return Reply(
        400,
        errors("InvalidInput", "Request has missing or invalid parameters and cannot be parsed.", details),
    )


def strip_ends(segments: list[str]) -> tuple[str, ...]:
    """``segments`` as ``path.strip("/").split("/")`` gives them: empty ones dropped at the ends only.

    They come from ``path_segments``, split before decoding, so an id holding an encoded '/'
    (``..%2F..%2Fx``) stays one segment instead of spilling into the route.
    """
    start, end = 0, len(segments)
    while start < end and not segments[start]:
        start += 1
    while end > start and not segments[end - 1]:
        end -= 1
    return tuple(segments[start:end]) or ("",)



# (method, path template, operation key, handler name)
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("PUT", "shipping/v2/carrierAccounts", "getCarrierAccounts", "_get_carrier_accounts"),
    ("GET", "shipping/v2/carrierAccountFormInputs", "getCarrierAccountFormInputs", "_get_form_inputs"),
    ("PUT", "shipping/v2/carrierAccounts/{carrierId}", "linkCarrierAccount", "_link_carrier_account"),
    ("POST", "shipping/v2/carrierAccounts/{carrierId}", "linkCarrierAccount#POST", "_link_carrier_account"),
    (
        "PUT",
        "shipping/v2/carrierAccounts/{carrierId}/unlink",
        "unlinkCarrierAccount",
        "_unlink_carrier_account",
    ),
    ("GET", "notifications/v1/subscriptions", "getSubscriptions", "_get_subscriptions"),
    ("GET", "notifications/v1/subscriptions/{notificationType}", "getSubscription", "_get_subscription"),
    (
        "POST",
        "notifications/v1/subscriptions/{notificationType}",
        "createSubscription",
        "_create_subscription",
    ),
    (
        "GET",
        "notifications/v1/subscriptions/{notificationType}/{subscriptionId}",
        "getSubscriptionById",
        "_get_subscription_by_id",
    ),
    (
        "DELETE",
        "notifications/v1/subscriptions/{notificationType}/{subscriptionId}",
        "deleteSubscriptionById",
        "_delete_subscription_by_id",
    ),
    ("GET", "notifications/v1/destinations", "getDestinations", "_get_destinations"),
    ("POST", "notifications/v1/destinations", "createDestination", "_create_destination"),
    ("GET", "notifications/v1/destinations/{destinationId}", "getDestination", "_get_destination"),
    ("DELETE", "notifications/v1/destinations/{destinationId}", "deleteDestination", "_delete_destination"),
)


def json_body(call: Call, *, shipping: bool, required: bool) -> dict[str, Any]:
    raw = call.request.read()
    if not raw.strip():
        if required:
            raise invalid(shipping, "The request body is required")
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise Reply(
            415 if shipping else 400,
            errors(
                "InvalidRequest" if shipping else "InvalidInput",
                "The request payload format is not supported.",
            ),
        ) from None
    if not isinstance(body, dict):
        raise invalid(shipping, "The request body must be a JSON object")
    return body


def version_key(version: str) -> tuple[Any, ...]:
    try:
        return (1, tuple(int(p) for p in version.split(".")))
    except ValueError:
        return (0, version)
