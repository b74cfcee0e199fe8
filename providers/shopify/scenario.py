"""The Shopify section of a sandbox scenario: shops, the apps installed on each with their tokens,
and the shop's objects in the GraphQL Admin API's field names (SPEC section 8).

```yaml
shopify:
  demo-shop:                       # served at /shopify/demo-shop
    name: Lumen & Co               # optional; Shop.name
    plan: standard                 # optional: standard | advanced | plus | enterprise (rate limits)
    apps:                          # every token belongs to one installed app
      lumen-ops: {title: Lumen Ops, tokens: {shpat_demo_admin: [read_shipping, write_shipping]}}
    carrier_services:     [{id: 1036894960, name: DPD Rates, callbackUrl: "https://...", app: lumen-ops}]
    fulfillment_services: [{id: 611870435, serviceName: Nordhub Fulfillment, app: nordhub}]
    webhook_subscriptions: [{id: 4759306, topic: ORDERS_CREATE, uri: "https://...", app: lumen-ops}]
    app_subscriptions:    [{id: 455696195, name: Pro bundle, price: "29.00 EUR", interval: EVERY_30_DAYS, app: legacy-erp}]
    orders:               [{id: 450789469, name: "#1001", totalPrice: "59.00 EUR"}]
```

``app`` names the creating app (a key of ``apps``); an object without one was made in the admin.
Ids are positive integers, kept as given; objects without one get fresh ids. ``dump`` gives back
this layout with the API's defaults filled in (``objects.fill``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema

from providers.sdk.errors import ConfigError
from providers.shopify import objects
from providers.shopify.cost import DEFAULT_PLAN, PLANS

_HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SHOP_KEYS = frozenset({"name", "plan", "apps", *objects.COLLECTIONS})
_FIRST_NEW_ID = 1_070_000_000
_APP_ID_BASE = 1_830_000


@dataclass
class App:
    handle: str
    title: str
    tokens: dict[str, list[str]]
    number: int  # numeric part of the App and AppInstallation gids


@dataclass
class Shop:
    handle: str
    name: str
    plan: str
    apps: dict[str, App]
    data: dict[str, dict[int, dict[str, Any]]]
    next_id: int = _FIRST_NEW_ID
    token_apps: dict[str, str] = field(default_factory=dict)  # token -> app handle

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def ordered(self, collection: str) -> list[dict[str, Any]]:
        items = self.data[collection]
        return [items[key] for key in sorted(items)]

    def revoke_app(self, handle: str) -> None:
        """The app is uninstalled: its tokens stop working at once. It stays listed (with no
        tokens) because what it created and Shopify does not remove still names it."""
        app = self.apps.get(handle)
        if app is not None:
            for token in app.tokens:
                self.token_apps.pop(token, None)
            app.tokens.clear()


def load(section: Any, schema: GraphQLSchema) -> dict[str, Shop]:
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ConfigError("scenario section 'shopify' must map shop handles to their shops")
    return {str(handle): _load_shop(str(handle), body, schema) for handle, body in section.items()}


def _load_shop(handle: str, body: Any, schema: GraphQLSchema) -> Shop:
    where = f"shopify.{handle}"
    if not _HANDLE.match(handle):
        raise ConfigError(f"{where}: a shop handle is lowercase letters, digits and '-'")
    body = body or {}
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: must be a mapping of apps and collections")
    unknown = sorted(set(map(str, body)) - _SHOP_KEYS)
    if unknown:
        hint = " (tokens now belong to apps: apps: {handle: {title, tokens}})" if "tokens" in unknown else ""
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}{hint}; known: {', '.join(sorted(_SHOP_KEYS))}"
        )
    plan = str(body.get("plan", DEFAULT_PLAN))
    if plan not in PLANS:
        raise ConfigError(f"{where}.plan: {plan!r} is not one of {', '.join(PLANS)}")
    shop = Shop(
        handle=handle,
        name=str(body.get("name") or handle),
        plan=plan,
        apps={},
        data={name: {} for name in objects.COLLECTIONS},
    )
    _load_apps(shop, body.get("apps"), where)
    pending: list[tuple[str, dict[str, Any]]] = []
    given: set[tuple[str, int]] = set()  # (collection, id) of the objects read so far
    highest = _FIRST_NEW_ID
    for name in objects.COLLECTIONS:
        items = body.get(name) or []
        if not isinstance(items, list):
            raise ConfigError(f"{where}.{name}: must be a list of objects")
        for index, item in enumerate(items):
            at = f"{where}.{name}[{index}]"
            if not isinstance(item, Mapping):
                raise ConfigError(f"{at}: must be an object")
            obj = copy.deepcopy(dict(item))
            owner = obj.get("app")
            if owner is not None and owner not in shop.apps:
                known = ", ".join(sorted(shop.apps)) or "none"
                raise ConfigError(f"{at}.app: {owner!r} is not an app of this shop (apps: {known})")
            objects.normalise_times(obj)
            objects.check(schema, name, obj, at)
            if "id" in obj:
                obj["id"] = _scenario_id(obj["id"], f"{at}.id")
                if obj["id"] in shop.data[name] or (name, obj["id"]) in given:
                    raise ConfigError(f"{at}: id {obj['id']} appears twice")
                given.add((name, obj["id"]))
                highest = max(highest, obj["id"])
            pending.append((name, obj))
    shop.next_id = highest
    for name, obj in pending:
        if "id" not in obj:
            obj["id"] = shop.new_id()
        shop.data[name][obj["id"]] = objects.fill(name, obj, handle)
    return shop


def _load_apps(shop: Shop, apps: Any, where: str) -> None:
    if apps is None:
        return
    if not isinstance(apps, Mapping):
        raise ConfigError(f"{where}.apps: must map app handles to {{title, tokens}}")
    for number, (handle, app) in enumerate(apps.items(), start=1):
        at = f"{where}.apps.{handle}"
        if not isinstance(app, Mapping) or not set(app) <= {"title", "tokens"}:
            raise ConfigError(f"{at}: an app is {{title: ..., tokens: {{token: [scopes]}}}}")
        tokens = app.get("tokens") or {}
        if not isinstance(tokens, Mapping):
            raise ConfigError(f"{at}.tokens: must map each access token to its list of scopes")
        record = App(str(handle), str(app.get("title") or handle), {}, _APP_ID_BASE + number)
        for token, scopes in tokens.items():
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise ConfigError(f"{at}.tokens.{token}: scopes must be a list of scope handles")
            if str(token) in shop.token_apps:
                raise ConfigError(f"{at}.tokens.{token}: the token belongs to app {shop.token_apps[str(token)]!r} too")
            record.tokens[str(token)] = list(scopes)
            shop.token_apps[str(token)] = record.handle
        shop.apps[record.handle] = record


def _scenario_id(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: Shopify ids are integers")
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    raise ConfigError(f"{where}: Shopify ids are positive integers, got {value!r}")


def dump(shops: Mapping[str, Shop]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for handle, shop in shops.items():
        section: dict[str, Any] = {
            "name": shop.name,
            "plan": shop.plan,
            "apps": {
                app.handle: {"title": app.title, "tokens": {t: list(s) for t, s in app.tokens.items()}}
                for app in shop.apps.values()
            },
        }
        for name in objects.COLLECTIONS:
            section[name] = copy.deepcopy(shop.ordered(name))
        out[handle] = section
    return out
