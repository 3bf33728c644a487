"""`memvault tasks`: agent requests with their waves and subtask progress."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.records import to_json
from memvault.scope import ANY, Owner


@app.command()
def tasks(
    db: DbOption = None,
    json: JsonOption = False,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Handle or id (default: every owner).")
    ] = None,
    status: Annotated[str | None, typer.Option(help="Only requests in this status.")] = None,
    limit: Annotated[int, typer.Option(help="How many requests.")] = 20,
) -> None:
    """Recent requests: status, waves and subtasks per status."""
    with open_vault(db) as vault:
        owner: Owner = ANY if user is None else vault.users.resolve(user).id
        overview = vault.tasks.overview(owner, status=status, limit=limit)
    if json:
        print_json(to_json(overview))
        return
    table = Table(title="requests")
    for column in ("created", "status", "prompt", "waves", "subtasks"):
        table.add_column(column)
    for o in overview:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(o.subtasks.items())) or "—"
        table.add_row(o.request.created_at.isoformat(timespec="seconds"), o.request.status,
                      o.request.prompt[:60], str(o.waves), counts)  # fmt: skip
    console.print(table)
