"""The emulator's state: tenants (selling partners) read from and written back to a scenario.

Layout of the ``amazon-sp`` section (SPEC section 8), one entry per selling partner id::

    A2EUQ1WTGCTBG2:
      lwa: {client_id: ..., client_secret: ..., refresh_token: ..., roles: [shipping, notifications]}
      applications:                                   # or several applications, by name
        lumen-ops: {client_id: ..., client_secret: ..., refresh_token: ...}
        legacy-erp: {client_id: ..., client_secret: ..., refresh_token: ...}
      carrier_accounts: [{accountId: DPD-4711, carrierId: DPD}]
      linkable_carriers: [{carrierId: DPD, linkableAccountTypes: [...]}]        # optional
      destinations: [{destinationId: d-1, name: q, resource: {sqs: {arn: ...}}}]
      subscriptions: {ORDER_CHANGE: [{subscriptionId: s-1, payloadVersion: "1.0", destinationId: d-1}]}
      undeletable_types: [BRANDED_ITEM_CONTENT_CHANGE]   # deleteSubscriptionById answers 403
      paged_list: true                                   # false: getSubscriptions answers 404

Objects are kept in the API's JSON shape; what a scenario leaves out gets the model's defaults,
and ids are kept as given. ``lwa`` is one application (named by ``lwa.name``, else its client id);
``applications`` names several. Every destination and subscription belongs to one application
(``application: <name>``; the first one when left out), because SP-API shows and deletes them
only for the application that created them
(https://developer-docs.amazon.com/sp-api/reference/deletesubscriptionbyid: "any subscription
associated with your application"). Destinations belong to the application across selling
partners, so a subscription may use a destination listed under another tenant of the same
application. Carrier accounts are the selling partner's, seen by every application it authorized.

The emulator holds one ``Tenant`` per (selling partner, application); the tenants of one selling
partner share its carrier accounts.
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
        "applications",
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
    app: str  # the application's name in the scenario
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

    def credentials(self) -> dict[str, Any]:
        lwa: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }
        if self.roles != frozenset(ROLES):
            lwa["roles"] = sorted(self.roles)
        return lwa


def dump_seller(tenants: list[Tenant]) -> dict[str, Any]:
    """One selling partner's section, from its tenants (one per application), as it was loaded."""
    first = tenants[0]
    several = len(tenants) > 1 or first.app != first.client_id
    out: dict[str, Any] = {}
    if several:
        out["applications"] = {t.app: t.credentials() for t in tenants}
    else:
        out["lwa"] = first.credentials()
    out["carrier_accounts"] = [copy.deepcopy(a) for a in first.carriers.values()]

    def owned(tenant: Tenant, item: dict[str, Any]) -> dict[str, Any]:
        return {**copy.deepcopy(item), "application": tenant.app} if several else copy.deepcopy(item)

    out["destinations"] = [owned(t, d) for t in tenants for d in t.destinations.values()]
    subscriptions: dict[str, list[dict[str, Any]]] = {}
    for tenant in tenants:
        for kind, subs in tenant.subscriptions.items():
            subscriptions.setdefault(kind, []).extend(owned(tenant, s) for s in subs.values())
    out["subscriptions"] = subscriptions
    if first.linkable:
        out["linkable_carriers"] = copy.deepcopy(first.linkable)
    if first.undeletable:
        out["undeletable_types"] = sorted(first.undeletable)
    if not first.paged_list:
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


def _application(seller_id: str, key: str, lwa: Any) -> tuple[str, str, str, frozenset[str]]:
    if not isinstance(lwa, Mapping) or not all(
        isinstance(lwa.get(k), str) and lwa.get(k) for k in ("client_id", "client_secret", "refresh_token")
    ):
        raise _fail(seller_id, f"{key} needs client_id, client_secret and refresh_token")
    roles = frozenset(
        r.split("::")[-1] for r in _strings(seller_id, f"{key}.roles", lwa.get("roles", list(ROLES)))
    )
    if not roles <= set(ROLES):
        raise _fail(seller_id, f"{key}.roles may hold only {', '.join(ROLES)}")
    return lwa["client_id"], lwa["client_secret"], lwa["refresh_token"], roles


