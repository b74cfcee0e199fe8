"""The emulator's state: tenants (selling partners) read from and written back to a scenario.

Layout of the ``amazon-sp`` section (SPEC section 8), one entry per selling partner id::

    A2EUQ1WTGCTBG2:
      lwa: {client_id: ..., client_secret: ..., refresh_token: ..., roles: [shipping, notifications]}
      carrier_accounts: [{accountId: DPD-4711, carrierId: DPD}]
      linkable_carriers: [{carrierId: DPD, linkableAccountTypes: [...]}]        # optional
      destinations: [{destinationId: d-1, name: q, resource: {sqs: {arn: ...}}}]
      subscriptions: {ORDER_CHANGE: [{subscriptionId: s-1, payloadVersion: "1.0", destinationId: d-1}]}
      undeletable_types: [BRANDED_ITEM_CONTENT_CHANGE]   # deleteSubscriptionById answers 403
      paged_list: true                                   # false: getSubscriptions answers 404

Objects are kept in the API's JSON shape; what a scenario leaves out gets the model's defaults,
and ids are kept as given. Destinations belong to the application (the LWA client id), as in
SP-API, so a subscription may use a destination listed under another tenant of the same app.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.sdk.errors import ConfigError

ROLES = ("shipping", "notifications")
_TENANT_KEYS = frozenset(
    {
        "lwa",
        "carrier_accounts",
        "linkable_carriers",
        "destinations",
        "subscriptions",
        "undeletable_types",
        "paged_list",
    }
)
SQS_ARN = re.compile(r"^arn:aws:sqs:\S+:\S+:\S+")


class ScenarioError(ConfigError):
    pass


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Tenant:
    seller_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    roles: frozenset[str] = frozenset(ROLES)
    carriers: dict[str, dict[str, Any]] = field(default_factory=dict)
    linkable: list[dict[str, Any]] = field(default_factory=list)
    destinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    undeletable: set[str] = field(default_factory=set)
    paged_list: bool = True

    def dump(self) -> dict[str, Any]:
        lwa: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }
        if self.roles != frozenset(ROLES):
            lwa["roles"] = sorted(self.roles)
        out: dict[str, Any] = {
            "lwa": lwa,
            "carrier_accounts": [copy.deepcopy(a) for a in self.carriers.values()],
            "destinations": [copy.deepcopy(d) for d in self.destinations.values()],
            "subscriptions": {
                kind: [copy.deepcopy(s) for s in subs.values()] for kind, subs in self.subscriptions.items()
            },
        }
        if self.linkable:
            out["linkable_carriers"] = copy.deepcopy(self.linkable)
        if self.undeletable:
            out["undeletable_types"] = sorted(self.undeletable)
        if not self.paged_list:
            out["paged_list"] = False
        return out


def _fail(tenant: str, message: str) -> ScenarioError:
    return ScenarioError(f"amazon-sp scenario, tenant {tenant}: {message}")


def _objects(tenant: str, key: str, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _fail(tenant, f"{key} must be a list of objects")
    return [copy.deepcopy(dict(v)) for v in value]


def _strings(tenant: str, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(tenant, f"{key} must be a list of strings")
    return list(value)


def destination_resource(tenant: str, destination_id: str, resource: Any) -> dict[str, Any]:
    """A Destination's ``resource``: exactly one of sqs {arn} or eventBridge {name, region, accountId}."""
    if (
        not isinstance(resource, Mapping)
        or len(resource) != 1
        or not ({"sqs", "eventBridge"} >= set(resource))
    ):
        raise _fail(
            tenant,
            f"destination {destination_id}: resource must be {{sqs: {{arn}}}} or {{eventBridge: {{...}}}}",
        )
    if "sqs" in resource:
        arn = resource["sqs"].get("arn") if isinstance(resource["sqs"], Mapping) else None
        if not isinstance(arn, str) or not SQS_ARN.match(arn):
            raise _fail(
                tenant,
                f"destination {destination_id}: sqs.arn must look like arn:aws:sqs:REGION:ACCOUNT:QUEUE",
            )
        return {"sqs": {"arn": arn}}
    bridge = resource["eventBridge"]
    if not isinstance(bridge, Mapping) or not bridge.get("region") or not bridge.get("accountId"):
        raise _fail(tenant, f"destination {destination_id}: eventBridge needs region and accountId")
    account_id = str(bridge["accountId"])
    name = bridge.get("name") or f"aws.partner/sellingpartnerapi.amazon.com/{account_id}/{destination_id}"
    return {"eventBridge": {"name": str(name), "region": str(bridge["region"]), "accountId": account_id}}


