"""daily emotion rollups; `metadata` on traits, trait_changes, routing_scores, embeddings;
an index for `tasks.claim()`

`emotion_rollups` holds, per (user, emotion, UTC day), the count, sum and peak of intensities,
the first and last times and 24 hour-of-day counts; `emotion_trigger_rollups` the count per
(user, emotion, trigger, UTC month). Months, not days, for triggers: with tens of distinct
triggers a daily table has nearly a row per event (57k rows for a 100k-event year, 25 ms to
sum on PostgreSQL); a monthly one has about 30 times fewer.

Both are derived from `emotion_events` and kept by triggers in the writing transaction: an
insert adds to its day's (month's) row; a delete or an update recomputes the affected days from
the events (a day is small, and peak/first/last cannot be un-added) and decrements the trigger
counts (SQLite) or recomputes the affected months (PostgreSQL, where the triggers are
statement-level with transition tables, so a bulk write touches each day once). On SQLite a
deleted event that was not its day's peak, first or last is decremented instead (erasing a
user's 100k events: 25 s with a recompute per row).
`Emotions.patterns` reads whole days (months for triggers) from them and only the partial
days (months) at the edges of its range from the events. `Emotions.rebuild_rollups` (run by
`memvault reindex`) recomputes them from scratch. Existing events are rolled up here.

On SQLite both tables are WITHOUT ROWID (clustered on their key), so summing one user's rows
reads them in key order without a table lookup per row (measured on daily trigger rows:
120 ms → 12 ms for 100k events).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

HOURS = tuple(f"h{h:02d}" for h in range(24))
META_TABLES = ("traits", "trait_changes", "routing_scores", "embeddings")
SQLITE_TRIGGERS = ("emotion_rollups_ai", "emotion_rollups_ad", "emotion_rollups_au")

Id = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
Time = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
Json = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
Float = sa.Float().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
Day = sa.Text().with_variant(postgresql.DATE(), "postgresql")


def _tables() -> None:
    op.create_table(
        "emotion_rollups",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("emotion", sa.Text, nullable=False),
        sa.Column("day", Day, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("total", Float, nullable=False),
        sa.Column("peak", Float, nullable=False),
        sa.Column("first_at", Time, nullable=False),
        sa.Column("last_at", Time, nullable=False),
        *(sa.Column(h, sa.Integer, nullable=False, server_default="0") for h in HOURS),
        sa.CheckConstraint("n > 0", name=op.f("ck_emotion_rollups_n_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_emotion_rollups_user_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "emotion", "day", name="pk_emotion_rollups"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "emotion_trigger_rollups",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("emotion", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("month", Day, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.CheckConstraint("n > 0", name=op.f("ck_emotion_trigger_rollups_n_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_emotion_trigger_rollups_user_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "emotion", "trigger", "month", name="pk_emotion_trigger_rollups"
        ),
        sqlite_with_rowid=False,
    )


# --- SQLite: row-level triggers ------------------------------------------------------------

ROLLUP_COLS = "user_id, emotion, day, n, total, peak, first_at, last_at, " + ", ".join(HOURS)


def _sqlite_hours(prefix: str) -> str:
    hour = f"CAST(substr({prefix}occurred_at, 12, 2) AS INTEGER)"
    return ", ".join(f"({hour} = {h})" for h in range(24))


def _sqlite_add(row: str) -> str:
    """Add the event `row` ('new') to its day's rollups."""
    day = f"substr({row}.occurred_at, 1, 10)"
    updates = ", ".join(f"{h} = {h} + excluded.{h}" for h in HOURS)
    return (
        f"INSERT INTO emotion_rollups ({ROLLUP_COLS}) VALUES ({row}.user_id, {row}.emotion, "
        f"{day}, 1, {row}.intensity, {row}.intensity, {row}.occurred_at, {row}.occurred_at, "
        f"{_sqlite_hours(row + '.')}) ON CONFLICT (user_id, emotion, day) DO UPDATE SET "
        "n = n + 1, total = total + excluded.total, peak = max(peak, excluded.peak), "
        "first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at), "
        f"{updates}; " + _sqlite_trigger_add(row)
    )


