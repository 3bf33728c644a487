"""PostgreSQL keeps record metadata as written: the `metadata` column of the 12 record tables
becomes `json` (was `jsonb`)

`jsonb` stores an object with its keys sorted (by length, then bytes): metadata written as
`{"source": …, "year": …, "zeta": …, "alpha": …}` came back `{"year", "zeta", "alpha",
"source"}` on PostgreSQL and in the order written on SQLite, which keeps the JSON text. A
LangChain document, a LangGraph item's value, a chat message's content blocks and tool-call
arguments are given back from that metadata and should read as they were written, on every
engine. `json` keeps the text (key order, and a duplicated key as given: memvault writes
none).

Metadata filters cast the column to `jsonb` (`memvault.filters`); no index covered those
filters, so none is lost. The partial index and statistics of revision 0010 on
`emotion_events` read `metadata->'legacy_pattern'->>'trend'`, which `json` answers alike;
PostgreSQL rebuilds both with the column. LangGraph checkpoint metadata stays `jsonb`: the
saver finds checkpoints by `jsonb` equality on it.

Rows written before this revision keep the order `jsonb` gave them: the order they were
written in is not stored anywhere to recover.

Why a revision: a column's type changes. SQLite stores JSON as text already; nothing changes
there.

Downgrade turns the columns back into `jsonb` (key order lost again, values kept).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = (
    "projects", "sessions", "messages", "memories", "embeddings", "emotion_events", "traits",
    "trait_changes", "response_patterns", "actions", "routing_scores", "requests",
)  # fmt: skip


def _retype(to: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN metadata DROP DEFAULT, "
            f"ALTER COLUMN metadata TYPE {to} USING metadata::{to}, "
            "ALTER COLUMN metadata SET DEFAULT '{}'"
        )


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")