def _linkable(tenant: str, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accept both the schema's ``accountType`` and the model example's ``accountTypeId``."""
    out = []
    for carrier in items:
        types = []
        for kind in carrier.get("linkableAccountTypes") or []:
            if not isinstance(kind, Mapping):
                raise _fail(tenant, "linkable_carriers[].linkableAccountTypes must hold objects")
            kind = dict(kind)
            if "accountTypeId" in kind:
                given = kind.pop("accountTypeId")
                kind.setdefault("accountType", given or "SHIPPER_ACCOUNT")
            types.append(kind)
        out.append({**carrier, "linkableAccountTypes": types})
    return out


def load_tenant(seller_id: str, body: Any) -> Tenant:
    if not isinstance(body, Mapping):
        raise _fail(seller_id, "must be a mapping")
    unknown = set(body) - _TENANT_KEYS
    if unknown:
        raise _fail(seller_id, f"unknown keys {sorted(unknown)}; expected {sorted(_TENANT_KEYS)}")
    lwa = body.get("lwa")
    if not isinstance(lwa, Mapping) or not all(
        isinstance(lwa.get(k), str) and lwa.get(k) for k in ("client_id", "client_secret", "refresh_token")
    ):
        raise _fail(seller_id, "lwa needs client_id, client_secret and refresh_token")
    roles = frozenset(
        r.split("::")[-1] for r in _strings(seller_id, "lwa.roles", lwa.get("roles", list(ROLES)))
    )
    if not roles <= set(ROLES):
        raise _fail(seller_id, f"lwa.roles may hold only {', '.join(ROLES)}")
    tenant = Tenant(
        seller_id=seller_id,
        client_id=lwa["client_id"],
        client_secret=lwa["client_secret"],
        refresh_token=lwa["refresh_token"],
        roles=roles,
        undeletable=set(_strings(seller_id, "undeletable_types", body.get("undeletable_types"))),
        paged_list=bool(body.get("paged_list", True)),
    )
    for account in _objects(seller_id, "carrier_accounts", body.get("carrier_accounts")):
        if not account.get("carrierId"):
            raise _fail(seller_id, "every carrier account needs a carrierId")
        account["accountId"] = str(account.get("accountId") or new_id())
        if account["accountId"] in tenant.carriers:
            raise _fail(seller_id, f"carrier accountId {account['accountId']} appears twice")
        tenant.carriers[account["accountId"]] = account
    tenant.linkable = _linkable(
        seller_id, _objects(seller_id, "linkable_carriers", body.get("linkable_carriers"))
    )
    for dest in _objects(seller_id, "destinations", body.get("destinations")):
        dest_id = str(dest.get("destinationId") or new_id())
        if dest_id in tenant.destinations:
            raise _fail(seller_id, f"destinationId {dest_id} appears twice")
        dest["destinationId"] = dest_id
        dest["name"] = str(dest.get("name") or dest_id)
        dest["resource"] = destination_resource(seller_id, dest_id, dest.get("resource"))
        tenant.destinations[dest_id] = dest
    subscriptions = body.get("subscriptions") or {}
    if not isinstance(subscriptions, Mapping):
        raise _fail(seller_id, "subscriptions must map a notification type to a list of subscriptions")
    for kind, items in subscriptions.items():
        bucket: dict[str, dict[str, Any]] = {}
        for sub in _objects(seller_id, f"subscriptions.{kind}", items):
            if not sub.get("destinationId"):
                raise _fail(seller_id, f"a {kind} subscription needs a destinationId")
            sub_id = str(sub.get("subscriptionId") or new_id())
            if sub_id in bucket:
                raise _fail(seller_id, f"{kind} subscriptionId {sub_id} appears twice")
            sub["subscriptionId"] = sub_id
            sub["payloadVersion"] = str(sub.get("payloadVersion") or "1.0")
            sub["destinationId"] = str(sub["destinationId"])
            bucket[sub_id] = sub
        tenant.subscriptions[str(kind)] = bucket
    return tenant