def _sqlite_month(row: str) -> str:
    return f"substr({row}occurred_at, 1, 7) || '-01'"


def _sqlite_trigger_add(row: str) -> str:
    return (
        "INSERT INTO emotion_trigger_rollups (user_id, emotion, trigger, month, n) "
        f"SELECT {row}.user_id, {row}.emotion, {row}.trigger, {_sqlite_month(row + '.')}, 1 "
        f"WHERE {row}.trigger IS NOT NULL AND {row}.trigger <> '' "
        "ON CONFLICT (user_id, emotion, trigger, month) DO UPDATE SET n = n + 1; "
    )


def sqlite_recompute_select(where: str) -> str:
    """The rollup rows of the events matching `where`, grouped by (user, emotion, day)."""
    hour = "CAST(substr(occurred_at, 12, 2) AS INTEGER)"
    hours = ", ".join(f"sum({hour} = {h})" for h in range(24))
    return (
        f"SELECT user_id, emotion, substr(occurred_at, 1, 10), count(*), sum(intensity), "
        f"max(intensity), min(occurred_at), max(occurred_at), {hours} FROM emotion_events "
        f"WHERE {where} GROUP BY user_id, emotion, substr(occurred_at, 1, 10)"
    )


def _sqlite_recompute(row: str) -> str:
    """Recompute the day of the event `row` ('old' or 'new') from the events."""
    day = f"substr({row}.occurred_at, 1, 10)"
    key = f"user_id = {row}.user_id AND emotion = {row}.emotion"
    # ISO text is fixed width: the day's events sort between 'YYYY-MM-DD' and 'YYYY-MM-DD~'.
    span = f"occurred_at >= {day} AND occurred_at < {day} || '~'"
    return (
        f"DELETE FROM emotion_rollups WHERE {key} AND day = {day}; "
        f"INSERT INTO emotion_rollups ({ROLLUP_COLS}) "
        f"{sqlite_recompute_select(f'{key} AND {span}')}; "
    )


def _sqlite_remove(row: str) -> str:
    """Take the deleted event `row` ('old') out of its day's rollup: a decrement when it was
    neither the day's peak nor its first or last event, else a recompute of the day. Deleting
    all of a user's events (erase) then mostly decrements instead of re-reading each day once
    per event."""
    day = f"substr({row}.occurred_at, 1, 10)"
    key = f"user_id = {row}.user_id AND emotion = {row}.emotion"
    inner = (
        f"n > 1 AND {row}.intensity < peak AND {row}.occurred_at > first_at "
        f"AND {row}.occurred_at < last_at"
    )
    hour = f"CAST(substr({row}.occurred_at, 12, 2) AS INTEGER)"
    hours = ", ".join(f"{h} = {h} - ({hour} = {i})" for i, h in enumerate(HOURS))
    span = f"occurred_at >= {day} AND occurred_at < {day} || '~'"
    missing = (
        f"NOT EXISTS (SELECT 1 FROM emotion_rollups r WHERE r.user_id = {row}.user_id "
        f"AND r.emotion = {row}.emotion AND r.day = {day})"
    )
    return (
        f"UPDATE emotion_rollups SET n = n - 1, total = total - {row}.intensity, {hours} "
        f"WHERE {key} AND day = {day} AND {inner}; "
        f"DELETE FROM emotion_rollups WHERE {key} AND day = {day} AND NOT ({inner}); "
        f"INSERT INTO emotion_rollups ({ROLLUP_COLS}) "
        f"{sqlite_recompute_select(f'{key} AND {span} AND {missing}')}; "
    )


