"""LangGraph threads are per owner: `owner` leads the keys of `graph_checkpoints`,
`graph_checkpoint_blobs` and `graph_checkpoint_writes`

A `MemvaultSaver` made for one user saw and continued another user's thread whenever the
thread ids matched (LangGraph thread ids are the caller's: "default", "1", a session name):
the three tables were keyed by (thread, namespace, …) alone, so the same thread id of two
users was one thread. Scoping the queries by `user_id` could not fix it: the two users'
checkpoints and channel values would still collide on the key. Each table now has `owner`
(the memvault user id as text, '' for a thread with no owner), first in its primary key, so
the same thread id of two owners is two independent threads. `graph_checkpoints.user_id`
stays (its foreign key makes `erase_user` delete the user's checkpoints); `owner` is
`COALESCE(user_id, '')`.

Existing rows are kept: a checkpoint's owner is its `user_id`; a pending write's owner is
its checkpoint's; a channel value is copied to each owner whose checkpoints share its
(thread, namespace) — the shared threads written before this revision — and left to ''
when no checkpoint names its thread.

Why a revision: a key cannot gain a column without one. Each table is rebuilt (renamed,
created anew, copied, dropped), alike on SQLite, which cannot alter a primary key, and
PostgreSQL.

Downgrade drops `owner`: where two owners have a thread with the same id, the rows of the
owner first in text order ('' first) are kept and the others dropped, as the old keys
cannot hold both.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
Time = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
Json = sa.Text().with_variant(postgresql.JSONB(), "postgresql")

CHECKPOINTS = "graph_checkpoints"
BLOBS = "graph_checkpoint_blobs"
WRITES = "graph_checkpoint_writes"
INDEXES = {"ix_graph_checkpoints_run_id": "run_id", "ix_graph_checkpoints_user_id": "user_id"}
KEYS = {
    CHECKPOINTS: ("thread_id", "checkpoint_ns", "checkpoint_id"),
    BLOBS: ("thread_id", "checkpoint_ns", "channel", "version"),
    WRITES: ("thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx"),
}
COLUMNS = {
    CHECKPOINTS: "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,"
    " user_id, type, checkpoint, metadata, created_at",
    BLOBS: "thread_id, checkpoint_ns, channel, version, type, blob",
    WRITES: "thread_id, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, type, blob",
}


def _columns(table: str) -> list[sa.schema.SchemaItem]:
    if table == CHECKPOINTS:
        return [
            sa.Column("thread_id", sa.Text, nullable=False),
            sa.Column("checkpoint_ns", sa.Text, nullable=False, server_default=""),
            sa.Column("checkpoint_id", sa.Text, nullable=False),
            sa.Column("parent_checkpoint_id", sa.Text),
            sa.Column("run_id", sa.Text),
            sa.Column("user_id", Id),
            sa.Column("type", sa.Text, nullable=False),
            sa.Column("checkpoint", sa.LargeBinary, nullable=False),
            sa.Column("metadata", Json, nullable=False, server_default="{}"),
            sa.Column("created_at", Time, nullable=False),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name="fk_graph_checkpoints_user_id", ondelete="CASCADE"
            ),
        ]
    if table == BLOBS:
        return [
            sa.Column("thread_id", sa.Text, nullable=False),
            sa.Column("checkpoint_ns", sa.Text, nullable=False, server_default=""),
            sa.Column("channel", sa.Text, nullable=False),
            sa.Column("version", sa.Text, nullable=False),
            sa.Column("type", sa.Text, nullable=False),
            sa.Column("blob", sa.LargeBinary),
        ]
    return [
        sa.Column("thread_id", sa.Text, nullable=False),
        sa.Column("checkpoint_ns", sa.Text, nullable=False, server_default=""),
        sa.Column("checkpoint_id", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("task_path", sa.Text, nullable=False, server_default=""),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
    ]


def _set_aside() -> None:
    """Rename the three tables to `*_old`, their key and index names out of the way."""
    for name in INDEXES:
        op.drop_index(name, table_name=CHECKPOINTS)
    for table in KEYS:
        op.rename_table(table, f"{table}_old")
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table}_old RENAME CONSTRAINT pk_{table} TO pk_{table}_old")


def _create(*, owned: bool) -> None:
    for table, key in KEYS.items():
        owner = [sa.Column("owner", sa.Text, nullable=False, server_default="")] if owned else []
        op.create_table(
            table,
            *owner,
            *_columns(table),
            sa.PrimaryKeyConstraint(*(("owner",) if owned else ()), *key, name=f"pk_{table}"),
        )


def _finish() -> None:
    for table in KEYS:
        op.drop_table(f"{table}_old")
    for name, column in INDEXES.items():
        op.create_index(name, CHECKPOINTS, [column])


def upgrade() -> None:
    _set_aside()
    _create(owned=True)
    user = "COALESCE(CAST(user_id AS TEXT), '')"
    op.execute(
        f"INSERT INTO {CHECKPOINTS} (owner, {COLUMNS[CHECKPOINTS]})"
        f" SELECT {user}, {COLUMNS[CHECKPOINTS]} FROM {CHECKPOINTS}_old"
    )
    op.execute(
        f"INSERT INTO {WRITES} (owner, {COLUMNS[WRITES]})"
        f" SELECT COALESCE((SELECT c.owner FROM {CHECKPOINTS} c WHERE c.thread_id = w.thread_id"
        " AND c.checkpoint_ns = w.checkpoint_ns AND c.checkpoint_id = w.checkpoint_id), ''),"
        f" {', '.join('w.' + c.strip() for c in COLUMNS[WRITES].split(','))}"
        f" FROM {WRITES}_old w"
    )
    blob_columns = ", ".join("b." + c.strip() for c in COLUMNS[BLOBS].split(","))
    op.execute(
        f"INSERT INTO {BLOBS} (owner, {COLUMNS[BLOBS]})"
        f" SELECT o.owner, {blob_columns} FROM {BLOBS}_old b JOIN"
        f" (SELECT DISTINCT thread_id, checkpoint_ns, owner FROM {CHECKPOINTS}) o"
        " ON o.thread_id = b.thread_id AND o.checkpoint_ns = b.checkpoint_ns"
        f" UNION ALL SELECT '', {blob_columns} FROM {BLOBS}_old b WHERE NOT EXISTS"
        f" (SELECT 1 FROM {CHECKPOINTS} c WHERE c.thread_id = b.thread_id"
        " AND c.checkpoint_ns = b.checkpoint_ns)"
    )
    _finish()


def downgrade() -> None:
    _set_aside()
    _create(owned=False)
    for table in KEYS:
        op.execute(
            f"INSERT INTO {table} ({COLUMNS[table]}) SELECT {COLUMNS[table]}"
            f" FROM {table}_old WHERE 1 = 1 ORDER BY owner ON CONFLICT DO NOTHING"
        )
    _finish()