def _applications(seller_id: str, body: Mapping[str, Any]) -> dict[str, tuple[str, str, str, frozenset[str]]]:
    """Application name -> (client id, secret, refresh token, roles), in the scenario's order."""
    if ("lwa" in body) == ("applications" in body):
        raise _fail(seller_id, "give either lwa (one application) or applications (by name)")
    if "lwa" in body:
        app = _application(seller_id, "lwa", body["lwa"])
        name = body["lwa"].get("name") or app[0]
        return {str(name): app}
    named = body["applications"]
    if not isinstance(named, Mapping) or not named:
        raise _fail(seller_id, "applications must map application names to their LWA credentials")
    return {str(n): _application(seller_id, f"applications.{n}", v) for n, v in named.items()}


def _owner(seller_id: str, item: dict[str, Any], tenants: dict[str, Tenant], what: str) -> Tenant:
    name = item.pop("application", None)
    if name is None:
        return next(iter(tenants.values()))
    if str(name) not in tenants:
        raise _fail(seller_id, f"{what} names application {name!r}, not one of {sorted(tenants)}")
    return tenants[str(name)]


def load_tenant(seller_id: str, body: Any) -> list[Tenant]:
    """The selling partner's tenants, one per application, sharing its carrier accounts."""
    if not isinstance(body, Mapping):
        raise _fail(seller_id, "must be a mapping")
    unknown = set(body) - _TENANT_KEYS
    if unknown:
        raise _fail(seller_id, f"unknown keys {sorted(unknown)}; expected {sorted(_TENANT_KEYS)}")
    carriers: dict[str, dict[str, Any]] = {}
    linkable = _linkable(seller_id, _objects(seller_id, "linkable_carriers", body.get("linkable_carriers")))
    undeletable = set(_strings(seller_id, "undeletable_types", body.get("undeletable_types")))
    tenants = {
        name: Tenant(
            seller_id=seller_id,
            app=name,
            client_id=client_id,
            client_secret=secret,
            refresh_token=refresh,
            roles=roles,
            carriers=carriers,
            linkable=linkable,
            undeletable=undeletable,
            paged_list=bool(body.get("paged_list", True)),
        )
        for name, (client_id, secret, refresh, roles) in _applications(seller_id, body).items()
    }
    for account in _objects(seller_id, "carrier_accounts", body.get("carrier_accounts")):
        if not account.get("carrierId"):
            raise _fail(seller_id, "every carrier account needs a carrierId")
        account["accountId"] = str(account.get("accountId") or new_id())
        if account["accountId"] in carriers:
            raise _fail(seller_id, f"carrier accountId {account['accountId']} appears twice")
        carriers[account["accountId"]] = account
    seen: set[str] = set()
    for dest in _objects(seller_id, "destinations", body.get("destinations")):
        dest_id = str(dest.get("destinationId") or new_id())
        if dest_id in seen:
            raise _fail(seller_id, f"destinationId {dest_id} appears twice")
        seen.add(dest_id)
        owner = _owner(seller_id, dest, tenants, f"destination {dest_id}")
        dest["destinationId"] = dest_id
        dest["name"] = str(dest.get("name") or dest_id)
        dest["resource"] = destination_resource(seller_id, dest_id, dest.get("resource"))
        owner.destinations[dest_id] = dest
    subscriptions = body.get("subscriptions") or {}
    if not isinstance(subscriptions, Mapping):
        raise _fail(seller_id, "subscriptions must map a notification type to a list of subscriptions")
    for kind, items in subscriptions.items():
        next(iter(tenants.values())).subscriptions.setdefault(str(kind), {})  # kept when empty
        ids: set[str] = set()
        for sub in _objects(seller_id, f"subscriptions.{kind}", items):
            if not sub.get("destinationId"):
                raise _fail(seller_id, f"a {kind} subscription needs a destinationId")
            sub_id = str(sub.get("subscriptionId") or new_id())
            if sub_id in ids:
                raise _fail(seller_id, f"{kind} subscriptionId {sub_id} appears twice")
            ids.add(sub_id)
            owner = _owner(seller_id, sub, tenants, f"{kind} subscription {sub_id}")
            sub["subscriptionId"] = sub_id
            sub["payloadVersion"] = str(sub.get("payloadVersion") or "1.0")
            sub["destinationId"] = str(sub["destinationId"])
            owner.subscriptions.setdefault(str(kind), {})[sub_id] = sub
    return list(tenants.values())
