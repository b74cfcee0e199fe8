"""``tether sandbox serve``: the local emulator of every provider's API."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.common import guard

sandbox_app = typer.Typer(help="Run the local emulator of the providers' APIs.", no_args_is_help=True)


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8787,
    scenario: Annotated[str, typer.Option("--scenario", help="demo, or a scenario YAML file.")] = "demo",
    latency_ms: Annotated[int, typer.Option("--latency-ms", min=0, help="Added to every answer.")] = 0,
    error_rate: Annotated[
        float, typer.Option("--error-rate", min=0.0, max=1.0, help="Share of requests answered 503.")
    ] = 0.0,
    host: Annotated[str, typer.Option("--host", help="Loopback address to bind.")] = "127.0.0.1",
) -> None:
    """Serve emulators of the Shopify, Amazon SP-API, eBay, Stripe and generic vendor APIs over
    real HTTP on loopback, so plan and apply can run without touching a real store."""

    def body() -> int:
        from providers.sandbox import main_serve

        main_serve(port=port, scenario=scenario, latency_ms=latency_ms, error_rate=error_rate, host=host)
        return 0

    guard("en", body)