def _sqlite_untrigger(row: str) -> str:
    key = (
        f"user_id = {row}.user_id AND emotion = {row}.emotion AND trigger = {row}.trigger "
        f"AND month = {_sqlite_month(row + '.')}"
    )
    return (
        f"DELETE FROM emotion_trigger_rollups WHERE {key} AND n = 1; "
        f"UPDATE emotion_trigger_rollups SET n = n - 1 WHERE {key}; "
    )


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE TRIGGER emotion_rollups_ai AFTER INSERT ON emotion_events BEGIN "
        + _sqlite_add("new")
        + "END"
    )
    op.execute(
        "CREATE TRIGGER emotion_rollups_ad AFTER DELETE ON emotion_events BEGIN "
        + _sqlite_remove("old")
        + _sqlite_untrigger("old")
        + "END"
    )
    op.execute(
        "CREATE TRIGGER emotion_rollups_au AFTER UPDATE OF user_id, emotion, intensity, "
        "trigger, occurred_at ON emotion_events BEGIN "
        + _sqlite_recompute("old")
        + _sqlite_untrigger("old")
        + _sqlite_recompute("new")
        + _sqlite_trigger_add("new")
        + "END"
    )
    op.execute(SQLITE_REBUILD_ROLLUPS)
    op.execute(SQLITE_REBUILD_TRIGGERS)


SQLITE_REBUILD_ROLLUPS = f"INSERT INTO emotion_rollups ({ROLLUP_COLS}) " + sqlite_recompute_select(
    "1 = 1"
)
SQLITE_REBUILD_TRIGGERS = (
    "INSERT INTO emotion_trigger_rollups (user_id, emotion, trigger, month, n) "
    f"SELECT user_id, emotion, trigger, {_sqlite_month('')}, count(*) FROM emotion_events "
    "WHERE trigger IS NOT NULL AND trigger <> '' "
    f"GROUP BY user_id, emotion, trigger, {_sqlite_month('')}"
)

# --- PostgreSQL: statement-level triggers with transition tables ---------------------------

PG_HOUR = "CAST(EXTRACT(HOUR FROM e.occurred_at AT TIME ZONE 'UTC') AS INTEGER)"
PG_DAY = "CAST(e.occurred_at AT TIME ZONE 'UTC' AS date)"
PG_MONTH = "CAST(date_trunc('month', e.occurred_at AT TIME ZONE 'UTC') AS date)"


def pg_rollup_select(source: str, where: str = "TRUE") -> str:
    hours = ", ".join(f"count(*) FILTER (WHERE {PG_HOUR} = {h})" for h in range(24))
    return (
        f"SELECT e.user_id, e.emotion, {PG_DAY}, count(*), sum(e.intensity), max(e.intensity), "
        f"min(e.occurred_at), max(e.occurred_at), {hours} FROM {source} "
        f"WHERE {where} GROUP BY e.user_id, e.emotion, {PG_DAY}"
    )


def pg_trigger_select(source: str, where: str = "TRUE") -> str:
    return (
        f"SELECT e.user_id, e.emotion, e.trigger, {PG_MONTH}, count(*) FROM {source} "
        f"WHERE e.trigger IS NOT NULL AND e.trigger <> '' AND {where} "
        f"GROUP BY e.user_id, e.emotion, e.trigger, {PG_MONTH}"
    )


_PG_UPSERT = ", ".join(f"{h} = r.{h} + excluded.{h}" for h in HOURS)
_PG_KEYS_JOIN = (
    "e.user_id = k.user_id AND e.emotion = k.emotion "
    "AND e.occurred_at >= CAST(k.day AS timestamp) AT TIME ZONE 'UTC' "
    "AND e.occurred_at < CAST(k.day + 1 AS timestamp) AT TIME ZONE 'UTC'"
)
_PG_MONTH_JOIN = (
    "e.user_id = k.user_id AND e.emotion = k.emotion "
    "AND e.occurred_at >= CAST(k.month AS timestamp) AT TIME ZONE 'UTC' "
    "AND e.occurred_at < (CAST(k.month AS timestamp) + interval '1 month') AT TIME ZONE 'UTC'"
)


