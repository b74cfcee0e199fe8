"""``tether validate``: the configuration checked offline."""

from __future__ import annotations

from engine.cli.common import AllowEndpointOpt, ConfigOpt, LangOpt, guard, load, out, store_for, workspace
from engine.i18n import detect_lang


def validate(config: ConfigOpt = None, allow_endpoint: AllowEndpointOpt = None, lang: LangOpt = None) -> None:
    """Check tether.yaml offline: schema, references, where each credential may be sent, credential
    syntax. Exit 0 valid, 1 invalid (every problem listed with file:line and what to do)."""
    lang = detect_lang(lang)

    def body() -> int:
        from providers import registry

        ws = workspace(config)
        cfg = load(ws, allow_endpoint)
        if ws.state_path.is_file():  # an http vendor's host, pinned by an earlier apply (engine.endpoints)
            from engine.endpoints import require_pins

            require_pins(cfg, store_for(ws).read().hosts)
        for account in cfg.accounts.values():  # provider-specific options, still offline
            check = getattr(registry.provider_class(account.provider), "validate_account", None)
            if check is not None:
                check(account)
        out().print(
            f"{', '.join(str(f) for f in cfg.files)}: valid ({len(cfg.accounts)} accounts, "
            f"{len(cfg.integrations)} integrations, {len(cfg.ignore)} ignore rules)"
        )
        return 0

    guard(lang, body)
