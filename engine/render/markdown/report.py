"""One comment being built: the plan, the language, and the helpers every section shares (the
line of one binding, a list section, a table heading, a folded details block)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from engine.i18n import t, word
from engine.model import Action
from engine.plan import Plan, PlannedAction
from engine.render import facts
from engine.render.markdown import details, sections, summary
from engine.render.markdown.escaping import code, esc, html_text
from engine.render.markdown.fitting import Block
from engine.render.markdown.words import cancel_at, count, datasets, missing_rights, sep, subject

T = TypeVar("T")


class Report:
    """Builds the blocks of one comment; each section function returns one ``Block`` (or None
    if it has nothing to say)."""

    def __init__(
        self, plan: Plan, lang: str, state_changes: list[str], audit: bool, limit: int, verbose: bool = False
    ) -> None:
        self.plan = plan
        self.lang = lang
        self.limit = limit
        self.state_changes = state_changes
        self.audit = audit
        self.verbose = verbose
        self.command = t("md.command.audit" if audit else "md.command.plan", lang)
        self.by_action: dict[Action, list[PlannedAction]] = {a: [] for a in Action}
        for action in plan.actions:
            self.by_action[action.action].append(action)
        self.expired = facts.expired(plan)

    def line(self, action: PlannedAction, verb: str, *, fee: bool = True) -> str:
        """'**Cancels** carrier service **DPD Rates** on **shop-eu** — declared absent · backup:
        binding + orders · `dpd-rates`': what, where, why, what is saved, what it costs, and the
        integration that decided it (its full address is in the steps details)."""
        lang = self.lang
        extras = [esc(facts.reason_text(action, lang))]
        app = getattr(action, "app", None)
        if app:
            extras.append(f"{t('md.label.app', lang)}{sep(lang)}{esc(app)}")
        if action.datasets:
            extras.append(f"{t('md.label.backup', lang)}{sep(lang)}{datasets(action.datasets, lang)}")
        if fee and action.fee is not None and action.fee.amount > 0:
            extras.append(f"{t('md.label.fee', lang)}{sep(lang)}**{esc(action.fee)}**")
        when = cancel_at(action)
        if when and action.action in (Action.CANCEL, Action.BLOCKED):
            extras.append(t("md.label.ends", lang, when=t(f"cancel_at.{when}", lang)))
        sides = list(action.sides)
        if sides and sides != ["platform"]:
            extras.append(t("md.label.sides", lang, sides=" + ".join(esc(word("side", s, lang)) for s in sides)))
        missing = missing_rights(action)
        if missing and action.action is Action.CANCEL:
            extras.append("⚠️ " + t("md.label.rights_missing", lang, rights=", ".join(code(r) for r in missing)))
        if action.integration is None:
            extras.append(code(action.address))  # what an ignore rule or a declaration needs
        elif action.name:
            extras.append(code(action.integration))
        return f"- **{verb}** {subject(action, lang)} — " + " · ".join(extras)

    def upto_limit(self, things: Sequence[T], line: Callable[[T], str]) -> list[str]:
        """The lines of ``things``, written out only as far as a comment could ever show: once
        they fill the character limit the rest would be cut anyway (the block's ``count`` still
        says how many there are). A plan of 100,000 unmanaged bindings is not formatted whole
        for the first few hundred lines a pull request can hold."""
        lines: list[str] = []
        length = 0
        for thing in things:
            if length > self.limit:
                break
            text = line(thing)
            lines.append(text)
            length += len(text) + 1
        return lines

    def list_block(self, key: str, icon: str, total: int, lines: list[str], head_extra: str = "") -> Block | None:
        if not lines:
            return None
        title = t(key, self.lang)
        head = f"#### {icon} {title}{count(total, self.lang)}\n\n{head_extra}"
        return Block(title=title, head=head, items=lines, more_command=self.command, count=total)

    def table_head(self, key: str, icon: str, total: int, columns: tuple[str, ...], aligns: str) -> tuple[str, str]:
        """A section's title and its heading plus table header (``aligns``: the separator row)."""
        title = t(key, self.lang)
        head = f"#### {icon} {title}{count(total, self.lang)}\n\n"
        head += "| " + " | ".join(t(k, self.lang) for k in columns) + f" |\n{aligns}\n"
        return title, head

    def details(self, summary: str, body_head: str, items: list[str], body_tail: str = "", count: int = -1) -> Block:
        head = f"<details>\n<summary>{html_text(summary)}</summary>\n\n{body_head}"
        return Block(
            title=summary,
            head=head,
            items=items,
            tail=body_tail,
            close="\n</details>\n",
            detail=True,
            more_command=self.command,
            count=count,
        )

    def blocks(self) -> list[Block]:
        ordered = [
            summary.header(self),
            sections.problems(self),
            sections.cancels(self),
            sections.blocked(self),
            sections.manual(self),
            sections.unverifiable(self),
            summary.table(self),
            sections.fees(self),
            sections.drift(self),
            sections.scheduled(self),
            sections.review(self),
            sections.notes(self),
            # details, in the order they are dropped last-first when space runs out
            details.messages(self),
            details.steps(self),
            details.graph(self),
            details.state(self),
            details.kept(self),
        ]
        blocks = [b for b in ordered if b is not None]
        return blocks + [summary.footer(self)]
