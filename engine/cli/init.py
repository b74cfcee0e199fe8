"""``tether init``: a starter tether.yaml (or an example), .tether/, and the editor's schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli.common import LangOpt, examples, guard, out
from engine.i18n import detect_lang


def init(
    example: Annotated[
        str | None, typer.Option("--example", help="Write a ready-made example instead of a starter file: demo.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing tether.yaml.")] = False,
    schema_only: Annotated[
        bool,
        typer.Option(
            "--schema-only",
            help="Only refresh the editor schema (.tether/config.schema.json) after upgrading tether; "
            "tether.yaml is left as it is.",
        ),
    ] = False,
    directory: Annotated[Path, typer.Option("--dir", help="Where to write.")] = Path("."),
    lang: LangOpt = None,
) -> None:
    """Write tether.yaml, .tether/ and .tether/.gitignore, and copy the schema of tether.yaml into
    .tether/config.schema.json, which the first line of tether.yaml names by a relative path: editors
    that read yaml-language-server comments then complete and check the file on any machine.
    Re-run with --schema-only after upgrading tether to refresh that copy."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.scaffold import refresh_schema, write_init

        lines = refresh_schema(directory) if schema_only else write_init(directory, example, force)
        for line in lines:
            out().print(line)
        return 0

    guard(lang, body)


EPILOG = examples(
    "tether init",
    "tether init --example demo   # the bundled example that `make demo` runs",
    "tether init --schema-only    # after upgrading tether: refresh .tether/config.schema.json",
)
