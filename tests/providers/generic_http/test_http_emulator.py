"""HttpVendorEmulator on its own: routes, auth, each pagination style, cancels, state, limits."""

from __future__ import annotations

import base64
import copy
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from engine.errors import ConfigError
from providers.generic_http.emulator import HttpVendorEmulator

BASE = "http://127.0.0.1:8787/vendor"
BEARER = {"Authorization": "Bearer demo-token"}


def section(**resource: Any) -> dict[str, Any]:
    things = {
        "path": "/v1/things",
        "items": "data",
        "page_size": 2,
        "objects": [{"id": f"t{i}", "state": "active", "n": i} for i in range(1, 6)],
        "cancel": {"method": "DELETE"},
    }
    things.update(resource)
    return {
        "acme": {
            "auth": {"header": "Authorization", "format": "Bearer {token}", "tokens": ["demo-token"]},
            "resources": {"things": things},
        }
    }


def call(emu: HttpVendorEmulator, method: str, url: str, headers: Any = BEARER, **kw: Any) -> httpx.Response:
    request = httpx.Request(method, url if url.startswith("http") else f"{BASE}/acme{url}", headers=headers, **kw)
    return emu.handle(request, request.url.path[len("/vendor"):])


@pytest.fixture
def emu() -> HttpVendorEmulator:
    return HttpVendorEmulator(clock=lambda: 0.0)


def ids(response: httpx.Response, items: str | None = "data") -> list[str]:
    body = response.json()
    return [o["id"] for o in (body[items] if items else body)]


def test_page_style(emu: HttpVendorEmulator) -> None:
    emu.load(section(pagination={"style": "page", "total": "meta.total"}))
    first = call(emu, "GET", "/v1/things")
    assert ids(first) == ["t1", "t2"] and first.json()["meta"] == {"total": 5}
    assert ids(call(emu, "GET", "/v1/things?page=3")) == ["t5"]
    assert ids(call(emu, "GET", "/v1/things?page=4")) == []
    assert ids(call(emu, "GET", "/v1/things?page=2&per_page=1")) == ["t2"]
    assert ids(call(emu, "GET", "/v1/things?per_page=100")) == ["t1", "t2"]  # capped at page_size
    assert call(emu, "GET", "/v1/things?page=0").status_code == 400


def test_offset_style(emu: HttpVendorEmulator) -> None:
    emu.load(section(pagination={"style": "offset", "offset_param": "skip", "size_param": "take"}))
    assert ids(call(emu, "GET", "/v1/things?skip=3")) == ["t4", "t5"]
    assert ids(call(emu, "GET", "/v1/things?skip=1&take=1")) == ["t2"]
    assert call(emu, "GET", "/v1/things?skip=-1").status_code == 400


def test_cursor_style(emu: HttpVendorEmulator) -> None:
    emu.load(section(pagination={"style": "cursor", "next": "paging.next", "has_more": "paging.more"}))
    seen: list[str] = []
    url = "/v1/things"
    for _ in range(5):
        body = call(emu, "GET", url).json()
        seen += [o["id"] for o in body["data"]]
        if not body["paging"]["more"]:
            assert body["paging"]["next"] is None
            break
        url = f"/v1/things?cursor={body['paging']['next']}"
    assert seen == ["t1", "t2", "t3", "t4", "t5"]
    assert call(emu, "GET", "/v1/things?cursor=garbage!").status_code == 400


def test_link_style(emu: HttpVendorEmulator) -> None:
    emu.load(section(pagination={"style": "link"}, items=None))
    first = call(emu, "GET", "/v1/things?per_page=2")
    assert ids(first, None) == ["t1", "t2"]
    assert first.links["next"]["url"] == f"{BASE}/acme/v1/things?per_page=2&page=2"
    assert "previous" not in first.links
    last = call(emu, "GET", first.links["next"]["url"].replace("page=2", "page=3"))
    assert ids(last, None) == ["t5"] and "next" not in last.links and "previous" in last.links


