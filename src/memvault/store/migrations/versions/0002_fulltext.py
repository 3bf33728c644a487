"""full-text indexes for messages, memories and response patterns

SQLite: FTS5 external-content tables (`unicode61 remove_diacritics 2`) whose content is a view
over the row table. Besides the text, each document carries a `scope` column of owner (and
session) tokens, so an owner's search is an index intersection (`scope:uXXXX AND (...)`),
not a join over every match. AFTER INSERT/UPDATE/DELETE triggers keep the index in the same
transaction as the row; existing rows are indexed by a 'rebuild'.

PostgreSQL: a stored generated `fts tsvector` column ('simple' configuration, accents folded
through an IMMUTABLE wrapper around `unaccent` when the extension exists) with a GIN index,
on (user_id, fts) when btree_gin is available.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TOKENIZE = "unicode61 remove_diacritics 2"


def _owner_token(prefix: str) -> str:
    return f"'u' || coalesce(lower(replace({prefix}user_id, '-', '')), 'base')"


def _session_token(prefix: str) -> str:
    return f"' s' || lower(replace({prefix}session_id, '-', ''))"


# table -> (indexed text columns, scope expression builder, columns that trigger a re-index)
SQLITE_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "messages": (("content",), "session"),
    "memories": (("content", "context"), "owner"),
    "response_patterns": (("trigger_context", "response_text"), "owner"),
}


def _scope(kind: str, prefix: str) -> str:
    expr = _owner_token(prefix)
    if kind == "session":
        expr += " || " + _session_token(prefix)
    return expr


def _sqlite_upgrade() -> None:
    for table, (columns, kind) in SQLITE_TABLES.items():
        fts = f"{table}_fts"
        src = f"{table}_fts_src"
        cols = ", ".join(columns)
        new_vals = ", ".join(f"new.{c}" for c in columns)
        old_vals = ", ".join(f"old.{c}" for c in columns)
        watched = ", ".join((*columns, "user_id") + (("session_id",) if kind == "session" else ()))
        op.execute(
            f"CREATE VIEW {src} AS SELECT rowid AS rid, {cols}, {_scope(kind, '')} AS scope "
            f"FROM {table}"
        )
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, scope, content='{src}', "
            f"content_rowid='rid', tokenize=\"{TOKENIZE}\")"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}, scope) "
            f"VALUES (new.rowid, {new_vals}, {_scope(kind, 'new.')}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}, scope) "
            f"VALUES ('delete', old.rowid, {old_vals}, {_scope(kind, 'old.')}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {watched} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}, scope) "
            f"VALUES ('delete', old.rowid, {old_vals}, {_scope(kind, 'old.')}); "
            f"INSERT INTO {fts}(rowid, {cols}, scope) "
            f"VALUES (new.rowid, {new_vals}, {_scope(kind, 'new.')}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_downgrade() -> None:
    for table in SQLITE_TABLES:
        fts = f"{table}_fts"
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
        op.execute(f"DROP VIEW IF EXISTS {table}_fts_src")


def _try(sql: str) -> bool:
    """Run `sql` in a savepoint; False (and nothing changed) if the server refuses it."""
    bind = op.get_bind()
    nested = bind.begin_nested()
    try:
        bind.exec_driver_sql(sql)
    except Exception:
        nested.rollback()
        return False
    nested.commit()
    return True


def _pg_has_extension(name: str) -> bool:
    bind = op.get_bind()
    row = bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = :n"), {"n": name}).first()
    if row is not None:
        return True
    available = bind.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = :n"), {"n": name}
    ).first()
    return available is not None and _try(f"CREATE EXTENSION IF NOT EXISTS {name}")


PG_TSV = {
    "messages": "memvault_tsv(content)",
    "memories": "setweight(memvault_tsv(content), 'A') || setweight(memvault_tsv(context), 'B')",
    "response_patterns": (
        "setweight(memvault_tsv(trigger_context), 'A') || "
        "setweight(memvault_tsv(response_text), 'B')"
    ),
}


def _pg_upgrade() -> None:
    unaccent = _pg_has_extension("unaccent")
    schema = "public"
    if unaccent:
        schema = (
            op.get_bind()
            .execute(
                text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                    "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
                )
            )
            .scalar_one()
        )
    fold = (
        f"SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1)"
        if unaccent
        else "SELECT $1"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION memvault_fold(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ {fold} $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION memvault_tsv(text) RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        "$$ SELECT to_tsvector('simple'::regconfig, memvault_fold(coalesce($1, ''))) $$"
    )
    btree_gin = _pg_has_extension("btree_gin")
    for table, expr in PG_TSV.items():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN fts tsvector GENERATED ALWAYS AS ({expr}) STORED"
        )
        if not (
            btree_gin
            and _try(f"CREATE INDEX ix_{table}_user_id_fts ON {table} USING gin (user_id, fts)")
        ):
            op.execute(f"CREATE INDEX ix_{table}_fts ON {table} USING gin (fts)")


def _pg_downgrade() -> None:
    for table in PG_TSV:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_user_id_fts")
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_fts")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS fts")
    op.execute("DROP FUNCTION IF EXISTS memvault_tsv(text)")
    op.execute("DROP FUNCTION IF EXISTS memvault_fold(text)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _pg_downgrade()
