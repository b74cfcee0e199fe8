"""Renderers: pure functions of a plan (or state, or apply result) to text or Markdown.

Nothing here does I/O or looks at the terminal; the CLI decides where the text goes and whether
it is coloured (``rich.text.Text`` carries styles that a plain stream simply drops).

- ``text``: the Terraform-like plan and apply output for a terminal;
- ``markdown``: the pull-request and audit comment (a package: escaping, size fitting, Mermaid,
  summary, sections, details);
- ``facts``: what both read of a plan beyond its actions' fields (reasons rendered from their
  codes, listing gaps, credential hosts, scheduled cancels, the unmanaged summary).

Every sentence comes from a catalog key or a reason code (``engine.i18n``); JSON output stays
language-neutral and is written by ``engine.planfile``.
"""
