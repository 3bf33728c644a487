"""The trend an imported legacy pattern recorded (revision 0010's partial index): shown when
the trend window is empty on one side, the latest one winning, and read through the index,
never by reading every event of the user's emotions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import memvault
from memvault.emotions import LEGACY_TREND_INDEX, legacy_trend_sql

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _fill(vault: memvault.Vault, user: str, n: int) -> None:
    """`n` ordinary events, all long before the trend window, and two legacy trends of joy
    (the later one wins) and one of fear."""
    events: list[dict[str, Any]] = [
        {"emotion": ("joy", "fear", "calm")[i % 3], "intensity": 0.5,
         "occurred_at": T0 + timedelta(minutes=i)}
        for i in range(n)
    ]  # fmt: skip
    events += [
        {"emotion": "joy", "intensity": 0.4, "occurred_at": T0 - timedelta(days=2),
         "metadata": {"legacy_pattern": {"trend": "decreasing"}}},
        {"emotion": "joy", "intensity": 0.4, "occurred_at": T0 - timedelta(days=1),
         "metadata": {"legacy_pattern": {"trend": "increasing"}}},
        {"emotion": "fear", "intensity": 0.4, "occurred_at": T0 - timedelta(days=1),
         "metadata": {"legacy_pattern": {"trend": "decreasing", "frequency": 3}}},
        {"emotion": "calm", "intensity": 0.4, "occurred_at": T0 - timedelta(days=1),
         "metadata": {"legacy_pattern": {"trend": "sideways"}}},  # not a trend: ignored
    ]  # fmt: skip
    vault.emotions.record_many(user, events)


def test_legacy_trends_show_when_the_window_is_empty(vault: memvault.Vault) -> None:
    user = vault.users.create("ada").id
    other = vault.users.create("bob").id
    _fill(vault, user, 300)
    vault.emotions.record(other, "calm", 0.5, metadata={"legacy_pattern": {"trend": "increasing"}})
    trends = {p.emotion: (p.trend, p.trend_delta) for p in vault.emotions.patterns(user).patterns}
    assert trends == {
        "joy": ("increasing", None),  # the later of its two legacy trends
        "fear": ("decreasing", None),
        "calm": ("stable", None),  # its own value is no trend; bob's is bob's
    }
    # Recent events on both sides of the window give a computed trend instead.
    now = datetime.now(UTC)
    vault.emotions.record(user, "joy", 0.2, occurred_at=now - timedelta(days=5))
    vault.emotions.record(user, "joy", 0.9, occurred_at=now - timedelta(hours=1))
    joy = {p.emotion: p for p in vault.emotions.patterns(user).patterns}["joy"]
    assert joy.trend == "increasing" and joy.trend_delta is not None


def _plan(vault: memvault.Vault, user: str) -> str:
    params: dict[str, Any] = {"owner": user}
    with vault.store.read() as tx:
        sql = legacy_trend_sql(tx, ["calm", "fear", "joy"], params)
        if tx.engine == "postgresql":
            return "\n".join(r["QUERY PLAN"] for r in tx.all("EXPLAIN " + sql, params))
        return "\n".join(r["detail"] for r in tx.all("EXPLAIN QUERY PLAN " + sql, params))


def test_the_lookup_reads_the_partial_index_not_the_events(vault: memvault.Vault) -> None:
    """The look-up `patterns()` runs is planned on the index holding only the events that
    carry a legacy trend; before revision 0010 it read all 3,000 events of the three
    emotions (and 50k in the benchmark: 15.8 ms per call)."""
    user = vault.users.create("ada").id
    _fill(vault, user, 3_000)
    with vault.transaction() as tx:
        tx.execute("ANALYZE")
    plan = _plan(vault, user)
    assert LEGACY_TREND_INDEX in plan, plan
    assert "SCAN emotion_events" not in plan and "Seq Scan" not in plan, plan
    # The index holds the four trend-carrying events and nothing else.
    with vault.store.read() as tx:
        if tx.engine == "postgresql":
            n = tx.scalar(
                "SELECT COUNT(*) FROM emotion_events "
                "WHERE (metadata->'legacy_pattern'->>'trend') IS NOT NULL"
            )
        else:
            n = tx.scalar(
                f"SELECT COUNT(*) FROM emotion_events INDEXED BY {LEGACY_TREND_INDEX} "
                "WHERE json_extract(metadata, '$.legacy_pattern.trend') IS NOT NULL"
            )
    assert n == 4
