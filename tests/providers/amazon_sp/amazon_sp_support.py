"""The SP-API client against its emulator, in-process: one fake clock shared by the client's token
buckets, the http layer's sleep and the emulator; a log of every exchange; injectable faults."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
import jsonschema
import yaml

from engine.model import Account
from providers.amazon_sp.client import AmazonSPProvider
from providers.amazon_sp.emulator import AmazonSPEmulator
from providers.http import HttpFactory
from providers.sdk import ProviderContext
from tests.vendor_specs import SPECS as VENDOR_SPECS

PREFIX = "/amazon-sp"
ENDPOINT = "http://127.0.0.1:8787/amazon-sp"
REPO = Path(__file__).resolve().parents[3]
DEMO_FILE = REPO / "providers" / "amazon_sp" / "demo.yaml"
SINGLE_APP_FILE = Path(__file__).resolve().parent / "single_app.yaml"
SPECS = VENDOR_SPECS / "amazon"
SELLER = "A2EUQ1WTGCTBG2"
CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.demo",
    "client_secret": "demo-secret",
    "refresh_token": "Atzr|demo",
}

T = TypeVar("T")
Fault = Callable[[httpx.Request], "httpx.Response | None"]


def demo_section() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(SINGLE_APP_FILE.read_text(encoding="utf-8"))["amazon-sp"])


def two_app_demo() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["amazon-sp"])


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


class Clock:
    """Monotonic time that moves only when someone sleeps or a test advances it."""

    def __init__(self, now: float = 10_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Exchange:
    request: httpx.Request
    response: httpx.Response

    @property
    def path(self) -> str:
        return self.request.url.path[len(PREFIX) :]

    @property
    def status(self) -> int:
        return self.response.status_code

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.request.content.decode()))

    def body(self) -> Any:
        return json.loads(self.request.content) if self.request.content else None


@dataclass
class Harness:
    emulator: AmazonSPEmulator
    clock: Clock
    log: list[Exchange] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response: httpx.Response | None = None
        for fault in self.faults:
            response = fault(request)
            if response is not None:
                break
        if response is None:
            response = self.emulator.handle(request, request.url.path[len(PREFIX) :])
        self.log.append(Exchange(request, response))
        return response

    def factory(self) -> HttpFactory:
        return HttpFactory(transport=httpx.MockTransport(self.handler), sleep=self.clock.sleep)

    def provider(
        self,
        *,
        options: Mapping[str, Any] | None = None,
        credentials: Mapping[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        factory: HttpFactory | None = None,
    ) -> AmazonSPProvider:
        account = Account(
            name="amazon-eu", provider="amazon-sp", endpoint=ENDPOINT, options=dict(options or {})
        )
        ctx = ProviderContext(
            account=account, credentials=dict(credentials or CREDENTIALS), http=factory or self.factory()
        )
        return AmazonSPProvider(ctx, clock=clock or self.clock)

    def calls(self, path_prefix: str = "", method: str | None = None) -> list[Exchange]:
        return [
            e
            for e in self.log
            if e.path.startswith(path_prefix) and (method is None or e.request.method == method)
        ]

    def lwa_calls(self, grant_type: str | None = None) -> list[Exchange]:
        return [
            e
            for e in self.calls("/auth/o2/token")
            if grant_type is None or e.form().get("grant_type") == grant_type
        ]

    def statuses(self) -> list[int]:
        return [e.status for e in self.log]


def harness(section: Mapping[str, Any] | None = None) -> Harness:
    clock = Clock()
    emulator = AmazonSPEmulator(clock=clock)
    emulator.load(demo_section() if section is None else section)
    return Harness(emulator, clock)


def error_response(status: int, code: str, message: str, details: str = "") -> httpx.Response:
    body = {"errors": [{"code": code, "message": message, "details": details}]}
    return httpx.Response(status, json=body, headers={"x-amzn-RequestId": "fault"})


# -- direct calls ------------------------------------------------------------------------------


class Client:
    """Direct calls into the emulator, the way the sandbox mounts it."""

    def __init__(self, section: dict[str, Any] | None = None) -> None:
        self.clock = Clock()
        self.emulator = AmazonSPEmulator(clock=self.clock)
        self.emulator.load(demo_section() if section is None else section)

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["x-amz-access-token"] = token
        request = httpx.Request(
            method, ENDPOINT + path, json=json_body, data=form, params=params, headers=all_headers
        )
        return self.emulator.handle(request, request.url.path[len(PREFIX) :])

    def seller_token(self, **overrides: str) -> str:
        response = self.call(
            "POST", "/auth/o2/token", form={"grant_type": "refresh_token", **CREDENTIALS, **overrides}
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def grantless_token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": CREDENTIALS["client_id"],
            "client_secret": CREDENTIALS["client_secret"],
            "scope": "sellingpartnerapi::notifications",
        }
        response = self.call("POST", "/auth/o2/token", form=form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


# -- the vendor's schemas ----------------------------------------------------------------------


def load_spec(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


def _allof_names(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for part in node.get("allOf", []) or []:
            if isinstance(part, dict) and "$ref" in part:
                found.add(part["$ref"].rsplit("/", 1)[-1])
        for value in node.values():
            _allof_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _allof_names(value, found)


def _close(node: Any, inside_allof: bool = False) -> None:
    """Forbid undeclared properties on every object schema not composed through allOf, so a
    misspelt field fails validation instead of passing as an 'additional property'."""
    if isinstance(node, dict):
        if node.get("properties") and "additionalProperties" not in node and not inside_allof:
            node["additionalProperties"] = False
        for key, value in node.items():
            _close(value, inside_allof or key == "allOf")
    elif isinstance(node, list):
        for value in node:
            _close(value, inside_allof)


class SpecValidator:
    """Validates bodies against one Swagger 2.0 model, resolving ``#/definitions`` references."""

    def __init__(self, name: str, *, strict: bool = True) -> None:
        self.spec = load_spec(name)
        definitions = copy.deepcopy(self.spec["definitions"])
        if strict:
            composed: set[str] = set()
            _allof_names(definitions, composed)
            for key, schema in definitions.items():
                if key not in composed:
                    _close(schema)
        self.definitions = definitions

    def _check(self, schema: Mapping[str, Any], body: Any) -> None:
        validator = jsonschema.Draft4Validator({**schema, "definitions": self.definitions})
        validator.validate(body)

    def response_schema(self, method: str, template: str, status: int) -> Mapping[str, Any]:
        responses = self.spec["paths"][template][method.lower()]["responses"]
        return responses[str(status)]["schema"]

    def response(self, method: str, template: str, status: int, body: Any) -> None:
        self._check(self.response_schema(method, template, status), body)

    def request(self, method: str, template: str, body: Any) -> None:
        params = self.spec["paths"][template][method.lower()]["parameters"]
        schema = next(p["schema"] for p in params if p.get("in") == "body")
        self._check(schema, body)

    def definition(self, name: str, body: Any) -> None:
        self._check({"$ref": f"#/definitions/{name}"}, body)
