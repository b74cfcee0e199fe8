"""What every command shares: its options, printing, and the guard that turns errors into one
clear message and an exit code.

Exit codes follow Terraform: 0 success; 1 error (bad input, refused, a cancel failed or stayed
blocked, a plan that is incomplete); 2 from ``plan --detailed-exitcode`` when apply would change
something, and from ``audit`` when anything needs a look; 3 an internal error (a bug: please report
it); 130 Ctrl-C.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import structlog
import typer
from rich.console import Console
from rich.text import Text

from engine import __version__
from engine.errors import USER_ERRORS
from engine.i18n import t
from providers.http import DEFAULT_PARALLELISM

if TYPE_CHECKING:
    from engine.model import Config
    from engine.plan import Plan
    from engine.workspace import Workspace
    from states.local import LocalStateStore
    from states.model import State

log = structlog.get_logger("tether.cli")

__all__ = [
    "DEFAULT_PARALLELISM",
    "DEFAULT_TIMEOUT",
    "Format",
    "err",
    "examples",
    "fail",
    "guard",
    "interactive",
    "load",
    "out",
    "parse_duration",
    "print_text",
    "render",
    "store_for",
    "workspace",
    "write_bytes",
]


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


ConfigOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="tether.yaml to read (repeat for more files). Default: ./tether.yaml plus ./tether.d/*.yaml.",
    ),
]
StateOpt = Annotated[Path | None, typer.Option("--state", help="State file. Default: .tether/state.json beside tether.yaml.")]
BackupOpt = Annotated[Path | None, typer.Option("--backup-dir", help="Backup directory. Default: .tether/backups.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="Language of human output: en or zh (or set TETHER_LANG).")]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="text for people, json for machines, markdown for pull requests.")
]
TargetOpt = Annotated[list[str] | None, typer.Option("--target", metavar="NAME", help="Plan only this integration (repeatable).")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", metavar="NAME", help="Leave this integration out (repeatable).")]
FeesOpt = Annotated[
    bool, typer.Option("--accept-fees", help="Allow cancels whose early-termination fee exceeds defaults.max_fee.")
]
MassOpt = Annotated[
    bool,
    typer.Option("--allow-mass-cancel", help="Lift the mass-cancel guards (max_cancels, all of an account, empty listings)."),
]
ParallelOpt = Annotated[
    int,
    typer.Option(
        "--parallelism",
        min=1,
        max=256,
        help="Requests in flight at once, across all providers (each vendor's own rate limits still apply).",
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show every binding in full: kept ones, and every unmanaged one.")
]
TimeoutOpt = Annotated[
    str,
    typer.Option(
        "--timeout",
        metavar="DURATION",
        help="Deadline of the whole run (90s, 15m, 1h). What is not listed by then is reported incomplete; "
        "apply starts no new cancel after it.",
    ),
]
AllowEndpointOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-endpoint",
        metavar="HOST",
        help="Allow a credential to be sent to this host besides its vendor's own (repeatable; "
        "or TETHER_ALLOW_ENDPOINTS). Never taken from tether.yaml, so a pull request cannot add one.",
    ),
]
DEFAULT_TIMEOUT = "15m"  # engine.runner.DEFAULT_TIMEOUT_S, as a person writes it (not imported: plan and apply
# only need the runner once they run, and ``tether --version`` or ``validate`` not at all)


def examples(*lines: str) -> str:
    """An epilog of examples; the \\b line keeps click from re-wrapping it."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def interactive() -> bool:
    """Whether a person can answer the confirmation prompt."""
    return sys.stdin.isatty()


# Every string tether prints may hold data it did not write (addresses with a vendor's id in
# brackets, names, messages): rich must print it as it is, never read it as markup or emoji
# codes. "legacy-erp-cloud[sub_1LegacyERP]" was printed as "legacy-erp-cloud".


def out() -> Console:
    return Console(file=sys.stdout, soft_wrap=True, highlight=False, markup=False, emoji=False)


