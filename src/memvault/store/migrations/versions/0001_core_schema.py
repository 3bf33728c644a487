"""Core schema: every domain's tables, constraints and indexes (see store/schema.py).

Revision ID: 0001
Revises:
Create Date: 2026-11-22 11:10:55.242659
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column(
            "options",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "report",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "started_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "finished_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'quarantined', 'mismatch', 'failed')",
            name=op.f("ck_import_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.create_index("ix_import_runs_started_at", ["started_at"], unique=False)

    op.create_table(
        "retention_policies",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("max_age_days", sa.Integer(), nullable=True),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "keep_last IS NULL OR keep_last >= 0", name=op.f("ck_retention_policies_keep_last")
        ),
        sa.CheckConstraint(
            "max_age_days IS NOT NULL OR keep_last IS NOT NULL",
            name=op.f("ck_retention_policies_has_rule"),
        ),
        sa.CheckConstraint(
            "max_age_days IS NULL OR max_age_days > 0",
            name=op.f("ck_retention_policies_max_age_days"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_policies")),
        sa.UniqueConstraint("entity", name=op.f("uq_retention_policies_entity")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column(
            "profile",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint("length(handle) > 0", name=op.f("ck_users_handle_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("handle", name=op.f("uq_users_handle")),
    )
    op.create_table(
        "api_keys",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), server_default="user", nullable=False),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_used_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "revoked_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "scope = 'admin' OR user_id IS NOT NULL", name=op.f("ck_api_keys_user_key_has_owner")
        ),
        sa.CheckConstraint("scope IN ('user', 'admin')", name=op.f("ck_api_keys_scope")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index("ix_api_keys_user_id", ["user_id"], unique=False)

    op.create_table(
        "import_checkpoints",
        sa.Column(
            "run_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_runs.id"],
            name=op.f("fk_import_checkpoints_run_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "stream", name=op.f("pk_import_checkpoints")),
    )
    op.create_table(
        "projects",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint("length(name) > 0", name=op.f("ck_projects_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_projects_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            "uq_projects_base_name",
            ["name"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.create_index("uq_projects_user_id_name", ["user_id", "name"], unique=True)

    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_quarantine_run_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_quarantine_run_id", ["run_id"], unique=False)

    op.create_table(
        "response_patterns",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("intent", sa.Text(), server_default="general", nullable=False),
        sa.Column("trigger_context", sa.Text(), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column(
            "success_score",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            server_default="0.5",
            nullable=False,
        ),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "last_used_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "success_score >= 0 AND success_score <= 1",
            name=op.f("ck_response_patterns_success_score"),
        ),
        sa.CheckConstraint("usage_count >= 0", name=op.f("ck_response_patterns_usage_count")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_response_patterns_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_patterns")),
    )
    with op.batch_alter_table("response_patterns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_response_patterns_user_id_intent_success",
            ["user_id", "intent", "success_score"],
            unique=False,
        )

    op.create_table(
        "routing_scores",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("keyword", sa.Text(), nullable=False),
        sa.Column("tool_name", sa.Text(), nullable=False),
        sa.Column("tool_type", sa.Text(), server_default="builtin", nullable=False),
        sa.Column(
            "weight",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            server_default="0",
            nullable=False,
        ),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("success_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "last_used_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "tool_type IN ('builtin', 'mcp', 'command', 'agent', 'skill')",
            name=op.f("ck_routing_scores_tool_type"),
        ),
        sa.CheckConstraint(
            "success_count >= 0 AND success_count <= usage_count",
            name=op.f("ck_routing_scores_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_routing_scores_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_scores")),
    )
    with op.batch_alter_table("routing_scores", schema=None) as batch_op:
        batch_op.create_index("ix_routing_scores_keyword", ["keyword"], unique=False)
        batch_op.create_index(
            "uq_routing_scores_base_keyword_tool",
            ["keyword", "tool_name"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.create_index(
            "uq_routing_scores_user_keyword_tool", ["user_id", "keyword", "tool_name"], unique=True
        )

    op.create_table(
        "subscriptions",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_subscriptions_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_subscriptions_topic", ["topic"], unique=False)
        batch_op.create_index(
            "uq_subscriptions_base_agent_topic",
            ["agent_id", "topic"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.create_index(
            "uq_subscriptions_user_agent_topic", ["user_id", "agent_id", "topic"], unique=True
        )

    op.create_table(
        "traits",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("agent", sa.Text(), server_default="default", nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "value", sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False
        ),
        sa.Column(
            "updated_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint("value >= 0 AND value <= 1", name=op.f("ck_traits_value")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_traits_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traits")),
    )
    with op.batch_alter_table("traits", schema=None) as batch_op:
        batch_op.create_index(
            "uq_traits_base_agent_name",
            ["agent", "name"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.create_index(
            "uq_traits_user_id_agent_name", ["user_id", "agent", "name"], unique=True
        )

    op.create_table(
        "agent_messages",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "project_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("from_agent", sa.Text(), nullable=False),
        sa.Column("to_agent", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("message_type", sa.Text(), server_default="info", nullable=False),
        sa.Column(
            "payload",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "expires_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "to_agent IS NOT NULL OR topic IS NOT NULL",
            name=op.f("ck_agent_messages_has_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_agent_messages_project_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_messages_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_messages")),
    )
    with op.batch_alter_table("agent_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_messages_to_agent_created_at", ["to_agent", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_agent_messages_topic_created_at", ["topic", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_agent_messages_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "sessions",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "project_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "parent_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("kind", sa.Text(), server_default="chat", nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "started_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "ended_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "kind IN ('chat', 'task', 'agent', 'instance', 'competition', 'ensemble', 'debate')",
            name=op.f("ck_sessions_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'idle', 'running', 'paused', 'completed', 'failed', 'archived', 'timeout')",
            name=op.f("ck_sessions_status"),
        ),
        sa.CheckConstraint(
            "message_count >= 0 AND message_count <= last_seq", name=op.f("ck_sessions_counts")
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_sessions_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["sessions.id"], name=op.f("fk_sessions_parent_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sessions_project_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_parent_id", ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_sessions_project_id_started_at", ["project_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_sessions_user_id_started_at", ["user_id", "started_at"], unique=False
        )

    op.create_table(
        "trait_changes",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "trait_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "old_value", sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=True
        ),
        sa.Column(
            "new_value",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "changed_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "new_value >= 0 AND new_value <= 1", name=op.f("ck_trait_changes_new_value")
        ),
        sa.CheckConstraint(
            "old_value IS NULL OR (old_value >= 0 AND old_value <= 1)",
            name=op.f("ck_trait_changes_old_value"),
        ),
        sa.ForeignKeyConstraint(
            ["trait_id"], ["traits.id"], name=op.f("fk_trait_changes_trait_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_trait_changes_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trait_changes")),
    )
    with op.batch_alter_table("trait_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trait_changes_trait_id_changed_at", ["trait_id", "changed_at"], unique=False
        )
        batch_op.create_index("ix_trait_changes_user_id", ["user_id"], unique=False)

    op.create_table(
        "actions",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "project_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "session_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("tool_name", sa.Text(), nullable=False),
        sa.Column("tool_type", sa.Text(), server_default="builtin", nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column(
            "file_paths",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column(
            "duration_ms",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "tool_type IN ('builtin', 'mcp', 'command', 'agent', 'skill')",
            name=op.f("ck_actions_tool_type"),
        ),
        sa.CheckConstraint(
            "duration_ms IS NULL OR duration_ms >= 0", name=op.f("ck_actions_duration")
        ),
        sa.CheckConstraint("length(tool_name) > 0", name=op.f("ck_actions_tool_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_actions_project_id"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_actions_session_id"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_actions_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index("ix_actions_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_actions_project_id_created_at", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_actions_session_id", ["session_id"], unique=False)
        batch_op.create_index(
            "ix_actions_tool_name_created_at", ["tool_name", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_actions_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "emotion_events",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "session_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("emotion", sa.Text(), nullable=False),
        sa.Column(
            "intensity",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            nullable=False,
        ),
        sa.Column("trigger", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "intensity >= 0 AND intensity <= 1", name=op.f("ck_emotion_events_intensity")
        ),
        sa.CheckConstraint("length(emotion) > 0", name=op.f("ck_emotion_events_emotion_not_empty")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_emotion_events_session_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_emotion_events_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emotion_events")),
    )
    with op.batch_alter_table("emotion_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_emotion_events_session_id_occurred_at", ["session_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_emotion_events_user_id_emotion_occurred_at",
            ["user_id", "emotion", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_emotion_events_user_id_occurred_at", ["user_id", "occurred_at"], unique=False
        )

    op.create_table(
        "message_reads",
        sa.Column(
            "message_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column(
            "read_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["agent_messages.id"],
            name=op.f("fk_message_reads_message_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "agent_id", name=op.f("pk_message_reads")),
    )
    op.create_table(
        "messages",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "session_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("emotion", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "edited_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "role IN ('user', 'assistant', 'system', 'tool', 'function')",
            name=op.f("ck_messages_role"),
        ),
        sa.CheckConstraint("seq > 0", name=op.f("ck_messages_seq_positive")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_messages_session_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_messages_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_messages_session_id_seq")),
    )
    op.create_table(
        "requests",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "project_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "session_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("prompt_type", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "completed_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_requests_project_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_requests_session_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_requests_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_requests_project_id_created_at", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_requests_status", ["status"], unique=False)
        batch_op.create_index(
            "ix_requests_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "memories",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column(
            "confidence",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            server_default="1",
            nullable=False,
        ),
        sa.Column(
            "importance",
            sa.Float().with_variant(sa.DOUBLE_PRECISION(), "postgresql"),
            server_default="0.5",
            nullable=False,
        ),
        sa.Column("access_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "last_accessed_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "session_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "message_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "metadata",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "expires_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "kind IN ('fact', 'preference', 'event', 'relation', 'pattern', 'summary', 'emotional', 'conversation', 'note')",
            name=op.f("ck_memories_kind"),
        ),
        sa.CheckConstraint("access_count >= 0", name=op.f("ck_memories_access_count")),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_memories_confidence")
        ),
        sa.CheckConstraint(
            "importance >= 0 AND importance <= 1", name=op.f("ck_memories_importance")
        ),
        sa.CheckConstraint("length(content) > 0", name=op.f("ck_memories_content_not_empty")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_memories_message_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_memories_session_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memories_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.create_index(
            "ix_memories_expires_at",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )
        batch_op.create_index("ix_memories_message_id", ["message_id"], unique=False)
        batch_op.create_index("ix_memories_session_id", ["session_id"], unique=False)
        batch_op.create_index(
            "ix_memories_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_memories_user_id_kind_created_at", ["user_id", "kind", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_memories_base_kind_hash",
            ["kind", "content_hash"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.create_index(
            "uq_memories_user_kind_hash", ["user_id", "kind", "content_hash"], unique=True
        )

    op.create_table(
        "task_lists",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "request_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "completed_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'blocked', 'cancelled')",
            name=op.f("ck_task_lists_status"),
        ),
        sa.CheckConstraint("wave >= 0", name=op.f("ck_task_lists_wave")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_task_lists_request_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_lists_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_lists")),
        sa.UniqueConstraint("request_id", "wave", name=op.f("uq_task_lists_request_id_wave")),
    )
    op.create_table(
        "embeddings",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "memory_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "message_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(memory_id IS NULL) <> (message_id IS NULL)",
            name=op.f("ck_embeddings_exactly_one_target"),
        ),
        sa.CheckConstraint("dim > 0 AND dim <= 16384", name=op.f("ck_embeddings_dim")),
        sa.CheckConstraint(
            "length(vector) = 4 * dim", name=op.f("ck_embeddings_vector_is_float32")
        ),
        sa.ForeignKeyConstraint(
            ["memory_id"], ["memories.id"], name=op.f("fk_embeddings_memory_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_embeddings_message_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_embeddings_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embeddings")),
    )
    with op.batch_alter_table("embeddings", schema=None) as batch_op:
        batch_op.create_index("ix_embeddings_user_id_model", ["user_id", "model"], unique=False)
        batch_op.create_index("uq_embeddings_memory_id_model", ["memory_id", "model"], unique=True)
        batch_op.create_index(
            "uq_embeddings_message_id_model", ["message_id", "model"], unique=True
        )

    op.create_table(
        "memory_history",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "memory_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("old_content", sa.Text(), nullable=True),
        sa.Column("new_content", sa.Text(), nullable=True),
        sa.Column(
            "changes",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "changed_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "op IN ('create', 'update', 'delete')", name=op.f("ck_memory_history_op")
        ),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_memory_history_memory_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memory_history_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memory_history")),
    )
    with op.batch_alter_table("memory_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_memory_history_memory_id_changed_at", ["memory_id", "changed_at"], unique=False
        )
        batch_op.create_index("ix_memory_history_user_id", ["user_id"], unique=False)

    op.create_table(
        "subtasks",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "task_list_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("agent_type", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column(
            "result",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "completed_at",
            sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'blocked', 'cancelled')",
            name=op.f("ck_subtasks_status"),
        ),
        sa.ForeignKeyConstraint(
            ["task_list_id"],
            ["task_lists.id"],
            name=op.f("fk_subtasks_task_list_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_subtasks_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subtasks")),
    )
    with op.batch_alter_table("subtasks", schema=None) as batch_op:
        batch_op.create_index("ix_subtasks_status_agent_id", ["status", "agent_id"], unique=False)
        batch_op.create_index("ix_subtasks_task_list_id", ["task_list_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subtasks", schema=None) as batch_op:
        batch_op.drop_index("ix_subtasks_task_list_id")
        batch_op.drop_index("ix_subtasks_status_agent_id")

    op.drop_table("subtasks")
    with op.batch_alter_table("memory_history", schema=None) as batch_op:
        batch_op.drop_index("ix_memory_history_user_id")
        batch_op.drop_index("ix_memory_history_memory_id_changed_at")

    op.drop_table("memory_history")
    with op.batch_alter_table("embeddings", schema=None) as batch_op:
        batch_op.drop_index("uq_embeddings_message_id_model")
        batch_op.drop_index("uq_embeddings_memory_id_model")
        batch_op.drop_index("ix_embeddings_user_id_model")

    op.drop_table("embeddings")
    op.drop_table("task_lists")
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.drop_index("uq_memories_user_kind_hash")
        batch_op.drop_index(
            "uq_memories_base_kind_hash",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.drop_index("ix_memories_user_id_kind_created_at")
        batch_op.drop_index("ix_memories_user_id_created_at")
        batch_op.drop_index("ix_memories_session_id")
        batch_op.drop_index("ix_memories_message_id")
        batch_op.drop_index(
            "ix_memories_expires_at",
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )

    op.drop_table("memories")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_user_id_created_at")
        batch_op.drop_index("ix_requests_status")
        batch_op.drop_index("ix_requests_project_id_created_at")

    op.drop_table("requests")
    op.drop_table("messages")
    op.drop_table("message_reads")
    with op.batch_alter_table("emotion_events", schema=None) as batch_op:
        batch_op.drop_index("ix_emotion_events_user_id_occurred_at")
        batch_op.drop_index("ix_emotion_events_user_id_emotion_occurred_at")
        batch_op.drop_index("ix_emotion_events_session_id_occurred_at")

    op.drop_table("emotion_events")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_user_id_created_at")
        batch_op.drop_index("ix_actions_tool_name_created_at")
        batch_op.drop_index("ix_actions_session_id")
        batch_op.drop_index("ix_actions_project_id_created_at")
        batch_op.drop_index("ix_actions_created_at")

    op.drop_table("actions")
    with op.batch_alter_table("trait_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_trait_changes_user_id")
        batch_op.drop_index("ix_trait_changes_trait_id_changed_at")

    op.drop_table("trait_changes")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user_id_started_at")
        batch_op.drop_index("ix_sessions_project_id_started_at")
        batch_op.drop_index("ix_sessions_parent_id")

    op.drop_table("sessions")
    with op.batch_alter_table("agent_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_messages_user_id_created_at")
        batch_op.drop_index("ix_agent_messages_topic_created_at")
        batch_op.drop_index("ix_agent_messages_to_agent_created_at")

    op.drop_table("agent_messages")
    with op.batch_alter_table("traits", schema=None) as batch_op:
        batch_op.drop_index("uq_traits_user_id_agent_name")
        batch_op.drop_index(
            "uq_traits_base_agent_name",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )

    op.drop_table("traits")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("uq_subscriptions_user_agent_topic")
        batch_op.drop_index(
            "uq_subscriptions_base_agent_topic",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.drop_index("ix_subscriptions_topic")

    op.drop_table("subscriptions")
    with op.batch_alter_table("routing_scores", schema=None) as batch_op:
        batch_op.drop_index("uq_routing_scores_user_keyword_tool")
        batch_op.drop_index(
            "uq_routing_scores_base_keyword_tool",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.drop_index("ix_routing_scores_keyword")

    op.drop_table("routing_scores")
    with op.batch_alter_table("response_patterns", schema=None) as batch_op:
        batch_op.drop_index("ix_response_patterns_user_id_intent_success")

    op.drop_table("response_patterns")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_run_id")

    op.drop_table("quarantine")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("uq_projects_user_id_name")
        batch_op.drop_index(
            "uq_projects_base_name",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )

    op.drop_table("projects")
    op.drop_table("import_checkpoints")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_user_id")

    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("retention_policies")
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_import_runs_started_at")

    op.drop_table("import_runs")
