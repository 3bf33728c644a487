"""prefix indexes on the SQLite full-text tables: `prefix='2 3 4'`

Without a prefix index FTS5 answers `kaba*` by merging the doclists of every term that starts
with `kaba`, across every owner, before the owner's scope is applied: 60-120 ms over 100k rows.
A prefix index of length n stores those merged doclists for n-character prefixes, so a query
prefix of exactly 2, 3 or 4 characters (the short ones, which match the most terms) reads one
doclist; longer prefixes match few terms and stay cheap without one. Measured over 100k
memories (bench/README_search.md): the index grows from 4.7 to 12.2 MB, a 4-character prefix
goes from 90 to 19 ms. `prefix='2 3'` alone leaves 4-character prefixes at 83 ms.

FTS5 cannot change this option in place: the tables and their triggers are dropped, created
again with it, and rebuilt from the rows. The content view (`<table>_fts_src`) and the tokenizer
are unchanged, so every query returns the same rows as before. PostgreSQL is unchanged: a
`word:*` tsquery already uses the GIN index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TOKENIZE = "unicode61 remove_diacritics 2"
PREFIX = "2 3 4"

# table -> (indexed text columns, scope kind), as in revision 0002
SQLITE_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "messages": (("content",), "session"),
    "memories": (("content", "context"), "owner"),
    "response_patterns": (("trigger_context", "response_text"), "owner"),
}


def _scope(kind: str, prefix: str) -> str:
    expr = f"'u' || coalesce(lower(replace({prefix}user_id, '-', '')), 'base')"
    if kind == "session":
        expr += f" || ' s' || lower(replace({prefix}session_id, '-', ''))"
    return expr


def _recreate(prefix: str | None) -> None:
    for table, (columns, kind) in SQLITE_TABLES.items():
        fts = f"{table}_fts"
        src = f"{table}_fts_src"
        cols = ", ".join(columns)
        new_vals = ", ".join(f"new.{c}" for c in columns)
        old_vals = ", ".join(f"old.{c}" for c in columns)
        watched = ", ".join((*columns, "user_id") + (("session_id",) if kind == "session" else ()))
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
        option = f", prefix='{prefix}'" if prefix else ""
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, scope, content='{src}', "
            f"content_rowid='rid', tokenize=\"{TOKENIZE}\"{option})"
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(PREFIX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(None)
