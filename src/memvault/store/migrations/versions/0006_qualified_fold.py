"""memvault_tsv names memvault_fold with its schema, so that a pg_dump of a store restores

pg_restore (and psql reading a plain pg_dump file) runs with an empty `search_path`. Creating
a table whose generated `fts` column calls `memvault_tsv` made PostgreSQL parse that SQL
function's body there, where the unqualified `memvault_fold` could not be found: the restore
reported errors and the restored database had no `messages`, `memories` or
`response_patterns` table at all. The body is otherwise unchanged (`to_tsvector` and
`coalesce` are in pg_catalog, which is always searched), so it is still inlined and every
stored `fts` value stays what it is. No-op on SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TSV = (
    "CREATE OR REPLACE FUNCTION memvault_tsv(text) RETURNS tsvector "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT to_tsvector('simple'::regconfig, {fold}(coalesce($1, ''))) $$"
)


def _fold_schema() -> str:
    """The schema memvault_fold was created in (revision 0002), as a quoted identifier."""
    name = (
        op.get_bind()
        .execute(
            text(
                "SELECT quote_ident(n.nspname) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE p.proname = 'memvault_fold' AND pg_function_is_visible(p.oid)"
            )
        )
        .scalar_one()
    )
    return str(name)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(TSV.format(fold=f"{_fold_schema()}.memvault_fold"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(TSV.format(fold="memvault_fold"))
