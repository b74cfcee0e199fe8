"""``tether providers [--detail]``: what is installed, what each can do, and who can see and
cancel what at each vendor (the rows each provider declares in ``capabilities.authority``, with
the vendor's page that says so)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli.common import Format, FormatOpt, examples, guard, out

if TYPE_CHECKING:
    from providers.sdk import Authority, Capabilities

EPILOG = examples(
    "tether providers",
    "tether providers --detail                    # who can see and cancel what, with sources",
    "tether providers --detail --format markdown  # the same as a Markdown table",
)


def _summary(name: str, caps: Capabilities) -> str:
    kinds = ", ".join(sorted(k.value for k in caps.kinds))
    datasets = ", ".join(["binding", *sorted(caps.datasets)])
    extra = " (manual runbooks only)" if caps.manual_only else ""
    return (
        f"{name}: kinds {kinds}; backup {datasets}; sides {', '.join(caps.sides)}; "
        f"verify {'yes' if caps.verify else 'no'}{extra}"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row_json(name: str, row: Authority) -> dict[str, str]:
    return {
        "provider": name,
        "resource": row.resource,
        "kind": row.kind.value,
        "who_sees": row.who_sees,
        "who_cancels": row.who_cancels,
        "otherwise": row.otherwise,
        "source": row.source,
    }


def installed() -> list[tuple[str, Capabilities | str]]:
    """Every installed provider with its capabilities, or why it cannot be loaded."""
    from engine.errors import ConfigError
    from providers import registry

    found: list[tuple[str, Capabilities | str]] = []
    for name in registry.names():
        try:
            found.append((name, registry.provider_class(name).capabilities))
        except ConfigError as exc:
            found.append((name, f"unavailable ({exc})"))
    return found


def providers_cmd(
    detail: Annotated[
        bool,
        typer.Option(
            "--detail",
            help="Also print, per resource, who can see it, who can cancel it by API, the real way otherwise, "
            "and the vendor's page that says so.",
        ),
    ] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """List installed providers and what each can do (kinds, backup datasets, sides, verify)."""

    def body() -> int:
        found = installed()
        if fmt is Format.json:
            doc = [
                {"provider": name, "unavailable": caps}
                if isinstance(caps, str)
                else {
                    "provider": name,
                    "kinds": sorted(k.value for k in caps.kinds),
                    "datasets": ["binding", *sorted(caps.datasets)],
                    "sides": list(caps.sides),
                    "verify": caps.verify,
                    "manual_only": caps.manual_only,
                    **({"authority": [_row_json(name, row) for row in caps.authority]} if detail else {}),
                }
                for name, caps in found
            ]
            sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            return 0
        console = out()
        if fmt is Format.markdown:
            for name, caps in found:
                console.print(f"- {name}: {caps}" if isinstance(caps, str) else f"- {_summary(name, caps)}")
            if detail:
                console.print("\n| provider | resource | kind | who sees it | who can cancel it by API | otherwise | source |")
                console.print("|---|---|---|---|---|---|---|")
                for name, caps in found:
                    for row in () if isinstance(caps, str) else caps.authority:
                        cells = (name, row.resource, row.kind.value, row.who_sees, row.who_cancels, row.otherwise)
                        console.print("| " + " | ".join(_cell(c) for c in cells) + f" | <{row.source}> |")
            return 0
        for name, caps in found:
            if isinstance(caps, str):
                console.print(f"{name}: {caps}")
                continue
            console.print(_summary(name, caps))
            if not detail:
                continue
            if not caps.authority:
                console.print("  (this provider declares no visibility or authority rows)")
            for row in caps.authority:
                console.print(f"  {row.resource} ({row.kind.value})")
                console.print(f"    who sees it:     {row.who_sees}")
                console.print(f"    who cancels it:  {row.who_cancels}")
                console.print(f"    otherwise:       {row.otherwise}")
                console.print(f"    source:          {row.source}")
        return 0

    guard("en", body)