def err() -> Console:
    return Console(file=sys.stderr, soft_wrap=True, highlight=False, markup=False, emoji=False)


def print_text(text: Text) -> None:
    """A long report to stdout: through rich where it has colours to show, as its plain text
    where it has none (a pipe, a file, CI, NO_COLOR). Rich renders text span by span, which for
    the plan of 500 shops (139,000 actions, 19 MB) took seven seconds to print what is, without
    colours, exactly ``text.plain``."""
    console = out()
    if console.color_system is None:
        sys.stdout.write(text.plain)
    else:
        console.print(text, end="")


def write_bytes(data: bytes) -> None:
    """UTF-8 bytes to stdout as they are (a large plan is not decoded only to be encoded again)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's capture)
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)
        buffer.flush()


def fail(message: str, lang: str, code: int = 1) -> NoReturn:
    err().print(Text(t("plan.label", lang, label=t("error", lang)), style="bold red") + Text(message))
    raise typer.Exit(code)


def guard(lang: str, body: Callable[[], int]) -> NoReturn:
    """Run a command body; turn every known error into one clear message and an exit code."""
    try:
        code = body()
    except typer.Exit:
        raise
    except USER_ERRORS as exc:
        fail(str(exc), lang, getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        err().print("Interrupted.")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # Whoever read stdout has gone (`tether plan | head`), while tether wrote it itself
        # (print_text): stop as rich does for what it prints, quietly with status 1, stdout sent
        # to /dev/null so the exit's flush does not fail again.
        out().on_broken_pipe()
    except Exception as exc:  # a bug: keep the traceback in the log, not in the user's face
        log.exception("internal_error", error=repr(exc))
        fail(
            f"internal error ({type(exc).__name__}: {exc}). This is a bug in tether {__version__}; "
            "please report it with the log above (--log-level debug).",
            lang,
            3,
        )
    raise typer.Exit(code)


def parse_duration(text: str, *, default_unit: str = "h") -> float:
    """Seconds in ``90s``, ``15m``, ``24h`` or ``2d``; a bare number is in ``default_unit``."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    text = text.strip()
    try:
        if text and text[-1] in units:
            value = float(text[:-1]) * units[text[-1]]
        else:
            value = float(text) * units[default_unit]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 15m, 24h or 2d") from None
    if value <= 0 or value != value or value == float("inf"):
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 15m, 24h or 2d") from None
    return value


def workspace(config: list[Path] | None, state: Path | None = None, backup_dir: Path | None = None) -> Workspace:
    from engine.workspace import Workspace

    return Workspace.from_options(config, state, backup_dir)


def load(ws: Workspace, allow_endpoint: list[str] | None = None) -> Config:
    from engine.operations.loading import allowed_hosts, load_workspace_config

    config = load_workspace_config(ws, allowed_hosts(allow_endpoint or ()))
    # The configuration lives until the command ends: moved out of the collector's generations,
    # the collections that the refresh and the plan set off no longer walk it each time.
    gc.freeze()
    return config


def store_for(ws: Workspace) -> LocalStateStore:
    from states.local import LocalStateStore

    return LocalStateStore(ws.state_path)


def render(plan: Plan, fmt: Format, lang: str, state: State, *, audit: bool = False, verbose: bool = False) -> None:
    """A plan to stdout in the chosen format."""
    started, cpu = time.monotonic(), time.process_time()
    changes = [] if audit else plan.state_changes(state)
    if fmt is Format.json:
        from engine.planfile import dump_bytes

        write_bytes(dump_bytes(plan))
    elif fmt is Format.markdown:
        from engine.render.markdown import render_markdown

        sys.stdout.write(render_markdown(plan, lang, state_changes=changes, audit=audit))
    else:
        from engine.render.text import render_plan

        print_text(render_plan(plan, lang, state_changes=changes, audit=audit, verbose=verbose))
    log.info(
        "output.written",
        format=fmt.value,
        seconds=round(time.monotonic() - started, 3),
        cpu_s=round(time.process_time() - cpu, 3),
    )
