"""The benchmark end to end at its smallest: every case it prints, with every field, in seconds.

No timing is asserted (this machine's speed is not the code's behaviour); what is asserted is
that each line is complete and consistent: the sandbox counted the requests the floor model
predicts, nothing was throttled into the plan, and the model's terms add up to its floor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench import run
from tests.bench.floor import AccountLoad, Bucket, Chain, floor
from tests.bench.scenarios import ShopShape, shopify_case

PLAN_FIELDS = {
    "case", "provider", "accounts", "bindings", "requests", "requests_per_account", "operations", "latency_ms", "parallelism", "wall_s",
    "refresh_s", "floor_s", "bound_by", "floor_terms", "model_requests", "ratio", "refresh_ratio",
    "sequential_s", "sequential_refresh_s", "sequential_sample_accounts", "sequential_sample_refresh_s",
    "sequential_sample_requests", "speedup", "refresh_speedup", "peak_rss_mb", "ru_maxrss_mb", "cpu_s",
    "bindings_per_cpu_s", "sandbox_cpu_s", "sandbox_429", "retries", "surfaced_429", "exit_code",
    "incomplete", "actions", "progress_first_s", "progress_max_gap_s", "phases", "phases_cpu", "sandbox_processes",
    "wall_runs_s",
}


@pytest.mark.e2e
def test_the_smallest_bench_prints_complete_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run.main([
        "--shops", "2", "--webhooks", "260", "--sellers", "1", "--subscriptions", "30",
        "--latency-ms", "2", "--sequential-sample", "1", "--cpu-bindings", "1000",
        "--rps-requests", "40", "--repeat", "2", "--wide-shops", "3", "--wide-webhooks", "30",
        "--wide-latency-ms", "1", "--out-dir", str(tmp_path),
    ])
    assert code == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
    by_case = {line["case"]: line for line in lines}
    assert set(by_case) == {"shopify-2", "shopify-3x30-1ms", "sp-api-1", "sandbox-rps", "cpu-plan-1000"}

    for name in ("shopify-2", "shopify-3x30-1ms", "sp-api-1"):
        line = by_case[name]
        assert set(line) >= PLAN_FIELDS, PLAN_FIELDS - set(line)
        assert line["exit_code"] == 0 and line["incomplete"] == 0 and "error" not in line
        # The model counts what was sent; SP-API may add a retried 429 (its client paces at
        # exactly the published rate), which must never reach the plan.
        assert line["requests"] == line["model_requests"] + line["sandbox_429"]
        assert not line["surfaced_429"]
        assert line["floor_s"] == max(line["floor_terms"].values()) > 0
        assert line["refresh_s"] > 0 and line["peak_rss_mb"] > 0 and line["cpu_s"] > 0
        assert line["actions"] > 0
        assert len(line["wall_runs_s"]) == 2 and line["wall_s"] == min(line["wall_runs_s"])
        # Every phase the command times is there, and with start-up they add up to the wall.
        phases = line["phases"]
        assert set(phases) == {"config_s", "refresh_s", "plan_s", "output_s", "other_s"}
        assert phases["refresh_s"] == line["refresh_s"] and min(phases.values()) >= 0
        assert abs(sum(phases.values()) - line["wall_s"]) < 0.01
        # Each phase's CPU: one thread cannot spend more than the wall (a resolver thread adds crumbs).
        cpu = line["phases_cpu"]
        assert set(cpu) == set(phases) - {"other_s"} and min(cpu.values()) >= 0
        assert all(cpu[name] <= phases[name] + 0.05 for name in cpu), (cpu, phases)
        assert line["requests_per_account"] == round(line["requests"] / line["accounts"], 2)
    for name, shops, webhooks in (("shopify-2", 2, 260), ("shopify-3x30-1ms", 3, 30)):
        shop = by_case[name]
        assert shop["accounts"] == shops
        assert shop["sandbox_429"] == 0  # the client paces itself to the shop's cost budget
        assert shop["bindings"] == shopify_case(shops, ShopShape(webhooks=webhooks)).bindings
        # Shopify speaks GraphQL only: every request the sandbox logged names its operation.
        assert sum(shop["operations"].values()) == shop["requests"] and "(anonymous)" not in shop["operations"]
        assert shop["sequential_sample_accounts"] == 1
        assert shop["sequential_sample_requests"] == shop["requests"] / shops  # every shop alike
        assert f"{name}: {shop['requests']} requests, {shop['requests_per_account']} per shop" in captured.err
    assert by_case["shopify-3x30-1ms"]["latency_ms"] == 1
    # Two sandbox processes share the shops' origins; the requests they logged are summed above.
    assert by_case["shopify-2"]["sandbox_processes"] == 2 and by_case["sp-api-1"]["sandbox_processes"] == 1
    assert by_case["sp-api-1"]["bound_by"].startswith("rate_limit_s")
    assert by_case["sp-api-1"]["operations"] == {}  # REST: no GraphQL operations

    rps = by_case["sandbox-rps"]
    assert rps["small_statuses"] == {"200": 40} and rps["page250_statuses"] == {"200": 10}
    cpu = by_case["cpu-plan-1000"]
    assert cpu["bindings"] == 1000 and cpu["actions"] > 0 and cpu["peak_rss_mb"] > 0
    assert set(cpu["render_cpu_s"]) == {"json", "text", "markdown"}
    assert (tmp_path / "results.jsonl").read_text().count("\n") == 5


def test_the_floor_takes_the_largest_term() -> None:
    load = AccountLoad(
        "a",
        host="/h",
        chains=(Chain("pages", ("list",) * 3), Chain("other", ("get",))),
        buckets=(Bucket("list", rate=1.0, burst=1, operation="list"),),
    )
    # chain: 3 x 0.1; bucket: 2 waits of 1 s after the first, plus a round trip; global: 4 x 0.1 / 2
    model = floor([load], latency=0.1, parallelism=2, per_host=1)
    assert model["requests"] == 4
    assert model["terms"] == {"chain_s": 0.3, "rate_limit_s": 2.1, "global_parallelism_s": 0.2, "per_host_s": 0.4}
    assert model["floor_s"] == 2.1 and model["bound_by"] == "rate_limit_s (list)"


def test_each_shop_gets_its_own_origin_and_sp_api_sellers_share_one(tmp_path: Path) -> None:
    """Shopify shops are separate hosts at Shopify, so each gets its own loopback origin; the
    endpoints keep their paths."""
    case = shopify_case(3, ShopShape(webhooks=1))
    assert run.origins_for(case) == 3
    urls = ["http://127.0.0.1:9", "http://127.0.0.2:9", "http://127.0.0.3:9"]
    text = run.write_config(case, tmp_path, urls).read_text()
    assert "{url}" not in text
    endpoints = [line.split('endpoint: "')[1].split('"')[0] for line in text.splitlines() if "endpoint:" in line]
    assert [e.split("/shopify/")[0] for e in endpoints] == urls
    assert len({e.split("/shopify/")[1] for e in endpoints}) == 3  # each shop keeps its own path
    from tests.bench.scenarios import SellerShape, sp_api_case

    assert run.origins_for(sp_api_case(2, SellerShape(subscriptions_per_type=1))) == 1


def test_each_sandbox_process_serves_only_its_own_origins(tmp_path: Path) -> None:
    """Two independent sandbox processes split three origins: origin n is answered (and logged)
    by process n % 2 on that process's own port, never by the other; both stop with the case."""
    import httpx

    from tests.bench.sandbox_process import sandbox

    scenario = tmp_path / "empty.yaml"
    scenario.write_text("{}\n")
    with sandbox(scenario, 0, origins=3, processes=2) as box:
        assert len(box.processes) == 2 and len({p.pid for p in box.processes}) == 2
        hosts = [url.split("//")[1].split(":")[0] for url in box.urls]
        assert hosts == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        ports = [url.rsplit(":", 1)[1] for url in box.urls]
        assert ports[0] == ports[2] != ports[1]
        for n, url in enumerate(box.urls):
            assert httpx.get(f"{url}/nowhere/{n}", timeout=5).status_code == 404
        with pytest.raises(httpx.ConnectError):  # origin 1's address is not served on process 0's port
            httpx.get(f"http://127.0.0.2:{ports[0]}/nowhere", timeout=5)
        logs = [[e["path"] for e in box.get("/_sandbox/requests", url)] for url in box.first_urls]
        assert logs == [["/nowhere/0", "/nowhere/2"], ["/nowhere/1"]]
        assert sorted(e["path"] for e in box.requests()) == ["/nowhere/0", "/nowhere/1", "/nowhere/2"]
        assert box.cpu() is None or box.cpu() > 0
        processes = box.processes
    assert all(p.returncode == 0 for p in processes)