def test_link_style_leaves_a_query_credential_out_of_the_links(emu: HttpVendorEmulator) -> None:
    data = section(pagination={"style": "link"}, items=None)
    data["acme"]["auth"] = {"query": "api_key", "tokens": ["k1"]}
    emu.load(data)
    response = call(emu, "GET", "/v1/things?api_key=k1", headers={})
    assert response.status_code == 200 and "k1" not in response.headers["link"]


def test_none_style_returns_everything(emu: HttpVendorEmulator) -> None:
    emu.load(section(pagination={"style": "none"}))
    assert len(ids(call(emu, "GET", "/v1/things?per_page=1"))) == 5


@pytest.mark.parametrize(
    ("auth", "good", "bad"),
    [
        ({"header": "Authorization", "format": "Bearer {token}", "tokens": ["tk"]}, {"Authorization": "Bearer tk"}, {"Authorization": "Bearer no"}),
        ({"header": "X-Api-Key", "tokens": ["tk"]}, {"X-Api-Key": "tk"}, {}),
        ({"basic": True, "tokens": ["u:p"]}, {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}, {"Authorization": "Basic !!"}),
    ],
)
def test_the_credential_is_enforced(emu: HttpVendorEmulator, auth: Any, good: Any, bad: Any) -> None:
    data = section()
    data["acme"]["auth"] = auth
    emu.load(data)
    assert call(emu, "GET", "/v1/things", headers=good).status_code == 200
    refused = call(emu, "GET", "/v1/things", headers=bad)
    assert refused.status_code == 401
    assert refused.json() == {"message": "Unauthorized: missing or invalid credentials"}
    assert call(emu, "DELETE", "/v1/things/t1", headers=bad).status_code == 401
    assert len(emu.dump()["acme"]["resources"]["things"]["objects"]) == 5


def test_delete_removes_and_a_second_delete_is_404(emu: HttpVendorEmulator) -> None:
    emu.load(section())
    assert call(emu, "DELETE", "/v1/things/t2").status_code == 204
    assert call(emu, "GET", "/v1/things/t2").status_code == 404
    again = call(emu, "DELETE", "/v1/things/t2")
    assert again.status_code == 404 and "t2" in again.json()["message"]
    assert ids(call(emu, "GET", "/v1/things")) == ["t1", "t3", "t4", "t5"]


def test_post_with_suffix_sets_fields(emu: HttpVendorEmulator) -> None:
    emu.load(section(item="data", cancel={"method": "POST", "path_suffix": "/deactivate", "set": {"state": "disconnected"}}))
    response = call(emu, "POST", "/v1/things/t1/deactivate", json={"reason": "x"})
    assert response.status_code == 200 and response.json()["data"]["state"] == "disconnected"
    assert call(emu, "GET", "/v1/things/t1").json() == {"data": {"id": "t1", "state": "disconnected", "n": 1}}
    assert call(emu, "DELETE", "/v1/things/t1").status_code == 405
    assert call(emu, "POST", "/v1/things/nope/deactivate").status_code == 404


def test_refused_cancel(emu: HttpVendorEmulator) -> None:
    emu.load(section(cancel={"method": "DELETE", "refuse": {"field": "n", "values": [1], "status": 409, "message": "default one"}}))
    refused = call(emu, "DELETE", "/v1/things/t1")
    assert refused.status_code == 409 and refused.json() == {"message": "default one"}
    assert call(emu, "DELETE", "/v1/things/t2").status_code == 204


def test_ids_with_slashes_and_dots_are_one_segment(emu: HttpVendorEmulator) -> None:
    emu.load(section(objects=[{"id": "../admin"}, {"id": "a/b"}, {"id": 42}]))
    assert call(emu, "GET", "/v1/things/..%2Fadmin").json() == {"id": "../admin"}
    assert call(emu, "GET", "/v1/things/a%2Fb").json() == {"id": "a/b"}
    assert call(emu, "GET", "/v1/things/a/b").status_code == 404
    assert call(emu, "GET", "/v1/things/42").json() == {"id": 42}  # ids kept as given


def test_unknown_routes_and_methods(emu: HttpVendorEmulator) -> None:
    emu.load(section())
    assert call(emu, "GET", f"{BASE}/nobody/v1/things").status_code == 404
    assert call(emu, "GET", "/v1/other").status_code == 404
    assert call(emu, "POST", "/v1/things").status_code == 405
    assert call(emu, "PATCH", "/v1/things/t1").status_code == 405


