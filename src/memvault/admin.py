"""Whole-store operations: stats, per-user export and erase, reset, backup and restore."""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memvault import paths
from memvault import validate as v
from memvault.errors import Conflict, InvalidInput, NotFound, SchemaError, StoreError
from memvault.paths import confine
from memvault.records import Stats, to_dict
from memvault.store import migrator
from memvault.store.base import Row, Tx
from memvault.store.vocab import ENTITY_TABLES, OWNED_TABLES

if TYPE_CHECKING:
    import sqlalchemy as sa

    from memvault.vault import Vault

PRIVATE_COLUMNS = {"api_keys": {"key_hash"}}

# How to reach one user's rows through an index; tables not listed use `user_id = :u`.
# (Messages, task lists and subtasks have no user_id index: they are reached via parents.)
OWNER_PREDICATES = {
    "messages": "session_id IN (SELECT id FROM sessions WHERE user_id = :u)",
    "task_lists": "request_id IN (SELECT id FROM requests WHERE user_id = :u)",
    "subtasks": "task_list_id IN (SELECT t.id FROM task_lists t JOIN requests r "
    "ON r.id = t.request_id WHERE r.user_id = :u)",
    # A LangGraph thread's blobs and writes carry its owner (revision 0011; leads their key).
    "graph_checkpoint_blobs": "owner = CAST(:u AS TEXT)",
    "graph_checkpoint_writes": "owner = CAST(:u AS TEXT)",
}


# Tables whose primary key is not `id` (revision 0007), by the columns that order an export.
ORDER_KEYS = {
    "pattern_uses": "pattern_id",
    "dualwrite_rollouts": "name",
    "graph_checkpoints": "owner, thread_id, checkpoint_ns, checkpoint_id",  # 0008, 0011
    "graph_checkpoint_blobs": "owner, thread_id, checkpoint_ns, channel, version",
    "graph_checkpoint_writes": "owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx",
}


def owned(table: str) -> str:
    """SQL predicate selecting the rows of user `:u` in `table`."""
    return OWNER_PREDICATES.get(table, "user_id = :u")


# Derived search columns (revisions 0002/0003): rebuilt from the row, never exported.
for _table, _cols in {"messages": {"fts"}, "memories": {"fts"}, "response_patterns": {"fts"},
                      "embeddings": {"seq", "vec"}}.items():  # fmt: skip
    PRIVATE_COLUMNS.setdefault(_table, set()).update(_cols)


def stats(vault: Vault) -> Stats:
    counts: dict[str, int] = {}
    with vault.store.read() as tx:
        for table in ENTITY_TABLES:
            counts[table] = int(tx.scalar(f"SELECT count(*) FROM {table}"))
    return Stats(
        engine=vault.engine,
        url=vault.url,
        schema_version=migrator.current(vault.store) or "",
        size_bytes=vault.store.size_bytes(),
        counts=counts,
    )


def _kind(column: sa.Column[Any]) -> str:
    from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
    from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

    name = str(column.type.compile(dialect=sqlite_dialect()))
    pg = column.type.dialect_impl(postgresql_dialect())  # type: ignore[no-untyped-call]
    pg_name = type(pg).__name__.upper()
    if "JSON" in pg_name:
        return "json"
    if "TIMESTAMP" in pg_name:
        return "time"
    if name == "BLOB":
        return "blob"
    return "plain"


@functools.cache
def column_kinds() -> dict[str, dict[str, str]]:
    """How `row_to_json` renders each column of each table (read from the SQLAlchemy
    declarations on first use, so that opening a store does not import them)."""
    from memvault.store.schema import metadata

    return {t.name: {c.name: _kind(c) for c in t.columns} for t in metadata.sorted_tables}


def row_to_json(tx: Tx, table: str, row: Row) -> dict[str, Any]:
    """A stored row as JSON-ready data (times ISO-8601, JSON decoded, bytes base64)."""
    kinds = column_kinds()[table]
    out: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118  (driver rows are not dicts)
        if key in PRIVATE_COLUMNS.get(table, ()):
            continue
        value = row[key]
        kind = kinds.get(key, "plain")
        if value is None:
            out[key] = None
        elif kind == "json":
            out[key] = tx.json_out(value)
        elif kind == "time":
            at = tx.ts_out(value)
            out[key] = None if at is None else at.isoformat()
        elif kind == "blob":
            import base64  # (not at import: every store opens through this module)

            out[key] = base64.b64encode(bytes(value)).decode()
        elif key == "id" or (key.endswith("_id") and not isinstance(value, int | str)):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def export_user(vault: Vault, user_id: str) -> dict[str, Any]:
    user_id = v.id_("user_id", user_id)
    user = vault.users.get(user_id)
    out: dict[str, Any] = {"format": "memvault.user-export", "version": 1, "user": to_dict(user)}
    with vault.store.read() as tx:
        for table in reversed(OWNED_TABLES):
            order = ORDER_KEYS.get(table, "id")
            rows = tx.all(
                f"SELECT * FROM {table} WHERE {owned(table)} ORDER BY {order}", {"u": user_id}
            )
            out[table] = [row_to_json(tx, table, r) for r in rows]
    return out


