"""``python -m providers.sandbox``: serve the sandbox, as ``tether sandbox serve`` does, with the
options only a benchmark needs (``--origins``, ``--addresses``)."""

from __future__ import annotations

import argparse

from providers.sandbox.process import main_serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m providers.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--scenario", default="demo", help="'demo' or a scenario file (YAML or JSON)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--origins", type=int, default=1, help="listen on this many loopback addresses")
    parser.add_argument(
        "--addresses",
        default="",
        help="comma-separated loopback addresses to listen on instead of --origins (one process's share)",
    )
    args = parser.parse_args(argv)
    main_serve(
        args.port, args.scenario, args.latency_ms, args.error_rate, args.host, seed=args.seed, origins=args.origins,
        addresses=args.addresses.split(",") if args.addresses else (),
    )


if __name__ == "__main__":
    main()
