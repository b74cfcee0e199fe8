"""The ``tether`` command: the app, its global options, and one thin module per command.

Each command module parses its options, calls the engine (``engine.operations`` for the flows
with more than one step), prints, and returns an exit code; ``engine.cli.common`` says which codes.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Annotated

import typer

from engine import __version__
from engine.cli import apply, audit, backups, init, plan, providers, sandbox, show, state, unlock, validate
from engine.cli import importing as import_cmd

app = typer.Typer(
    name="tether",
    help=(
        "Declare which integrations your store should have (carriers, paid subscriptions, apps, "
        "webhooks); tether compares them with what is live at each provider, plans, and cancels "
        "the rest safely: backup first, then cancel, then verify.\n\n"
        "Typical flow: tether init, edit tether.yaml, tether plan, tether apply. On a store that "
        "already has bindings: tether plan, then tether import --all, and review tether.d/imported.yaml."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class LogFormat(str, Enum):
    console = "console"
    json = "json"


def _print_version(asked: bool) -> None:
    # Eager: it answers while the options are read, before a missing command is an error.
    if asked:
        print(f"tether {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    log_format: Annotated[
        LogFormat | None, typer.Option("--log-format", help="Logs on stderr: console, or json (default in CI).")
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "warning",
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    from engine.logs import configure
    from providers.http import REDACTOR

    configure(log_level, log_format.value if log_format else None, REDACTOR)


app.command(epilog=init.EPILOG)(init.init)
app.command()(validate.validate)
app.command(epilog=plan.EPILOG)(plan.plan)
app.command(epilog=apply.EPILOG)(apply.apply)
app.command()(show.show)
app.command(epilog=audit.EPILOG)(audit.audit)
app.command("import", epilog=import_cmd.EPILOG)(import_cmd.import_bindings)
app.add_typer(state.state_app, name="state")
app.add_typer(backups.backups_app, name="backups")
app.command("force-unlock")(unlock.force_unlock)
app.add_typer(sandbox.sandbox_app, name="sandbox")
app.command("providers", epilog=providers.EPILOG)(providers.providers_cmd)


def main() -> None:
    """The ``tether`` console script. The process then ends as any Python program does; only a
    reader that went away (``tether plan | head``) is handled, quietly with status 1."""
    try:
        app()
    except SystemExit as stop:
        _flush_stdout(stop)
        raise


def _flush_stdout(stop: SystemExit) -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's own last flush does not fail again
        os.close(devnull)
        if not stop.code:
            stop.code = 1
