"""``tether init``: a starter tether.yaml (or a bundled example), .tether/ and its .gitignore, and
a copy of the schema of tether.yaml that editors find through the file's first line.

The schema link must resolve on every machine that checks the repository out: an absolute path of
the machine that ran ``init`` breaks for every teammate and in CI. So the schema is copied into the
repository (``.tether/config.schema.json``, kept in git by ``.tether/.gitignore``) and named by a
path relative to the file (``.tether/config.schema.json`` from tether.yaml, ``../.tether/...``
from ``tether.d/*.yaml``). ``tether init --schema-only`` refreshes the copy after an upgrade.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from engine.config import SCHEMA_URL_COMMENT, schema_comment
from engine.errors import TetherError
from engine.workspace import GITIGNORE

__all__ = ["DEMO_ENV", "SCHEMA_COPY", "STARTER", "example_text", "link_line", "refresh_schema", "write_init"]

SCHEMA_COPY = Path(".tether") / "config.schema.json"
"""Where the schema is copied, relative to the directory of tether.yaml."""

STARTER = """\
version: 1

# Accounts: one per store or provider credential. Secrets are never written here: use
# "${env:NAME}" or "${file:path}".
accounts:
  my-shop:
    provider: shopify
    options: {shop: my-shop.myshopify.com, api_version: "2026-10"}
    credentials:
      access_token: "${env:SHOPIFY_TOKEN}"

defaults:
  undeclared: report        # cancel | report | ignore: live bindings no integration matches
  max_fee: "0.00 EUR"       # a cancel with a higher early-termination fee is blocked
  cancel_at: period_end     # period_end | now (subscriptions)
  max_cancels: 20           # a plan cancelling more is refused unless --allow-mass-cancel

# Integrations: what should (ensure: present) or should not (ensure: absent) be bound.
integrations:
  main-carrier:
    account: my-shop
    kind: carrier           # carrier | subscription | app | webhook
    match: {name: "DPD Rates"}
    ensure: present
"""

DEMO_ENV = {
    "DEMO_SHOPIFY_TOKEN": "shpat_demo_admin",
    "DEMO_LWA_CLIENT_ID": "amzn1.application-oa2-client.demo",
    "DEMO_LWA_CLIENT_SECRET": "demo-secret",
    "DEMO_LWA_REFRESH_TOKEN": "Atzr|demo",
    "DEMO_EBAY_TOKEN": "v^1.1#demo",
    "DEMO_STRIPE_KEY": "sk_test_demo",
    "DEMO_SHIPCLOUD_TOKEN": "demo-token",
}


def link_line(yaml_file: Path, root: Path) -> str:
    """The schema comment for ``yaml_file``, pointing at the copy under ``root`` relatively."""
    relative = os.path.relpath(root / SCHEMA_COPY, Path(yaml_file).parent)
    return schema_comment(Path(relative).as_posix()) + "\n"


def example_text(name: str) -> str:
    source = resources.files("engine").joinpath("examples").joinpath(f"{name}.yaml")
    if not source.is_file():
        raise TetherError(f"there is no example called {name!r}; try --example demo")
    return source.read_text(encoding="utf-8")


def _copy_schema(directory: Path) -> Path:
    target = directory / SCHEMA_COPY
    target.parent.mkdir(parents=True, exist_ok=True)
    text = resources.files("schemas").joinpath("config.schema.json").read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    return target


def _gitignore(directory: Path) -> Path:
    path = directory / ".tether" / ".gitignore"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GITIGNORE, encoding="utf-8")
    return path


def write_init(directory: Path, example: str | None, force: bool) -> list[str]:
    directory = Path(directory)
    target = directory / "tether.yaml"
    if target.exists() and not force:
        raise TetherError(
            f"{target} already exists; pass --force to overwrite it, or --schema-only to refresh only the "
            "editor schema"
        )
    body = example_text(example) if example else STARTER
    directory.mkdir(parents=True, exist_ok=True)
    schema = _copy_schema(directory)
    target.write_text(link_line(target, directory) + body, encoding="utf-8")
    dot = directory / ".tether"
    _gitignore(directory)
    lines = [f"Wrote {target}, {dot}/, {dot / '.gitignore'} and {schema} (the schema editors read; keep it in git)."]
    if example == "demo":
        lines.append("The demo talks to the sandbox. Start it with `tether sandbox serve`, then set:")
        lines.extend(f"  export {k}='{v}'" for k, v in DEMO_ENV.items())
        lines.append("and run `tether plan`.")
    else:
        lines.append("Edit tether.yaml, then run `tether validate` and `tether plan`.")
    return lines


def refresh_schema(directory: Path) -> list[str]:
    """Copy this tether's schema over ``.tether/config.schema.json`` and point the first line of
    tether.yaml and tether.d/*.yaml at it, where that line is already a schema comment (an old
    absolute path is replaced; no other line is touched)."""
    directory = Path(directory)
    schema = _copy_schema(directory)
    ignore = directory / ".tether" / ".gitignore"
    if not ignore.exists():
        _gitignore(directory)
    else:
        kept = ignore.read_text(encoding="utf-8")
        if "!config.schema.json" not in kept.splitlines():  # an older .gitignore: keep it, add the line
            ignore.write_text(kept + ("" if kept.endswith("\n") or not kept else "\n") + "!config.schema.json\n")
    lines = [f"Wrote {schema} (the schema of this tether; keep it in git)."]
    files = [directory / "tether.yaml"]
    extra = directory / "tether.d"
    if extra.is_dir():
        files.extend(sorted(extra.glob("*.yaml")))
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        first, newline, rest = text.partition("\n")
        if not first.startswith(SCHEMA_URL_COMMENT):
            continue
        line = link_line(path, directory)
        if first + "\n" != line:
            path.write_text(line + (rest if newline else ""), encoding="utf-8")
            lines.append(f"Pointed {path} at it.")
    return lines
