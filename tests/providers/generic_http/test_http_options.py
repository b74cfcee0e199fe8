"""Options of an http account: the JSON Schema, and ConfigErrors that name the offending key."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine.errors import ConfigError
from engine.model import Account, Kind, SecretRef
from providers.generic_http.client import HttpVendorProvider
from providers.generic_http.options import OPTIONS_SCHEMA
from providers.sdk import ProviderContext

DOC = Path(__file__).resolve().parents[3] / "docs" / "http-provider.md"

GOOD: dict[str, Any] = {
    "vendor": "shipcloud",
    "auth": {"header": "Authorization", "format": "Bearer {token}"},
    "resources": [
        {
            "kind": "carrier",
            "name": "shop_integrations",
            "list": {
                "path": "/v1/shop_integrations",
                "items": "data",
                "pagination": {"style": "cursor", "next": "meta.next_cursor"},
            },
            "fields": {"id": "id", "name": "shop_name", "status": "state"},
            "cancel": {"method": "DELETE", "path": "/v1/shop_integrations/{id}", "ok": [200, 204]},
            "gone": {"status": [404]},
            "get": {"path": "/v1/shop_integrations/{id}"},
            "datasets": {
                "orders": {
                    "path": "/v1/shipments",
                    "items": "shipments",
                    "params": {"shop_integration_id": "{id}"},
                    "pagination": {"style": "page", "size": 50},
                }
            },
        }
    ],
    "rate_limit": {"rate": 5, "burst": 10},
}


def build(options: Any, *, endpoint: str | None = "https://api.vendor.example", creds: tuple[str, ...] = ("token",)) -> HttpVendorProvider:
    account = Account(
        name="shipcloud-eu",
        provider="http",
        endpoint=endpoint,
        options=options,
        credentials={c: SecretRef("env", c.upper()) for c in creds},
    )
    return HttpVendorProvider(ProviderContext(account=account, credentials={c: "x" * 8 for c in creds}, http=None))


def broken(edit: Any) -> str:
    options = copy.deepcopy(GOOD)
    edit(options)
    with pytest.raises(ConfigError) as caught:
        build(options)
    return str(caught.value)


def test_the_schema_is_a_valid_json_schema_and_accepts_the_example() -> None:
    Draft202012Validator.check_schema(OPTIONS_SCHEMA)
    Draft202012Validator(OPTIONS_SCHEMA).validate(GOOD)
    provider = build(GOOD)
    resource = provider.options.resources[0]
    assert resource.kind is Kind.CARRIER
    assert resource.list.pagination.param == "cursor"
    assert resource.datasets["orders"].pagination.size_param == "per_page"
    assert provider.options.rate == 5 and provider.options.burst == 10


def _doc_blocks() -> list[Any]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]


def test_every_http_account_in_the_docs_is_valid() -> None:
    accounts = [
        (name, acct)
        for block in _doc_blocks()
        if isinstance(block, dict) and isinstance(block.get("accounts"), dict)
        for name, acct in block["accounts"].items()
        if acct.get("provider") == "http"
    ]
    assert len(accounts) >= 2
    for _name, acct in accounts:
        Draft202012Validator(OPTIONS_SCHEMA).validate(acct["options"])
        creds = tuple(acct.get("credentials", {}))
        build(acct["options"], endpoint=acct["endpoint"], creds=creds)


def test_every_schema_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")

    def keys(schema: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(schema, dict):
            for key, sub in (schema.get("properties") or {}).items():
                found.add(key)
                found |= keys(sub)
            for part in ("items", "additionalProperties"):
                found |= keys(schema.get(part))
            for part in ("oneOf", "anyOf"):
                for sub in schema.get(part, []):
                    found |= keys(sub)
        return found

    missing = sorted(k for k in keys(OPTIONS_SCHEMA) if f"`{k}`" not in text)
    assert missing == []


@pytest.mark.parametrize(
    ("edit", "where", "words"),
    [
        (lambda o: o["resources"][0]["list"]["pagination"].update(style="sideways"),
         "options.resources[0].list.pagination.style", "is not one of"),
        (lambda o: o["resources"][0].update(kind="carriers"), "options.resources[0].kind", "is not one of"),
        (lambda o: o["resources"][0]["list"].update(pages=3), "options.resources[0].list.pages", "unknown key"),
        (lambda o: o["resources"][0].pop("list"), "options.resources[0].list", "is required"),
        (lambda o: o.pop("auth"), "options.auth", "is required"),
        (lambda o: o["auth"].update(query="api_key"), "options.auth", "exactly one of: header, query, basic"),
        (lambda o: o["auth"].update(format="Bearer {api_key}"), "options.auth.format", "names no credential"),
        (lambda o: o["auth"].update(format="Bearer abc123literal"), "options.auth.format", "holds no {credential} placeholder"),
        (lambda o: o["resources"][0]["list"]["pagination"].update(total="meta.total"),
         "options.resources[0].list.pagination.total", "is not used with style cursor"),
        (lambda o: o["resources"][0]["list"]["pagination"].pop("next"),
         "options.resources[0].list.pagination.next", "is required with style cursor"),
        (lambda o: o["resources"][0]["list"].pop("items"),
         "options.resources[0].list.pagination.next", "needs the items key"),
        (lambda o: o["resources"][0]["cancel"].update(path="/v1/shop_integrations"),
         "options.resources[0].cancel.path", "does not name the binding"),
        (lambda o: o["resources"][0]["cancel"].update(path="/v1/x/{shop}"),
         "options.resources[0].cancel.path", "unknown placeholder {shop}"),
        (lambda o: o["resources"][0]["get"].update(path="v1/no-slash/{id}"),
         "options.resources[0].get.path", "a path starting with /"),
        (lambda o: o["resources"][0]["gone"].update(field="state"), "options.resources[0].gone.values", "is required"),
        (lambda o: o["resources"][0]["cancel"].update(ok=[404]), "options.resources[0].cancel.ok", "gone.status"),
        (lambda o: o["resources"][0]["cancel"].update(body={"x": 1}), "options.resources[0].cancel.body", "not sent with DELETE"),
        (lambda o: o["resources"][0]["list"].update(path="/v1/{id}/things"),
         "options.resources[0].list.path", "takes no placeholders"),
        (lambda o: o["resources"].append(copy.deepcopy(o["resources"][0])), "options.resources[1].name", "used by an earlier resource"),
        (lambda o: o.update(rate_limit={"rate": 0}), "options.rate_limit.rate", "must be above 0"),
        (lambda o: o.update(headers={"X-Api-Key": "{token}"}), "options.headers.X-Api-Key", "takes no placeholders"),
        (lambda o: o["resources"][0]["datasets"]["orders"]["pagination"].update(size_param="limit", size=None),
         "options.resources[0].datasets.orders.pagination.size", "whole number"),
        (lambda o: o["resources"][0].update(fields=[]), "options.resources[0].fields", "must be a mapping"),
    ],
)
def test_bad_options_name_the_key(edit: Any, where: str, words: str) -> None:
    message = broken(edit)
    assert f"accounts.shipcloud-eu.{where}: " in message, message
    assert words in message, message


def test_every_problem_is_reported_at_once() -> None:
    def two(o: Any) -> None:
        o["resources"][0]["kind"] = "nope"
        o["resources"][0]["list"]["pagination"]["style"] = "nope"

    message = broken(two)
    assert "resources[0].kind" in message and "resources[0].list.pagination.style" in message


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [(None, "is required for provider http"), ("http://api.vendor.example", "is not https")],
)
def test_the_endpoint_is_checked(endpoint: str | None, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(GOOD, endpoint=endpoint)
    assert "accounts.shipcloud-eu.endpoint" in str(caught.value) and words in str(caught.value)


def test_loopback_http_is_allowed_for_the_sandbox() -> None:
    build(GOOD, endpoint="http://127.0.0.1:8787/vendor/shipcloud")


def test_auth_may_be_a_list_and_basic() -> None:
    options = copy.deepcopy(GOOD)
    options["auth"] = [
        {"header": "X-Api-Key", "format": "{key}"},
        {"basic": "{user}:{password}"},
    ]
    provider = build(options, creds=("key", "user", "password"))
    assert [a.header for a in provider.options.auth] == ["X-Api-Key", None]
    assert provider.options.auth[1].basic == "{user}:{password}"


@pytest.mark.parametrize(
    ("basic", "words"),
    [("lumen:literal-password", "holds no {credential} placeholder"), ("{user}", "user:password"), ("{user}:{pw}", "{pw} names no credential")],
)
def test_basic_auth_takes_the_password_from_credentials(basic: str, words: str) -> None:
    options = copy.deepcopy(GOOD)
    options["auth"] = {"basic": basic}
    with pytest.raises(ConfigError) as caught:
        build(options, creds=("user", "password"))
    assert "options.auth.basic" in str(caught.value) and words in str(caught.value)
