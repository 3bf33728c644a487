"""Store commands: init, stats, check, backup, restore, reset, upgrade, downgrade, current,
demo."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from memvault import admin
from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json
from memvault.records import to_dict
from memvault.store import migrator
from memvault.store.engine import open_store, parse_url


@app.command()
def init(db: DbOption = None) -> None:
    """Create the store (or upgrade it) and print where it is."""
    with open_vault(db, create=True) as vault:
        console.print(f"memvault store ready: {vault.url} (schema {vault.schema_version})")


@app.command()
def stats(db: DbOption = None, json: JsonOption = False) -> None:
    """Row counts per entity, database size and schema version."""
    with open_vault(db) as vault:
        result = vault.stats()
    if json:
        print_json(to_dict(result))
        return
    table = Table(title=f"{result.url}  ·  schema {result.schema_version}")
    table.add_column("entity")
    table.add_column("rows", justify="right")
    for name, count in sorted(result.counts.items()):
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"size: {result.size_bytes / 1e6:.2f} MB on {result.engine}")


@app.command()
def check(db: DbOption = None, json: JsonOption = False) -> None:
    """Integrity check (SQLite integrity_check + foreign_key_check; PostgreSQL constraints and
    indexes) and schema version; exits 1 when anything is wrong."""
    with open_vault(db, auto_upgrade=False) as vault:
        problems = vault.check()
        version = vault.schema_version
    if json:
        print_json({"ok": not problems, "schema_version": version, "problems": problems})
    elif problems:
        for problem in problems:
            console.print(f"[red]✗[/] {problem}")
    else:
        console.print(f"[green]✓[/] {vault.url}: integrity ok, schema {version}")
    if problems:
        raise typer.Exit(1)


@app.command()
def backup(
    path: Annotated[str, typer.Argument(help="Where to write the backup file.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Online backup (writers keep running), verified after writing: a SQLite file, or a
    `pg_dump -Fc` archive of a PostgreSQL store (needs pg_dump; `pg_restore` restores it)."""
    with open_vault(db) as vault:
        result = vault.backup(path, overwrite=force)
    console.print(
        f"backup written: {result.path} ({result.size_bytes / 1e6:.2f} MB, "
        f"sha256 {result.sha256[:16]}…, schema {result.schema_version})"
    )


@app.command()
def restore(
    path: Annotated[str, typer.Argument(help="The backup file to restore.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a store that has data.")
    ] = False,
) -> None:
    """Replace a SQLite store with a backup; refuses to overwrite without --force."""
    result = admin.restore(path, db, force=force)
    console.print(f"restored {path} into {result.path} (schema {result.schema_version})")


@app.command()
def reset(
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every row of the store (the schema stays)."""
    with open_vault(db) as vault:
        if not yes and not typer.confirm(f"Delete ALL data in {vault.url}?", default=False):
            fail("reset cancelled; nothing was deleted")
        removed = admin.reset(vault)
    console.print(f"{vault.url}: every row deleted ({sum(removed.values()):,} rows)")


@app.command()
def upgrade(
    db: DbOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the schema revisions shipped with this memvault."""
    store = open_store(parse_url(db))
    try:
        before = migrator.current(store)
        after = migrator.upgrade(store, revision)
    finally:
        store.close()
    console.print(f"schema {before or 'none'} → {after}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. 0006 (or base).")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Drop what the newer revisions hold.")] = False,
) -> None:
    """Revert the schema to REVISION (before running an older memvault: opening the store
    with this one upgrades it again). Refuses without --yes: it drops data."""
    store = open_store(parse_url(db), create=False)
    try:
        before = migrator.current(store)
        if before is None:
            fail(
                f"{store.location.safe_url} is not a memvault store (nothing to downgrade; "
                "`memvault init` creates one)"
            )
        known = ("base", *migrator.revisions())
        if (
            before not in known
            or revision not in known
            or known.index(revision) > known.index(before)
        ):
            fail(f"cannot downgrade {before or 'none'} to {revision!r}; known: {', '.join(known)}")
        if not yes:
            fail(
                f"downgrading {before} → {revision} drops the tables, columns and indexes the "
                "newer revisions added, with their data; back up first, then pass --yes"
            )
        after = migrator.downgrade(store, revision)
    finally:
        store.close()
    console.print(f"schema {before} → {after or 'none'}")


@app.command()
def current(db: DbOption = None) -> None:
    """Print the store's schema revision and the newest one this memvault knows."""
    store = open_store(parse_url(db), create=False)
    try:
        rev = migrator.current(store)
    finally:
        store.close()
    if rev is None:
        fail(f"{store.location.safe_url} is not a memvault store; create one with `memvault init`")
    head = migrator.head()
    state = "up to date" if rev == head else "needs `memvault upgrade`"
    console.print(f"current: {rev or 'none'}  head: {head}  ({state})")


@app.command()
def demo(db: DbOption = None) -> None:
    """Write a short conversation with a few memories, then read them back."""
    with open_vault(db, create=True) as vault:
        user = vault.users.ensure("demo", "Demo User")
        session = vault.sessions.create(user.id, title="memvault demo")
        turns = [
            ("user", "Hi! I'm planning a trip to Lyon next spring."),
            ("assistant", "Lovely! Do you prefer museums or food markets?"),
            ("user", "Food markets, always. And I'm vegetarian."),
            ("assistant", "Then Les Halles Paul Bocuse has great vegetarian stalls."),
        ]
        for role, content in turns:
            vault.messages.append(session.id, role, content)
        facts = [
            ("event", "Plans a trip to Lyon next spring", 0.9),
            ("preference", "Prefers food markets to museums", 0.8),
            ("fact", "Is vegetarian", 0.95),
        ]
        for kind, content, confidence in facts:
            vault.memories.add(user.id, kind, content, confidence=confidence,
                               session_id=session.id)  # fmt: skip
        console.print(f"[bold]store:[/] {vault.url}")
        console.print(f"[bold]conversation[/] {session.title!r} ({session.id})")
        for message in vault.messages.list(session.id):
            console.print(f"  {message.seq}. [cyan]{message.role:>9}[/]: {message.content}")
        table = Table(title=f"memories of {user.handle}")
        for column in ("kind", "content", "confidence", "accessed"):
            table.add_column(column)
        for memory in vault.memories.list(user.id, session_id=session.id):
            table.add_row(memory.kind, memory.content, f"{memory.confidence:.2f}",
                          str(memory.access_count))  # fmt: skip
        console.print(table)
        totals = vault.stats().counts
        console.print(
            f"{totals['users']} user(s), {totals['sessions']} session(s), "
            f"{totals['messages']} message(s), {totals['memories']} memories in the store"
        )
