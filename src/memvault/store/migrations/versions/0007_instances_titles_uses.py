"""unique instance numbers and an instance count on sessions; session titles in the full-text
index; a session's legacy key (dual-write); per-user uses of response patterns; dual-write
rollouts

Sessions:
- `instance_no`, unique within the parent session (AIT42's `instanceId`: a duplicate instance 0
  used to be accepted). Existing child sessions are numbered here from their metadata's
  `instanceId`; a child whose number is missing, not an integer ≥ 0 or already taken by an older
  sibling (id order = creation order) gets the next free number of its parent, and its metadata
  records it: `instance_renumbered: {from, to, revision: "0007"}`.
- `instance_count`, the number of child sessions, kept by triggers (AFTER INSERT / DELETE /
  UPDATE OF parent_id) in the writing transaction, so importers and transfers keep it too;
  backfilled here.
- `legacy_key`, the key of the legacy record a session mirrors, unique per owner: the
  dual-write adapter finds a conversation's session through this index (it used to scan the
  1,000 most recent sessions and created a second session once more existed). Backfilled from
  the metadata's `legacy_conversation`; when the old scan had already made duplicates, the
  oldest keeps the key and the others record `legacy_duplicate_of` in their metadata.
- titles in the full-text index: an FTS5 table `sessions_fts` (title, owner scope) with
  triggers on SQLite, as revisions 0002/0004 do for messages; a GIN index on the expression
  `memvault_tsv(title)` on PostgreSQL (not a stored generated column: every message append
  updates its session's row, and a stored column would be recomputed by each of them).

New tables: `pattern_uses` (per user and pattern: uses and the sum of outcomes) and
`dualwrite_rollouts` (a dual-write rollout's legacy file, stage and history of stage changes).

Downgrade drops all of it (the per-user uses and the rollouts are lost; renumbered instances
keep their metadata, which still holds the original `instanceId`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 18:30:00
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
Time = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
Json = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
Float = sa.Float().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
STAGES = ("off", "dual-write", "shadow-reads", "primary", "complete")
TOKENIZE = "unicode61 remove_diacritics 2"
SCOPE = "'u' || coalesce(lower(replace({p}user_id, '-', '')), 'base')"
NEW_COLUMNS = ("instance_no", "instance_count", "legacy_key")


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _meta(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value)


def _set_meta_sql(column: str) -> str:
    value = ":m" if _sqlite() else "CAST(:m AS jsonb)"
    return f"UPDATE sessions SET {column} = :v, metadata = {value} WHERE id = :id"


def _number_instances() -> None:
    """Give every child session a number, unique within its parent (see the docstring)."""
    bind = op.get_bind()
    rows = bind.execute(
        text(
            "SELECT id, parent_id, metadata FROM sessions WHERE parent_id IS NOT NULL "
            "ORDER BY parent_id, id"
        )
    ).all()
    children: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    plain = text("UPDATE sessions SET instance_no = :v WHERE id = :id")
    recorded = text(_set_meta_sql("instance_no"))
    for siblings in children.values():
        taken: set[int] = set()
        pending = []
        for row in siblings:
            wanted = _meta(row.metadata).get("instanceId")
            valid = isinstance(wanted, int) and not isinstance(wanted, bool) and wanted >= 0
            if isinstance(wanted, int) and valid and wanted not in taken:
                taken.add(wanted)
                bind.execute(plain, {"v": wanted, "id": row.id})
            else:
                pending.append((row, wanted))
        following = max(taken) + 1 if taken else 0
        for row, wanted in pending:
            meta = _meta(row.metadata)
            meta["instance_renumbered"] = {"from": wanted, "to": following, "revision": "0007"}
            bind.execute(recorded, {"v": following, "m": json.dumps(meta), "id": row.id})
            following += 1


def _legacy_keys() -> None:
    """`legacy_key` from the dual-write's `legacy_conversation` metadata, oldest session first."""
    bind = op.get_bind()
    has_key = (
        "metadata LIKE '%legacy_conversation%'" if _sqlite() else "metadata ? 'legacy_conversation'"
    )
    rows = bind.execute(
        text(f"SELECT id, user_id, metadata FROM sessions WHERE {has_key} ORDER BY id")
    ).all()
    first: dict[tuple[Any, str], Any] = {}
    plain = text("UPDATE sessions SET legacy_key = :v WHERE id = :id")
    duplicate = text(_set_meta_sql("legacy_key"))
    for row in rows:
        meta = _meta(row.metadata)
        key = meta.get("legacy_conversation")
        if not isinstance(key, str):
            continue
        owner = (str(row.user_id) if row.user_id is not None else None, key)
        if owner not in first:
            first[owner] = row.id
            bind.execute(plain, {"v": key, "id": row.id})
        else:
            meta["legacy_duplicate_of"] = str(first[owner])
            bind.execute(duplicate, {"v": None, "m": json.dumps(meta), "id": row.id})