def erase_user(vault: Vault, user_id: str, *, vacuum: bool = True) -> dict[str, int]:
    """Delete every row of `user_id` (cascades included) and purge index leftovers.

    On SQLite the file is then vacuumed (`vacuum=False` skips it: faster on a large store,
    but copies of deleted text may stay in free space until the next VACUUM)."""
    user_id = v.id_("user_id", user_id)
    store = vault.store
    removed: dict[str, int] = {}
    with store.secure_delete(), store.write() as tx:
        if tx.one("SELECT 1 FROM users WHERE id = :u", {"u": user_id}) is None:
            raise NotFound("user", user_id)
        for table in OWNED_TABLES:
            n = tx.execute(f"DELETE FROM {table} WHERE {owned(table)}", {"u": user_id}).rowcount
            removed[table] = int(n or 0)
        tx.execute("DELETE FROM users WHERE id = :u", {"u": user_id})
        removed["users"] = 1
        _purge_fulltext(tx)
        vault.memories._emit(tx, "user.erased", user_id, {"user_id": user_id})
    store.reclaim((*OWNED_TABLES, "users"), rebuild=vacuum)
    return removed


def reset(vault: Vault) -> dict[str, int]:
    """Delete every row of every table, children first, in one transaction; the schema stays.
    Returns the rows deleted per table. `memvault reset` runs it."""
    removed: dict[str, int] = {}
    with vault.store.write() as tx:
        for table in reversed(ENTITY_TABLES):
            removed[table] = int(tx.execute(f"DELETE FROM {table}").rowcount or 0)
    return removed


def _purge_fulltext(tx: Tx) -> None:
    """Merge full-text segments so deleted documents' terms leave the index files."""
    if tx.engine != "sqlite":
        return
    rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING fts5%'")
    for row in rows:
        name = row["name"]
        tx.execute(f"INSERT INTO {name}({name}) VALUES ('optimize')")


@dataclass(frozen=True)
class Backup:
    path: str
    size_bytes: int
    sha256: str
    schema_version: str


def _sha256(path: str) -> str:
    import hashlib  # (not at import: OpenSSL, every store opens through this module)

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(vault: Vault, path: str, *, overwrite: bool = False) -> Backup:
    path = str(confine("path", path, vault.files_root, write=True))
    target = Path(path)
    if target.exists() and not overwrite:
        raise Conflict(f"{path} exists; refusing to overwrite it (use overwrite/--force)")
    if not target.parent.exists():
        raise InvalidInput("path", path, f"folder {target.parent} does not exist")
    tmp = f"{path}.partial-{os.getpid()}"
    if os.path.exists(tmp):
        os.unlink(tmp)
    try:
        vault.store.backup_to(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.replace(tmp, path)
    if vault.engine != "sqlite":  # a pg_dump archive, already listed back by pg_restore
        return Backup(path, os.path.getsize(path), _sha256(path), vault.schema_version)
    problems = inspect_backup(path)
    if problems:
        raise StoreError(f"backup {path} failed its integrity check: {problems[0]}")
    return Backup(path, os.path.getsize(path), _sha256(path), vault.schema_version)


def inspect_backup(path: str) -> list[str]:
    """Integrity problems of a backup file (empty when it is a sound memvault database)."""
    import sqlean

    try:
        conn = sqlean.connect(f"file:{path}?mode=ro", uri=True)
    except sqlean.Error as exc:
        return [f"cannot open {path}: {exc}"]
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        has_version = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (migrator.VERSION_TABLE,)
        ).fetchone()
        if not has_version:
            problems.append(f"{path} is not a memvault database (no {migrator.VERSION_TABLE})")
        return problems
    except sqlean.Error as exc:
        return [f"{path} is not a readable SQLite database: {exc}"]
    finally:
        conn.close()


def restore(
    backup_path: str,
    url: str | None,
    *,
    force: bool = False,
    files_root: str | os.PathLike[str] | None = None,
) -> Backup:
    """Replace the SQLite store at `url` with the backup file; refuses to overwrite data
    unless `force`. With a files root (argument or `$MEMVAULT_FILES_ROOT`) the backup must
    lie inside it."""
    from memvault.store.engine import parse_url
    from memvault.store.sqlite import SQLiteStore

    backup_path = str(confine("backup", backup_path, paths.files_root(files_root)))
    if not os.path.isfile(backup_path):
        raise NotFound("backup file", backup_path)
    problems = inspect_backup(backup_path)
    if problems:
        raise SchemaError(f"refusing to restore {backup_path}: {problems[0]}")
    location = parse_url(url)
    if location.engine != "sqlite":
        raise StoreError(
            "restore writes a SQLite store; restore a PostgreSQL dump with "
            "`pg_restore --no-owner -d URL FILE` into an empty database"
        )
    target = location.path or ""
    if target == ":memory:":
        raise InvalidInput("url", url, "cannot restore into a memory database")
    if os.path.exists(target) and os.path.getsize(target) > 0 and not force:
        raise Conflict(f"{target} exists; refusing to overwrite it without --force")
    store = SQLiteStore(location)
    try:
        store.restore_from(backup_path)
        rev = migrator.ensure(store)
    finally:
        store.close()
    return Backup(target, os.path.getsize(target), _sha256(backup_path), rev)
