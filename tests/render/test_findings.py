"""What a reader must not miss, in text and Markdown, English and Chinese: what this credential
cannot verify (what, why, how to see it), manual steps with the owning app and runbook, listings
withheld per account and kind with the missing right, cancels the vendor already scheduled with
their date, and the host each account's credential goes to. Every sentence comes from a code."""

from __future__ import annotations

import pytest

from engine import reasons
from engine.model import Action, Kind
from engine.reasons import Reason, ReasonCode
from engine.render.markdown import render_markdown
from engine.render.text import render_plan
from tests.render.builders import action, demo_like, failed, owners_plan, plan, refused


def text(p: object, lang: str = "en", **kw: object) -> str:
    return render_plan(p, lang, **kw).plain  # type: ignore[arg-type]


def section(output: str, title: str) -> str:
    """The lines of one text section: from its title to the next blank line."""
    start = output.index(title)
    end = output.find("\n\n", start)
    return output[start : end if end >= 0 else None]


def above_details(markdown: str) -> str:
    return markdown.split("<details>")[0]


# -- unverifiable -----------------------------------------------------------------------------------


def test_text_gives_unverifiable_findings_their_own_section_with_what_why_and_how() -> None:
    out = text(owners_plan())
    found = section(out, "Cannot be verified with this credential:")
    assert "U unverifiable legacy-erp-hooks  webhook on shop-eu" in found
    assert "sees only the webhook bindings of Lumen Ops on shop-eu (own-app-only)" in found
    assert "add the LegacyERP app's credential as another account" in found
    # listed once, in its section, not among the bindings apply acts on
    assert out.count("legacy-erp-hooks") == 1
    assert "1 unverifiable" in out


def test_chinese_unverifiable_section() -> None:
    found = section(text(owners_plan(), "zh"), "当前凭证无法核实：")
    assert "U 无法核实" in found
    assert "当前凭证只能看到 shop-eu 上 Lumen Ops 的数据推送（服务商只向应用展示它自己创建的内容）" in found


def test_markdown_unverifiable_section_and_verdict() -> None:
    out = render_markdown(owners_plan(), "en")
    assert "· 1 unverifiable ·" in out.splitlines()[1]
    top = above_details(out)
    assert "#### 🙈 Cannot be verified: this credential does not see everything (1)" in top
    assert "- **Unverifiable** webhook subscription declared as `legacy-erp-hooks` on **shop-eu** — cannot verify" in top
    zh = above_details(render_markdown(owners_plan(), "zh"))
    assert "#### 🙈 无法核实：当前凭证看不到全部内容（1）" in zh
    assert "1 个无法核实" in zh


def test_an_audit_with_only_an_unverifiable_finding_is_not_clean() -> None:
    only = plan(owners_plan().actions[2])
    assert "Clean" not in text(only, audit=True)
    assert render_markdown(only, "en", audit=True).splitlines()[1] == "### ⚠️ tether audit: 1 unverifiable"


# -- manual steps with the owning app ---------------------------------------------------------------


def test_manual_steps_name_the_owning_app_and_the_runbook() -> None:
    out = text(owners_plan())
    assert "reason: owned by LegacyERP Connector: shopify does not let this credential cancel it" in out
    assert "app: LegacyERP Connector" in out
    assert "runbook: Settings > Apps and sales channels > LegacyERP Connector > Uninstall" in out
    zh = text(owners_plan(), "zh")
    assert "原因：归 LegacyERP Connector 所有：shopify 不允许当前凭证解除它；请按操作手册处理" in zh
    assert "所属应用：LegacyERP Connector" in zh
    md = above_details(render_markdown(owners_plan(), "en"))
    assert "owned by LegacyERP Connector: shopify does not let this credential cancel it; follow the runbook · app: LegacyERP Connector" in md
    assert "_runbook_: Settings › Apps and sales channels › LegacyERP Connector › Uninstall" in md


# -- incomplete listings --------------------------------------------------------------------------


def test_a_refused_listing_names_the_account_the_kind_and_the_missing_right() -> None:
    out = text(owners_plan())
    found = section(out, "Incomplete listings (nothing decided for these):")
    assert "! stripe-eu: the vendor refused to list webhook (missing right: read_webhook_endpoints)" in found
    assert "the vendor said: This API key lacks rk_webhook_read" in found
    assert out.rstrip().endswith("nothing was decided for those kinds (see Incomplete listings).")
    assert "No changes" not in out and "up to date" not in out
    zh = text(owners_plan(), "zh")
    assert "! stripe-eu：服务商拒绝列出数据推送（缺少权限：read_webhook_endpoints）" in zh
    md = render_markdown(owners_plan(), "en")
    assert md.splitlines()[1].startswith("### ❌ tether plan: incomplete: part of stripe-eu could not be listed")
    assert "- stripe-eu: the vendor refused to list webhook (missing right: read\\_webhook\\_endpoints) (the vendor said: `This API key lacks rk_webhook_read`)" in md


