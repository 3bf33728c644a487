"""The Typer application and what every command shares: --db, --json, output helpers."""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import orjson
import typer
from rich.console import Console

from memvault.vault import Vault

app = typer.Typer(
    name="memvault",
    help="memvault: an AI assistant's memory in SQLite or PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="MEMVAULT_URL",
        help="Store URL: sqlite:///path.db or postgresql://… (default ./memvault.db).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def open_vault(db: str | None, **options: Any) -> Vault:
    """Open the store named by --db (or the default)."""
    return Vault(db, **options)


def print_json(value: Any) -> None:
    """Write `value` as indented JSON on stdout (datetimes and dataclasses handled)."""
    sys.stdout.write(
        orjson.dumps(
            value,
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
            default=str,
        ).decode()
        + "\n"
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error on stderr and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
