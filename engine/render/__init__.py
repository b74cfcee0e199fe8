"""Renderers: pure functions of a plan (or state, or apply result) to text, JSON or Markdown.

Nothing here does I/O or looks at the terminal; the CLI decides where the text goes and whether
it is coloured (``rich.text.Text`` carries styles that a plain stream simply drops).
"""