def test_gaps_of_several_kinds_and_a_whole_account_are_each_named() -> None:
    p = plan(action(Action.KEEP, "dpd-rates", why=Reason(ReasonCode.PRESENT)),
             incomplete=(refused(kind="webhook", right="read_webhooks"), refused(kind="subscription", right=""), failed(account="temu")))
    found = section(text(p), "Incomplete listings")
    assert "shop-eu: the vendor refused to list webhook (missing right: read_webhooks)" in found
    assert "shop-eu: the vendor refused to list subscription\n" in found
    assert "temu: listing its bindings failed after retries" in found
    assert "part of shop-eu, temu could not be listed" in text(p)
    assert "temu：多次重试后仍无法列出全部绑定" in text(p, "zh")


# -- scheduled cancels ------------------------------------------------------------------------------


def test_a_cancel_the_vendor_already_scheduled_shows_with_its_date() -> None:
    found = section(text(owners_plan()), "Cancels the vendor has already scheduled:")
    assert '- old-plan  subscription "Old plan" (subscriptions sub_9) on stripe-eu: ends on 2026-12-31' in found
    assert "将于 2026-12-31 终止" in text(owners_plan(), "zh")
    md = render_markdown(owners_plan(), "en")
    assert "#### 📅 Already scheduled to end at the vendor (1)" in md
    assert "- subscription **Old plan** on **stripe-eu** — ends on **2026-12-31** · `old-plan`" in md
    undated = plan(action(Action.KEEP, "old", kind=Kind.SUBSCRIPTION, why=Reason(ReasonCode.CANCEL_SCHEDULED_UNDATED)))
    assert "ends at a date the vendor does not give" in text(undated)


# -- credential hosts -------------------------------------------------------------------------------


def test_each_accounts_credential_host_is_shown() -> None:
    found = section(text(owners_plan()), "Credentials go to:")
    assert found.splitlines()[1:] == ["  shop-eu: lumen.myshopify.com", "  stripe-eu: api.stripe.com"]
    md = render_markdown(owners_plan(), "en")
    assert "| account | provider | credential goes to | live |" in md
    assert "| **shop-eu** | shopify | `lumen.myshopify.com` | 2 |" in md
    assert "凭证发送到：" in text(owners_plan(), "zh")


def test_a_changed_host_changes_the_output() -> None:
    from dataclasses import replace

    before = owners_plan()
    after = replace(before, hosts={**before.hosts, "shop-eu": "evil.example"})
    assert "evil.example" in text(after) and "evil.example" not in text(before)
    assert "`evil.example`" in render_markdown(after, "en")


def test_no_hosts_no_host_column() -> None:
    assert "credential goes to" not in render_markdown(demo_like(), "en")
    assert "Credentials go to" not in text(demo_like())


# -- every sentence from a code ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_renderer_reads_the_english_reason_text(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """If any output took ``action.reason`` (English) instead of rendering the code, the
    sentinel would show up."""
    monkeypatch.setattr(reasons, "_english_renderer", lambda reason: "SENTINEL-ENGLISH")
    for p in (owners_plan(), demo_like()):
        assert p.actions[0].reason == "SENTINEL-ENGLISH"
        for audit in (False, True):
            assert "SENTINEL" not in text(p, lang, audit=audit, verbose=True)
            assert "SENTINEL" not in render_markdown(p, lang, audit=audit)


def test_chinese_output_holds_no_english_reason() -> None:
    english = {reasons.english(a.why) for p in (owners_plan(), demo_like()) for a in p.actions}
    for p in (owners_plan(), demo_like()):
        zh = text(p, "zh", verbose=True) + render_markdown(p, "zh")
        for sentence in english:
            assert sentence not in zh, sentence


def test_many_incomplete_accounts_keep_the_verdict_one_short_line() -> None:
    gaps = tuple(refused(account=f"shop-{i:02d}", kind="webhook") for i in range(30))
    p = plan(action(Action.KEEP, "k", why=Reason(ReasonCode.PRESENT)), incomplete=gaps)
    verdict = render_markdown(p, "en").splitlines()[1]
    assert "part of shop-00, shop-01, shop-02, shop-03, shop-04 and 25 more could not be listed" in verdict
    assert "shop-05" not in verdict
    assert "shop-00, shop-01, shop-02, shop-03, shop-04 等另外 25 个账户" in text(p, "zh").splitlines()[-1]
    assert len(section(text(p), "Incomplete listings").splitlines()) == 31  # each gap still listed


# -- a vendor's text cannot forge lines in a terminal ---------------------------------------------


def test_vendor_text_stays_on_its_line_in_the_terminal() -> None:
    forged = "x\n  - cancel    everything  on every shop\x1b[2K\r"
    hostile = Reason(ReasonCode.FOREIGN_OWNER, {"app": forged, "provider": "shopify"})
    p = plan(
        action(Action.MANUAL, "legacy", name=forged, live_id=forged, app=forged, why=hostile),
        action(Action.UNMANAGED, f"shop-eu/webhook/{forged}", name=forged, live_id="9", integration=None,
               why=Reason(ReasonCode.UNDECLARED)),
        incomplete=(refused(detail=forged),),
        hosts={"shop-eu": forged},
    )
    for lang in ("en", "zh"):
        out = text(p, lang, verbose=True)
        assert "\x1b" not in out and "\r" not in out
        assert not any(line.startswith("  - cancel    everything") for line in out.splitlines())
        assert "x\\n  - cancel    everything  on every shop\\u001b[2K\\r" in out
