"""Fitting a comment under GitHub's size limit (65,536 characters).

A comment is a list of ``Block``s. ``fit`` keeps the output under ``limit``, the truncation note
included: detail sections go first, then entries of the longest sections, and the note says what
was left out and how to see everything."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.i18n import t, tn


@dataclass
class Block:
    """One section of the comment: ``head``, ``items`` (cut from the end when space runs out),
    ``tail`` (a table's total row), the "and N more" line if items were cut, then ``close``.
    A ``detail`` block (a ``<details>``) is dropped whole before any list is cut."""

    title: str
    head: str = ""
    items: list[str] = field(default_factory=list)
    tail: str = ""
    close: str = ""
    detail: bool = False
    more_command: str = ""
    kept: int = -1
    dropped: bool = False
    count: int = -1  # the entries the list stands for, when only the first are written out
    _prefix: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.count < 0:
            self.count = len(self.items)
        if self.kept < 0:
            self.kept = len(self.items)
        total = 0
        self._prefix = [0]
        for item in self.items:
            total += len(item) + 1  # each item ends its line
            self._prefix.append(total)

    def more_line(self, lang: str, kept: int | None = None) -> str:
        hidden = self.count - (self.kept if kept is None else kept)
        if hidden <= 0:
            return ""
        return "\n" + tn("md.more", hidden, lang, command=self.more_command) + "\n"

    def render(self, lang: str) -> str:
        if self.dropped:
            return ""
        body = "".join(item + "\n" for item in self.items[: self.kept])
        return self.head + body + self.tail + self.more_line(lang) + self.close

    def size(self, lang: str, kept: int | None = None) -> int:
        """Characters it renders to, with ``kept`` items (default: as it stands)."""
        if self.dropped:
            return 0
        kept = self.kept if kept is None else kept
        return len(self.head) + self._prefix[kept] + len(self.tail) + len(self.more_line(lang, kept)) + len(self.close)

    def keep_within(self, cap: int, lang: str) -> None:
        """Keep as many items as fit in ``cap`` characters (by bisection: the size grows with
        the items kept), at least none."""
        low, high = 0, len(self.items)
        while low < high:
            middle = (low + high + 1) // 2
            if self.size(lang, middle) <= cap:
                low = middle
            else:
                high = middle - 1
        self.kept = low


def note_line(blocks: list[Block], lang: str, limit: int, command: str) -> str:
    left_out = []
    for block in blocks:
        if block.dropped:
            left_out.append(t("md.truncated.section", lang, section=block.title))
        elif block.kept < block.count:
            left_out.append(
                t(
                    "md.truncated.items",
                    lang,
                    hidden=f"{block.count - block.kept:,}",
                    total=f"{block.count:,}",
                    section=block.title,
                )
            )
    if not left_out:
        return ""
    what = ("、" if lang == "zh" else "; ").join(left_out)
    return "> ⚠️ " + t("md.truncated", lang, limit=f"{limit:,}", what=what, command=command) + "\n"


def join_blocks(blocks: list[Block], note: str, lang: str) -> str:
    """Marker and verdict block first, then the truncation note, then the rest."""
    parts = [blocks[0].render(lang)]
    if note:
        parts.append(note)
    parts.extend(b.render(lang) for b in blocks[1:])
    return "\n".join(p for p in parts if p)


def fit(blocks: list[Block], lang: str, limit: int, command: str) -> str:
    """Everything, or as much as fits in ``limit`` characters with a note saying what is left
    out: detail blocks are dropped from the last one up, then the longest lists lose entries
    from their ends, down to the largest common size at which the whole fits."""

    def total() -> int:
        shown = [b for b in blocks if not b.dropped and b.size(lang)]
        joins = len(shown) + (1 if note else 0) - 1
        return sum(b.size(lang) for b in shown) + len(note) + max(joins, 0)

    note = ""
    if total() <= limit:
        return join_blocks(blocks, note, lang)
    for block in reversed(blocks[1:]):
        if total() <= limit:
            break
        if block.detail:
            block.dropped = True
            note = note_line(blocks, lang, limit, command)
    if total() > limit:
        # Cutting the longest list by one entry until everything fits levels the longest lists
        # down to one size, the largest that fits. That size is found by bisection: cut every
        # list to at most ``cap`` characters, see whether the whole fits. One entry at a time
        # was a loop of tens of thousands of rounds for a plan of 100,000 actions.
        lists = [b for b in blocks[1:] if not b.dropped and b.items]

        def fits(cap: int) -> bool:
            nonlocal note
            for block in lists:
                block.keep_within(cap, lang)
            note = note_line(blocks, lang, limit, command)
            return total() <= limit

        low, high = 0, max((b.size(lang, len(b.items)) for b in lists), default=0)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(middle):
                low = middle
            else:
                high = middle - 1
        fits(low)
    text = join_blocks(blocks, note, lang)
    if len(text) > limit:  # only a header larger than the limit itself gets here
        cut = "\n\n> ⚠️ " + t("md.truncated", lang, limit=f"{limit:,}", what=t("md.truncated.tail", lang), command=command) + "\n"
        keep = max(0, limit - len(cut))
        head = text[:keep]
        head = head[: head.rfind("\n") + 1] if "\n" in head else ""
        text = (head + cut)[:limit]  # a limit smaller than the note itself still holds
    return text

