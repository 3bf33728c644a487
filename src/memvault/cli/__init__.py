"""The `memvault` command line: a thin layer over the Vault API (one module per command group)."""

from __future__ import annotations

import sys

from memvault.cli import affect, core, keys, patterns, prune, serve, tasks, tools  # noqa: F401
from memvault.cli import search as _search  # noqa: F401  (registers commands)
from memvault.cli import imports as _imports  # noqa: F401  (registers commands)
from memvault.cli import transfer as _transfer  # noqa: F401  (registers commands)
from memvault.cli import verify as _verify  # noqa: F401  (registers commands)
from memvault.cli import export as _export  # noqa: F401  (registers commands)
from memvault.cli.app import app, err_console
from memvault.errors import MemvaultError


def main() -> None:
    """Entry point: run the app; memvault errors become one clear line and an exit status."""
    try:
        app()
    except MemvaultError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