def test_each_shop_lives_in_the_one_sandbox_process_serving_its_origin(tmp_path: Path) -> None:
    """Split among two processes, the scenario gives each process exactly the shops whose
    endpoints name its origins, and a shop is answered only through its own origin."""
    import httpx

    from tests.bench.sandbox_process import sandbox

    case = shopify_case(5, ShopShape(webhooks=2))
    scenario, _ = case.write(tmp_path, "http://placeholder")
    shares = run.scenario_shares(case, scenario, 2)
    held = [sorted(json.loads(path.read_text())["shopify"]) for path in shares]
    assert sorted(held[0] + held[1]) == sorted(json.loads(scenario.read_text())["shopify"])
    assert not set(held[0]) & set(held[1]) and len(held[0]) == 3 and len(held[1]) == 2
    assert run.scenario_shares(case, scenario, 1) == [scenario]
    with sandbox(shares, 0, origins=5, processes=2) as box:
        text = run.write_config(case, tmp_path, box.urls).read_text()
        endpoints = [line.split('endpoint: "')[1].split('"')[0] for line in text.splitlines() if "endpoint:" in line]
        for n, endpoint in enumerate(endpoints):
            handle = endpoint.rsplit("/", 1)[1]
            assert handle in held[n % 2]
            url = f"{endpoint}/admin/api/2026-10/graphql.json"
            body = {"query": "{ shop { name } }"}
            answer = httpx.post(url, json=body, headers={"X-Shopify-Access-Token": case.env["BENCH_SHOPIFY_TOKEN"]}, timeout=10)
            assert answer.status_code == 200 and answer.json()["data"]["shop"]["name"], answer.text
            other = box.urls[(n + 1) % 5].split("//")[1]
            if ((n + 1) % 5) % 2 != n % 2:  # an origin of the other process
                stray = httpx.post(f"http://{other}/shopify/{handle}/admin/api/2026-10/graphql.json", json=body, timeout=10)
                assert stray.status_code == 404  # that process does not hold this shop
