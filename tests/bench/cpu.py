"""The CPU-only case: plan N live bindings in-process, no network, no latency.

``python -m tests.bench.cpu --bindings 100000`` builds the bindings (Shopify-shaped raw objects),
a Config that declares part of them and a state that records what the last apply kept, then
times ``make_plan`` alone with ``time.process_time()``, then writing that plan out in each
output format (``render_cpu_s``: JSON, text, Markdown), and prints one JSON line. run.py starts it
as a child process so the peak RSS it reports belongs to this case only.

The mix per account mirrors the shop scenario: carriers matched by name with an ``expect`` (some
drift), webhooks matched by exact address, one glob that cancels a few, an ignore rule, and the
rest undeclared (reported as unmanaged).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from datetime import date
from typing import Any

from engine.model import (
    Account,
    Config,
    Defaults,
    Ensure,
    IgnoreRule,
    Integration,
    Kind,
    Listing,
    LiveBinding,
)
from engine.plan import AccountInfo, PlanOptions, make_plan
from providers.shopify.client import ShopifyProvider
from states.model import Record, RecordStatus, State

TODAY = date(2026, 11, 26)
PER_ACCOUNT = 500
TOPICS = ("orders/create", "orders/updated", "products/update", "customers/create", "app/uninstalled")


def _required(binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
    return ShopifyProvider.required(None, binding, side, datasets)  # type: ignore[arg-type]


def _carrier(account: str, index: int, i: int) -> LiveBinding:
    ident = 10_000_000 + index * 10_000 + i
    raw = {
        "id": ident,
        "name": f"Carrier {i:03d}",
        "active": i % 7 != 3,
        "service_discovery": True,
        "carrier_service_type": "api",
        "admin_graphql_api_id": f"gid://shopify/DeliveryCarrierService/{ident}",
        "format": "json",
        "callback_url": f"https://rates{i}.carrier.example/shop{index}",
    }
    return LiveBinding(account, "shopify", Kind.CARRIER, str(ident), raw["name"],
                       "active" if raw["active"] else "inactive", "carrier_services", raw)


def _webhook(account: str, index: int, i: int, legacy: int) -> LiveBinding:
    ident = 10_000_000 + index * 10_000 + 2000 + i
    address = f"https://legacy.example/{index}/{i}" if i < legacy else f"https://hooks{i % 50}.example/{index}/{i}"
    raw = {
        "id": ident,
        "address": address,
        "topic": TOPICS[i % len(TOPICS)],
        "created_at": "2024-01-10T09:00:00+00:00",
        "updated_at": "2024-01-10T09:00:00+00:00",
        "format": "json",
        "fields": [],
        "metafield_namespaces": [],
        "api_version": "2024-01",
        "private_metafield_namespaces": [],
    }
    return LiveBinding(account, "shopify", Kind.WEBHOOK, str(ident), raw["topic"], "active", "webhooks", raw)


def build(bindings: int, per_account: int = PER_ACCOUNT) -> tuple[Config, dict[str, Listing], dict[str, AccountInfo], State]:
    """About ``bindings`` live bindings over ``bindings / per_account`` accounts."""
    accounts = max(1, bindings // per_account)
    carriers = per_account // 20
    hooks = per_account - carriers
    declared_hooks = hooks // 5
    legacy = 2
    account_map: dict[str, Account] = {}
    integrations: dict[str, Integration] = {}
    listings: dict[str, Listing] = {}
    records: dict[str, Record] = {}
    for index in range(accounts):
        account = f"shop-{index:04d}"
        account_map[account] = Account(name=account, provider="shopify")
        live = [_carrier(account, index, i) for i in range(carriers)]
        live += [_webhook(account, index, i, legacy) for i in range(hooks)]
        listings[account] = Listing(account, "shopify", tuple(live), granted=frozenset({"write_shipping", "read_orders"}))
        for i in range(carriers):
            name = f"s{index:04d}-carrier-{i:03d}"
            integrations[name] = Integration(name, account, Kind.CARRIER, {"name": f"Carrier {i:03d}"}, expect={"active": True})
        for i in range(legacy, legacy + declared_hooks):
            name = f"s{index:04d}-hook-{i:03d}"
            integrations[name] = Integration(
                name, account, Kind.WEBHOOK, {"address": f"https://hooks{i % 50}.example/{index}/{i}"}
            )
        integrations[f"s{index:04d}-legacy"] = Integration(
            f"s{index:04d}-legacy", account, Kind.WEBHOOK, {"address": f"https://legacy.example/{index}/*"},
            ensure=Ensure.ABSENT,
        )
        for binding in live[: carriers]:
            name = f"s{index:04d}-carrier-{int(binding.raw['name'][-3:]):03d}"
            records[name] = Record(name, account, "shopify", "carrier", binding.id, binding.name, name, RecordStatus.LIVE)
    ignore = (IgnoreRule({"kind": "webhook", "topic": "app/*"}, "theme", "ops@example.com", date(2099, 1, 31)),)
    config = Config(account_map, integrations, Defaults(max_cancels=20), ignore, sha256="bench")
    catalog = {a: AccountInfo(capabilities=ShopifyProvider.capabilities, required=_required) for a in account_map}
    state = State(lineage="bench", serial=1, records=records)
    return config, listings, catalog, state


def peak_rss_mb() -> float:
    """This process's high-water RSS: VmHWM (Linux), else ru_maxrss, which Linux also fills
    with the parent's RSS at fork, so it can overstate a child started by a large parent."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(bindings: int) -> dict[str, Any]:
    return _measure(bindings)  # with the collector as the tether command runs it: on


def _measure(bindings: int) -> dict[str, Any]:
    config, listings, catalog, state = build(bindings)
    total = sum(len(l.bindings) for l in listings.values())
    gc.collect()
    before = peak_rss_mb()
    cpu = time.process_time()
    wall = time.perf_counter()
    plan = make_plan(config, listings, catalog, state, PlanOptions(today=TODAY, now="2026-11-26T00:00:00+00:00"))
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    peak = peak_rss_mb()
    render = render_seconds(plan, state)
    return {
        "case": f"cpu-plan-{total}",
        "bindings": total,
        "integrations": len(config.integrations),
        "accounts": len(config.accounts),
        "actions": len(plan.actions),
        "summary": {k: v for k, v in plan.summary.items() if v},
        "plan_cpu_s": round(cpu, 3),
        "plan_wall_s": round(wall, 3),
        "bindings_per_cpu_s": round(total / cpu) if cpu else None,
        "rss_before_plan_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "plan_rss_mb": round(peak - before, 1),
        # The same plan written out by each output format, CPU seconds (the text is what
        # ``tether plan`` prints by default; the Markdown is cut to one pull-request comment).
        "render_cpu_s": render,
    }


def render_seconds(plan: Any, state: State) -> dict[str, float]:
    from engine.planfile import dump_bytes
    from engine.render.markdown import render_markdown
    from engine.render.text import render_plan

    changes = plan.state_changes(state)
    formats = {
        "json": lambda: dump_bytes(plan),
        "text": lambda: render_plan(plan, "en", state_changes=changes).plain,
        "markdown": lambda: render_markdown(plan, "en", state_changes=changes),
    }
    seconds = {}
    for name, write in formats.items():
        started = time.process_time()
        write()
        seconds[name] = round(time.process_time() - started, 3)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bindings", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.bindings)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
