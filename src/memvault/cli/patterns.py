"""`memvault patterns`: learned response patterns, the user's layer first, then the base."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.records import to_json


@app.command()
def patterns(
    db: DbOption = None,
    json: JsonOption = False,
    intent: Annotated[str | None, typer.Option("--intent", "-i", help="Intent to show.")] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Handle or id (default: base only).")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Match triggers containing / contained in it.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
) -> None:
    """Response patterns, best first: the user's layer, then the shared base."""
    with open_vault(db) as vault:
        user_id = vault.users.resolve(user).id if user else None
        found = vault.patterns.find(user_id, intent=intent, text=text, limit=limit)
    if json:
        print_json(to_json(found))
        return
    table = Table(title=f"response patterns{f' for {intent!r}' if intent else ''}")
    for column in ("layer", "intent", "trigger", "response", "score", "uses"):
        table.add_column(column, justify="right" if column in ("score", "uses") else "left")
    for p in found:
        table.add_row(
            "base" if p.is_base else "user",
            p.intent,
            p.trigger_context,
            p.response_text,
            f"{p.success_score:.2f}",
            str(p.usage_count),
        )
    console.print(table)
