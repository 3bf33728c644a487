"""The `memvault` command line: a thin layer over the Vault API (one module per command group)."""

from __future__ import annotations

import sys
from importlib import import_module

from memvault.cli.app import app, err_console
from memvault.errors import MemvaultError

# Command groups, imported for their side effect of registering commands, in the order
# `memvault --help` lists them: the store first, then data in and out, then the domains.
GROUPS = (
    "core", "search", "imports", "transfer", "export", "verify",
    "affect", "patterns", "tools", "tasks", "prune", "keys", "serve",
)  # fmt: skip
for _group in GROUPS:
    import_module(f"memvault.cli.{_group}")


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
