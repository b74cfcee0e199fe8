"""The registry answers, offline, where each built-in provider's credential may go and its
vendor-truth rows."""

from __future__ import annotations

from providers import registry
from providers.sdk import Account


def test_credential_hosts_come_from_each_provider() -> None:
    assert registry.credential_hosts(Account("s", "stripe")) == ("api.stripe.com",)
    assert registry.credential_hosts(Account("m", "manual")) == ()
    assert registry.credential_hosts(Account("v", "http", endpoint="https://erp.vendor.example/api")) == (
        "erp.vendor.example",
    )
    assert "api.amazon.com" in registry.credential_hosts(Account("a", "amazon-sp"))


def test_authority_rows_cite_a_source() -> None:
    for name in ("amazon-sp", "ebay", "stripe"):
        rows = registry.authority(name)
        assert rows and all(row.source.startswith("https://") for row in rows), name
