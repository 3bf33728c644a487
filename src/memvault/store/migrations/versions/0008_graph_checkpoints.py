"""LangGraph checkpoints: `graph_checkpoints`, `graph_checkpoint_blobs`,
`graph_checkpoint_writes` (memvault.langgraph.MemvaultSaver)

- `graph_checkpoints`: one row per checkpoint of a thread and namespace, keyed as LangGraph
  keys it (thread, namespace, checkpoint id; checkpoint ids are time-ordered text, so text
  order is checkpoint order). The checkpoint without its channel values is stored as the
  saver's serializer writes it (`type`, `checkpoint`); its metadata as JSON, so that `list`
  filters on it in SQL; `run_id` (from the metadata) indexed for `delete_for_runs`; an
  optional owner `user_id`, so that `export_user` and `erase_user` include the thread.
- `graph_checkpoint_blobs`: one channel value per (thread, namespace, channel, version),
  shared by every checkpoint that still sees that version.
- `graph_checkpoint_writes`: the pending writes of a checkpoint, one per (task, index); the
  special writes (error, interrupt, …) take LangGraph's negative indexes.

Blobs and writes have no owner column: they are reached through their thread's checkpoints
(`admin.OWNER_PREDICATES`), as messages are through their sessions.

Downgrade drops the three tables, checkpoints included.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
Time = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
Json = sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "graph_checkpoints",
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
        sa.PrimaryKeyConstraint(
            "thread_id", "checkpoint_ns", "checkpoint_id", name="pk_graph_checkpoints"
        ),
    )
    op.create_index("ix_graph_checkpoints_run_id", "graph_checkpoints", ["run_id"])
    op.create_index("ix_graph_checkpoints_user_id", "graph_checkpoints", ["user_id"])
    op.create_table(
        "graph_checkpoint_blobs",
        sa.Column("thread_id", sa.Text, nullable=False),
        sa.Column("checkpoint_ns", sa.Text, nullable=False, server_default=""),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("blob", sa.LargeBinary),
        sa.PrimaryKeyConstraint(
            "thread_id", "checkpoint_ns", "channel", "version", name="pk_graph_checkpoint_blobs"
        ),
    )
    op.create_table(
        "graph_checkpoint_writes",
        sa.Column("thread_id", sa.Text, nullable=False),
        sa.Column("checkpoint_ns", sa.Text, nullable=False, server_default=""),
        sa.Column("checkpoint_id", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("task_path", sa.Text, nullable=False, server_default=""),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint(
            "thread_id",
            "checkpoint_ns",
            "checkpoint_id",
            "task_id",
            "idx",
            name="pk_graph_checkpoint_writes",
        ),
    )


def downgrade() -> None:
    op.drop_table("graph_checkpoint_writes")
    op.drop_table("graph_checkpoint_blobs")
    op.drop_index("ix_graph_checkpoints_user_id", table_name="graph_checkpoints")
    op.drop_index("ix_graph_checkpoints_run_id", table_name="graph_checkpoints")
    op.drop_table("graph_checkpoints")
