"""tether.yaml loading: the SPEC example, every kind of bad input, hostile YAML, credentials."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import yamlsafe
from engine.config import (
    MAX_FILE_BYTES,
    SCHEMA_URL_COMMENT,
    default_paths,
    load_config,
    parse_secret_ref,
    resolve_credentials,
    schema_comment,
)
from engine.errors import ConfigError, Diagnostic
from engine.model import Account, CancelAt, Ensure, Kind, Money, SecretRef, Undeclared
from engine.yamlsafe import MAX_DEPTH, parse_yaml
from schemas import load_schema, schema_path

SPEC_EXAMPLE = """\
version: 1
accounts:
  shop-eu:                                  # name: [a-z0-9][a-z0-9_-]*
    provider: shopify                       # shopify | amazon-sp | ebay | stripe | http | manual | plug-ins
    endpoint: http://127.0.0.1:8787/shopify/demo-shop   # optional; default: the provider's public API
    options: {shop: demo-shop.myshopify.com, api_version: "2024-01"}
    credentials:
      access_token: ${env:SHOPIFY_TOKEN}    # only ${env:NAME} or ${file:PATH} (quote them inside {...})
defaults:
  undeclared: report        # cancel | report | ignore: live bindings that no integration matches
  max_fee: "0.00 EUR"       # a cancel whose early-termination fee is higher is blocked unless --accept-fees
  cancel_at: period_end     # period_end | now   (subscriptions)
  max_cancels: 20           # a plan cancelling more is refused unless --allow-mass-cancel
integrations:
  dpd-rates:                # name: [a-z0-9][a-z0-9_-]*, unique; it is the plan address
    account: shop-eu
    kind: carrier
    match: {name: "DPD Rates"}          # selects live bindings; every key must hold
    ensure: present
    expect: {active: true}              # must hold on the live binding, else drift
  old-erp-hooks:
    account: shop-eu
    kind: webhook
    match: {address: "https://erp.example.com/*"}   # '*' globs on strings
    ensure: absent
    backup: [orders]                    # datasets to export before cancelling, beside the binding itself
    sides: [platform, provider]         # where to revoke (default: every side the providers support)
  legacy-plan:
    account: shop-eu
    kind: subscription
    match: {name: "Pro bundle"}
    ensure: absent
    protect: false                      # true: never cancel (the plan shows it blocked)
    terms: {commitment_end: 2027-03-31, early_termination_fee: "49.00 EUR"}
ignore:                     # drift nobody should be paged for; every rule has a reason, an owner and an expiry
  - match: {account: shop-eu, kind: webhook, topic: "app/*"}
    reason: "installed by the storefront theme"
    owner: ops@example.com
    expires: 2027-01-31     # after this date the rule stops hiding anything, and audit says so
"""

ACCOUNT = """\
version: 1
accounts:
  shop-eu:
    provider: shopify
    credentials:
      access_token: ${env:SHOPIFY_TOKEN}
