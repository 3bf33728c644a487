"""`memvault sessions list|show`: conversations, and one conversation read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.cli.memories import KeyPrefixOption, WhereOption, where_filters
from memvault.records import Message, to_dict
from memvault.scope import ANY

sessions_app = typer.Typer(help="Conversations: list them, show one.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")

PAGE = 500  # messages read per query when showing a conversation


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@sessions_app.command("list")
def list_(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's (handle or id).")] = (
        None
    ),
    key_prefix: KeyPrefixOption = None,
    where: WhereOption = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.", min=1)] = 50,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Sessions, most recently active first."""
    filters = where_filters(where)
    with open_vault(db) as vault:
        owner = ANY if user is None else vault.users.resolve(user).id
        sessions = vault.sessions.list(owner, key_prefix=key_prefix, filters=filters, limit=limit)
        owners = {s.user_id for s in sessions if s.user_id}
        handles = {uid: vault.users.get(uid).handle for uid in owners}
    if json:
        print_json([to_dict(s) for s in sessions])
        return
    if not sessions:
        console.print("no sessions" + (f" for {escape(user)}" if user else ""))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("user")
    table.add_column("title")
    table.add_column("msgs", justify="right")
    table.add_column("updated", no_wrap=True)
    for s in sessions:
        table.add_row(
            s.id,
            escape(handles.get(s.user_id or "", "")),
            escape(s.title or ""),
            str(s.message_count),
            f"{s.updated_at:%Y-%m-%d}",
        )
    console.print(table)
    console.print("read one with `memvault sessions show ID`", style="dim")


@sessions_app.command("show")
def show(
    session_id: Annotated[str, typer.Argument(help="The session's id (`memvault sessions list`).")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """A conversation: its title, owner and dates, then every message in order."""
    with open_vault(db) as vault:
        session = vault.sessions.get(session_id)
        owner = vault.users.get(session.user_id) if session.user_id else None
        messages: list[Message] = []
        while True:
            page = vault.messages.list(
                session.id, after_seq=messages[-1].seq if messages else 0, limit=PAGE
            )
            messages += page
            if len(page) < PAGE:
                break
        # A competition's, ensemble's or debate's instances (AIT42), in their order.
        instances = sorted(
            vault.sessions.list(parent_id=session.id, limit=1000),
            key=lambda i: (i.instance_no if i.instance_no is not None else 1 << 30, i.id),
        )
    if json:
        print_json(
            {
                **to_dict(session),
                "instances": [to_dict(i) for i in instances],
                "messages": [to_dict(m) for m in messages],
            }
        )
        return
    title = escape(session.title or "(untitled)")
    console.print(f"[bold]{title}[/]  {session.id}", highlight=False)
    who = f"{escape(owner.handle)} · " if owner else ""
    console.print(
        f"{who}{session.kind} · {session.status} · started {_when(session.started_at)}"
        f" · {session.message_count} message(s)",
        highlight=False,
    )
    if instances:
        console.print(f"{len(instances)} instance(s):", highlight=False)
        for i in instances:
            number = "" if i.instance_no is None else f"#{i.instance_no} "
            console.print(
                f"  {number}{escape(i.title or '(untitled)')} · {i.status}  [dim]{i.id}[/]",
                highlight=False,
            )
    for m in messages:
        console.print(
            f"[dim]{m.created_at:%Y-%m-%d %H:%M}[/] [cyan]{m.role:>9}[/]: {escape(m.content)}",
            highlight=False,
        )
