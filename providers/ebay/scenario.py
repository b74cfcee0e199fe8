"""The eBay emulator's scenario: tenants (sellers) with their tokens, fulfillment policies and
notification subscriptions, read from and written back to the ``ebay`` section.

Tokens belong to an eBay application: ``tokens`` at the tenant's top level are those of one
application (named by ``application``, default ``default``); ``applications`` names several, each
with its tokens. Every subscription belongs to one application (``application: <name>``; the
first when left out), because eBay shows and deletes a subscription only for the application that
created it ("Each application and topic-schema pairing to a subscription should have a 1:1
cardinality",
https://developer.ebay.com/api-docs/commerce/notification/resources/subscription/methods/createSubscription).
Fulfillment policies are the seller's, seen by every application the seller authorized.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.ebay import api

SCENARIO_CREATION_DATE = "2024-01-01T00:00:00.000Z"
DEFAULT_CATEGORY_TYPE = "ALL_EXCLUDING_MOTORS_VEHICLES"
DEFAULT_APPLICATION = "default"


@dataclass
class Tenant:
    name: str
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)
    token_apps: dict[str, str] = field(default_factory=dict)  # token -> its application
    applications: list[str] = field(default_factory=list)  # names, in the scenario's order
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> policy as served
    by_marketplace: dict[str, dict[str, None]] = field(default_factory=dict)  # ordered id sets
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # subscription id -> its application
    destinations: list[dict[str, Any]] = field(default_factory=list)
    quotas: dict[str, int] = field(default_factory=dict)
    usage: dict[str, tuple[int, int]] = field(default_factory=dict)  # api -> (window, calls)


def is_default(policy: Mapping[str, Any]) -> bool:
    return any(isinstance(c, Mapping) and c.get("default") is True for c in policy.get("categoryTypes") or [])


def load_tenant(name: str, data: Any) -> Tenant:
    if not isinstance(data, Mapping):
        raise ValueError(f"ebay: tenant {name!r} must be a mapping, not {type(data).__name__}")
    keys = {"tokens", "application", "applications", "fulfillment_policies", "subscriptions", "destinations", "quotas"}
    unknown = set(data) - keys
    if unknown:
        raise ValueError(f"ebay: tenant {name!r} has unknown keys {sorted(unknown)}")
    tenant = Tenant(name)
    if "applications" in data:
        if "tokens" in data or "application" in data:
            raise ValueError(f"ebay: {name}: give either tokens (one application) or applications (by name)")
        apps = data["applications"]
        if not isinstance(apps, Mapping) or not all(isinstance(a, Mapping) for a in apps.values()):
            raise ValueError(f"ebay: {name}.applications must map application names to {{tokens: ...}}")
        for app, body in apps.items():
            _load_tokens(tenant, str(app), body.get("tokens") or {})
    else:
        _load_tokens(tenant, str(data.get("application") or DEFAULT_APPLICATION), data.get("tokens") or {})
    _load_policies(tenant, data.get("fulfillment_policies") or {})
    _load_subscriptions(tenant, data.get("subscriptions") or [])
    destinations = data.get("destinations") or []
    if not isinstance(destinations, list) or not all(isinstance(d, Mapping) for d in destinations):
        raise ValueError(f"ebay: {name}.destinations must be a list of destination objects")
    tenant.destinations = [_destination(dict(d)) for d in destinations]
    quotas = data.get("quotas") or {}
    if not isinstance(quotas, Mapping) or not all(
        k in api.DEFAULT_DAILY_QUOTAS and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in quotas.items()
    ):
        raise ValueError(f"ebay: {name}.quotas must map {sorted(api.DEFAULT_DAILY_QUOTAS)} to call counts")
    tenant.quotas = dict(quotas)
    return tenant


def _load_policies(tenant: Tenant, section: Any) -> None:
    if not isinstance(section, Mapping):
        raise ValueError(
            f"ebay: {tenant.name}.fulfillment_policies must map a marketplace id to a list of policies"
        )
    generated = 6_200_000_000
    for marketplace, policies in section.items():
        marketplace = str(marketplace)
        if not api.MARKETPLACE_ID.match(marketplace):
            raise ValueError(
                f"ebay: {tenant.name}.fulfillment_policies: {marketplace!r} is not a marketplace id like EBAY_DE"
            )
        if not isinstance(policies, list) or not all(isinstance(p, Mapping) for p in policies):
            raise ValueError(
                f"ebay: {tenant.name}.fulfillment_policies.{marketplace} must be a list of policies"
            )
        ids = tenant.by_marketplace.setdefault(marketplace, {})
        for given in policies:
            policy = dict(copy.deepcopy(given))
            if policy.get("fulfillmentPolicyId") in (None, ""):
                while str(generated) in tenant.policies:
                    generated += 1
                policy["fulfillmentPolicyId"] = str(generated)
            policy_id = str(policy["fulfillmentPolicyId"])
            if policy_id in tenant.policies:
                raise ValueError(f"ebay: {tenant.name}: fulfillment policy id {policy_id} appears twice")
            if policy.setdefault("marketplaceId", marketplace) != marketplace:
                raise ValueError(
                    f"ebay: {tenant.name}: policy {policy_id} is listed under {marketplace} "
                    f"but has marketplaceId {policy['marketplaceId']}"
                )
            tenant.policies[policy_id] = _policy(policy, policy_id)
            ids[policy_id] = None


def _policy(policy: dict[str, Any], policy_id: str) -> dict[str, Any]:
    """Fill what eBay always returns for a policy; ``default: true`` marks its category type."""
    default = policy.pop("default", None)
    policy["fulfillmentPolicyId"] = policy_id
    policy.setdefault("name", f"Fulfillment policy {policy_id}")
    policy.setdefault("categoryTypes", [{"name": DEFAULT_CATEGORY_TYPE, "default": False}])
    if default is True:
        policy["categoryTypes"] = [{**c, "default": True} for c in policy["categoryTypes"]]
    policy.setdefault("handlingTime", {"value": 1, "unit": "DAY"})
    policy.setdefault(
        "shippingOptions", [{"optionType": "DOMESTIC", "costType": "FLAT_RATE", "shippingServices": []}]
    )
    for flag in ("globalShipping", "localPickup", "pickupDropOff", "freightShipping"):
        policy.setdefault(flag, False)
    return policy


def _load_tokens(tenant: Tenant, app: str, tokens: Any) -> None:
    tenant.applications.append(app)
    if not isinstance(tokens, Mapping):
        raise ValueError(f"ebay: {tenant.name}.tokens must map each token to its list of scopes")
    for token, scopes in tokens.items():
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError(f"ebay: {tenant.name}.tokens[{token!r}] must be a list of scope URLs")
        tenant.tokens[str(token)] = tuple(api.expand_scope(s) for s in scopes)
        tenant.token_apps[str(token)] = app


def dump_tenant(tenant: Tenant) -> dict[str, Any]:
    several = len(tenant.applications) > 1
    data: dict[str, Any] = {}
    if several:
        data["applications"] = {
            app: {"tokens": {t: list(s) for t, s in tenant.tokens.items() if tenant.token_apps[t] == app}}
            for app in tenant.applications
        }
    else:
        data["tokens"] = {token: list(scopes) for token, scopes in tenant.tokens.items()}
        if tenant.applications and tenant.applications[0] != DEFAULT_APPLICATION:
            data["application"] = tenant.applications[0]
    data["fulfillment_policies"] = {
        marketplace: [copy.deepcopy(tenant.policies[i]) for i in ids]
        for marketplace, ids in tenant.by_marketplace.items()
    }
    data["subscriptions"] = [
        {**copy.deepcopy(s), "application": tenant.owners[i]} if several else copy.deepcopy(s)
        for i, s in tenant.subscriptions.items()
    ]
    data["destinations"] = copy.deepcopy(tenant.destinations)
    if tenant.quotas:
        data["quotas"] = dict(tenant.quotas)
    return data


def _load_subscriptions(tenant: Tenant, items: Any) -> None:
    if not isinstance(items, list) or not all(isinstance(s, Mapping) for s in items):
        raise ValueError(f"ebay: {tenant.name}.subscriptions must be a list of subscription objects")
    for number, given in enumerate(items, start=1):
        subscription = dict(copy.deepcopy(given))
        subscription_id = str(subscription.get("subscriptionId") or f"sub-{number:04d}")
        if subscription_id in tenant.subscriptions:
            raise ValueError(f"ebay: {tenant.name}: subscription id {subscription_id} appears twice")
        if not subscription.get("topicId"):
            raise ValueError(f"ebay: {tenant.name}: subscription {subscription_id} needs a topicId")
        owner = str(subscription.pop("application", None) or tenant.applications[0])
        if owner not in tenant.applications:
            raise ValueError(
                f"ebay: {tenant.name}: subscription {subscription_id} names application {owner!r}, "
                f"not one of {tenant.applications}"
            )
        tenant.owners[subscription_id] = owner
        subscription["subscriptionId"] = subscription_id
        subscription.setdefault("status", "ENABLED")
        subscription.setdefault("creationDate", SCENARIO_CREATION_DATE)
        subscription.setdefault(
            "payload", {"format": "JSON", "schemaVersion": "1.0", "deliveryProtocol": "HTTPS"}
        )
        tenant.subscriptions[subscription_id] = subscription


def _destination(destination: dict[str, Any]) -> dict[str, Any]:
    destination.setdefault("status", "ENABLED")
    return destination