"""


def write(directory: Path, text: str, name: str = "tether.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(directory: Path, **kwargs: Any) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=directory, **kwargs)
    return caught.value.diagnostics


def only_error_for(paths: list[str], cwd: Path) -> Diagnostic:
    with pytest.raises(ConfigError) as caught:
        load_config([Path(p) for p in paths], cwd=cwd)
    (problem,) = caught.value.diagnostics
    return problem


def only_error(directory: Path) -> Diagnostic:
    found = errors_of(directory)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


# -- the SPEC example ------------------------------------------------------------------------------


@pytest.fixture
def spec_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOPIFY_TOKEN", "shpat_demo_admin")
    write(tmp_path, SPEC_EXAMPLE)
    return tmp_path


def test_spec_example_loads_into_the_model(spec_dir: Path) -> None:
    config = load_config(cwd=spec_dir)

    account = config.accounts["shop-eu"]
    assert account.provider == "shopify"
    assert account.endpoint == "http://127.0.0.1:8787/shopify/demo-shop"
    assert account.options == {"shop": "demo-shop.myshopify.com", "api_version": "2024-01"}
    assert account.credentials == {"access_token": SecretRef("env", "SHOPIFY_TOKEN")}

    assert config.defaults.undeclared is Undeclared.REPORT
    assert config.defaults.max_fee == Money(Decimal("0.00"), "EUR")
    assert config.defaults.cancel_at is CancelAt.PERIOD_END
    assert config.defaults.max_cancels == 20

    assert list(config.integrations) == ["dpd-rates", "old-erp-hooks", "legacy-plan"]
    dpd = config.integrations["dpd-rates"]
    assert (dpd.account, dpd.kind, dpd.ensure) == ("shop-eu", Kind.CARRIER, Ensure.PRESENT)
    assert dpd.match == {"name": "DPD Rates"} and dpd.expect == {"active": True}
    assert (dpd.file, dpd.line) == ("tether.yaml", 15)
    assert dpd.sides is None and dpd.backup == () and dpd.terms is None

    hooks = config.integrations["old-erp-hooks"]
    assert hooks.ensure is Ensure.ABSENT
    assert hooks.match == {"address": "https://erp.example.com/*"}
    assert hooks.backup == ("orders",) and hooks.sides == ("platform", "provider")

    legacy = config.integrations["legacy-plan"]
    assert legacy.protect is False and legacy.kind is Kind.SUBSCRIPTION
    assert legacy.terms is not None
    assert legacy.terms.commitment_end == date(2027, 3, 31)
    assert legacy.terms.early_termination_fee == Money(Decimal("49.00"), "EUR")

    (rule,) = config.ignore
    assert rule.match == {"account": "shop-eu", "kind": "webhook", "topic": "app/*"}
    assert (rule.reason, rule.owner, rule.expires) == (
        "installed by the storefront theme",
        "ops@example.com",
        date(2027, 1, 31),
    )

    assert config.files == (str(spec_dir / "tether.yaml"),)
    assert config.base_dir == str(spec_dir)
    assert len(config.sha256) == 64
    assert resolve_credentials(account, config.base_dir) == {"access_token": "shpat_demo_admin"}


def test_spec_example_validates_against_the_published_schema_unchanged() -> None:
    """Editors validate the raw YAML with the schema alone; the example must pass there too."""
    document = parse_yaml(SPEC_EXAMPLE, "tether.yaml").data
    assert list(Draft202012Validator(load_schema("config")).iter_errors(document)) == []


def test_loading_writes_nothing(spec_dir: Path) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in spec_dir.rglob("*"))
    load_config(cwd=spec_dir)
    assert sorted((p, p.stat().st_mtime_ns) for p in spec_dir.rglob("*")) == before


def test_defaults_apply_when_left_out(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  a:\n    account: shop-eu\n    kind: app\n    match: {name: x}\n")
    config = load_config(cwd=tmp_path)
    assert config.defaults == type(config.defaults)()
    assert config.integrations["a"].ensure is Ensure.PRESENT
    assert config.ignore == ()


def test_empty_sections_and_missing_version_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\nintegrations:\nignore:\n")
    config = load_config(cwd=tmp_path)
    assert config.accounts == {} and config.integrations == {} and config.ignore == ()


def test_dates_in_match_and_expect_become_iso_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        ACCOUNT
        + "integrations:\n  plan:\n    account: shop-eu\n    kind: subscription\n"
        + "    match: {billing_on: 2026-12-01, name: Pro}\n    expect: {trial_ends_on: 2026-01-02, price: 29.5}\n",
    )
    integration = load_config(cwd=tmp_path).integrations["plan"]
    assert integration.match == {"billing_on": "2026-12-01", "name": "Pro"}
    assert integration.expect == {"trial_ends_on": "2026-01-02", "price": 29.5}


# -- one diagnostic per kind of mistake --------------------------------------------------------------


def test_wrong_kind_names_file_line_path_and_choices(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  dpd-rates:\n    account: shop-eu\n    kind: carier\n    match: {name: x}\n")
    problem = only_error(tmp_path)
    assert (problem.file, problem.line) == ("tether.yaml", 10)
    assert problem.message == 'integrations.dpd-rates.kind: "carier" is not one of carrier, subscription, app, webhook'
    assert str(problem).startswith('tether.yaml:10: integrations.dpd-rates.kind: "carier" is not one of')
    assert 'did you mean "carrier"' in problem.hint


def test_unknown_account_says_which_accounts_exist(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  dpd:\n    account: shop-us\n    kind: carrier\n    match: {name: x}\n")
    problem = only_error(tmp_path)
    assert problem.line == 9
    assert problem.message == 'integrations.dpd.account: no account named "shop-us"; declared accounts: shop-eu'


def test_ignore_rule_account_must_exist_and_fields_are_required(tmp_path: Path) -> None:
    write(
        tmp_path,
        ACCOUNT + "ignore:\n  - match: {account: shop-xx, kind: webhook}\n    reason: theme\n",
    )
    found = errors_of(tmp_path)
    messages = [d.message for d in found]
    assert 'ignore[0]: missing required key "owner"' in messages
    assert 'ignore[0]: missing required key "expires"' in messages
    assert any(m.startswith('ignore[0].match.account: no account named "shop-xx"') for m in messages)
    assert {d.line for d in found} == {8}


def test_ignore_expires_must_be_a_real_date(tmp_path: Path) -> None:
    write(
        tmp_path,
        ACCOUNT + "ignore:\n  - match: {kind: webhook}\n    reason: theme\n    owner: ops\n    expires: 2027-02-30\n",
    )
    problem = only_error(tmp_path)
    assert problem.line == 11
    assert problem.message == 'ignore[0].expires: "2027-02-30" is not a valid date'


def test_literal_secret_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    secret = "shpat_0123456789abcdef_do_not_print"
    write(
        tmp_path,
        "version: 1\naccounts:\n  shop-eu:\n    provider: shopify\n    credentials:\n"
        f"      access_token: {secret}\n      password: 12345678\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=tmp_path)
    text = str(caught.value)
    assert secret not in text and "12345678" not in text
    first, second = caught.value.diagnostics
    assert first.line == 6
    assert first.message == (
        "accounts.shop-eu.credentials.access_token holds a literal value; secrets are never written in "
        'tether.yaml: use "${env:SHOPIFY_ACCESS_TOKEN}" or "${file:path}"'
    )
    assert second.line == 7 and "credentials.password holds a literal value" in second.message


def test_secret_shaped_option_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\n  amz:\n    provider: amazon-sp\n    options: {client_secret: s3cr3t-value, region: eu}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=tmp_path)
    assert "s3cr3t-value" not in str(caught.value)
    (problem,) = caught.value.diagnostics
    assert problem.line == 4 and problem.message.startswith("accounts.amz.options.client_secret looks like a secret")


def test_duplicate_names_across_files_name_both_places(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  dpd:\n    account: shop-eu\n    kind: carrier\n    match: {name: x}\n")
    write(tmp_path, "integrations:\n  other:\n    account: shop-eu\n    kind: app\n    match: {name: y}\n"
                    "  dpd:\n    account: shop-eu\n    kind: carrier\n    match: {name: z}\n", "tether.d/x.yaml")
    problem = only_error(tmp_path)
    assert (problem.file, problem.line) == ("tether.d/x.yaml", 6)
    assert problem.message == "integrations.dpd is declared twice: here and at tether.yaml:8"


def test_accounts_and_integrations_merge_across_files_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT)
    write(tmp_path, "version: 1\nintegrations:\n  b:\n    account: shop-us\n    kind: app\n    match: {name: b}\n",
          "tether.d/20-b.yaml")
    write(tmp_path, "accounts:\n  shop-us:\n    provider: stripe\nintegrations:\n  a:\n    account: shop-eu\n"
                    "    kind: app\n    match: {name: a}\nignore:\n  - match: {kind: app}\n    reason: r\n"
                    "    owner: o\n    expires: 2030-01-01\n", "tether.d/10-a.yaml")
    write(tmp_path, "not: loaded\n", "tether.d/.#lock.yaml")
    config = load_config(cwd=tmp_path)
    assert list(config.accounts) == ["shop-eu", "shop-us"]
    assert list(config.integrations) == ["a", "b"]
    assert config.integrations["b"].file == "tether.d/20-b.yaml"
    assert config.integrations["b"].line == 3
    assert len(config.ignore) == 1
    assert config.files == tuple(str(tmp_path / n) for n in ("tether.yaml", "tether.d/10-a.yaml", "tether.d/20-b.yaml"))


def test_defaults_in_two_files_is_an_error_naming_both(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "defaults: {max_cancels: 3}\n")
    write(tmp_path, "defaults:\n  undeclared: cancel\n", "tether.d/x.yaml")
    problem = only_error(tmp_path)
    assert (problem.file, problem.line) == ("tether.d/x.yaml", 1)
    assert problem.message == "defaults is set here and at tether.yaml:7"


def test_duplicate_key_in_one_file_is_reported(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  a:\n    account: shop-eu\n    kind: app\n    match: {name: x}\n"
                              "  a:\n    account: shop-eu\n    kind: app\n    match: {name: y}\n")
    problem = only_error(tmp_path)
    assert problem.line == 12
    assert problem.message == 'key "a" appears twice in integrations; first at line 8'


@pytest.mark.parametrize("amount", ["49 euros", "EUR 49.00", "-3.00 EUR", "12,50 EUR"])
def test_bad_money_is_reported(tmp_path: Path, amount: str) -> None:
    write(tmp_path, ACCOUNT + f'defaults:\n  max_fee: "{amount}"\n')
    problem = only_error(tmp_path)
    assert problem.line == 8
    assert problem.message == f'defaults.max_fee: "{amount}" is not valid'
    assert '"49.00 EUR"' in problem.hint


def test_money_written_as_a_number_is_reported(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  p:\n    account: shop-eu\n    kind: subscription\n"
                              "    match: {name: p}\n    terms: {early_termination_fee: 49}\n")
    problem = only_error(tmp_path)
    assert problem.line == 12
    assert problem.message == "integrations.p.terms.early_termination_fee: expected text, got a whole number"


@pytest.mark.parametrize(
    "endpoint, ok",
    [
        ("http://127.0.0.1:8787/shopify/demo-shop", True),
        ("http://127.5.6.7/x", True),
        ("http://[::1]:8787/x", True),
        ("http://localhost:8787/x", True),
        ("https://api.example.com", True),
        ("http://api.example.com/x", False),
        ("http://10.0.0.1/x", False),
        ("ftp://127.0.0.1/x", False),
        ("https://user:pw@api.example.com", False),
    ],
)
def test_endpoint_must_be_https_unless_loopback(tmp_path: Path, endpoint: str, ok: bool) -> None:
    write(tmp_path, f"accounts:\n  s:\n    provider: stripe\n    endpoint: {endpoint}\n")
    if ok:
        assert load_config(cwd=tmp_path).accounts["s"].endpoint == endpoint
        return
    problem = only_error(tmp_path)
    assert problem.line == 4 and problem.message.startswith("accounts.s.endpoint: ")
    assert "pw" not in str(problem)


def test_unknown_provider_lists_the_installed_ones(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\n  s:\n    provider: stripey\n")
    problem = only_error(tmp_path)
    assert problem.message.startswith('accounts.s.provider: unknown provider "stripey"; installed providers: ')
    assert "shopify" in problem.message and "stripe" in problem.message
    assert 'did you mean "stripe"' in problem.hint


def test_plugin_provider_is_accepted_once_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from providers import registry

    write(tmp_path, "accounts:\n  v:\n    provider: acme-erp\n")
    assert "acme-erp" in only_error(tmp_path).message
    monkeypatch.setattr(registry, "names", lambda: ["acme-erp", "shopify"])
    assert load_config(cwd=tmp_path).accounts["v"].provider == "acme-erp"


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  a:\n    account: shop-eu\n    kinds: app\n    match: {name: x}\n")
    found = errors_of(tmp_path)
    assert [(d.line, d.message, d.hint) for d in found] == [
        (8, 'integrations.a: missing required key "kind"', found[0].hint),
        (10, 'integrations.a: unknown key "kinds"', 'did you mean "kind"?'),
    ]


def test_bad_names_are_reported_at_the_key(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\n  Shop EU:\n    provider: shopify\n")
    problem = only_error(tmp_path)
    assert problem.line == 2 and problem.message == 'accounts: "Shop EU" is not a valid name'


def test_name_with_trailing_newline_is_not_a_valid_name(tmp_path: Path) -> None:
    write(tmp_path, 'accounts:\n  "shop\\n":\n    provider: shopify\n')
    assert "is not a valid name" in only_error(tmp_path).message


def test_several_errors_are_reported_together_in_line_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        "version: 2\n"
        "accounts:\n"
        "  shop-eu:\n"
        "    provider: shopify\n"
        "    endpoint: http://shop.example.com\n"
        "    credentials: {access_token: hunter2}\n"
        "defaults:\n"
        "  max_fee: free\n"
        "  undeclared: cancle\n"
        "integrations:\n"
        "  a:\n"
        "    account: nope\n"
        "    kind: carier\n"
        "    match: {}\n"
        "    sides: [platform, both]\n"
        "    backup: [Orders]\n",
    )
    found = errors_of(tmp_path)
    assert [d.line for d in found] == [1, 5, 6, 8, 9, 12, 13, 14, 15, 16]
    assert all(d.file == "tether.yaml" for d in found)
    assert "hunter2" not in "\n".join(map(str, found))


def test_errors_in_several_files_come_file_by_file(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "integrations:\n  a:\n    account: shop-eu\n    kind: bogus\n    match: {name: x}\n")
    write(tmp_path, "integrations:\n  b:\n    account: nobody\n    kind: app\n    match: {name: y}\n", "tether.d/b.yaml")
    found = errors_of(tmp_path)
    assert [(d.file, d.line) for d in found] == [("tether.yaml", 10), ("tether.d/b.yaml", 3)]


def test_missing_tether_yaml_says_run_tether_init(tmp_path: Path) -> None:
    problem = only_error(tmp_path)
    assert problem.file == "tether.yaml" and problem.line is None
    assert "tether init" in problem.message and str(tmp_path) in problem.message


def test_explicit_paths_are_opened_as_given_and_named_from_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, ACCOUNT, "conf/main.yaml")
    write(tmp_path, "integrations:\n  a:\n    account: shop-eu\n    kind: app\n    match: {name: a}\n",
          "conf/tether.d/a.yaml")
    config = load_config([Path("conf/main.yaml")], cwd=tmp_path / "conf")
    assert config.base_dir == str(tmp_path / "conf")
    assert config.files == (str(tmp_path / "conf/main.yaml"),)
    assert config.integrations == {}

    paths = default_paths(Path("conf/main.yaml"))
    assert paths == [Path("conf/main.yaml"), Path("conf/tether.d/a.yaml")]
    assert load_config(paths, cwd=tmp_path / "conf").integrations["a"].file == "tether.d/a.yaml"

    write(tmp_path, "accounts: 3\n", "conf/bad.yaml")
    assert only_error_for(["conf/bad.yaml"], tmp_path / "conf").file == "bad.yaml"
    assert only_error_for(["conf/bad.yaml"], tmp_path).file == "conf/bad.yaml"


def test_not_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "tether.yaml").write_bytes(b"version: 1\naccounts:\n  a: \xff\xfe\n")
    problem = only_error(tmp_path)
    assert problem.line == 3 and "not UTF-8" in problem.message


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "- just\n- a list\n")
    problem = only_error(tmp_path)
    assert problem.line == 1 and problem.message.startswith("the file must hold a mapping")


# -- hostile YAML ------------------------------------------------------------------------------------


def test_alias_bomb_is_refused_at_the_first_anchor(tmp_path: Path) -> None:
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write(tmp_path, "\n".join(levels) + "\n")
    problem = only_error(tmp_path)
    assert problem.line == 1
    assert problem.message == "YAML anchors and aliases (&a0) are not supported in tether files"


def test_alias_without_anchor_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\n  a: *x\n")
    problem = only_error(tmp_path)
    assert problem.line == 2 and "(*x)" in problem.message


@pytest.mark.parametrize(
    "tagged, shown",
    [
        ("!!python/object/apply:os.system ['echo pwned']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!vault secret", "!vault"),
    ],
)
def test_non_standard_tags_are_refused(tmp_path: Path, tagged: str, shown: str) -> None:
    write(tmp_path, f"version: 1\naccounts:\n  a: {tagged}\n")
    problem = only_error(tmp_path)
    assert problem.line == 3
    assert problem.message == f"the YAML tag {shown} is not allowed"


def test_standard_tags_are_fine(tmp_path: Path) -> None:
    write(tmp_path, "version: !!int 1\naccounts:\n  s:\n    provider: !!str stripe\n")
    assert load_config(cwd=tmp_path).accounts["s"].provider == "stripe"


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_60_deep_is_refused(tmp_path: Path, style: str) -> None:
    if style == "flow":
        text = "accounts: " + "[" * 60 + "]" * 60 + "\n"
    else:
        text = "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "x\n"
    write(tmp_path, text)
    problem = only_error(tmp_path)
    assert problem.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert problem.line == (1 if style == "flow" else MAX_DEPTH + 1)


def test_a_million_open_brackets_is_refused_quickly(tmp_path: Path) -> None:
    write(tmp_path, "[" * 1_000_000)
    problem = only_error(tmp_path)
    assert problem.line == 1


def test_too_many_values_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "MAX_NODES", 10)
    write(tmp_path, "accounts: [" + ", ".join("x" * 20) + "]\n")
    problem = only_error(tmp_path)
    assert problem.line == 1 and problem.message == "more than 10 values in one file"


@pytest.mark.parametrize(
    "text, line, start",
    [
        ("a: &x [1]\nb: *x\n", 1, "YAML anchors and aliases (&x)"),
        ("a: !!python/object/apply:os.system ['id']\n", 1, "the YAML tag !!python/object/apply:os.system"),
        ("a: " + "[" * 60 + "]" * 60 + "\n", 1, "nesting deeper than"),
        ("a: b\n  c: d\n", 2, "YAML syntax error: "),
        ("a: 1\n---\nb: 2\n", 2, 'a second YAML document ("---")'),
        ("? [a]\n: 1\n", 1, "a mapping key here is a list or a mapping"),
    ],
)
def test_refusals_are_the_same_without_libyaml(
    monkeypatch: pytest.MonkeyPatch, text: str, line: int, start: str
) -> None:
    """Installs without libyaml fall back to PyYAML's pure-Python parser; the guards still hold."""
    for loader in {yamlsafe._EventLoader, yaml.SafeLoader}:
        monkeypatch.setattr(yamlsafe, "_EventLoader", loader)
        with pytest.raises(ConfigError) as caught:
            parse_yaml(text, "tether.yaml")
        (problem,) = caught.value.diagnostics
        assert problem.line == line and problem.message.startswith(start), (loader, problem)


