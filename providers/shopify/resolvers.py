"""What each query and mutation of the schema subset answers, for the app whose token called.

Who sees and changes what, as Shopify documents it (docs/vendors.md has the table):

- webhook subscriptions: only the calling app's own ("created using the API for the current app
  and shop": https://shopify.dev/docs/api/admin-graphql/2026-10/queries/webhookSubscriptions);
  another app's, or one made in the admin, does not exist for this app, so deleting it answers
  the same user error as an unknown id.
- app subscriptions: only ``currentAppInstallation``'s
  (https://shopify.dev/docs/api/admin-graphql/2026-10/queries/currentAppInstallation).
- carrier services: the shop's whole list with ``read_shipping`` ("carrier services configured for
  the shop": https://shopify.dev/docs/api/admin-graphql/2026-10/queries/carrierServices); changed
  only by the app that created them ("Only the app that creates a carrier service can update it":
  https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/carrierServiceUpdate), which the
  emulator applies to delete as well.
- fulfillment services: the shop's installed list with ``read_fulfillments``
  (https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Shop); deleted only by their app.
- orders: ``read_orders``.
- the app itself: ``appUninstall`` "can only be used by apps to uninstall themselves"
  (https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/appUninstall); Shopify then
  deletes the app's webhook subscriptions and its token stops working.

A missing access scope is Shopify's ``ACCESS_DENIED`` error on that field, "Access denied for
<field-name>. Required access: <access scope required> access scope", with the code, a
documentation link and the required scope in ``extensions``
(https://shopify.dev/changelog/new-error-messages-for-graphql-operations-without-necessary-access-scopes);
a write scope grants the read scope of the same resource.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema

from providers.shopify import objects, versions
from providers.shopify.scenario import App, Shop

Info = GraphQLResolveInfo[Any]
ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"  # the link Shopify sends
PAGINATION_DOC = "https://shopify.dev/docs/api/usage/pagination-graphql"
MAX_PAGE = 250  # https://shopify.dev/docs/api/usage/limits: "a maximum size of 250"
ACTIVE_STATUSES = frozenset({"ACTIVE", "FROZEN", "PENDING"})


@dataclass
class Call:
    """One authenticated request: the shop, the calling app, its token's scopes, the version."""

    shop: Shop
    app: App
    scopes: frozenset[str]
    version: str
    today: date
    uninstalled: bool = False

    def has(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        return scope.startswith("read_") and "write_" + scope[len("read_") :] in self.scopes

    def require(self, scope: str, field: str) -> None:
        if not self.has(scope):
            raise GraphQLError(
                f"Access denied for {field} field. Required access: `{scope}` access scope.",
                extensions={
                    "code": "ACCESS_DENIED",
                    "documentation": ACCESS_SCOPES_DOC,
                    "requiredAccess": f"`{scope}` access scope.",
                },
            )

    def view(self, collection: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        out = objects.view(collection, obj, supported=lambda handle: versions.is_supported(handle, self.today))
        if collection == "app_subscriptions" and out.get("status") not in ("ACTIVE",):
            out["currentPeriodEnd"] = None  # "Returns null if the subscription isn't active."
        return out


def _call(info: Info) -> Call:
    call = info.context
    assert isinstance(call, Call)
    return call


# -- pagination --------------------------------------------------------------------------------


SortKey = Callable[[Mapping[str, Any]], tuple[str, int]]


def by_id(obj: Mapping[str, Any]) -> tuple[str, int]:
    return ("", int(obj["id"]))


def by_created(obj: Mapping[str, Any]) -> tuple[str, int]:
    return (str(obj.get("createdAt") or ""), int(obj["id"]))


def _cursor(position: tuple[str, int]) -> str:
    """Opaque to clients, as Shopify's are: the sort value and id of the last item given."""
    raw = json.dumps({"k": position[0], "id": position[1]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(text: str) -> tuple[str, int]:
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("id"), int) or not isinstance(value.get("k"), str):
        raise GraphQLError(f"Invalid cursor: {text}", extensions={"code": "BAD_REQUEST"})
    return value["k"], value["id"]


def connection(
    items: Sequence[Mapping[str, Any]],
    args: Mapping[str, Any],
    render: Callable[[Mapping[str, Any]], Any],
    key: SortKey = by_id,
) -> dict[str, Any]:
    """One page of ``items`` in ``key`` order as a connection, by ``first``/``after`` or
    ``last``/``before``, ``reverse`` honoured. A cursor whose item was deleted meanwhile still
    places the page: it holds the item's sort position, not just its id."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise GraphQLError(
                f"The {name} argument must be between 0 and {MAX_PAGE}", extensions={"code": "BAD_REQUEST"}
            )
    reverse = bool(args.get("reverse"))
    unsorted = [key(obj) for obj in items]  # each item's key once: a page of 250 sorts 300 items
    order = sorted(range(len(items)), key=unsorted.__getitem__, reverse=reverse)
    ordered = [items[i] for i in order]
    keys = [unsorted[i] for i in order]

    def beyond(mark: tuple[str, int]) -> int:
        """Index of the first item past ``mark`` in the walking order."""
        return next((i for i, k in enumerate(keys) if (k < mark if reverse else k > mark)), len(keys))

    start, end = 0, len(ordered)
    if args.get("after"):
        start = beyond(_uncursor(args["after"]))
    if args.get("before"):
        mark = _uncursor(args["before"])
        end = next((i for i, k in enumerate(keys) if (k <= mark if reverse else k >= mark)), len(keys))
    window = list(range(start, max(start, end)))
    chosen = window[:first] if first is not None else window
    if last is not None:
        chosen = chosen[-last:] if last else []
    nodes = [render(ordered[i]) for i in chosen]

    def edges(_info: Info) -> list[dict[str, Any]]:
        """Edges, each with its cursor, made only when a query selects them (most ask for
        ``nodes`` and ``pageInfo``: one cursor per page, not one per item)."""
        return [{"cursor": _cursor(keys[i]), "node": node} for i, node in zip(chosen, nodes)]

    return {
        "edges": edges,
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": (chosen[-1] + 1 if chosen else start) < end,
            "hasPreviousPage": (chosen[0] if chosen else start) > 0,
            "startCursor": _cursor(keys[chosen[0]]) if chosen else None,
            "endCursor": _cursor(keys[chosen[-1]]) if chosen else None,
        },
    }


# -- queries -----------------------------------------------------------------------------------


def _webhooks(call: Call, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    mine = [o for o in call.shop.ordered("webhook_subscriptions") if o.get("app") == call.app.handle]
    topics = args.get("topics")
    if topics:
        mine = [o for o in mine if o.get("topic") in topics]
    if args.get("format"):
        mine = [o for o in mine if o.get("format") == args["format"]]
    if args.get("uri"):
        mine = [o for o in mine if o.get("uri") == args["uri"]]
    return mine


def q_webhook_subscriptions(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    call = _call(info)
    key = by_created if args.get("sortKey") == "CREATED_AT" else by_id
    return connection(_webhooks(call, args), args, lambda o: call.view("webhook_subscriptions", o), key)


def q_webhook_subscription(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    call = _call(info)
    obj = call.shop.data["webhook_subscriptions"].get(objects.parse_gid(id, "WebhookSubscription") or 0)
    return call.view("webhook_subscriptions", obj) if obj and obj.get("app") == call.app.handle else None


def _active_filter(query: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The one search term tether uses on carrier services: ``active:true`` / ``active:false``."""
    text = str(query or "").strip().lower()
    if text in ("active:true", "active:false"):
        wanted = text.endswith("true")
        return [o for o in items if bool(o.get("active")) is wanted]
    return items


def q_carrier_services(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    call = _call(info)
    call.require("read_shipping", "carrierServices")
    items = _active_filter(args.get("query"), call.shop.ordered("carrier_services"))
    return connection(items, args, lambda o: call.view("carrier_services", o))


def q_carrier_service(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    call = _call(info)
    call.require("read_shipping", "carrierService")
    obj = call.shop.data["carrier_services"].get(objects.parse_gid(id, "DeliveryCarrierService") or 0)
    return call.view("carrier_services", obj) if obj else None


def q_fulfillment_service(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    call = _call(info)
    call.require("read_fulfillments", "fulfillmentService")
    obj = call.shop.data["fulfillment_services"].get(objects.parse_gid(id, "FulfillmentService") or 0)
    return call.view("fulfillment_services", obj) if obj else None


def q_orders(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    call = _call(info)
    call.require("read_orders", "orders")
    return connection(call.shop.ordered("orders"), args, lambda o: _order(call, o))


def _order(call: Call, obj: Mapping[str, Any]) -> dict[str, Any]:
    out = call.view("orders", obj)
    items = [{**item, "id": int(item["id"].rsplit("/", 1)[-1]), "_view": item} for item in out["lineItems"]]

    def line_items(_info: Info, **args: Any) -> dict[str, Any]:
        return connection(items, args, lambda item: item["_view"])

    out["lineItems"] = line_items
    return out


def q_shop(_: Any, info: Info) -> dict[str, Any]:
    call = _call(info)

    def fulfillment_services(_info: Info) -> list[dict[str, Any]]:
        call.require("read_fulfillments", "fulfillmentServices")
        return [call.view("fulfillment_services", o) for o in call.shop.ordered("fulfillment_services")]

    return {
        "__typename": "Shop",
        "id": objects.gid("Shop", 48_000_000 + len(call.shop.handle)),
        "name": call.shop.name,
        "myshopifyDomain": f"{call.shop.handle}.myshopify.com",
        "fulfillmentServices": fulfillment_services,
    }


def _app_view(app: App) -> dict[str, Any]:
    return {"__typename": "App", "id": objects.gid("App", app.number), "title": app.title, "handle": app.handle}


def _my_subscriptions(call: Call) -> list[dict[str, Any]]:
    return [o for o in call.shop.ordered("app_subscriptions") if o.get("app") == call.app.handle]


def q_current_app_installation(_: Any, info: Info) -> dict[str, Any]:
    call = _call(info)
    mine = _my_subscriptions(call)

    def all_subscriptions(_info: Info, **args: Any) -> dict[str, Any]:
        key = by_id if args.get("sortKey") == "ID" else by_created
        return connection(mine, args, lambda o: call.view("app_subscriptions", o), key)

    return {
        "__typename": "AppInstallation",
        "id": objects.gid("AppInstallation", call.app.number),
        "app": _app_view(call.app),
        "accessScopes": [{"handle": s, "description": s.replace("_", " ")} for s in sorted(call.scopes)],
        "activeSubscriptions": [
            call.view("app_subscriptions", o) for o in mine if o.get("status") in ACTIVE_STATUSES
        ],
        "allSubscriptions": all_subscriptions,
    }


_NODE_KINDS: Mapping[str, tuple[str, str | None]] = {
    kind: (collection, scope)
    for collection, kind, scope in (
        ("carrier_services", "DeliveryCarrierService", "read_shipping"),
        ("fulfillment_services", "FulfillmentService", "read_fulfillments"),
        ("webhook_subscriptions", "WebhookSubscription", None),
        ("app_subscriptions", "AppSubscription", None),
        ("orders", "Order", "read_orders"),
    )
}
_OWN_ONLY = frozenset({"webhook_subscriptions", "app_subscriptions"})


def q_node(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    call = _call(info)
    kind = id.split("/")[3] if id.startswith("gid://shopify/") and id.count("/") == 4 else ""
    if kind not in _NODE_KINDS:
        return None
    collection, scope = _NODE_KINDS[kind]
    if scope:
        call.require(scope, "node")
    obj = call.shop.data[collection].get(objects.parse_gid(id, kind) or 0)
    if obj is None or (collection in _OWN_ONLY and obj.get("app") != call.app.handle):
        return None
    return _order(call, obj) if collection == "orders" else call.view(collection, obj)


# -- mutations ---------------------------------------------------------------------------------


def m_webhook_subscription_delete(_: Any, info: Info, id: str) -> dict[str, Any]:
    call = _call(info)
    ident = objects.parse_gid(id, "WebhookSubscription")
    store = call.shop.data["webhook_subscriptions"]
    obj = store.get(ident or 0)
    if obj is None or obj.get("app") != call.app.handle:
        return {"deletedWebhookSubscriptionId": None, "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}]}
    del store[obj["id"]]
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def _owned_delete(call: Call, collection: str, kind: str, id: str, noun: str) -> tuple[str | None, str | None]:
    """Delete one object the calling app created: (deleted gid, None) or (None, why not)."""
    store = call.shop.data[collection]
    obj = store.get(objects.parse_gid(id, kind) or 0)
    if obj is None:
        return None, f"The {noun} could not be found."
    if obj.get("app") != call.app.handle:
        return None, f"The {noun} was created by another app; only that app can delete it."
    del store[obj["id"]]
    return id, None


def m_carrier_service_delete(_: Any, info: Info, id: str) -> dict[str, Any]:
    call = _call(info)
    call.require("write_shipping", "carrierServiceDelete")
    deleted, why = _owned_delete(call, "carrier_services", "DeliveryCarrierService", id, "carrier service")
    errors = [{"code": "CARRIER_SERVICE_DELETE_FAILED", "field": ["id"], "message": why}] if why else []
    return {"deletedId": deleted, "userErrors": errors}


def m_fulfillment_service_delete(_: Any, info: Info, id: str, **_args: Any) -> dict[str, Any]:
    call = _call(info)
    call.require("write_fulfillments", "fulfillmentServiceDelete")
    deleted, why = _owned_delete(call, "fulfillment_services", "FulfillmentService", id, "fulfillment service")
    return {"deletedId": deleted, "userErrors": [{"field": ["id"], "message": why}] if why else []}


def m_app_subscription_cancel(_: Any, info: Info, id: str, prorate: bool = False) -> dict[str, Any]:
    call = _call(info)
    obj = call.shop.data["app_subscriptions"].get(objects.parse_gid(id, "AppSubscription") or 0)
    if obj is None or obj.get("app") != call.app.handle:
        return {"appSubscription": None, "userErrors": [{"field": ["id"], "message": "Couldn't find AppSubscription"}]}
    if obj.get("status") not in ACTIVE_STATUSES:
        return {
            "appSubscription": call.view("app_subscriptions", obj),
            "userErrors": [{"field": ["id"], "message": f"The app subscription is {str(obj.get('status')).lower()}, not active"}],
        }
    obj["status"] = "CANCELLED"
    return {"appSubscription": call.view("app_subscriptions", obj), "userErrors": []}


def m_app_uninstall(_: Any, info: Info) -> dict[str, Any]:
    """What Shopify documents for an uninstall: "deleting any registered webhooks, script tags,
    and Shopify admin links", and both old and new access tokens "become unusable"
    (https://shopify.dev/docs/apps/build/authentication-authorization/app-installation/uninstall-app-api-request).
    The app's charges end with it (SPEC section 1). Carrier and fulfillment services are not in
    that list, so they stay, still the app's."""
    call = _call(info)
    shop, handle = call.shop, call.app.handle
    store = shop.data["webhook_subscriptions"]
    for ident in [i for i, o in store.items() if o.get("app") == handle]:
        del store[ident]
    for obj in shop.data["app_subscriptions"].values():
        if obj.get("app") == handle and obj.get("status") in ACTIVE_STATUSES:
            obj["status"] = "CANCELLED"
    shop.revoke_app(handle)
    call.uninstalled = True
    return {"app": _app_view(call.app), "userErrors": []}


QUERIES: Mapping[str, Callable[..., Any]] = {
    "carrierService": q_carrier_service,
    "carrierServices": q_carrier_services,
    "currentAppInstallation": q_current_app_installation,
    "fulfillmentService": q_fulfillment_service,
    "node": q_node,
    "orders": q_orders,
    "shop": q_shop,
    "webhookSubscription": q_webhook_subscription,
    "webhookSubscriptions": q_webhook_subscriptions,
}
MUTATIONS: Mapping[str, Callable[..., Any]] = {
    "appSubscriptionCancel": m_app_subscription_cancel,
    "appUninstall": m_app_uninstall,
    "carrierServiceDelete": m_carrier_service_delete,
    "fulfillmentServiceDelete": m_fulfillment_service_delete,
    "webhookSubscriptionDelete": m_webhook_subscription_delete,
}


def attach(schema: GraphQLSchema) -> None:
    """Install the resolvers on the schema's root fields (once, when the schema is built)."""
    for root, table in ((schema.query_type, QUERIES), (schema.mutation_type, MUTATIONS)):
        assert root is not None
        for name, resolver in table.items():
            root.fields[name].resolve = resolver
