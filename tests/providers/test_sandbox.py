"""The sandbox router, its admin API, faults, request log, and the real HTTP server on loopback.

Small fake emulators stand in for the vendors so these tests pin the sandbox's own behaviour.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from engine.errors import ConfigError
from providers.http import HttpFactory, ResponseLost
from providers.sandbox import FaultRule, Sandbox, SandboxError, demo_scenario
from providers.sandbox import requestlog as requestlog_module
from providers.sandbox import scenario as scenario_module
from providers.sandbox_server import SandboxServer, check_bind_host, loopback_origins, serve

REPO = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8787"


class ItemsEmulator:
    """Tenants holding a list of items: GET/POST ``/{tenant}/items``, DELETE ``/{tenant}/items/{id}``."""

    name: ClassVar[str] = "shop"
    prefix: ClassVar[str] = "/shop"

    def __init__(self) -> None:
        self.tenants: dict[str, list[dict[str, Any]]] = {}
        self.loaded: list[Mapping[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self.enforce_rate_limits = True

    def load(self, section: Mapping[str, Any]) -> None:
        self.loaded.append(section)
        for tenant, data in section.items():
            if not isinstance(data, Mapping):
                raise ValueError(f"tenant {tenant} must be a mapping")
        self.tenants = {tenant: [dict(i) for i in data.get("items", [])] for tenant, data in section.items()}

    def dump(self) -> dict[str, Any]:
        return {tenant: {"items": [dict(i) for i in items]} for tenant, items in self.tenants.items()}

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        self.calls.append((request.method, path))
        parts = [p for p in path.split("/") if p]
        if parts == ["echo"] or parts == []:
            return httpx.Response(
                200,
                json={
                    "path": path,
                    "url": str(request.url),
                    "query": dict(request.url.params),
                    "body": request.content.decode(),
                    "content_length": request.headers.get("content-length"),
                },
            )
        if parts == ["boom"]:
            raise RuntimeError("emulator bug")
        if parts == ["empty"]:
            return httpx.Response(204)
        if len(parts) >= 2 and parts[0] in self.tenants and parts[1] == "items":
            items = self.tenants[parts[0]]
            if len(parts) == 2 and request.method == "GET":
                return httpx.Response(200, json={"items": items}, headers={"x-items": str(len(items))})
            if len(parts) == 2 and request.method == "POST":
                item = json.loads(request.content)
                items.append(item)
                return httpx.Response(201, json={"item": item})
            if len(parts) == 3 and request.method == "DELETE":
                before = len(items)
                items[:] = [i for i in items if str(i.get("id")) != parts[2]]
                return httpx.Response(200 if len(items) < before else 404, json={})
        return httpx.Response(404, json={"errors": "Not Found"})


class EchoEmulator:
    name: ClassVar[str] = "vendor"
    prefix: ClassVar[str] = "/vendor"

    def __init__(self) -> None:
        self.section: Mapping[str, Any] = {}
        self.enforce_rate_limits = True

    def load(self, section: Mapping[str, Any]) -> None:
        self.section = section

    def dump(self) -> dict[str, Any]:
        return dict(self.section)

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        return httpx.Response(200, json={"emulator": self.name, "path": path})


class TokenEmulator(EchoEmulator):
    name: ClassVar[str] = "vendor-auth"
    prefix: ClassVar[str] = "/vendor/auth/"


SCENARIO = {"shop": {"acme": {"items": [{"id": 1, "name": "DPD"}, {"id": 2, "name": "DHL"}]}}}


def make_sandbox(seed: int = 0) -> tuple[Sandbox, ItemsEmulator]:
    items = ItemsEmulator()
    sandbox = Sandbox([items, EchoEmulator(), TokenEmulator()], seed=seed)
    sandbox.load_scenario(SCENARIO)
    return sandbox, items


def call(sandbox: Sandbox, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return sandbox.handle(httpx.Request(method, BASE + path, **kwargs))


# --------------------------------------------------------------------------------------------
# routing


def test_routes_by_longest_prefix_and_passes_the_rest_of_the_path() -> None:
    sandbox, items = make_sandbox()
    assert call(sandbox, "GET", "/vendor/acme/things").json() == {"emulator": "vendor", "path": "/acme/things"}
    assert call(sandbox, "GET", "/vendor/auth/o2/token").json() == {"emulator": "vendor-auth", "path": "/o2/token"}
    assert call(sandbox, "GET", "/vendor/auth").json() == {"emulator": "vendor-auth", "path": "/"}
    assert call(sandbox, "GET", "/vendor/authx").json() == {"emulator": "vendor", "path": "/authx"}
    echoed = call(sandbox, "GET", "/shop/echo?limit=5").json()
    assert echoed["path"] == "/echo" and echoed["query"] == {"limit": "5"}
    assert call(sandbox, "GET", "/shop").json()["path"] == "/"
    assert items.calls[-1] == ("GET", "/")
    assert sandbox.mounts() == {"shop": "/shop", "vendor": "/vendor", "vendor-auth": "/vendor/auth"}


@pytest.mark.parametrize("path", ["/nothing/here", "/shopx/acme/items", "/"])
def test_unknown_path_is_a_json_404(path: str) -> None:
    sandbox, items = make_sandbox()
    response = call(sandbox, "GET", path)
    assert response.status_code == 404
    assert "no emulator is mounted" in response.json()["errors"]
    assert items.calls == []


def test_default_sandbox_mounts_one_of_each_registered_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers import registry

    monkeypatch.setattr(registry, "emulator_classes", lambda: [ItemsEmulator, EchoEmulator])
    sandbox = Sandbox()
    assert set(sandbox.emulators) == {"shop", "vendor"}
    assert isinstance(sandbox.emulators["shop"], ItemsEmulator)


def test_clashing_emulators_are_refused() -> None:
    with pytest.raises(ValueError, match="named 'shop'"):
        Sandbox([ItemsEmulator(), ItemsEmulator()])

    class Other(EchoEmulator):
        name: ClassVar[str] = "other"

    with pytest.raises(ValueError, match="share the prefix"):
        Sandbox([EchoEmulator(), Other()])


def test_an_emulator_failure_is_a_json_500_not_a_crash() -> None:
    sandbox, _ = make_sandbox()
    response = call(sandbox, "GET", "/shop/boom")
    assert response.status_code == 500
    assert "RuntimeError" in response.json()["errors"]
    assert call(sandbox, "GET", "/shop/acme/items").status_code == 200


# --------------------------------------------------------------------------------------------
# scenarios


def test_scenario_sections_go_to_their_emulators_and_absent_ones_get_empty() -> None:
    sandbox, items = make_sandbox()
    vendor = sandbox.emulators["vendor"]
    sandbox.load_scenario({"vendor": {"acme": {"x": 1}}})
    assert items.loaded[-1] == {} and items.tenants == {}
    assert vendor.dump() == {"acme": {"x": 1}}
    assert sandbox.scenario == {"vendor": {"acme": {"x": 1}}}


def test_unknown_scenario_section_names_the_known_providers() -> None:
    sandbox, items = make_sandbox()
    with pytest.raises(ConfigError) as caught:
        sandbox.load_scenario({"shopify": {}, "shop": {}})
    assert "'shopify'" in str(caught.value)
    assert "known providers: shop, vendor, vendor-auth" in str(caught.value)
    assert items.tenants["acme"]  # nothing changed


def test_a_refused_section_leaves_the_previous_scenario_loaded() -> None:
    sandbox, items = make_sandbox()
    items.tenants["acme"].clear()
    with pytest.raises(ConfigError, match="section 'shop'.*tenant bad must be a mapping"):
        sandbox.load_scenario({"shop": {"bad": [1, 2]}})
    assert [i["id"] for i in items.tenants["acme"]] == [1, 2]
    assert sandbox.scenario == SCENARIO


def test_scenario_from_a_yaml_file(tmp_path: Path) -> None:
    sandbox, items = make_sandbox()
    path = tmp_path / "scenario.yaml"
    path.write_text("shop:\n  beta:\n    items: [{id: 7, name: Hermes}]\n")
    sandbox.load_scenario_source(str(path))
    assert items.dump() == {"beta": {"items": [{"id": 7, "name": "Hermes"}]}}
    assert sandbox.scenario_label == str(path)


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    sandbox, _ = make_sandbox()
    path = tmp_path / "broken.yaml"
    path.write_text("shop:\n  acme:\n    items: [1, 2\n")
    with pytest.raises(ConfigError) as caught:
        sandbox.load_scenario_source(str(path))
    message = str(caught.value)
    assert "broken.yaml" in message and "invalid YAML" in message
    assert caught.value.diagnostics[0].line is not None
    with pytest.raises(ConfigError, match="missing.yaml.*not found"):
        sandbox.load_scenario_source(str(tmp_path / "missing.yaml"))
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must map provider names"):
        sandbox.load_scenario_source(str(path))


def test_demo_merges_each_providers_demo_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "demo.yaml").write_text("shop:\n  demo-shop:\n    items: [{id: 1}]\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "demo.yaml").write_text("vendor:\n  v1: {key: demo}\n")
    (tmp_path / "unmounted").mkdir()
    (tmp_path / "unmounted" / "demo.yaml").write_text("unmounted:\n  t: {}\n")
    (tmp_path / "no_demo").mkdir()
    monkeypatch.setattr(scenario_module, "DEMO_ROOT", tmp_path)

    assert set(demo_scenario()) == {"shop", "vendor", "unmounted"}
    sandbox, items = make_sandbox()
    sandbox.load_scenario_source("demo")
    assert items.dump() == {"demo-shop": {"items": [{"id": 1}]}}
    assert sandbox.state()["vendor"] == {"v1": {"key": "demo"}}
    assert sandbox.scenario_label == "demo"

    (tmp_path / "no_demo" / "demo.yaml").write_text("shop: {}\n")
    with pytest.raises(ConfigError, match="'shop' is already defined"):
        demo_scenario()


# --------------------------------------------------------------------------------------------
# admin: state, reset, requests


def test_state_reset_and_reset_to_a_new_scenario() -> None:
    sandbox, _ = make_sandbox()
    assert call(sandbox, "DELETE", "/shop/acme/items/1").status_code == 200
    state = call(sandbox, "GET", "/_sandbox/state").json()
    assert state["shop"] == {"acme": {"items": [{"id": 2, "name": "DHL"}]}}

    restored = call(sandbox, "POST", "/_sandbox/reset")
    assert restored.status_code == 200
    assert [i["id"] for i in restored.json()["shop"]["acme"]["items"]] == [1, 2]

    new = {"shop": {"other": {"items": [{"id": 9}]}}}
    assert call(sandbox, "POST", "/_sandbox/reset", json={"scenario": new}).json()["shop"] == new["shop"]
    call(sandbox, "DELETE", "/shop/other/items/9")
    assert call(sandbox, "POST", "/_sandbox/reset").json()["shop"] == new["shop"]


def test_a_bad_reset_is_a_400_and_changes_nothing() -> None:
    sandbox, _ = make_sandbox()
    bad = call(sandbox, "POST", "/_sandbox/reset", json={"scenario": {"nope": {}}})
    assert bad.status_code == 400 and "known providers" in bad.json()["errors"]
    assert call(sandbox, "POST", "/_sandbox/reset", content=b"{not json").status_code == 400
    assert call(sandbox, "POST", "/_sandbox/reset", json={"scenaro": {}}).status_code == 400
    assert sandbox.scenario == SCENARIO


def test_admin_paths_answer_json_errors() -> None:
    sandbox, _ = make_sandbox()
    assert call(sandbox, "GET", "/_sandbox/nope").status_code == 404
    wrong = call(sandbox, "DELETE", "/_sandbox/state")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert call(sandbox, "GET", "/_sandbox").json()["mounts"]["shop"] == "/shop"


def test_request_log_records_method_path_query_headers_and_never_secrets() -> None:
    sandbox, _ = make_sandbox()
    call(
        sandbox,
        "POST",
        "/shop/acme/items?token=canary-secret&limit=5&client_secret=canary-secret&empty=",
        json={"id": 3, "password": "canary-secret"},
        headers={"Authorization": "Bearer canary-secret", "X-Shopify-Access-Token": "canary-secret"},
    )
    call(sandbox, "GET", "/nowhere?api_key=canary-secret&page_info=abc%3D%3D")
    call(sandbox, "GET", "/_sandbox/state")  # admin calls are not part of what the store received
    response = call(sandbox, "GET", "/_sandbox/requests")
    assert "canary" not in response.text
    entries = response.json()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/shop/acme/items", 201),
        ("GET", "/nowhere", 404),
    ]
    first, second = entries
    assert set(first) == {"method", "path", "query", "status", "ms", "time", "headers"}  # not GraphQL
    assert first["query"] == "token=***&limit=5&client_secret=***&empty="
    assert second["query"] == "api_key=***&page_info=abc%3D%3D"  # as sent, only secrets masked
    assert {"authorization", "x-shopify-access-token", "content-type"} <= set(first["headers"])
    assert first["headers"] == sorted(first["headers"])
    assert first["ms"] >= 0 and first["time"].endswith("Z")

    assert call(sandbox, "DELETE", "/_sandbox/requests").status_code == 200
    assert call(sandbox, "GET", "/_sandbox/requests").json() == []


@pytest.mark.parametrize(
    ("body", "operation"),
    [
        ({"query": "query ListHooks($first: Int!) { webhookSubscriptions(first: $first) { nodes { id } } }"}, "ListHooks"),
        ({"query": "# a comment naming query Nope\nmutation Drop { webhookSubscriptionDelete(id: 1) { userErrors { field } } }"}, "Drop"),
        ({"query": "query A { a } query B { b }", "operationName": "B"}, "B"),
        ({"query": "{ shop { name } }"}, None),
    ],
)
def test_request_log_names_the_graphql_operation_without_keeping_the_body(body: dict[str, str], operation: str | None) -> None:
    sandbox, _ = make_sandbox()
    body = {**body, "variables": {"token": "canary-secret"}}  # type: ignore[dict-item]
    call(sandbox, "POST", "/vendor/admin/api/2026-10/graphql.json", json=body)
    call(sandbox, "POST", "/vendor/items", json={"name": "not graphql"})
    graphql, plain = sandbox.requests()
    assert "operation" in graphql and graphql["operation"] == operation
    assert "operation" not in plain
    assert "canary" not in str(sandbox.requests()) and "webhookSubscription" not in str(graphql)


def test_request_log_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert requestlog_module.REQUEST_LOG_LIMIT == 10_000
    monkeypatch.setattr(requestlog_module, "REQUEST_LOG_LIMIT", 5)
    sandbox, _ = make_sandbox()
    for n in range(12):
        call(sandbox, "GET", f"/vendor/{n}")
    assert [e["path"] for e in sandbox.requests()] == [f"/vendor/{n}" for n in range(7, 12)]


# --------------------------------------------------------------------------------------------
# faults


def test_fault_settings_are_shown_merged_and_validated() -> None:
    sandbox, items = make_sandbox()
    assert call(sandbox, "GET", "/_sandbox/faults").json() == {
        "latency_ms": 0.0,
        "error_rate": 0.0,
        "rate_limits": True,
        "rules": [],
    }
    shown = call(sandbox, "POST", "/_sandbox/faults", json={"latency_ms": 25}).json()
    assert shown["latency_ms"] == 25
    shown = call(sandbox, "POST", "/_sandbox/faults", json={"error_rate": 0.0, "rate_limits": False}).json()
    assert shown["latency_ms"] == 25 and shown["rate_limits"] is False  # untouched fields stay
    assert items.enforce_rate_limits is False
    assert sandbox.emulators["vendor"].enforce_rate_limits is False  # type: ignore[attr-defined]
    call(sandbox, "POST", "/_sandbox/reset")
    assert items.enforce_rate_limits is False  # a reset keeps the fault settings

    for bad, hint in [
        ({"latency": 5}, "known: error_rate, latency_ms, rate_limits, rules"),
        ({"error_rate": 1.5}, "between 0 and 1"),
        ({"rate_limits": "no"}, "true or false"),
        ({"rules": [{"path": "/x"}]}, "exactly one of status"),
        ({"rules": [{"action": "explode"}]}, "only action is 'drop'"),
        ({"rules": [{"status": 503, "count": 0}]}, "count must be an integer >= 1"),
        ({"rules": [{"status": 503, "colour": "red"}]}, "unknown field"),
    ]:
        response = call(sandbox, "POST", "/_sandbox/faults", json=bad)
        assert response.status_code == 400, bad
        assert hint in response.json()["errors"]
    assert sandbox.faults()["latency_ms"] == 25  # a refused change changes nothing

    cleared = call(sandbox, "DELETE", "/_sandbox/faults").json()
    assert cleared["latency_ms"] == 0 and cleared["rate_limits"] is True
    assert items.enforce_rate_limits is True


def test_status_rule_answers_without_calling_the_emulator_for_count_times_after_n() -> None:
    sandbox, items = make_sandbox()
    sandbox.set_faults(rules=[{"method": "get", "path": "/shop/*/items", "status": 503, "count": 2, "after": 1}])
    statuses = [call(sandbox, "GET", "/shop/acme/items").status_code for _ in range(5)]
    assert statuses == [200, 503, 503, 200, 200]
    assert len(items.calls) == 3  # the two faulted requests never reached the emulator
    assert call(sandbox, "POST", "/shop/acme/items", json={"id": 5}).status_code == 201  # method filter
    failed = call(sandbox, "GET", "/shop/acme/items")
    assert failed.status_code == 200
    rule = sandbox.faults()["rules"][0]
    assert rule["matched"] == 6 and rule["remaining"] == 0

    sandbox.set_faults(rules=[{"path": "/shop/acme/*", "status": 429}])
    limited = call(sandbox, "DELETE", "/shop/acme/items/1")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "0"
    assert limited.json() == {"errors": "sandbox fault"}
    assert [i["id"] for i in items.tenants["acme"]] == [1, 2, 5]


def test_fault_rule_glob_matches_the_full_path() -> None:
    rule = FaultRule.parse({"method": "DELETE", "path": "/shop/*/items/*", "status": 500})
    assert rule.matches("DELETE", "/shop/acme/items/1")
    assert not rule.matches("GET", "/shop/acme/items/1")
    assert not rule.matches("DELETE", "/vendor/acme/items/1")


def test_drop_in_process_applies_the_change_then_raises_read_error() -> None:
    sandbox, items = make_sandbox()
    sandbox.set_faults(rules=[{"method": "DELETE", "path": "/shop/*", "action": "drop"}])
    with pytest.raises(httpx.ReadError):
        call(sandbox, "DELETE", "/shop/acme/items/1")
    assert [i["id"] for i in items.tenants["acme"]] == [2]  # the cancel happened
    assert call(sandbox, "DELETE", "/shop/acme/items/2").status_code == 200  # count 1: used up
    logged = sandbox.requests()[0]
    assert logged["status"] == 200 and logged["dropped"] is True


def test_drop_through_the_shared_http_client_is_a_lost_response() -> None:
    async def scenario() -> None:
        sandbox, items = make_sandbox()
        sandbox.set_faults(rules=[{"method": "POST", "path": "/shop/acme/items", "action": "drop"}])

        async def no_sleep(_: float) -> None:
            return None

        factory = HttpFactory(transport=sandbox.transport(), sleep=no_sleep)
        client = factory.client(BASE + "/shop/acme", provider="shop", account="acme")
        try:
            with pytest.raises(ResponseLost):
                await client.request("POST", "/items", json={"id": 3})
            assert [i["id"] for i in items.tenants["acme"]] == [1, 2, 3]
            listed = await client.request("GET", "/items")
            assert len(listed.json()["items"]) == 3
        finally:
            await factory.aclose()

    asyncio.run(scenario())


def test_error_rate_is_random_but_seeded() -> None:
    def statuses(seed: int) -> list[int]:
        sandbox, items = make_sandbox(seed)
        sandbox.set_faults(error_rate=0.5)
        result = [call(sandbox, "GET", "/shop/acme/items").status_code for _ in range(40)]
        assert len(items.calls) == result.count(200)  # a random 503 never reaches the emulator
        return result

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 503}
    assert first != statuses(8)


# --------------------------------------------------------------------------------------------
# in-process async


def test_latency_is_awaited_not_blocking_in_process() -> None:
    sandbox, _ = make_sandbox()
    sandbox.set_faults(latency_ms=100)

    async def run() -> float:
        async with httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE) as client:
            started = time.perf_counter()
            responses = await asyncio.gather(*(client.get("/vendor/x") for _ in range(50)))
            elapsed = time.perf_counter() - started
        assert all(r.status_code == 200 for r in responses)
        return elapsed

    elapsed = asyncio.run(run())
    assert 0.09 <= elapsed < 2.0
    assert all(entry["ms"] >= 90 for entry in sandbox.requests())
    assert call(sandbox, "GET", "/vendor/x").status_code == 200  # sync handle: no latency


# --------------------------------------------------------------------------------------------
# over HTTP


def raw_exchange(port: int, payload: bytes, responses: int) -> list[bytes]:
    """Send raw bytes on one socket and read ``responses`` Content-Length framed answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        buffer = b""
        answers: list[bytes] = []
        while len(answers) < responses:
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                assert chunk, "server closed the connection early"
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                chunk = sock.recv(65536)
                assert chunk
                rest += chunk
            answers.append(head + b"\r\n\r\n" + rest[:length])
            buffer = rest[length:]
        return answers


