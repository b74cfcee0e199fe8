"""The Mermaid graph of a plan: one node per account, one per binding (capped), coloured by
action. Labels are escaped to Mermaid entity codes so a name cannot break out of its quotes."""

from __future__ import annotations

import re
from collections import Counter

from engine.i18n import t
from engine.model import Action
from engine.plan import Plan
from engine.render.markdown.escaping import flat
from engine.render.markdown.words import COLUMNS

GRAPH_CAP = 60  # binding nodes in the Mermaid graph; the rest become "and N more" nodes

_MERMAID_CHARS = str.maketrans(
    {
        "#": "#35;",
        '"': "#quot;",
        ";": "#59;",
        "<": "#lt;",
        ">": "#gt;",
        "`": "#96;",
        "&": "#38;",
        "\\": "#92;",
        "|": "#124;",
        "{": "#123;",
        "}": "#125;",
        "[": "#91;",
        "]": "#93;",
    }
)
_GRAPH_PRIORITY = {a: i for i, a in enumerate(COLUMNS)}
_CLASSES = {
    Action.CANCEL: "cancel",
    Action.BLOCKED: "blocked",
    Action.MANUAL: "manual",
    Action.DRIFT: "review",
    Action.MISSING: "review",
    Action.AMBIGUOUS: "review",
    Action.UNMANAGED: "review",
    Action.UNVERIFIABLE: "review",
    Action.KEEP: "keep",
}
_CLASS_DEFS = (
    "classDef account fill:#ffffff,stroke:#1f2328,stroke-width:2px,color:#1f2328",
    "classDef cancel fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#82071e",
    "classDef blocked fill:#ffeff7,stroke:#bf3989,stroke-width:3px,color:#772057",
    "classDef manual fill:#ddf4ff,stroke:#0969da,stroke-width:2px,color:#0a3069",
    "classDef review fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#4d2d00",
    "classDef keep fill:#f6f8fa,stroke:#d0d7de,color:#57606a",
    "classDef more fill:#ffffff,stroke:#d0d7de,stroke-dasharray:4 3,color:#57606a",
)


def _mermaid_label(text: object, width: int = 40) -> str:
    """A label that stays inside its quotes: every character Mermaid or HTML could read as
    syntax becomes a Mermaid entity code."""
    label = flat(text)
    if len(label) > width:
        label = label[: width - 1] + "…"
    return label.translate(_MERMAID_CHARS)


def _mermaid_id(prefix: str, name: str, used: set[str]) -> str:
    base = prefix + re.sub(r"[^A-Za-z0-9]", "_", name)[:40]
    ident, n = base, 2
    while ident in used:
        ident, n = f"{base}_{n}", n + 1
    used.add(ident)
    return ident


def mermaid(plan: Plan, lang: str, cap: int = GRAPH_CAP) -> list[str]:
    """``flowchart LR`` lines: one node per account, one per binding (at most ``cap``, the
    actionable ones first), cancels red, blocked magenta; the rest of an account folds into an
    "and N more" node."""
    if not plan.actions:
        return []
    used: set[str] = set()
    lines = ["flowchart LR"]
    providers: dict[str, str] = {}
    for action in plan.actions:  # each account's provider in one pass, not a scan per account
        providers.setdefault(action.account, action.provider)
    accounts = sorted(providers)
    account_ids = {}
    for account in accounts:
        ident = _mermaid_id("acc_", account, used)
        account_ids[account] = ident
        provider = providers[account]
        lines.append(f'  {ident}(["{_mermaid_label(account)}<br/><small>{_mermaid_label(provider)}</small>"])')
        lines.append(f"  class {ident} account")
    ranked = sorted(enumerate(plan.actions), key=lambda p: (_GRAPH_PRIORITY[p[1].action], p[0]))
    shown = {index for index, _ in ranked[:cap]}
    hidden: Counter[str] = Counter()
    for index, action in enumerate(plan.actions):
        if index not in shown:
            hidden[action.account] += 1
            continue
        ident = f"b{index + 1}"
        mark = {"cancel": "✂ ", "blocked": "⛔ "}.get(_CLASSES[action.action], "")
        label = _mermaid_label(action.name or action.integration or action.live_id or action.address)
        kind = _mermaid_label(f"{t(f'kind.{action.kind.value}', lang)} · {t(f'action.{action.action.value}', lang)}")
        lines.append(f'  {ident}["{mark}{label}<br/><small>{kind}</small>"]')
        arrow = "==>" if action.action is Action.CANCEL else "-.->" if action.action is Action.BLOCKED else "---"
        lines.append(f"  {account_ids[action.account]} {arrow} {ident}")
        lines.append(f"  class {ident} {_CLASSES[action.action]}")
    for account, count in sorted(hidden.items()):
        ident = _mermaid_id("more_", account, used)
        lines.append(f'  {ident}["{_mermaid_label(t("md.graph.more", lang, count=f"{count:,}"))}"]')
        lines.append(f"  {account_ids[account]} -.- {ident}")
        lines.append(f"  class {ident} more")
    lines.extend("  " + c for c in _CLASS_DEFS)
    return lines

