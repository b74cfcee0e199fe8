"""GraphQL Admin API objects as tether's live bindings, and the runbooks for what a token cannot
cancel.

A binding keeps the API's own object as ``raw`` (what ``match``/``expect`` keys address, what a
backup holds), with the global id (``gid://shopify/WebhookSubscription/4759306``) as Shopify gave
it; the binding's ``id`` is the number at its end, which is what a person sees in the admin.

Ownership (https://shopify.dev/docs/api/admin-graphql/latest/queries/webhookSubscriptions and
https://shopify.dev/docs/api/admin-graphql/latest/objects/AppInstallation): webhook subscriptions
and app subscriptions are listed only for the app that created them, so every one a token sees is
its own app's. Carrier and fulfillment services are the shop's whole list
(https://shopify.dev/docs/api/admin-graphql/latest/queries/carrierServices), but only the app that
created one may change it (https://shopify.dev/docs/api/admin-graphql/latest/mutations/carrierServiceUpdate)
and the API does not say which app that is. So a service is cancellable by this token only when
the account says this app created it (``options.own_services``: names or ids); any other is
shown as the shop's, with the runbook, and never sent a delete Shopify would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.sdk.model import BlindSpot, Kind, LiveBinding, Runbook
from providers.shopify.queries import APP_RESOURCE, BY_RESOURCE, SUBSCRIPTIONS, WEBHOOKS, Collection

ENDED_SUBSCRIPTION_STATUSES = frozenset({"CANCELLED", "DECLINED", "EXPIRED"})
"""App subscriptions in these states no longer bind the shop: they are history, not bindings
(https://shopify.dev/docs/api/admin-graphql/latest/enums/AppSubscriptionStatus)."""

ADMIN_PATH = ("Shopify admin", "Settings", "Apps and sales channels")


def numeric_id(gid: str) -> str:
    """``gid://shopify/Type/123`` -> ``123``; anything else as it is."""
    return gid[gid.rfind("/") + 1 :] if gid.startswith("gid://") else gid


def gid(typename: str, ident: str) -> str:
    return ident if ident.startswith("gid://") else f"gid://shopify/{typename}/{ident}"


def binding_of(
    collection: Collection,
    obj: Mapping[str, Any],
    *,
    account: str,
    own_app: str,
    own_services: frozenset[str] = frozenset(),
) -> LiveBinding | None:
    """One API object as a binding; None for an app subscription that has ended."""
    raw_id = obj.get("id")
    ident = numeric_id(raw_id if type(raw_id) is str else str(raw_id or ""))
    if collection is WEBHOOKS:  # the bulk of a large shop: the shortest path
        topic = obj.get("topic")
        return LiveBinding(
            account=account,
            provider="shopify",
            kind=Kind.WEBHOOK,
            id=ident,
            name=topic if type(topic) is str else str(topic or ""),
            status="active",
            resource=WEBHOOKS.resource,
            raw=obj,
            app=own_app,
        )
    app: str | None
    cancellable = True
    if collection is SUBSCRIPTIONS:
        raw_status = str(obj.get("status") or "")
        if raw_status in ENDED_SUBSCRIPTION_STATUSES:
            return None
        name, status, app = str(obj.get("name") or ""), raw_status.lower(), own_app
    else:
        if collection.resource == "carrier_services":
            name = str(obj.get("name") or "")
            status = "active" if obj.get("active") else "inactive"
        else:
            name, status = str(obj.get("serviceName") or ""), "active"
        own = name in own_services or ident in own_services
        app = own_app if own else None
        cancellable = own
    return LiveBinding(
        account=account,
        provider="shopify",
        kind=collection.kind,
        id=ident,
        name=name,
        status=status,
        resource=collection.resource,
        raw=obj,
        app=app,
        cancellable=cancellable,
    )


def app_binding(installation: Mapping[str, Any], *, account: str) -> LiveBinding:
    """The calling app's own installation: cancelling it uninstalls the app (its token dies)."""
    app = installation.get("app")
    app_obj: Mapping[str, Any] = app if isinstance(app, Mapping) else {}
    title = str(app_obj.get("title") or "this app")
    scopes = [
        str(scope.get("handle"))
        for scope in installation.get("accessScopes") or []
        if isinstance(scope, Mapping) and scope.get("handle")
    ]
    raw = {"id": installation.get("id"), "app": dict(app_obj), "accessScopes": scopes}
    return LiveBinding(
        account=account,
        provider="shopify",
        kind=Kind.APP,
        id=numeric_id(str(installation.get("id") or "current")),
        name=title,
        status="active",
        resource=APP_RESOURCE,
        raw=raw,
        app=title,
    )


def typename_of(resource: str) -> str:
    if resource == APP_RESOURCE:
        return "AppInstallation"
    return BY_RESOURCE[resource].typename


_HOW_TO_SEE = {
    Kind.WEBHOOK: (
        WEBHOOKS.resource,
        "Shopify shows an app only the webhook subscriptions it created (ones made in the admin are "
        "shown to no app): add the owning app's token as another account, or uninstall that app in "
        "Settings > Apps and sales channels, which deletes its webhook subscriptions",
    ),
    Kind.SUBSCRIPTION: (
        SUBSCRIPTIONS.resource,
        "Shopify shows an app only the subscriptions it bills itself: add the billing app's token as "
        "another account, or see them in Settings > Billing; uninstalling that app in Settings > Apps "
        "and sales channels ends its charges",
    ),
}


def blind_spots(own_app: str, kinds: frozenset[Kind]) -> tuple[BlindSpot, ...]:
    """What a token never sees: other apps' webhook subscriptions and app subscriptions."""
    return tuple(
        BlindSpot.own_app_only(kind, own_app, resource, how_to_see)
        for kind, (resource, how_to_see) in _HOW_TO_SEE.items()
        if kind in kinds
    )


def runbook(binding: LiveBinding, shop: str) -> Runbook:
    """The real way to end a binding this token cannot cancel: uninstall the owning app in the
    admin (which removes what it created: https://shopify.dev/docs/api/admin-graphql/latest/mutations/appUninstall),
    or ask the app's developer. Where Shopify does not say which app created it (a carrier or
    fulfillment service), the runbook says so instead of guessing."""
    what = {
        "carrier_services": f"the carrier service {binding.name!r}",
        "fulfillment_services": f"the fulfillment service {binding.name!r}",
        "webhook_subscriptions": f"the webhook subscription {binding.name} ({binding.id})",
        "app_subscriptions": f"the subscription {binding.name!r}",
        APP_RESOURCE: f"the app {binding.name!r}",
    }.get(binding.resource, f"{binding.resource} {binding.id}")
    if binding.resource == APP_RESOURCE:
        navigation: tuple[str, ...] = (*ADMIN_PATH, binding.name, "Uninstall")
        owner = binding.name
    elif binding.app:
        navigation = (*ADMIN_PATH, binding.app, "Uninstall")
        owner = binding.app
    else:
        navigation = (*ADMIN_PATH, f"the app that created {binding.name!r}", "Uninstall")
        owner = ""
    if owner:
        en = (
            f"Hello, on our Shopify store {shop} we no longer use {owner}. Please remove {what}, "
            f"which {owner} created on our store, or tell us how to end it; we will then uninstall "
            "the app."
        )
        zh = f"您好，我们的 Shopify 店铺 {shop} 已不再使用 {owner}。请删除 {owner} 在我们店铺上创建的{what}，或告知我们如何结束它；之后我们将卸载该应用。"
        contact = f"{owner}'s developer (its listing in the Shopify App Store names the support contact)"
    else:
        en = (
            f"Hello, our Shopify store {shop} still has {what}, created by one of the apps installed "
            "on it. If your app created it, please remove it or tell us how to end it; we will then "
            "uninstall the app."
        )
        zh = f"您好，我们的 Shopify 店铺 {shop} 上仍有{what}，由店铺安装的某个应用创建。如果是贵方应用创建的，请删除它或告知我们如何结束它；之后我们将卸载该应用。"
        contact = (
            "the developer of the app that created it: Shopify does not tell other apps which one "
            "that is; the apps listed in Settings > Apps and sales channels are the candidates"
        )
    return Runbook(navigation=navigation, support_message={"en": en, "zh": zh}, contact=contact)