def test_http_round_trip_with_keep_alive() -> None:
    sandbox, _items = make_sandbox()
    with SandboxServer(sandbox) as server:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        with httpx.Client(base_url=server.url) as client:
            created = client.post("/shop/acme/items?via=http", json={"id": 3, "name": "GLS"})
            assert created.status_code == 201 and created.json() == {"item": {"id": 3, "name": "GLS"}}
            listed = client.get("/shop/acme/items")
            assert listed.headers["x-items"] == "3" and listed.headers["content-type"] == "application/json"
            assert "date" in listed.headers
            echoed = client.get("/shop/echo", params={"a": "1"}).json()
            assert echoed["url"] == f"{server.url}/shop/echo?a=1"
            assert client.get("/_sandbox/state").json()["shop"]["acme"]["items"][-1]["id"] == 3
            assert client.get("/nowhere").status_code == 404
            empty = client.get("/shop/empty")
            assert empty.status_code == 204 and empty.content == b""
            head = client.head("/shop/echo")
            assert head.status_code == 200 and head.content == b""
            assert client.get("/shop/acme/items").status_code == 200  # the connection survived HEAD

        # two requests on one socket, the second sent before the first is answered
        request = b"GET /vendor/%d HTTP/1.1\r\nHost: sandbox.test\r\n\r\n"
        first, second = raw_exchange(server.port, request % 1 + request % 2, 2)
        assert first.startswith(b"HTTP/1.1 200") and b'"path":"/1"' in first.replace(b" ", b"")
        assert second.startswith(b"HTTP/1.1 200") and b'"path":"/2"' in second.replace(b" ", b"")

        # a chunked request body reaches the emulator whole, with a Content-Length
        chunked = (
            b"POST /shop/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        (answer,) = raw_exchange(server.port, chunked, 1)
        body = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert body["body"] == "hello world" and body["content_length"] == "11"
        assert body["url"] == "http://x/shop/echo"

        (bad,) = raw_exchange(server.port, b"NOT HTTP AT ALL\r\n\r\n", 1)
        assert bad.startswith(b"HTTP/1.1 400")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{server.port}/vendor/x", timeout=2)


def test_drop_over_http_closes_the_connection_after_the_change() -> None:
    sandbox, items = make_sandbox()
    with SandboxServer(sandbox) as server, httpx.Client(base_url=server.url) as client:
        rule = {"method": "DELETE", "path": "/shop/*", "action": "drop"}
        client.post("/_sandbox/faults", json={"rules": [rule]})
        with pytest.raises(httpx.TransportError):
            client.delete("/shop/acme/items/1")
        assert [i["id"] for i in items.tenants["acme"]] == [2]
        assert client.delete("/shop/acme/items/2").status_code == 200  # only once
        logged = client.get("/_sandbox/requests").json()
        assert logged[0]["dropped"] is True and "dropped" not in logged[1]


async def raw_get(port: int, path: str) -> dict[str, Any]:
    """One GET on a fresh connection with a minimal client, so the timing measures the server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return dict(json.loads(body))


def test_latency_over_http_does_not_serialise_requests() -> None:
    sandbox, _ = make_sandbox()
    sandbox.set_faults(latency_ms=100)

    async def run(port: int) -> float:
        started = time.perf_counter()
        answers = await asyncio.gather(*(raw_get(port, f"/vendor/{n}") for n in range(50)))
        elapsed = time.perf_counter() - started
        assert [a["path"] for a in answers] == [f"/{n}" for n in range(50)]
        return elapsed

    with SandboxServer(sandbox) as server:
        elapsed = asyncio.run(run(server.port))
    assert 0.09 <= elapsed < 2.0  # one after another would take 5 s
    assert all(entry["ms"] >= 90 for entry in sandbox.requests())


def test_throughput_smoke_2000_requests_over_32_connections() -> None:
    """Drives the server with a minimal keep-alive client so the server, not the client, is measured."""
    sandbox, _ = make_sandbox()

    async def connection(port: int, paths: list[str]) -> list[int]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        statuses = []
        try:
            for path in paths:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = json.loads(await reader.readexactly(length))
                assert body["path"] == path[len("/vendor") :]
                statuses.append(int(head.split()[1]))
        finally:
            writer.close()
            await writer.wait_closed()
        return statuses

    async def run(port: int) -> list[int]:
        paths = [f"/vendor/{n}" for n in range(2000)]
        batches = await asyncio.gather(*(connection(port, paths[i::32]) for i in range(32)))
        return [status for batch in batches for status in batch]

    with SandboxServer(sandbox) as server:
        statuses = asyncio.run(run(server.port))
    assert len(statuses) == 2000 and set(statuses) == {200}
    assert len(sandbox.requests()) == 2000


def test_concurrent_httpx_clients_share_the_server() -> None:
    sandbox, items = make_sandbox()

    async def run(url: str) -> None:
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        async with httpx.AsyncClient(base_url=url, limits=limits) as client:
            created = await asyncio.gather(
                *(client.post("/shop/acme/items", json={"id": 100 + n}) for n in range(40))
            )
            assert {r.status_code for r in created} == {201}

    with SandboxServer(sandbox) as server:
        asyncio.run(run(server.url))
    assert len(items.tenants["acme"]) == 42


def test_the_request_log_over_http_shows_what_the_client_sent_but_no_secret() -> None:
    sandbox, _ = make_sandbox()
    with SandboxServer(sandbox) as server:
        sent = httpx.post(
            f"{server.url}/shop/acme/items?refresh_token=canary-secret&page=2",
            json={"id": 77},
            headers={"X-Shopify-Access-Token": "canary-secret", "X-Request-Tag": "t"},
        )
        assert sent.status_code == 201
        log = httpx.get(f"{server.url}/_sandbox/requests")
    assert "canary" not in log.text
    (entry,) = log.json()
    assert entry["query"] == "refresh_token=***&page=2"
    assert {"x-shopify-access-token", "x-request-tag", "host", "user-agent"} <= set(entry["headers"])
    assert "operation" not in entry


def test_the_server_listens_on_one_loopback_origin_per_tenant_when_asked() -> None:
    """Real tenants are separate origins (a shop is its own host), and a client keeps one pool per
    origin: with ``origins`` the sandbox answers on as many loopback addresses, one port."""
    sandbox, items = make_sandbox()
    with SandboxServer(sandbox, origins=3) as server:
        urls = server.urls()
        assert urls == [f"http://127.0.0.{n}:{server.port}" for n in (1, 2, 3)] and urls[0] == server.url
        for n, url in enumerate(urls):
            answer = httpx.post(f"{url}/shop/acme/items", json={"id": 200 + n})
            assert answer.status_code == 201
    assert len(items.tenants["acme"]) == 5
    assert loopback_origins(252)[-2:] == ["127.0.1.1", "127.0.1.2"]
    with pytest.raises(SandboxError, match="origins must be between"):
        loopback_origins(0)


def test_serve_reports_the_bound_port_and_stops_on_request() -> None:
    sandbox, _ = make_sandbox()

    async def run() -> None:
        ports: list[int] = []
        stop = asyncio.Event()
        task = asyncio.create_task(serve(sandbox, "127.0.0.1", 0, ready=ports.append, stop=stop))
        while not ports:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{ports[0]}/vendor/x")
            assert response.json()["path"] == "/x"
            stop.set()
            await asyncio.wait_for(task, 5)

    asyncio.run(run())


def test_a_port_in_use_is_a_clear_error_not_an_internal_one() -> None:
    """A second `tether sandbox serve` on the same port (the first one still running)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=f"127.0.0.1:{port}: the port is already in use.*--port"):
            asyncio.run(serve(Sandbox([]), "127.0.0.1", port))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_bind_is_refused(host: str) -> None:
    with pytest.raises(SandboxError, match="refusing to listen"):
        check_bind_host(host)
    with pytest.raises(SandboxError):
        SandboxServer(Sandbox([]), host=host)
    with pytest.raises(SandboxError):
        asyncio.run(serve(Sandbox([]), host, 0))
    check_bind_host(host, allow_remote=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_allowed(host: str) -> None:
    check_bind_host(host)


def test_main_serve_announces_serves_and_exits_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    scenario = tmp_path / "empty.yaml"
    scenario.write_text("{}\n")
    code = "import sys; from providers.sandbox import main_serve; main_serve(0, sys.argv[1], 0, 0, '127.0.0.1')"
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    with subprocess.Popen(
        [sys.executable, "-c", code, str(scenario)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": pythonpath},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith("tether sandbox listening on http://127.0.0.1:")
            assert line.endswith(f"(scenario: {scenario})")
            url = line.split()[4]
            assert httpx.get(url + "/_sandbox/requests", timeout=5).json() == []
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
            assert process.returncode == 0, stderr
            assert "Traceback" not in stderr
        finally:
            if process.poll() is None:
                process.kill()


def test_main_serve_stops_on_sigterm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from providers.sandbox_server import main_serve

    scenario = tmp_path / "shop.yaml"
    scenario.write_text("shop:\n  acme:\n    items: [{id: 1}]\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seen: list[Any] = []

    def client() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                seen.append(httpx.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=2).json())
                break
            except httpx.TransportError:
                time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    import threading

    items = ItemsEmulator()
    original = Sandbox.__init__

    def with_fakes(self: Sandbox, emulators: Any = None, *, seed: int = 0) -> None:
        original(self, [items] if emulators is None else emulators, seed=seed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Sandbox, "__init__", with_fakes)
        thread = threading.Thread(target=client)
        thread.start()
        main_serve(port, str(scenario), 5, 0.0, "127.0.0.1")
        thread.join(5)
    assert seen == [{"shop": {"acme": {"items": [{"id": 1}]}}}]
    announced = f"tether sandbox listening on http://127.0.0.1:{port} (scenario: {scenario})\n"
    assert capsys.readouterr().out == announced


def test_main_serve_refuses_a_remote_host_before_loading_anything(tmp_path: Path) -> None:
    from providers.sandbox_server import main_serve

    with pytest.raises(SandboxError, match="refusing to listen on 0.0.0.0"):
        main_serve(8787, str(tmp_path / "never-read.yaml"), 0, 0.0, "0.0.0.0")


def test_addresses_serve_one_share_of_the_origins_and_stop_on_sigterm(tmp_path: Path) -> None:
    """``--addresses 127.0.0.2,127.0.0.4``: an ordinary process listening on exactly those
    loopback addresses (one share of the origins, as a bench gives each of its sandbox processes),
    not on the others; it logs what reached it and exits 0 on SIGTERM, with no child left."""
    scenario = tmp_path / "empty.yaml"
    scenario.write_text("{}\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "providers.sandbox", "--port", str(port), "--scenario", str(scenario)]
    with subprocess.Popen(
        [*command, "--addresses", "127.0.0.2,127.0.0.4"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": pythonpath},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith(f"tether sandbox listening on http://127.0.0.2:{port} and 1 more: 127.0.0.4"), line
            for n in (2, 4):
                assert httpx.get(f"http://127.0.0.{n}:{port}/nowhere/{n}", timeout=5).status_code == 404
            for n in (1, 3):  # the other shares' addresses belong to other processes
                with pytest.raises(httpx.ConnectError):
                    httpx.get(f"http://127.0.0.{n}:{port}/nowhere/{n}", timeout=5)
            logged = [e["path"] for e in httpx.get(f"http://127.0.0.4:{port}/_sandbox/requests", timeout=5).json()]
            assert logged == ["/nowhere/2", "/nowhere/4"]
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            if children.exists():
                assert children.read_text().split() == []  # one ordinary process, no workers
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=10)
            assert process.returncode == 0, stderr
        finally:
            if process.poll() is None:
                process.kill()


def test_addresses_must_be_loopback_and_not_mixed_with_origins(tmp_path: Path) -> None:
    from providers.sandbox import main_serve

    never = str(tmp_path / "never-read.yaml")
    with pytest.raises(SandboxError, match="refusing to listen on 0.0.0.0"):
        main_serve(8787, never, addresses=["127.0.0.2", "0.0.0.0"])
    with pytest.raises(SandboxError, match="not both"):
        main_serve(8787, never, origins=3, addresses=["127.0.0.2"])
    with pytest.raises(SandboxError, match="--port"):
        main_serve(0, never, addresses=["127.0.0.2", "127.0.0.3"])
