"""``tether init``: a starter tether.yaml (or a bundled example), .tether/ and its .gitignore."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engine.errors import TetherError
from engine.workspace import GITIGNORE

STARTER = """\
version: 1

# Accounts: one per store or provider credential. Secrets are never written here: use
# "${env:NAME}" or "${file:path}".
accounts:
  my-shop:
    provider: shopify
    options: {shop: my-shop.myshopify.com, api_version: "2024-01"}
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


def schema_comment() -> str:
    path = resources.files("schemas").joinpath("config.schema.json")
    return f"# yaml-language-server: $schema={path}\n"


def example_text(name: str) -> str:
    source = resources.files("engine").joinpath("examples", f"{name}.yaml")
    if not source.is_file():
        raise TetherError(f"there is no example called {name!r}; try --example demo")
    return source.read_text(encoding="utf-8")


def write_init(directory: Path, example: str | None, force: bool) -> list[str]:
    directory = Path(directory)
    target = directory / "tether.yaml"
    if target.exists() and not force:
        raise TetherError(f"{target} already exists; pass --force to overwrite it")
    body = example_text(example) if example else STARTER
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(schema_comment() + body, encoding="utf-8")
    dot = directory / ".tether"
    dot.mkdir(exist_ok=True)
    (dot / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    lines = [f"Wrote {target}, {dot}/ and {dot / '.gitignore'}."]
    if example == "demo":
        lines.append("The demo talks to the sandbox. Start it with `tether sandbox serve`, then set:")
        lines.extend(f"  export {k}='{v}'" for k, v in DEMO_ENV.items())
        lines.append("and run `tether plan`.")
    else:
        lines.append("Edit tether.yaml, then run `tether validate` and `tether plan`.")
    return lines
