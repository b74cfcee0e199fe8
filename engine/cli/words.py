"""The lines only the CLI prints about its own flows (apply's gap, import, prune), in every
language ``engine.i18n`` speaks; everything else comes from ``engine.i18n``."""

from __future__ import annotations

from engine.i18n import t

EN = {
    "apply.incomplete": (
        "The plan was incomplete: nothing was decided for what could not be listed in full ({accounts}); "
        "see the plan's gaps, fix the listing, and plan again."
    ),
    "apply.nothing_incomplete": (
        "Nothing to apply of what was decided, but the plan is incomplete: {accounts} could not be listed "
        "in full, so the state is not known to match tether.yaml."
    ),
    "import.wrote": "Wrote {path}: {count} integration(s).",
    "import.next": "Review the file, then run `tether plan`: these bindings are now kept.",
    "import.outside": (
        "Note: {path} is not among the files tether reads by default (tether.yaml and tether.d/*.yaml); "
        "pass it with --config, or move it under tether.d/."
    ),
    "import.incomplete": (
        "Note: the listing was incomplete ({gaps}): bindings there could not be seen, so none of them was "
        "imported; run import again once they can be listed."
    ),
    "prune.none": "No backup to remove.",
    "prune.would": "would remove",
    "prune.will": "remove",
    "prune.confirm": "Remove these {count} backup(s)? Only 'yes' will be accepted",
    "prune.kept": "Nothing was removed.",
    "prune.done": "Removed {count} backup(s) from {path}.",
    "prune.no_tty": "backups prune removes files: run it in a terminal, or pass --yes (or --dry-run to look first).",
}

ZH = {
    "apply.incomplete": (
        "计划不完整：未能完整列出的部分（{accounts}）没有做出任何决定；请查看计划中的缺口，修复列表后重新生成计划。"
    ),
    "apply.nothing_incomplete": (
        "已决定的部分没有需要执行的内容，但计划不完整：{accounts} 未能完整列出，因此无法确认状态与 tether.yaml 一致。"
    ),
    "import.wrote": "已写入 {path}：{count} 个集成。",
    "import.next": "请审阅该文件，然后运行 `tether plan`：这些绑定现在会被保留。",
    "import.outside": (
        "注意：{path} 不在 tether 默认读取的文件中（tether.yaml 和 tether.d/*.yaml）；请用 --config 传入，或移到 tether.d/ 下。"
    ),
    "import.incomplete": "注意：列表不完整（{gaps}）：那里的绑定无法看到，因此都没有被导入；能够列出后请再次运行 import。",
    "prune.none": "没有需要删除的备份。",
    "prune.would": "将删除",
    "prune.will": "删除",
    "prune.confirm": "删除这 {count} 个备份？只接受输入 'yes'",
    "prune.kept": "没有删除任何内容。",
    "prune.done": "已从 {path} 删除 {count} 个备份。",
    "prune.no_tty": "backups prune 会删除文件：请在终端中运行，或传入 --yes（或先用 --dry-run 查看）。",
}

CATALOGS = {"en": EN, "zh": ZH}


def say(key: str, lang: str = "en", **fields: object) -> str:
    """The CLI's own line ``key`` in ``lang`` (English where a language lacks it); other keys
    are ``engine.i18n``'s."""
    template = CATALOGS.get(lang, EN).get(key) or EN.get(key)
    if template is None:
        return t(key, lang, **fields)
    return template.format(**fields) if fields else template
