"""caller-chosen keys on memories and sessions, explicit de-duplication, sliding expiry, a
memory's history that outlives it

Memories:
- `key`, the caller's name for a memory, unique per owner (`uq_memories_user_id_key`, and
  `uq_memories_base_key` for the base layer, where user_id is NULL);
- `dedupe` (true for every existing row): whether the memory takes part in content
  de-duplication. The unique content-hash indexes now cover only those rows, so a memory
  added with `dedupe=False` (or written by key) may share its text with another;
- `ttl_seconds`: a sliding expiry; a refreshing read sets `expires_at = now + ttl`.

Sessions: `legacy_key` is renamed `key` (one concept for the key an importer, the dual-write,
the hook or an adapter gives a session), and its uniqueness now covers the base layer too
(`uq_sessions_base_key`); were two base-layer sessions to share a key, the oldest keeps it and
the others record `key_duplicate_of` in their metadata.

memory_history loses its foreign key to memories (ON DELETE CASCADE): a deleted memory's
history stays, ending with its `delete` entry. On SQLite the table is rebuilt to drop it.

Downgrade: the columns go, `key` is `legacy_key` again, the foreign key comes back — and with
it the history of deleted memories is removed (it would break the constraint), as are the
memories that share their text with a de-duplicated one of the same owner and kind but the
oldest (the unique index would refuse them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:45:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Float = sa.Float().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
HISTORY_COLUMNS = (
    "id, memory_id, user_id, op, old_content, new_content, changes, reason, changed_at"
)


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _history_table(with_memory_fk: bool) -> None:
    """SQLite cannot drop or add a foreign key: rebuild memory_history as declared."""
    fk = (
        "CONSTRAINT fk_memory_history_memory_id FOREIGN KEY(memory_id) REFERENCES memories (id) "
        "ON DELETE CASCADE, "
        if with_memory_fk
        else ""
    )
    op.execute(
        "CREATE TABLE memory_history_0009 (id VARCHAR(36) NOT NULL, memory_id VARCHAR(36) NOT "
        "NULL, user_id VARCHAR(36), op TEXT NOT NULL, old_content TEXT, new_content TEXT, "
        "changes TEXT DEFAULT '{}' NOT NULL, reason TEXT, changed_at TEXT NOT NULL, "
        "CONSTRAINT pk_memory_history PRIMARY KEY (id), "
        "CONSTRAINT ck_memory_history_op CHECK (op IN ('create', 'update', 'delete')), "
        f"{fk}"
        "CONSTRAINT fk_memory_history_user_id FOREIGN KEY(user_id) REFERENCES users (id) "
        "ON DELETE CASCADE)"
    )
    op.execute(
        f"INSERT INTO memory_history_0009 ({HISTORY_COLUMNS}) "
        f"SELECT {HISTORY_COLUMNS} FROM memory_history"
    )
    op.execute("DROP TABLE memory_history")
    op.execute("ALTER TABLE memory_history_0009 RENAME TO memory_history")
    op.create_index(
        "ix_memory_history_memory_id_changed_at", "memory_history", ["memory_id", "changed_at"]
    )
    op.create_index("ix_memory_history_user_id", "memory_history", ["user_id"])


def _hash_indexes(where_user: str, where_base: str) -> None:
    op.create_index(
        "uq_memories_user_kind_hash",
        "memories",
        ["user_id", "kind", "content_hash"],
        unique=True,
        sqlite_where=sa.text(where_user) if where_user else None,
        postgresql_where=sa.text(where_user) if where_user else None,
    )
    op.create_index(
        "uq_memories_base_kind_hash",
        "memories",
        ["kind", "content_hash"],
        unique=True,
        sqlite_where=sa.text(where_base),
        postgresql_where=sa.text(where_base),
    )


def _meta(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value)


def _base_session_keys() -> None:
    """Base-layer sessions sharing a key: the oldest keeps it (see the docstring)."""
    bind = op.get_bind()
    rows = bind.execute(
        text(
            "SELECT id, key, metadata FROM sessions s WHERE user_id IS NULL AND key IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM sessions o WHERE o.user_id IS NULL AND o.key = s.key "
            "AND o.id < s.id)"
        )
    ).all()
    value = ":m" if _sqlite() else "CAST(:m AS jsonb)"
    for row in rows:
        keeper = bind.execute(
            text("SELECT id FROM sessions WHERE user_id IS NULL AND key = :k ORDER BY id LIMIT 1"),
            {"k": row.key},
        ).scalar_one()
        meta = _meta(row.metadata)
        meta["key_duplicate_of"] = str(keeper)
        bind.execute(
            text(f"UPDATE sessions SET key = NULL, metadata = {value} WHERE id = :id"),
            {"m": json.dumps(meta), "id": row.id},
        )


def upgrade() -> None:
    op.add_column("memories", sa.Column("key", sa.Text))
    op.add_column(
        "memories", sa.Column("dedupe", sa.Boolean, nullable=False, server_default=sa.true())
    )
    # SQLite cannot add a CHECK to a column it adds; the API validates ttl on both engines,
    # and PostgreSQL gets the constraint.
    op.add_column("memories", sa.Column("ttl_seconds", Float))
    if not _sqlite():
        op.create_check_constraint(
            "ck_memories_ttl_positive", "memories", "ttl_seconds IS NULL OR ttl_seconds > 0"
        )
    op.drop_index("uq_memories_user_kind_hash", table_name="memories")
    op.drop_index("uq_memories_base_kind_hash", table_name="memories")
    _hash_indexes("dedupe", "user_id IS NULL AND dedupe")
    op.create_index(
        "uq_memories_user_id_key",
        "memories",
        ["user_id", "key"],
        unique=True,
        sqlite_where=sa.text("key IS NOT NULL"),
        postgresql_where=sa.text("key IS NOT NULL"),
    )
    op.create_index(
        "uq_memories_base_key",
        "memories",
        ["key"],
        unique=True,
        sqlite_where=sa.text("user_id IS NULL AND key IS NOT NULL"),
        postgresql_where=sa.text("user_id IS NULL AND key IS NOT NULL"),
    )

    op.drop_index("uq_sessions_user_id_legacy_key", table_name="sessions")
    op.execute("ALTER TABLE sessions RENAME COLUMN legacy_key TO key")
    _base_session_keys()
    op.create_index(
        "uq_sessions_user_id_key",
        "sessions",
        ["user_id", "key"],
        unique=True,
        sqlite_where=sa.text("key IS NOT NULL"),
        postgresql_where=sa.text("key IS NOT NULL"),
    )
    op.create_index(
        "uq_sessions_base_key",
        "sessions",
        ["key"],
        unique=True,
        sqlite_where=sa.text("user_id IS NULL AND key IS NOT NULL"),
        postgresql_where=sa.text("user_id IS NULL AND key IS NOT NULL"),
    )

    if _sqlite():
        _history_table(with_memory_fk=False)
    else:
        op.drop_constraint("fk_memory_history_memory_id", "memory_history", type_="foreignkey")


def downgrade() -> None:
    op.execute("DELETE FROM memory_history WHERE memory_id NOT IN (SELECT id FROM memories)")
    if _sqlite():
        _history_table(with_memory_fk=True)
    else:
        op.create_foreign_key(
            "fk_memory_history_memory_id",
            "memory_history",
            "memories",
            ["memory_id"],
            ["id"],
            ondelete="CASCADE",
        )

    op.drop_index("uq_sessions_base_key", table_name="sessions")
    op.drop_index("uq_sessions_user_id_key", table_name="sessions")
    op.execute("ALTER TABLE sessions RENAME COLUMN key TO legacy_key")
    op.create_index(
        "uq_sessions_user_id_legacy_key",
        "sessions",
        ["user_id", "legacy_key"],
        unique=True,
        sqlite_where=sa.text("legacy_key IS NOT NULL"),
        postgresql_where=sa.text("legacy_key IS NOT NULL"),
    )

    op.drop_index("uq_memories_base_key", table_name="memories")
    op.drop_index("uq_memories_user_id_key", table_name="memories")
    op.drop_index("uq_memories_base_kind_hash", table_name="memories")
    op.drop_index("uq_memories_user_kind_hash", table_name="memories")
    # Memories sharing owner, kind and text: the oldest stays (the unique index needs it).
    op.execute(
        "DELETE FROM memories WHERE EXISTS (SELECT 1 FROM memories o WHERE "
        "o.kind = memories.kind AND o.content_hash = memories.content_hash AND "
        "(o.user_id = memories.user_id OR (o.user_id IS NULL AND memories.user_id IS NULL)) "
        "AND o.id < memories.id)"
    )
    _hash_indexes("", "user_id IS NULL")
    if not _sqlite():
        op.drop_constraint("ck_memories_ttl_positive", "memories", type_="check")
    for column in ("ttl_seconds", "dedupe", "key"):
        op.execute(f"ALTER TABLE memories DROP COLUMN {column}")
