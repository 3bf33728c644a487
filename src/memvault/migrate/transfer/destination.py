"""The destination: its schema, the emptiness it must start from, and what the load does
without (plain indexes and, on PostgreSQL, foreign keys: dropped with the run and rebuilt,
validated, at the end; SQLite's store is opened with foreign keys off and checked after)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memvault.errors import MemvaultError
from memvault.migrate.transfer.errors import DestinationNotEmpty, TransferError
from memvault.migrate.transfer.tables import TableSpec
from memvault.store import migrator
from memvault.store.base import Location, Store, Tx
from memvault.store.engine import open_store


def open_destination(location: Location, *, sync_off: bool = False) -> Store:
    """The destination store, its schema created or upgraded, opened for a bulk load:
    foreign keys unchecked on SQLite's connections (`finish` checks them all at once) and,
    with `sync_off`, no fsyncs there."""
    if location.engine == "sqlite" and (location.path or "") == ":memory:":
        raise TransferError("the destination cannot be a memory database")
    store = open_store(location, synchronous="OFF" if sync_off else "NORMAL", foreign_keys=False)
    try:
        migrator.ensure(store)
    except BaseException:
        store.close()
        raise
    return store


def check_empty(tx: Tx, specs: Sequence[TableSpec], url: str) -> None:
    for spec in specs:
        if tx.scalar(f"SELECT 1 AS x FROM {spec.name} LIMIT 1") is not None:
            raise DestinationNotEmpty(
                f"{url} is not empty (table {spec.name} has rows) and holds no unfinished "
                "transfer from this source; transfer into an empty store"
            )


def plain_indexes(tx: Tx, specs: Sequence[TableSpec]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes of the copied tables."""
    names = {s.name for s in specs}
    if tx.engine == "sqlite":
        rows = [
            (r["name"], r["sql"], r["tbl_name"])
            for r in tx.all(
                "SELECT name, sql, tbl_name FROM sqlite_master "
                "WHERE type = 'index' AND sql IS NOT NULL"
            )
        ]
    else:
        rows = [
            (r["indexname"], r["indexdef"], r["tablename"])
            for r in tx.all(
                "SELECT i.indexname, i.indexdef, i.tablename FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM "
                "pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
                "quote_ident(i.indexname))::regclass)"
            )
        ]
    return [
        (str(n), str(d)) for n, d, t in rows
        if t in names and not str(d).upper().startswith("CREATE UNIQUE")
    ]  # fmt: skip


def foreign_keys(tx: Tx, specs: Sequence[TableSpec]) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of the destination's foreign keys (PostgreSQL)."""
    if tx.engine != "postgresql":
        return []
    names = {s.name for s in specs}
    rows = tx.all(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
        "FROM pg_constraint WHERE contype = 'f' "
        "AND connamespace = current_schema()::regnamespace ORDER BY conname"
    )
    return [(str(r["tbl"]), str(r["conname"]), str(r["def"])) for r in rows if r["tbl"] in names]


def strip(tx: Tx, indexes: Sequence[tuple[str, str]], fks: Sequence[tuple[str, str, str]]) -> None:
    """Drop the plain indexes and foreign keys for the load."""
    for name, _ in indexes:
        tx.execute(f'DROP INDEX "{name}"')
    for table, name, _ in fks:
        tx.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def finish(store: Store, options: dict[str, Any], specs: Sequence[TableSpec]) -> int:
    """Rebuild the dropped indexes, restore (and so validate) the foreign keys, check them
    on SQLite, ANALYZE; returns the indexes rebuilt."""
    url = store.location.safe_url
    pg = store.engine == "postgresql"
    with store.write() as tx:
        existing = {n for n, _ in plain_indexes(tx, specs)}
        if pg:
            tx.execute("SET LOCAL maintenance_work_mem = '256MB'")
        made = 0
        for name, sql in options.get("dropped_indexes", []):
            if name not in existing:
                tx.execute(sql)
                made += 1
    with store.read() as tx:
        present = {n for _, n, _ in foreign_keys(tx, specs)}
    for table, name, definition in options.get("dropped_foreign_keys", []):
        if name in present:
            continue
        try:  # validated here, in one pass over the table
            with store.write() as tx:
                tx.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        except MemvaultError as exc:
            raise TransferError(
                f"{url}: restoring foreign key {name} on {table} failed "
                f"(the source holds rows that break it): {str(exc).strip()}"
            ) from exc
    if not pg:
        with store.read() as tx:
            broken = tx.all("PRAGMA foreign_key_check")
        if broken:
            first = broken[0]
            raise TransferError(
                f"{url}: {len(broken)} rows break foreign keys, e.g. {first['table']} rowid "
                f"{first['rowid']} refers to a missing {first['parent']} row"
            )
    with store.write() as tx:
        tx.execute("ANALYZE")
    return made