def test_a_3_mib_file_is_refused_before_parsing(tmp_path: Path) -> None:
    line = "# " + "x" * 1021 + "\n"
    write(tmp_path, line * (3 * 1024))
    assert (tmp_path / "tether.yaml").stat().st_size == 3 * 1024 * 1024
    problem = only_error(tmp_path)
    assert problem.line is None
    assert problem.message == "the file is 3.0 MiB; tether reads files of up to 2 MiB"


def test_a_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT + "#" * (MAX_FILE_BYTES - len(ACCOUNT) - 1) + "\n")
    assert list(load_config(cwd=tmp_path).accounts) == ["shop-eu"]


def test_yaml_syntax_error_names_the_line_and_what_to_do(tmp_path: Path) -> None:
    write(tmp_path, "version: 1\naccounts:\n  shop-eu:\n    provider: shopify\n   endpoint: x\n")
    problem = only_error(tmp_path)
    assert problem.line == 5
    assert problem.message.startswith("YAML syntax error: ")
    assert "indentation" in problem.hint
    assert str(problem).startswith("tether.yaml:5: YAML syntax error: ")


def test_unquoted_reference_in_flow_mapping_hints_at_quoting(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\n  s:\n    provider: stripe\n    credentials: {api_key: ${env:STRIPE_KEY}}\n")
    problem = only_error(tmp_path)
    assert problem.line == 4 and "${env:NAME}" in problem.hint


def test_tab_indentation_gets_its_own_hint(tmp_path: Path) -> None:
    write(tmp_path, "accounts:\n\ts:\n")
    problem = only_error(tmp_path)
    assert problem.message.startswith("YAML syntax error") and "tab" in problem.hint


def test_syntax_errors_in_several_files_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "accounts: [\n")
    write(tmp_path, "a: !!python/object:x {}\n", "tether.d/x.yaml")
    found = errors_of(tmp_path)
    assert [d.file for d in found] == ["tether.yaml", "tether.d/x.yaml"]


