"""``bosetting``: the command line of every process and of the demo, assembled from one
module per group of commands."""

import logging
import os
import sys

import typer

from workers.cli import cases, dev, figures, operations, parts, places, simulation
from workers.cli.common import console
from workers.platform.settings import CannotStart

app = typer.Typer(
    help="Bosetting: settlement cases on Temporal and Kafka, with exact waiting-time figures.",
    no_args_is_help=True,
)
for module in (parts, operations, dev, cases, places, figures, simulation):
    app.add_typer(module.app)


def main() -> None:
    """The console entry point. It ends the process with ``os._exit`` once the command is
    done and its output flushed: the Temporal client's Rust threads can abort an interpreter
    that is finalizing ("PyGILState_Release: thread state must be current", a known issue of
    short-lived client processes, temporalio/sdk-python#300)."""
    # Everything a Bosetting process writes (the state folder, its databases, keys and logs,
    # and what the embedded Temporal and broker write there) is for this user alone: the
    # register and Temporal's store hold birth dates.
    os.umask(0o077)
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CannotStart as exc:  # the operator's to fix: one line, no traceback
        console.print(f"[red]error:[/] {exc}")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
