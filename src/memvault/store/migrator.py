"""Schema versions: Alembic revisions shipped in the package, applied on open or on demand.

Opening an up-to-date store only reads `memvault_version` and compares it with `REVISIONS`:
SQLAlchemy and Alembic (a quarter of a second to import) load only when a revision runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memvault.errors import SchemaError, SchemaTooNew
from memvault.store.base import Store, Tx

VERSION_TABLE = "memvault_version"
SCRIPT_LOCATION = str(Path(__file__).with_name("migrations"))
# The revision chain in migrations/versions, oldest first; add a new revision here too
# (tests/test_migrations.py checks this against Alembic's own walk of the scripts).
REVISIONS = (
    "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011",
    "0012",
)  # fmt: skip


def _config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def head() -> str:
    """The newest revision this code knows."""
    return REVISIONS[-1]


def revisions() -> list[str]:
    """Every revision, oldest first."""
    return list(REVISIONS)


def table_exists(tx: Tx, name: str) -> bool:
    """Whether a table (or view) of this name exists in the store."""
    if tx.engine == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = :name"
        return tx.one(sql, {"name": name}) is not None
    return tx.scalar("SELECT to_regclass(:name) IS NOT NULL", {"name": name}) is True


def current(store: Store) -> str | None:
    """The store's schema revision, or None for an empty database."""
    with store.read() as tx:
        if not table_exists(tx, VERSION_TABLE):
            return None
        value = tx.scalar(f"SELECT version_num FROM {VERSION_TABLE}")
        return None if value is None else str(value)


def _user_tables(tx: Tx) -> list[str]:
    if tx.engine == "sqlite":
        rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [r["name"] for r in rows if not str(r["name"]).startswith("sqlite_")]
    rows = tx.all("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return [r["tablename"] for r in rows]


def ensure(store: Store, *, auto_upgrade: bool = True, create: bool = True) -> str:
    """Check the store's schema; create or upgrade it when allowed. Returns the revision.

    `create=False`: a database without a memvault schema is an error (nothing is installed
    into it); `auto_upgrade=False`: so is an older schema."""
    known = head()
    rev = current(store)
    if rev == known:
        return rev
    if rev is not None and rev not in revisions():
        raise SchemaTooNew(
            f"{store.location.safe_url} has schema revision {rev}, which this memvault "
            f"does not know (newest known: {known}); upgrade memvault to open it"
        )
    if rev is None:
        with store.read() as tx:
            foreign = _user_tables(tx)
        if foreign:
            raise SchemaError(
                f"{store.location.safe_url} holds tables ({', '.join(sorted(foreign)[:5])}) "
                "but no memvault schema; refusing to write into it"
            )
        if not create:
            raise SchemaError(
                f"{store.location.safe_url} is not a memvault store (no memvault schema); "
                "create one with `memvault init`"
            )
    if not auto_upgrade:
        raise SchemaError(
            f"{store.location.safe_url} is at schema revision {rev or 'none'}; "
            f"run `memvault upgrade` to reach {known}"
        )
    return upgrade(store)


def upgrade(store: Store, revision: str = "head") -> str:
    """Apply revisions up to `revision` in one locked transaction; returns the new revision."""
    from alembic import command

    engine = store.sqlalchemy_engine()
    try:
        with engine.connect() as conn:
            if store.engine == "sqlite":
                # One writer at a time: a second process opening a new file waits, then sees
                # the schema the first one made.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7294305612)")
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
    finally:
        engine.dispose(close=False)
    rev = current(store)
    return rev or ""


def downgrade(store: Store, revision: str) -> str:
    """Revert revisions down to `revision` (one locked transaction, like `upgrade`); returns
    the new revision. Downgrades drop what the reverted revisions added, data included."""
    from alembic import command

    if revision not in ("base", *REVISIONS):
        raise SchemaError(f"unknown revision {revision!r}; known: {', '.join(REVISIONS)}")
    engine = store.sqlalchemy_engine()
    try:
        with engine.connect() as conn:
            if store.engine == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7294305612)")
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            conn.commit()
    finally:
        engine.dispose(close=False)
    return current(store) or ""