def test_filters_and_defaults(emu: HttpVendorEmulator) -> None:
    emu.load(section(filters=["owner"], defaults={"owner": "o1", "state": "active"},
                     objects=[{"id": "a"}, {"id": "b", "owner": "o2"}, {"id": "c", "owner": "o2"}]))
    assert ids(call(emu, "GET", "/v1/things?owner=o2")) == ["b", "c"]
    assert call(emu, "GET", "/v1/things/a").json() == {"id": "a", "owner": "o1", "state": "active"}


def test_rate_limit_answers_429_with_retry_after_then_recovers() -> None:
    now = [0.0]
    emu = HttpVendorEmulator(clock=lambda: now[0])
    data = section()
    data["acme"]["rate_limit"] = {"rate": 2, "burst": 2}
    emu.load(data)
    assert [call(emu, "GET", "/v1/things").status_code for _ in range(2)] == [200, 200]
    limited = call(emu, "GET", "/v1/things")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    now[0] += 1.0
    assert call(emu, "GET", "/v1/things").status_code == 200
    emu.enforce_rate_limits = False
    assert all(call(emu, "GET", "/v1/things").status_code == 200 for _ in range(10))


def test_dump_is_the_scenario_layout_and_round_trips(emu: HttpVendorEmulator) -> None:
    data = section()
    emu.load(copy.deepcopy(data))
    assert emu.dump() == data
    call(emu, "DELETE", "/v1/things/t1")
    dumped = emu.dump()
    assert [o["id"] for o in dumped["acme"]["resources"]["things"]["objects"]] == ["t2", "t3", "t4", "t5"]
    other = HttpVendorEmulator()
    other.load(dumped)
    assert other.dump() == dumped
    dumped["acme"]["resources"]["things"]["objects"].clear()
    assert len(emu.dump()["acme"]["resources"]["things"]["objects"]) == 4  # dump is a copy


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["acme"]["resources"]["things"].pop("path"), "http.acme.resources.things.path"),
        (lambda d: d["acme"]["resources"]["things"].update(pagination={"style": "zigzag"}), "pagination.style"),
        (lambda d: d["acme"]["resources"]["things"].update(cancel={"method": "GET"}), "cancel.method"),
        (lambda d: d["acme"]["resources"]["things"]["objects"].append({"id": "t1"}), "appears twice"),
        (lambda d: d["acme"].update(auth={"header": "X"}), "http.acme.auth"),
        (lambda d: d["acme"]["resources"]["things"].update(items=None, pagination={"style": "cursor"}), "items"),
    ],
)
def test_bad_scenarios_are_config_errors(edit: Any, words: str) -> None:
    data = section()
    edit(data)
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        HttpVendorEmulator().load(data)


def test_the_demo_section_loads_and_serves() -> None:
    demo = yaml.safe_load((Path(__file__).resolve().parents[3] / "providers/generic_http/demo.yaml").read_text())
    assert set(demo) == {"http"}
    emu = HttpVendorEmulator()
    emu.load(demo["http"])
    names = [o["shop_name"] for o in emu.dump()["shipcloud"]["resources"]["shop_integrations"]["objects"]]
    assert names == ["Lumen EU (Shopify)", "Lumen Legacy (old ERP bridge)"]
    response = emu.handle(
        httpx.Request("GET", f"{BASE}/shipcloud/v1/shop_integrations", headers=BEARER), "/shipcloud/v1/shop_integrations"
    )
    assert response.status_code == 200 and response.json()["data"][0]["state"] == "active"


def test_it_is_fast_enough_for_the_sandbox(emu: HttpVendorEmulator) -> None:
    emu.load(section(objects=[{"id": f"t{i}"} for i in range(500)], pagination={"style": "cursor", "next": "next"}))
    started = time.perf_counter()
    for i in range(1000):
        call(emu, "GET", f"/v1/things/t{i % 500}")
    assert time.perf_counter() - started < 2.0
