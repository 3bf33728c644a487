"""`memvault users add|list|show`: the people a store remembers things about."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.records import to_dict

users_app = typer.Typer(help="Users: add, list and show them.", no_args_is_help=True)
app.add_typer(users_app, name="users")

UserArgument = Annotated[str, typer.Argument(help="The user's handle or id.")]


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@users_app.command("add")
def add(
    handle: Annotated[str, typer.Argument(help="A unique handle, e.g. alice.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Create a user (the handle must be new)."""
    with open_vault(db) as vault:
        user = vault.users.create(handle, name)
    if json:
        print_json(to_dict(user))
        return
    console.print(f"created user {escape(user.handle)} ({user.id})", highlight=False)


@users_app.command("list")
def list_(
    limit: Annotated[int, typer.Option("--limit", help="At most this many.", min=1)] = 100,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Users by handle."""
    with open_vault(db) as vault:
        users = vault.users.list(limit=limit)
    if json:
        print_json([to_dict(u) for u in users])
        return
    if not users:
        console.print("no users yet; add one with `memvault users add HANDLE`")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("handle", "name", "id", "created"):
        table.add_column(column, no_wrap=column == "id")
    for u in users:
        table.add_row(escape(u.handle), escape(u.display_name or ""), u.id, _when(u.created_at))
    console.print(table)


@users_app.command("show")
def show(user: UserArgument, db: DbOption = None, json: JsonOption = False) -> None:
    """One user: names, dates, profile, and how many sessions and memories they have."""
    with open_vault(db) as vault:
        record = vault.users.resolve(user)
        memories = vault.memories.count(record.id)
        sessions = len(vault.sessions.list(user_id=record.id, limit=1_000_000))
    if json:
        print_json({**to_dict(record), "sessions": sessions, "memories": memories})
        return
    console.print(f"[bold]{escape(record.handle)}[/]  {escape(record.display_name or '')}")
    console.print(f"id:       {record.id}", highlight=False)
    console.print(f"created:  {_when(record.created_at)}  updated: {_when(record.updated_at)}")
    console.print(f"sessions: {sessions}  memories: {memories}", highlight=False)
    if record.profile:
        profile = orjson.dumps(record.profile, option=orjson.OPT_INDENT_2).decode()
        console.print(f"profile:\n{escape(profile)}", highlight=False)
