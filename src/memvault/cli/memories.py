"""`memvault memories add|list|show|edit|delete|history`: what the assistant remembers."""

from __future__ import annotations

import json as jsonlib
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json
from memvault.records import Memory, to_dict

if TYPE_CHECKING:
    from memvault.vault import Vault

memories_app = typer.Typer(
    help="Memories (facts, preferences, …): add, list, show, edit, delete, and their history.",
    no_args_is_help=True,
)
app.add_typer(memories_app, name="memories")

MemoryArgument = Annotated[str, typer.Argument(help="The memory's id (`memvault memories list`).")]
UserOption = Annotated[str | None, typer.Option("--user", help="Owner: a handle or id.")]
BaseOption = Annotated[
    bool, typer.Option("--base", help="The shared base layer (memories of no user).")
]
KeyPrefixOption = Annotated[
    str | None,
    typer.Option("--key-prefix", help='Only keys starting with this ("" : every keyed one).'),
]
WhereOption = Annotated[
    str | None,
    typer.Option(
        "--where",
        help='Filters as JSON, e.g. \'{"metadata.topic": "food", "metadata.n": {"$gte": 2}}\' '
        "(eq ne gt gte lt lte in contains, also written $eq …).",
    ),
]


def where_filters(raw: str | None) -> Any:
    """The --where option's JSON object, or None; bad JSON fails naming the option."""
    if raw is None:
        return None
    try:
        value = jsonlib.loads(raw)
    except ValueError as exc:
        fail(f"--where: not JSON ({exc})")
    if not isinstance(value, dict):
        fail("--where: expected a JSON object")
    return value


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _owner(vault: Vault, user: str | None, base: bool) -> str | None:
    if base == (user is not None):
        fail("give exactly one of --user U or --base")
    return None if user is None else vault.users.resolve(user).id


def _show(memory: Memory, owner: str) -> None:
    console.print(f"[bold]{memory.kind}[/] {memory.id}  ({owner})", highlight=False)
    if memory.key is not None:
        console.print(f"key: {escape(memory.key)}", highlight=False)
    console.print(escape(memory.content), highlight=False)
    if memory.context:
        console.print(f"context: {escape(memory.context)}", highlight=False)
    console.print(
        f"confidence {memory.confidence:.2f} · importance {memory.importance:.2f} · "
        f"created {_when(memory.created_at)} · updated {_when(memory.updated_at)}",
        highlight=False,
    )