def _pg_recompute(source: str) -> str:
    """Recompute the rollup rows of the events in `source` ('old_rows', or both transition
    tables) from `emotion_events`: their days, and their months for the trigger counts."""
    days = " UNION ".join(
        f"SELECT DISTINCT e.user_id, e.emotion, {PG_DAY} FROM {t} e" for t in source.split()
    )
    months = " UNION ".join(
        f"SELECT DISTINCT e.user_id, e.emotion, {PG_MONTH} FROM {t} e" for t in source.split()
    )
    k = f"({days}) AS k (user_id, emotion, day)"
    m = f"({months}) AS k (user_id, emotion, month)"
    return f"""
  DELETE FROM emotion_rollups r USING {k}
    WHERE r.user_id = k.user_id AND r.emotion = k.emotion AND r.day = k.day;
  INSERT INTO emotion_rollups ({ROLLUP_COLS})
    {pg_rollup_select(f"emotion_events e JOIN {k} ON {_PG_KEYS_JOIN}")};
  DELETE FROM emotion_trigger_rollups r USING {m}
    WHERE r.user_id = k.user_id AND r.emotion = k.emotion AND r.month = k.month;
  INSERT INTO emotion_trigger_rollups (user_id, emotion, trigger, month, n)
    {pg_trigger_select(f"emotion_events e JOIN {m} ON {_PG_MONTH_JOIN}")};
"""


PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION memvault_emotion_rollups_ins() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO emotion_rollups AS r ({ROLLUP_COLS}) {pg_rollup_select("new_rows e")}
  ON CONFLICT (user_id, emotion, day) DO UPDATE SET n = r.n + excluded.n,
    total = r.total + excluded.total, peak = greatest(r.peak, excluded.peak),
    first_at = least(r.first_at, excluded.first_at),
    last_at = greatest(r.last_at, excluded.last_at), {_PG_UPSERT};
  INSERT INTO emotion_trigger_rollups AS r (user_id, emotion, trigger, month, n)
    {pg_trigger_select("new_rows e")}
  ON CONFLICT (user_id, emotion, trigger, month) DO UPDATE SET n = r.n + excluded.n;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION memvault_emotion_rollups_del() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  {_pg_recompute("old_rows")}
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION memvault_emotion_rollups_upd() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (n.user_id, n.emotion, n.intensity, n.trigger, n.occurred_at)
      IS DISTINCT FROM (o.user_id, o.emotion, o.intensity, o.trigger, o.occurred_at)
  ) THEN
    RETURN NULL;
  END IF;
  {_pg_recompute("old_rows new_rows")}
  RETURN NULL;
END $$;
"""

PG_TRIGGERS = """
CREATE TRIGGER emotion_rollups_ins AFTER INSERT ON emotion_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION memvault_emotion_rollups_ins();
CREATE TRIGGER emotion_rollups_del AFTER DELETE ON emotion_events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION memvault_emotion_rollups_del();
CREATE TRIGGER emotion_rollups_upd AFTER UPDATE ON emotion_events
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION memvault_emotion_rollups_upd();
"""

PG_REBUILD_ROLLUPS = f"INSERT INTO emotion_rollups ({ROLLUP_COLS}) " + pg_rollup_select(
    "emotion_events e"
)
PG_REBUILD_TRIGGERS = (
    "INSERT INTO emotion_trigger_rollups (user_id, emotion, trigger, month, n) "
    + pg_trigger_select("emotion_events e")
)


def _pg_upgrade() -> None:
    op.execute(PG_FUNCTIONS)
    op.execute(PG_TRIGGERS)
    op.execute(PG_REBUILD_ROLLUPS)
    op.execute(PG_REBUILD_TRIGGERS)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in META_TABLES:
        op.add_column(table, sa.Column("metadata", Json, nullable=False, server_default="{}"))
    op.create_index(
        "ix_subtasks_user_id_status_created_at", "subtasks", ["user_id", "status", "created_at"]
    )
    _tables()
    if dialect == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trig in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
    else:
        for trig in ("emotion_rollups_ins", "emotion_rollups_del", "emotion_rollups_upd"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig} ON emotion_events")
        for fn in ("ins", "del", "upd"):
            op.execute(f"DROP FUNCTION IF EXISTS memvault_emotion_rollups_{fn}()")
    op.drop_table("emotion_trigger_rollups")
    op.drop_table("emotion_rollups")
    op.drop_index("ix_subtasks_user_id_status_created_at", table_name="subtasks")
    for table in META_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("metadata")
