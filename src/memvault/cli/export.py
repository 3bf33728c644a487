"""`memvault export`: the store (or one user) as JSON/NDJSON, or back to a legacy layout."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from memvault.cli.app import DbOption, app, err_console, fail, open_vault
from memvault.migrate.export import (
    FORMATS,
    LEGACY_FORMATS,
    export_ait42,
    export_dcm,
    export_lilith,
    export_store,
    export_workly,
)


@app.command("export")
def export_command(
    format: Annotated[
        str,
        typer.Option(
            "--format", help="json, ndjson, or a legacy layout: workly, lilith, dcm, ait42."
        ),
    ] = "ndjson",
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's rows (handle or id).")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", help="Output file (json/ndjson; default stdout) or folder (legacy)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Stream the store as JSON or NDJSON, or write legacy files (the rollback path)."""
    if format not in FORMATS + LEGACY_FORMATS:
        fail(f"unknown format {format!r}; expected one of {', '.join(FORMATS + LEGACY_FORMATS)}")
    with open_vault(db) as vault:
        if format in FORMATS:
            counts = export_store(vault, out or sys.stdout.buffer, format=format, user=user)
        elif out is None:
            fail(f"--out FOLDER is required for the {format} layout")
        elif format == "workly":
            counts = export_workly(vault, out, user=user or "default")
        elif format == "dcm":
            counts = export_dcm(vault, out, user=user)
        elif format == "ait42":
            counts = export_ait42(vault, out, user=user)
        else:
            counts = export_lilith(vault, out, default_user=user or "default")
    total = sum(counts.values())
    err_console.print(
        f"exported {total:,} {'rows' if format in FORMATS else 'entries'} "
        f"({format}) to {out or 'stdout'}"
    )