def test_two_thousand_integrations_load(tmp_path: Path) -> None:
    parts = [ACCOUNT, "integrations:\n"]
    for i in range(2000):
        parts.append(
            f"  hook-{i}:\n    account: shop-eu\n    kind: webhook\n"
            f'    match: {{address: "https://erp.example.com/{i}/*", topic: orders/create}}\n'
            f"    ensure: {'absent' if i % 2 else 'present'}\n    expect: {{format: json}}\n"
            "    backup: [orders]\n"
        )
    write(tmp_path, "".join(parts))
    config = load_config(cwd=tmp_path)
    assert len(config.integrations) == 2000
    assert config.integrations["hook-1999"].line == 6 + 1999 * 7 + 2


def test_hundreds_of_errors_are_all_reported(tmp_path: Path) -> None:
    parts = [ACCOUNT, "integrations:\n"]
    parts += [f"  h{i}:\n    account: shop-eu\n    kind: hook\n    match: {{name: x}}\n" for i in range(300)]
    write(tmp_path, "".join(parts))
    found = errors_of(tmp_path)
    assert len(found) == 300 and found[-1].line == 8 + 299 * 4 + 2


# -- credentials -------------------------------------------------------------------------------------


def test_parse_secret_ref() -> None:
    assert parse_secret_ref("${env:SHOPIFY_TOKEN}") == SecretRef("env", "SHOPIFY_TOKEN")
    assert parse_secret_ref("${file:secrets/token.txt}") == SecretRef("file", "secrets/token.txt")
    for bad in ("SHOPIFY_TOKEN", "${env:}", "${env:A B}", "${env:X}\n", " ${env:X}", "${vault:x}", 3, None):
        assert parse_secret_ref(bad) is None, bad