def _sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER sessions_instances_ai AFTER INSERT ON sessions "
        "WHEN new.parent_id IS NOT NULL BEGIN "
        "UPDATE sessions SET instance_count = instance_count + 1 WHERE id = new.parent_id; END"
    )
    op.execute(
        "CREATE TRIGGER sessions_instances_ad AFTER DELETE ON sessions "
        "WHEN old.parent_id IS NOT NULL BEGIN "
        "UPDATE sessions SET instance_count = instance_count - 1 WHERE id = old.parent_id; END"
    )
    op.execute(
        "CREATE TRIGGER sessions_instances_au AFTER UPDATE OF parent_id ON sessions "
        "WHEN old.parent_id IS NOT new.parent_id BEGIN "
        "UPDATE sessions SET instance_count = instance_count - 1 WHERE id = old.parent_id; "
        "UPDATE sessions SET instance_count = instance_count + 1 WHERE id = new.parent_id; END"
    )
    fts, cols = "sessions_fts", "title, scope"
    new, old = SCOPE.format(p="new."), SCOPE.format(p="old.")
    op.execute(
        f"CREATE VIEW sessions_fts_src AS SELECT rowid AS rid, title, {SCOPE.format(p='')} "
        "AS scope FROM sessions"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5(title, scope, content='sessions_fts_src', "
        f"content_rowid='rid', tokenize=\"{TOKENIZE}\", prefix='2 3 4')"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON sessions BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, new.title, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON sessions BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) "
        f"VALUES ('delete', old.rowid, old.title, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF title, user_id ON sessions BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) "
        f"VALUES ('delete', old.rowid, old.title, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, new.title, {new}); END"
    )
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _pg_objects() -> None:
    schema = op.get_bind().execute(text("SELECT quote_ident(current_schema())")).scalar_one()
    op.execute(
        f"CREATE OR REPLACE FUNCTION {schema}.memvault_session_instances() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' AND OLD.parent_id IS NOT NULL THEN "
        f"UPDATE {schema}.sessions SET instance_count = instance_count - 1 "
        "WHERE id = OLD.parent_id; END IF; "
        "IF TG_OP <> 'DELETE' AND NEW.parent_id IS NOT NULL THEN "
        f"UPDATE {schema}.sessions SET instance_count = instance_count + 1 "
        "WHERE id = NEW.parent_id; END IF; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER sessions_instances AFTER INSERT OR DELETE OR UPDATE OF parent_id "
        f"ON sessions FOR EACH ROW EXECUTE FUNCTION {schema}.memvault_session_instances()"
    )
    has_btree_gin = (
        op.get_bind()
        .execute(text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gin'"))
        .first()
    )
    if has_btree_gin:
        op.execute(
            "CREATE INDEX ix_sessions_user_id_fts ON sessions "
            "USING gin (user_id, memvault_tsv(title))"
        )
    else:
        op.execute("CREATE INDEX ix_sessions_fts ON sessions USING gin (memvault_tsv(title))")


def upgrade() -> None:
    op.add_column("sessions", sa.Column("instance_no", sa.Integer))
    op.add_column(
        "sessions", sa.Column("instance_count", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("sessions", sa.Column("legacy_key", sa.Text))
    _number_instances()
    _legacy_keys()
    op.execute(
        "UPDATE sessions SET instance_count = (SELECT count(*) FROM sessions c "
        "WHERE c.parent_id = sessions.id) "
        "WHERE id IN (SELECT parent_id FROM sessions WHERE parent_id IS NOT NULL)"
    )
    op.create_index(
        "uq_sessions_parent_id_instance_no",
        "sessions",
        ["parent_id", "instance_no"],
        unique=True,
        sqlite_where=sa.text("instance_no IS NOT NULL"),
        postgresql_where=sa.text("instance_no IS NOT NULL"),
    )
    op.create_index(
        "uq_sessions_user_id_legacy_key",
        "sessions",
        ["user_id", "legacy_key"],
        unique=True,
        sqlite_where=sa.text("legacy_key IS NOT NULL"),
        postgresql_where=sa.text("legacy_key IS NOT NULL"),
    )
    if _sqlite():
        _sqlite_triggers()
    else:
        _pg_objects()

    op.create_table(
        "pattern_uses",
        sa.Column("pattern_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("usage_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("success_total", Float, nullable=False, server_default="0"),
        sa.Column("last_used_at", Time),
        sa.CheckConstraint(
            "usage_count >= 0 AND success_total >= 0 AND success_total <= usage_count",
            name=op.f("ck_pattern_uses_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["pattern_id"],
            ["response_patterns.id"],
            name="fk_pattern_uses_pattern_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_pattern_uses_user_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pattern_id", "user_id", name="pk_pattern_uses"),
    )
    op.create_index("ix_pattern_uses_user_id", "pattern_uses", ["user_id"])
    listed = ", ".join(f"'{s}'" for s in STAGES)
    op.create_table(
        "dualwrite_rollouts",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("legacy", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False, server_default="off"),
        sa.Column("history", Json, nullable=False, server_default="[]"),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(f"stage IN ({listed})", name=op.f("ck_dualwrite_rollouts_stage")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_dualwrite_rollouts_user_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("name", name="pk_dualwrite_rollouts"),
    )
    op.create_index("ix_dualwrite_rollouts_user_id", "dualwrite_rollouts", ["user_id"])


def downgrade() -> None:
    op.drop_table("dualwrite_rollouts")
    op.drop_table("pattern_uses")
    if _sqlite():
        for name in ("sessions_instances_ai", "sessions_instances_ad", "sessions_instances_au",
                     "sessions_fts_ai", "sessions_fts_ad", "sessions_fts_au"):  # fmt: skip
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS sessions_fts")
        op.execute("DROP VIEW IF EXISTS sessions_fts_src")
    else:
        op.execute("DROP TRIGGER IF EXISTS sessions_instances ON sessions")
        op.execute("DROP FUNCTION IF EXISTS memvault_session_instances()")
        op.execute("DROP INDEX IF EXISTS ix_sessions_user_id_fts")
        op.execute("DROP INDEX IF EXISTS ix_sessions_fts")
    op.drop_index("uq_sessions_user_id_legacy_key", table_name="sessions")
    op.drop_index("uq_sessions_parent_id_instance_no", table_name="sessions")
    for column in NEW_COLUMNS:
        op.execute(f"ALTER TABLE sessions DROP COLUMN {column}")
