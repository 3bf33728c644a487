"""The `memvault` command line: a thin layer over the Vault API (one module per command group,
imported when one of its commands runs: see `memvault.cli.app.COMMANDS`)."""

from __future__ import annotations

import sys

from rich.markup import escape

from memvault.cli.app import app, err_console
from memvault.errors import MemvaultError


def main() -> None:
    """Entry point: run the app; memvault errors become one clear line and an exit status."""
    try:
        app()
    except MemvaultError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
