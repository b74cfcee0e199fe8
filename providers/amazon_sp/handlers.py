"""The SP-API emulator's operations: Shipping v2 carrier accounts (the selling partner's, seen by
every application it authorized) and Notifications (each destination and subscription belongs to
the application that created it: another application neither sees nor deletes it, per
https://developer-docs.amazon.com/sp-api/reference/deletesubscriptionbyid, "any subscription
associated with your application")."""

from __future__ import annotations

import copy
from typing import Any

from providers.emulation import CursorError, Reply, decode_cursor, encode_cursor

from .operations import SHIPPING_BUSINESS_IDS
from .replies import Call, denied, errors, invalid, json_body, not_found, version_key
from .scenario import SQS_ARN, Tenant, new_id

CLIENT_REFERENCE_TYPES = frozenset({"IntegratorShipperId", "IntegratorMerchantId"})


class Handlers:
    """Mixed into ``AmazonSPEmulator``; ``_apps`` maps an LWA client id to its tenants."""

    _apps: dict[str, list[Tenant]]

    def _app_tenants(self, call: Call) -> list[Tenant]:
        """What a grantless token of this application sees: its own tenants, every seller."""
        return self._apps.get(call.grant.client_id, [])

    # -- Shipping v2 -----------------------------------------------------------------------

    def _shipping_body(self, call: Call, *, required: bool = False) -> dict[str, Any]:
        business = call.request.headers.get("x-amzn-shipping-business-id")
        if business is not None and business not in SHIPPING_BUSINESS_IDS:
            raise invalid(True, f"x-amzn-shipping-business-id {business} is not supported")
        body = json_body(call, shipping=True, required=required)
        refs = body.get("clientReferenceDetails")
        if refs is not None and (not isinstance(refs, list) or not all(
            isinstance(r, dict)
            and r.get("clientReferenceType") in CLIENT_REFERENCE_TYPES
            and isinstance(r.get("clientReferenceId"), str)
            for r in refs
        )):
            raise invalid(
                True, "clientReferenceDetails must hold clientReferenceType and clientReferenceId"
            )
        return body

    def _get_carrier_accounts(self, call: Call) -> tuple[int, Any]:
        self._shipping_body(call)  # the model marks the body required; an empty one is accepted
        tenant = call.tenant
        return 200, {"activeAccounts": [copy.deepcopy(a) for a in tenant.carriers.values()]}

    def _get_form_inputs(self, call: Call) -> tuple[int, Any]:
        self._shipping_body(call)
        return 200, {"linkableCarriersList": copy.deepcopy(call.tenant.linkable)}

    def _link_carrier_account(self, call: Call) -> tuple[int, Any]:
        body = self._shipping_body(call, required=True)
        if not isinstance(body.get("carrierAccountType"), str) or not isinstance(
            body.get("carrierAccountAttributes"), list
        ):
            raise invalid(True, "carrierAccountType and carrierAccountAttributes are required")
        tenant = call.tenant
        account_id = new_id()
        tenant.carriers[account_id] = {"accountId": account_id, "carrierId": call.args["carrierId"]}
        return 200, {"registrationStatus": "ACTIVE", "accountId": account_id}

    def _unlink_carrier_account(self, call: Call) -> tuple[int, Any]:
        # Extra keys (such as the model example's merchantId) are ignored, not refused.
        body = self._shipping_body(call, required=True)
        tenant = call.tenant
        carrier_id = call.args["carrierId"]
        account_id = body.get("accountId")
        if account_id is not None:
            found = tenant.carriers.get(str(account_id))
            if found is None or found.get("carrierId") != carrier_id:
                raise not_found(True, f"No {carrier_id} account {account_id} is linked")
            del tenant.carriers[str(account_id)]
        else:
            linked = [k for k, a in tenant.carriers.items() if a.get("carrierId") == carrier_id]
            if not linked:
                raise not_found(True, f"No {carrier_id} account is linked")
            for key in linked:
                del tenant.carriers[key]
        return 200, {"isUnlinked": True}

    # -- Notifications ---------------------------------------------------------------------

    def _get_subscriptions(self, call: Call) -> tuple[int, Any]:
        tenant = call.tenant
        if not tenant.paged_list:
            raise not_found(False)
        params = call.request.url.params
        kinds = [k for v in params.get_list("notificationTypes") for k in v.split(",") if k]
        if len(kinds) != 1:
            raise invalid(False, "notificationTypes must name exactly one notification type")
        kind = kinds[0]
        try:
            size = int(params.get("pageSize", "30"))
        except ValueError:
            size = 0
        if not 30 <= size <= 100:
            raise invalid(False, "pageSize must be between 30 and 100")
        offset = 0
        if params.get("nextToken"):
            try:
                offset = decode_cursor(params["nextToken"], f"{call.tenant.app}/{kind}")
            except CursorError:
                raise invalid(False, "nextToken is not valid for this request") from None
        version = params.get("payloadVersion")
        items = [
            s
            for s in tenant.subscriptions.get(kind, {}).values()
            if version is None or s["payloadVersion"] == version
        ]
        page: dict[str, Any] = {"subscriptions": copy.deepcopy(items[offset : offset + size])}
        if offset + size < len(items):
            page["nextToken"] = encode_cursor(f"{call.tenant.app}/{kind}", offset + size)
        return 200, {"payload": page}

    def _get_subscription(self, call: Call) -> tuple[int, Any]:
        kind = call.args["notificationType"]
        version = call.request.url.params.get("payloadVersion")
        items = [
            s
            for s in call.tenant.subscriptions.get(kind, {}).values()
            if version is None or s["payloadVersion"] == version
        ]
        if not items:
            raise not_found(False, f"No {kind} subscription exists")
        latest = max(items, key=lambda s: version_key(s["payloadVersion"]))
        return 200, {"payload": copy.deepcopy(latest)}

    def _create_subscription(self, call: Call) -> tuple[int, Any]:
        kind = call.args["notificationType"]
        body = json_body(call, shipping=False, required=True)
        version, dest_id = body.get("payloadVersion"), body.get("destinationId")
        if not isinstance(version, str) or not isinstance(dest_id, str):
            raise invalid(False, "payloadVersion and destinationId are required")
        tenant = call.tenant
        if self._find_destination(self._apps[tenant.client_id], dest_id) is None:
            raise invalid(False, f"destination {dest_id} does not exist")
        bucket = tenant.subscriptions.setdefault(kind, {})
        if any(s["payloadVersion"] == version for s in bucket.values()):
            raise Reply(
                409,
                errors(
                    "Conflict",
                    "The resource specified conflicts with the current state.",
                    f"A {kind} subscription with payload version {version} already exists.",
                ),
            )
        sub: dict[str, Any] = {
            "subscriptionId": new_id(),
            "payloadVersion": version,
            "destinationId": dest_id,
        }
        if isinstance(body.get("processingDirective"), dict):
            sub["processingDirective"] = copy.deepcopy(body["processingDirective"])
        bucket[sub["subscriptionId"]] = sub
        return 200, {"payload": copy.deepcopy(sub)}

    def _find_subscription(self, call: Call) -> tuple[Tenant, dict[str, Any]]:
        kind, sub_id = call.args["notificationType"], call.args["subscriptionId"]
        for tenant in self._app_tenants(call):
            sub = tenant.subscriptions.get(kind, {}).get(sub_id)
            if sub is not None:
                return tenant, sub
        raise not_found(False, f"No {kind} subscription {sub_id} exists")

    def _get_subscription_by_id(self, call: Call) -> tuple[int, Any]:
        _, sub = self._find_subscription(call)
        return 200, {"payload": copy.deepcopy(sub)}

    def _delete_subscription_by_id(self, call: Call) -> tuple[int, Any]:
        tenant, sub = self._find_subscription(call)
        kind = call.args["notificationType"]
        if kind in tenant.undeletable:
            raise denied(f"Subscriptions of notification type {kind} cannot be deleted by the application.")
        del tenant.subscriptions[kind][sub["subscriptionId"]]
        return 200, {}

    @staticmethod
    def _find_destination(tenants: list[Tenant], dest_id: str) -> tuple[Tenant, dict[str, Any]] | None:
        for tenant in tenants:
            dest = tenant.destinations.get(dest_id)
            if dest is not None:
                return tenant, dest
        return None

    def _get_destinations(self, call: Call) -> tuple[int, Any]:
        found = [copy.deepcopy(d) for t in self._app_tenants(call) for d in t.destinations.values()]
        return 200, {"payload": found}

    def _get_destination(self, call: Call) -> tuple[int, Any]:
        dest_id = call.args["destinationId"]
        found = self._find_destination(self._app_tenants(call), dest_id)
        if found is None:
            raise not_found(False, f"No destination {dest_id} exists")
        return 200, {"payload": copy.deepcopy(found[1])}

    def _create_destination(self, call: Call) -> tuple[int, Any]:
        body = json_body(call, shipping=False, required=True)
        name, spec = body.get("name"), body.get("resourceSpecification")
        if not isinstance(name, str) or not name or not isinstance(spec, dict) or len(spec) != 1:
            raise invalid(
                False, "name and a resourceSpecification with one of sqs or eventBridge are required"
            )
        tenants = self._app_tenants(call)
        if not tenants:
            raise denied()
        dest_id = new_id()
        if "sqs" in spec:
            arn = spec["sqs"].get("arn") if isinstance(spec["sqs"], dict) else None
            if not isinstance(arn, str) or not SQS_ARN.match(arn):
                raise invalid(False, "resourceSpecification.sqs.arn is not an SQS queue ARN")
            resource: dict[str, Any] = {"sqs": {"arn": arn}}
        elif "eventBridge" in spec and isinstance(spec["eventBridge"], dict):
            bridge = spec["eventBridge"]
            if not isinstance(bridge.get("region"), str) or not isinstance(bridge.get("accountId"), str):
                raise invalid(False, "resourceSpecification.eventBridge needs region and accountId")
            resource = {
                "eventBridge": {
                    "name": f"aws.partner/sellingpartnerapi.amazon.com/{bridge['accountId']}/{dest_id}",
                    "region": bridge["region"],
                    "accountId": bridge["accountId"],
                }
            }
        else:
            raise invalid(False, "resourceSpecification must hold sqs or eventBridge")
        for tenant in tenants:
            for dest in tenant.destinations.values():
                if resource.get("sqs") and dest["resource"].get("sqs") == resource["sqs"]:
                    raise Reply(
                        409,
                        errors(
                            "Conflict",
                            "The resource specified conflicts with the current state.",
                            f"Destination {dest['destinationId']} already uses this queue.",
                        ),
                    )
        created = {"destinationId": dest_id, "name": name, "resource": resource}
        tenants[0].destinations[dest_id] = created
        return 200, {"payload": copy.deepcopy(created)}

    def _delete_destination(self, call: Call) -> tuple[int, Any]:
        dest_id = call.args["destinationId"]
        tenants = self._app_tenants(call)
        found = self._find_destination(tenants, dest_id)
        if found is None:
            raise not_found(False, f"No destination {dest_id} exists")
        users = sorted(
            f"{kind}/{sub['subscriptionId']}"
            for t in tenants
            for kind, subs in t.subscriptions.items()
            for sub in subs.values()
            if sub["destinationId"] == dest_id
        )
        if users:
            raise Reply(
                409,
                errors(
                    "Conflict",
                    "The resource specified conflicts with the current state.",
                    f"Destination {dest_id} is in use by subscriptions {', '.join(users)}.",
                ),
            )
        del found[0].destinations[dest_id]
        return 200, {}
