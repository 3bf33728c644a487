"""a partial index on the emotion events that carry an imported legacy trend

`Emotions.patterns` shows, for an emotion whose trend window is empty on one side, the trend
an imported legacy pattern recorded (EdgeSoul's `trend`, kept in the metadata of the pattern's
first baseline event, `metadata.legacy_pattern.trend`). Finding it read the metadata of every
event of those emotions: a user with 50k events and none in the last week paid a scan of all
of them on every call (0.44 → 15.8 ms p50). The partial index holds only the events that carry
such a trend (one per imported pattern), keyed by (user, emotion, time), so the look-up reads
those rows and nothing else.

Why a revision: the trend is a JSON value inside one event among many; no existing index or
keyed column reaches it, and moving it elsewhere at import time would leave the stores already
imported without it unless a data migration (itself a revision) copied it over. The index
changes no data, covers every way such an event arrives (import, transfer, restore), and costs
nothing to write for the events that do not carry a trend.

On PostgreSQL, statistics on the trend expression come with it: without them the planner takes
`… IS NOT NULL` on a JSON path to hold for 99.5% of the rows, prices the index as a read of
every event, and scans the table instead (measured on 3,000 events). With them (ANALYZE)
it knows how few rows carry a trend and reads the index.

Downgrade drops the index (and the statistics).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "ix_emotion_events_legacy_trend"
# The predicate must be written exactly as `Emotions._legacy_trends` writes it: SQLite uses
# a partial index only when the query's WHERE holds the same term.
SQLITE_TREND = "json_extract(metadata, '$.legacy_pattern.trend') IS NOT NULL"
PG_TREND = "(metadata->'legacy_pattern'->>'trend') IS NOT NULL"
PG_STATS = "emotion_events_legacy_trend_stats"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "emotion_events",
        ["user_id", "emotion", "occurred_at"],
        unique=False,
        sqlite_where=sa.text(SQLITE_TREND),
        postgresql_where=sa.text(PG_TREND),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE STATISTICS {PG_STATS} ON ((metadata->'legacy_pattern'->>'trend')) "
            "FROM emotion_events"
        )
        op.execute("ANALYZE emotion_events")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {PG_STATS}")
    op.drop_index(INDEX, table_name="emotion_events")