@memories_app.command("add")
def add(
    kind: Annotated[
        str, typer.Argument(help="fact, preference, event, relation, pattern, note, …")
    ],
    content: Annotated[str, typer.Argument(help="The text to remember.")],
    user: UserOption = None,
    base: BaseOption = False,
    context: Annotated[str | None, typer.Option("--context", help="Where it came from.")] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="0 to 1.")] = 1.0,
    importance: Annotated[float, typer.Option("--importance", help="0 to 1.")] = 0.5,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Your name for it, unique per owner (never de-duplicated)."),
    ] = None,
    no_dedupe: Annotated[
        bool, typer.Option("--no-dedupe", help="Store it even if the same text is stored.")
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Remember something for a user (--user U) or for everyone (--base). The same content
    again returns the memory already stored, unless --no-dedupe or --key."""
    with open_vault(db) as vault:
        owner = _owner(vault, user, base)
        memory = vault.memories.add(owner, kind, content, context=context,
                                    confidence=confidence, importance=importance, key=key,
                                    dedupe=not no_dedupe)  # fmt: skip
    if json:
        print_json(to_dict(memory))
        return
    console.print(f"memory {memory.id} ({memory.kind})", highlight=False)


@memories_app.command("list")
def list_(
    user: UserOption = None,
    base: BaseOption = False,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Only this kind.")] = None,
    layered: Annotated[
        bool, typer.Option("--layered", help="The user's memories, then the base layer's.")
    ] = False,
    key_prefix: KeyPrefixOption = None,
    where: WhereOption = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.", min=1)] = 100,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """A user's memories (or the base layer's), newest first."""
    filters = where_filters(where)
    with open_vault(db) as vault:
        owner = _owner(vault, user, base)
        memories = vault.memories.list(owner, kinds=kind or None, layered=layered, limit=limit,
                                       track_access=False, key_prefix=key_prefix,
                                       filters=filters)  # fmt: skip
    if json:
        print_json([to_dict(m) for m in memories])
        return
    if not memories:
        console.print("no memories")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("kind")
    table.add_column("content")
    table.add_column("conf", justify="right")
    for m in memories:
        mark = " (base)" if layered and m.user_id is None else ""
        table.add_row(m.id, m.kind, escape(m.content) + mark, f"{m.confidence:.2f}")
    console.print(table)


@memories_app.command("show")
def show(memory_id: MemoryArgument, db: DbOption = None, json: JsonOption = False) -> None:
    """One memory with all its fields (reading it does not count as an access)."""
    with open_vault(db) as vault:
        memory = vault.memories.get(memory_id, track_access=False)
        owner = vault.users.get(memory.user_id).handle if memory.user_id else "base layer"
    if json:
        print_json(to_dict(memory))
        return
    _show(memory, owner)


@memories_app.command("edit")
def edit(
    memory_id: MemoryArgument,
    content: Annotated[str | None, typer.Option("--content", help="The new text.")] = None,
    confidence: Annotated[float | None, typer.Option("--confidence", help="0 to 1.")] = None,
    importance: Annotated[float | None, typer.Option("--importance", help="0 to 1.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it changed (kept in its history).")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Change a memory; the old and new values and the reason go into its history."""
    if content is None and confidence is None and importance is None:
        fail("nothing to change: give --content, --confidence or --importance")
    changes: dict[str, Any] = {"content": content, "confidence": confidence,
                               "importance": importance}  # fmt: skip
    with open_vault(db) as vault:
        memory = vault.memories.update(memory_id, reason=reason, **changes)
    if json:
        print_json(to_dict(memory))
        return
    console.print(f"memory {memory.id} updated: {escape(memory.content)}", highlight=False)


@memories_app.command("delete")
def delete(
    memory_id: MemoryArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Delete a memory and its vectors (asks first); its history stays, ending with the
    deletion (`memvault memories history ID`)."""
    with open_vault(db) as vault:
        memory = vault.memories.get(memory_id, track_access=False)
        if not yes and not typer.confirm(f"Delete memory {memory.content!r}?", default=False):
            fail("delete cancelled; nothing was deleted")
        vault.memories.delete(memory.id)
    console.print(f"memory {memory.id} deleted", highlight=False)


@memories_app.command("history")
def history(memory_id: MemoryArgument, db: DbOption = None, json: JsonOption = False) -> None:
    """Every change of a memory, oldest first: what changed, from what, to what, and why."""
    with open_vault(db) as vault:
        changes = vault.memories.history(memory_id)
    if json:
        print_json([to_dict(c) for c in changes])
        return
    for c in changes:
        console.print(f"[bold]{_when(c.changed_at)}  {c.op}[/]", highlight=False)
        if c.op == "create":
            console.print(f"  {escape(c.new_content or '')}", highlight=False)
        elif c.old_content != c.new_content:
            console.print(f"  - {escape(c.old_content or '')}", highlight=False)
            console.print(f"  + {escape(c.new_content or '')}", highlight=False)
        others = {k: v for k, v in c.changes.items() if k != "content"}
        if others:
            # JSON, as `--json` and the metadata itself are written (not Python's repr).
            others_json = jsonlib.dumps(others, ensure_ascii=False, sort_keys=True)
            console.print(f"  {escape(others_json)}", highlight=False)
        if c.reason:
            console.print(f"  why: {escape(c.reason)}", highlight=False)
