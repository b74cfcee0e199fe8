"""The ``tether`` command line: ``main`` parses and dispatches (``engine.cli.main``); one thin
module per command or group; the flows behind them are in ``engine.operations``."""

from engine.cli.main import app, main

__all__ = ["app", "main"]
