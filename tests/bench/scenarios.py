"""Generated benchmark worlds: a sandbox scenario, the tether.yaml that declares it, and the
request model the floor is computed from.

Every case is built from one seeded description so the scenario the sandbox serves, the
declarations tether plans against, and the requests the floor model counts cannot disagree.
Shops are Shopify tenants (``/shopify/bench-NNNN``) in the GraphQL Admin API's field names, each
with one app ("Bench Ops") whose token tether holds and which owns everything on the shop (the
agency view: all of it visible and cancellable by API); sellers are SP-API tenants, each with its
own LWA application so their grantless buckets are separate, as the emulator keys them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.amazon_sp.operations import DEFAULT_NOTIFICATION_TYPES, OPERATIONS
from providers.sdk.model import Kind
from providers.shopify import queries as shopify_queries
from providers.shopify.cost import DEFAULT_PLAN, PLANS
from tests.bench.floor import AccountLoad, Bucket, Chain

SHOPIFY_TOKEN = "shpat_bench_admin"
SHOPIFY_APP = "Bench Ops"
SHOPIFY_SCOPES = [
    "read_shipping",
    "write_shipping",
    "read_fulfillments",
    "write_fulfillments",
    "read_orders",
]
SP_PAGE = 100  # the provider asks getSubscriptions for its largest page
TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED", "PRODUCTS_UPDATE", "CUSTOMERS_CREATE", "APP_UNINSTALLED")


@dataclass(frozen=True)
class ShopShape:
    """What one Shopify shop holds, and how much of it tether.yaml declares."""

    carriers: int = 20
    fulfillment: int = 5
    webhooks: int = 300
    charges: int = 5
    declared_hooks: int = 40  # declared present by exact address
    cancelled_hooks: int = 2  # declared absent by one address glob


@dataclass(frozen=True)
class SellerShape:
    """What one SP-API seller holds."""

    carriers: int = 10
    destinations: int = 10
    subscriptions_per_type: int = 150


# tether reads files of up to 2 MiB and 100,000 values: larger declarations go to tether.d/.
CHUNK_BYTES = 1_500_000
CHUNK_LINES = 5_000


@dataclass
class Case:
    name: str
    make_scenario: Callable[[], dict[str, Any]]  # built when written, so the runner stays small
    config: str  # tether.yaml without integrations; "{url}" stands for the sandbox's URL
    integrations: list[str]  # one line each, indented under "integrations:"
    env: dict[str, str]
    loads: list[AccountLoad]
    bindings: int
    accounts: int
    rebuild: Callable[[int], Case]  # the same case with only the first n accounts
    shape: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: Path, url: str) -> tuple[Path, Path]:
        """The scenario (JSON, which YAML reads), tether.yaml and tether.d/*.yaml in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        scenario = folder / "scenario.yaml"
        scenario.write_text(json.dumps(self.make_scenario()), encoding="utf-8")
        extra = folder / "tether.d"
        extra.mkdir(exist_ok=True)
        for old in extra.glob("*.yaml"):
            old.unlink()
        chunks: list[list[str]] = [[]]
        size = 0
        for line in self.integrations:
            if (size + len(line) > CHUNK_BYTES or len(chunks[-1]) >= CHUNK_LINES) and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += len(line) + 1
        for number, chunk in enumerate(chunks):
            if chunk:
                text = "integrations:\n" + "\n".join(chunk) + "\n"
                (extra / f"{number:03d}.yaml").write_text(text, encoding="utf-8")
        return scenario, self.write_config(folder, url)

    def write_config(self, folder: Path, url: str) -> Path:
        config = folder / "tether.yaml"
        config.write_text(self.config.replace("{url}", url), encoding="utf-8")
        return config

    def subset(self, accounts: int) -> Case:
        """The first ``accounts`` accounts of this case (the sequential client's sample)."""
        return self if accounts >= self.accounts else self.rebuild(accounts)


# -- Shopify ------------------------------------------------------------------------------------


def _shop_handle(index: int) -> str:
    return f"bench-{index:04d}"


def _shop(index: int, shape: ShopShape) -> dict[str, Any]:
    base = 10_000_000 + index * 10_000
    carriers = [
        {
            "id": base + i,
            "name": f"Carrier {i:03d}",
            "active": i % 7 != 3,  # a few inactive ones drift against expect: active: true
            "callbackUrl": f"https://rates{i}.carrier.example/shop{index}",
            "app": "bench",
        }
        for i in range(shape.carriers)
    ]
    fulfillment = [
        {
            "id": base + 1000 + i,
            "serviceName": f"Warehouse {i:02d}",
            "handle": f"warehouse-{i:02d}",
            "callbackUrl": f"https://wh{i}.example/cb",
            "app": "bench",
        }
        for i in range(shape.fulfillment)
    ]
    hooks = [
        {
            "id": base + 2000 + i,
            "topic": TOPICS[i % len(TOPICS)],
            "uri": (
                f"https://legacy.example/{index}/{i}"
                if i < shape.cancelled_hooks
                else f"https://hooks{i % 50}.example/{index}/{i}"
            ),
            "app": "bench",
        }
        for i in range(shape.webhooks)
    ]
    charges = [
        {"id": base + 5000 + i, "name": f"Plan {i}", "price": "9.00 EUR", "interval": "EVERY_30_DAYS",
         "status": "ACTIVE", "app": "bench"}
        for i in range(shape.charges)
    ]
    return {
        "name": f"Bench shop {index}",
        "plan": DEFAULT_PLAN,
        "apps": {"bench": {"title": SHOPIFY_APP, "tokens": {SHOPIFY_TOKEN: list(SHOPIFY_SCOPES)}}},
        "carrier_services": carriers,
        "fulfillment_services": fulfillment,
        "webhook_subscriptions": hooks,
        "app_subscriptions": charges,
    }


def _shop_integrations(index: int, shape: ShopShape) -> list[str]:
    account = f"shop-{index:04d}"
    lines = []
    for i in range(shape.carriers):
        lines.append(
            f"  s{index:04d}-carrier-{i:03d}: {{account: {account}, kind: carrier, "
            f'match: {{name: "Carrier {i:03d}"}}, expect: {{active: true}}}}'
        )
    for i in range(shape.fulfillment):
        lines.append(
            f"  s{index:04d}-wh-{i:02d}: {{account: {account}, kind: carrier, "
            f'match: {{name: "Warehouse {i:02d}"}}}}'
        )
    for i in range(shape.cancelled_hooks, shape.cancelled_hooks + shape.declared_hooks):
        lines.append(
            f"  s{index:04d}-hook-{i:03d}: {{account: {account}, kind: webhook, "
            f'match: {{uri: "https://hooks{i % 50}.example/{index}/{i}"}}}}'
        )
    if shape.cancelled_hooks:
        # Narrowed to the app whose token tether holds: it sees its own webhooks in full, so the
        # absence is verifiable (other apps' webhooks would be invisible to it).
        lines.append(
            f"  s{index:04d}-legacy: {{account: {account}, kind: webhook, ensure: absent, "
            f'match: {{app: {SHOPIFY_APP}, uri: "https://legacy.example/{index}/*"}}}}'
        )
    for i in range(shape.charges):
        lines.append(
            f"  s{index:04d}-plan-{i}: {{account: {account}, kind: subscription, "
            f'match: {{name: "Plan {i}"}}}}'
        )
    return lines


def _more_pages(count: int, first_page: int, page: int) -> int:
    """Pages of a connection after the first, which the listing query brought."""
    return max(0, math.ceil((count - first_page) / page))


def shopify_load(shape: ShopShape, account: str) -> AccountLoad:
    """Requests one shop's refresh needs: one GraphQL query lists the first page of every
    collection (and the app with its scopes, which are the rights); each collection with more
    nodes is walked on by cursor, one page after another, all of them after the listing. The
    shop's calculated-cost bucket is counted in requests of the cheapest page a shop sends
    (a lower bound: no request costs less), so the floor stays a floor."""
    first = shopify_queries.FIRST_PAGE
    walks = {
        "webhook_subscriptions": _more_pages(shape.webhooks, first, shopify_queries.page_size("webhook_subscriptions")),
        "carrier_services": _more_pages(shape.carriers, first, shopify_queries.page_size("carrier_services")),
        "app_subscriptions": _more_pages(shape.charges, first, shopify_queries.page_size("app_subscriptions")),
    }
    chains = [Chain("listing", ("TetherListing",))]
    for resource, pages in walks.items():
        if pages:
            operation = shopify_queries.name_of(shopify_queries.NEXT_PAGE[resource])
            chains.append(Chain(resource, ("TetherListing",) + (operation,) * pages))
    limits = PLANS[DEFAULT_PLAN]
    cheapest = CHEAPEST_SHOPIFY_QUERY
    bucket = Bucket("calculated query cost", limits.restore_rate / cheapest, limits.maximum_available / cheapest, None)
    return AccountLoad(
        account, host=f"/shopify/{account}", chains=tuple(chains), buckets=(bucket,), once=("TetherListing",)
    )


def _cheapest_shopify_query() -> float:
    """The smallest requested cost among the queries a refresh sends (Shopify's published rules)."""
    from graphql import build_schema

    from providers.shopify.cost import requested_cost

    schema = build_schema((Path(shopify_queries.__file__).with_name("schema.graphql")).read_text(encoding="utf-8"))
    costs = [requested_cost(schema, shopify_queries.listing_query(frozenset(Kind)), {"first": shopify_queries.FIRST_PAGE})]
    costs += [
        requested_cost(schema, document, {"first": shopify_queries.page_size(resource)})
        for resource, document in shopify_queries.NEXT_PAGE.items()
    ]
    return float(min(costs))


CHEAPEST_SHOPIFY_QUERY = _cheapest_shopify_query()


def shopify_case(shops: int, shape: ShopShape = ShopShape(), name: str | None = None) -> Case:
    def scenario() -> dict[str, Any]:
        return {"shopify": {_shop_handle(i): _shop(i, shape) for i in range(shops)}}

    lines = [
        "version: 1",
        "accounts:",
    ]
    for i in range(shops):
        lines.append(
            f"  shop-{i:04d}: {{provider: shopify, endpoint: \"{{url}}/shopify/{_shop_handle(i)}\", "
            f'options: {{shop: {_shop_handle(i)}.myshopify.com, api_version: "2026-10"}}, '
            'credentials: {access_token: "${env:BENCH_SHOPIFY_TOKEN}"}}'
        )
    lines += [
        "defaults: {undeclared: report, max_cancels: 20}",
    ]
    integrations: list[str] = []
    for i in range(shops):
        integrations += _shop_integrations(i, shape)
    lines += [
        "ignore:",
        "  - match: {kind: webhook, topic: \"APP_*\"}",
        '    reason: "the app\'s own uninstall notice"',
        "    owner: ops@example.com",
        "    expires: 2099-01-31",
        "",
    ]
    per_shop = shape.carriers + shape.fulfillment + shape.webhooks + shape.charges
    return Case(
        name=name or f"shopify-{shops}",
        make_scenario=scenario,
        config="\n".join(lines),
        integrations=integrations,
        env={"BENCH_SHOPIFY_TOKEN": SHOPIFY_TOKEN},
        loads=[shopify_load(shape, f"shop-{i:04d}") for i in range(shops)],
        bindings=shops * per_shop,
        accounts=shops,
        rebuild=lambda n: shopify_case(n, shape, name=name or f"shopify-{shops}"),
        shape={"provider": "shopify", **shape.__dict__},
    )


# -- Amazon SP-API ------------------------------------------------------------------------------


def _seller_id(index: int) -> str:
    return f"ABENCH{index:08d}"


def _seller(index: int, shape: SellerShape) -> dict[str, Any]:
    destinations = [
        {
            "destinationId": f"dest-{index}-{d}",
            "name": f"queue-{index}-{d}",
            "resource": {"sqs": {"arn": f"arn:aws:sqs:eu-west-1:123456789012:q{index}-{d}"}},
        }
        for d in range(shape.destinations)
    ]
    subscriptions = {
        kind: [
            {
                "subscriptionId": f"sub-{index}-{k}-{s}",
                "payloadVersion": "1.0",
                "destinationId": f"dest-{index}-{s % shape.destinations}",
            }
            for s in range(shape.subscriptions_per_type)
        ]
        for k, kind in enumerate(DEFAULT_NOTIFICATION_TYPES)
    }
    return {
        "lwa": {
            "client_id": f"amzn1.application-oa2-client.bench{index}",
            "client_secret": f"bench-secret-{index}",
            "refresh_token": f"Atzr|bench{index}",
        },
        "carrier_accounts": [{"accountId": f"C-{index}-{c}", "carrierId": f"CARRIER{c}"} for c in range(shape.carriers)],
        "destinations": destinations,
        "subscriptions": subscriptions,
    }


def sp_api_load(shape: SellerShape, account: str) -> AccountLoad:
    """An LWA exchange per kind of token, then each listing; getSubscriptions pages of every
    notification type share one 1/s bucket, which is what bounds this case."""
    pages = max(1, math.ceil(shape.subscriptions_per_type / SP_PAGE))
    chains = [Chain("carriers", ("lwa-seller", "getCarrierAccounts"))]
    chains.append(Chain("destinations", ("lwa-grantless", "getDestinations")))
    for kind in DEFAULT_NOTIFICATION_TYPES:
        chains.append(Chain(f"{kind} subscriptions", ("lwa-seller",) + ("getSubscriptions",) * pages))
    buckets = tuple(
        Bucket(op, OPERATIONS[op].rate, OPERATIONS[op].burst, op)
        for op in ("getCarrierAccounts", "getDestinations", "getSubscriptions")
    )
    # Both token exchanges happen once; the chains name them only to place the calls after them.
    return AccountLoad(account, host="/amazon-sp", chains=tuple(chains), buckets=buckets, once=("lwa-seller", "lwa-grantless"))


def sp_api_case(sellers: int, shape: SellerShape = SellerShape(), name: str | None = None) -> Case:
    def scenario() -> dict[str, Any]:
        return {"amazon-sp": {_seller_id(i): _seller(i, shape) for i in range(sellers)}}

    lines = ["version: 1", "accounts:"]
    env: dict[str, str] = {}
    for i in range(sellers):
        env[f"BENCH_SP_SECRET_{i}"] = f"bench-secret-{i}"
        env[f"BENCH_SP_REFRESH_{i}"] = f"Atzr|bench{i}"
        lines.append(
            f'  seller-{i:04d}: {{provider: amazon-sp, endpoint: "{{url}}/amazon-sp", options: {{region: eu}}, '
            f'credentials: {{client_id: "${{env:BENCH_SP_CLIENT_{i}}}", '
            f'client_secret: "${{env:BENCH_SP_SECRET_{i}}}", refresh_token: "${{env:BENCH_SP_REFRESH_{i}}}"}}}}'
        )
        env[f"BENCH_SP_CLIENT_{i}"] = f"amzn1.application-oa2-client.bench{i}"
    lines += ["defaults: {undeclared: report}"]
    integrations: list[str] = []
    for i in range(sellers):
        for c in range(shape.carriers):
            integrations.append(
                f"  p{i:04d}-carrier-{c}: {{account: seller-{i:04d}, kind: carrier, "
                f'match: {{id: "C-{i}-{c}"}}}}'
            )
        for d in range(shape.destinations):
            integrations.append(
                f"  p{i:04d}-dest-{d}: {{account: seller-{i:04d}, kind: webhook, "
                f'match: {{id: "dest-{i}-{d}"}}}}'
            )
    lines.append("")
    per_seller = shape.carriers + shape.destinations + shape.subscriptions_per_type * len(DEFAULT_NOTIFICATION_TYPES)
    return Case(
        name=name or f"sp-api-{sellers}",
        make_scenario=scenario,
        config="\n".join(lines),
        integrations=integrations,
        env=env,
        loads=[sp_api_load(shape, f"seller-{i:04d}") for i in range(sellers)],
        bindings=sellers * per_seller,
        accounts=sellers,
        rebuild=lambda n: sp_api_case(n, shape, name=name or f"sp-api-{sellers}"),
        shape={"provider": "amazon-sp", **shape.__dict__},
    )