def test_resolve_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    account = Account("a", "stripe", credentials={"api_key": SecretRef("env", "STRIPE_KEY")})
    monkeypatch.setenv("STRIPE_KEY", "sk_test_123")
    assert resolve_credentials(account, tmp_path) == {"api_key": "sk_test_123"}
    assert resolve_credentials(account, tmp_path, environ={"STRIPE_KEY": "other"}) == {"api_key": "other"}


def test_resolve_from_file_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("tok-en\n\n", encoding="utf-8")
    (tmp_path / "abs").write_text("absolute\r\n", encoding="utf-8")
    account = Account(
        "a",
        "shopify",
        credentials={"t": SecretRef("file", "secrets/token"), "u": SecretRef("file", str(tmp_path / "abs"))},
    )
    assert resolve_credentials(account, str(tmp_path), environ={}) == {"t": "tok-en\n", "u": "absolute"}


def test_missing_references_are_all_reported_by_name_never_by_value(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("", encoding="utf-8")
    account = Account(
        "shop-eu",
        "shopify",
        credentials={
            "access_token": SecretRef("env", "SHOPIFY_TOKEN"),
            "set": SecretRef("env", "PRESENT"),
            "key": SecretRef("file", "nowhere/key"),
            "blank": SecretRef("file", "empty"),
        },
    )
    with pytest.raises(ConfigError) as caught:
        resolve_credentials(account, tmp_path, environ={"PRESENT": "value-that-must-not-show"})
    messages = [d.message for d in caught.value.diagnostics]
    assert messages[0] == "accounts.shop-eu.credentials.access_token: ${env:SHOPIFY_TOKEN} is not set"
    assert messages[1].startswith("accounts.shop-eu.credentials.key: ${file:nowhere/key}: file ")
    assert "not found" in messages[1]
    assert messages[2].startswith("accounts.shop-eu.credentials.blank: ${file:empty}") and "empty" in messages[2]
    assert "value-that-must-not-show" not in str(caught.value)


def test_unreadable_credential_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    secret = tmp_path / "locked"
    secret.write_text("x", encoding="utf-8")
    secret.chmod(0)
    try:
        with pytest.raises(ConfigError, match=r"\$\{file:locked\}.*cannot be read"):
            resolve_credentials(Account("a", "stripe", credentials={"k": SecretRef("file", "locked")}), tmp_path)
    finally:
        secret.chmod(0o600)


def test_loading_does_not_need_the_secrets(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT)
    config = load_config(cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"\$\{env:SHOPIFY_TOKEN\} is not set"):
        resolve_credentials(config.accounts["shop-eu"], config.base_dir)


# -- hash, schema, helpers -------------------------------------------------------------------------------


def test_sha256_covers_names_and_bytes_in_order(tmp_path: Path) -> None:
    write(tmp_path, ACCOUNT)
    first = load_config(cwd=tmp_path).sha256
    assert load_config(cwd=tmp_path).sha256 == first
    name, raw = b"tether.yaml", ACCOUNT.encode()
    expected = hashlib.sha256(len(name).to_bytes(8, "big") + name + len(raw).to_bytes(8, "big") + raw).hexdigest()
    assert first == expected
    write(tmp_path, ACCOUNT + "# a comment changes the bytes\n")
    assert load_config(cwd=tmp_path).sha256 != first
    write(tmp_path, ACCOUNT)
    write(tmp_path, "version: 1\n", "tether.d/extra.yaml")
    assert load_config(cwd=tmp_path).sha256 not in (first, expected)


def test_sha256_does_not_depend_on_where_the_checkout_is(tmp_path: Path) -> None:
    for sub in ("one", "two"):
        write(tmp_path / sub, ACCOUNT)
        write(tmp_path / sub, "version: 1\n", "tether.d/x.yaml")
    assert load_config(cwd=tmp_path / "one").sha256 == load_config(cwd=tmp_path / "two").sha256


def _walk_properties(node: Any, where: str = "#") -> list[str]:
    missing = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if not (isinstance(sub, dict) and sub.get("title") and sub.get("description")):
                missing.append(f"{where}/properties/{name}")
        for key, sub in node.items():
            missing += _walk_properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            missing += _walk_properties(sub, f"{where}/{i}")
    return missing


def test_schema_is_valid_2020_12_and_documents_every_property() -> None:
    schema = load_schema("config")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert _walk_properties(schema) == []
    for name, definition in schema["$defs"].items():
        assert definition.get("title") and definition.get("description"), name


def test_schema_helpers(tmp_path: Path) -> None:
    assert schema_path("config") == schema_path("config.schema.json")
    assert json.loads(schema_path("config").read_text(encoding="utf-8"))["title"].startswith("tether.yaml")
    copy = load_schema("config")
    copy["title"] = "changed"
    assert load_schema("config")["title"] != "changed"
    with pytest.raises(ValueError):
        schema_path("../engine/model")
    with pytest.raises(FileNotFoundError):
        schema_path("nothing-here")


def test_schema_comment() -> None:
    assert schema_comment("https://example.org/config.schema.json") == (
        "# yaml-language-server: $schema=https://example.org/config.schema.json"
    )
    repo = Path("/repo")
    assert schema_comment(Path("/repo/.tether/config.schema.json"), relative_to=repo) == (
        SCHEMA_URL_COMMENT + ".tether/config.schema.json"
    )
    assert schema_comment().endswith("config.schema.json")


def test_schema_comment_line_is_ignored_by_the_loader(tmp_path: Path) -> None:
    write(tmp_path, schema_comment("https://example.org/s.json") + "\n" + ACCOUNT)
    assert list(load_config(cwd=tmp_path).accounts) == ["shop-eu"]


def test_match_on_the_owning_app_is_accepted_and_kept(tmp_path: Path) -> None:
    """``match: {app: ...}`` narrows a declaration to one app's bindings (SPEC section 1)."""
    write(
        tmp_path,
        ACCOUNT
        + "integrations:\n"
        + "  legacy-hooks:\n"
        + "    account: shop-eu\n"
        + "    kind: webhook\n"
        + '    match: {app: "LegacyERP Connector", uri: "https://erp.example.com/*"}\n'
        + "    ensure: absent\n",
    )
    config = load_config(cwd=tmp_path)
    assert dict(config.integrations["legacy-hooks"].match) == {
        "app": "LegacyERP Connector",
        "uri": "https://erp.example.com/*",
    }


def test_load_config_takes_the_allowed_hosts_without_reading_them_from_the_file(tmp_path: Path) -> None:
    from engine.operations.loading import allowed_hosts

    write(tmp_path, ACCOUNT)
    assert load_config(cwd=tmp_path, allowed_hosts=frozenset({"gw.example.com"})).accounts
    assert allowed_hosts(["A.example"], {"TETHER_ALLOW_ENDPOINTS": "b.example,  c.example d.example"}) == frozenset(
        {"a.example", "b.example", "c.example", "d.example"}
    )
    assert allowed_hosts([], {}) == frozenset()
