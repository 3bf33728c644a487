"""Daily emotion rollups (revision 0005): kept by triggers through inserts, updates and deletes;
`Emotions.patterns` over them returns what the event-scan reference returns, on every engine."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from typer.testing import CliRunner

import memvault
from memvault.records import EmotionalPatterns
from tests.emotion_patterns_oracle import patterns_reference

T0 = datetime(2025, 1, 1, tzinfo=UTC)
EMOTIONS = ("joy", "calm", "fear", "anger")
TRIGGERS = ("rain", "music", "Work", "work", "", None)


def _events(rng: random.Random, n: int, days: int = 40) -> list[dict[str, Any]]:
    # Intensities are multiples of 1/256: their sums are exact in any order, so the rollups'
    # per-day partial sums give the very same floats as one sum over the events.
    return [
        {
            "emotion": rng.choice(EMOTIONS),
            "intensity": rng.randrange(257) / 256,
            "trigger": rng.choice(TRIGGERS),
            "occurred_at": T0 + timedelta(seconds=rng.randrange(days * 86_400)),
        }
        for _ in range(n)
    ]


def _random_at(rng: random.Random, days: int = 40) -> datetime | None:
    choice = rng.random()
    if choice < 0.15:
        return None
    if choice < 0.35:  # exactly midnight: a whole-day boundary
        return T0 + timedelta(days=rng.randrange(-2, days + 2))
    if choice < 0.45:  # another zone, same instant
        at = T0 + timedelta(seconds=rng.randrange(days * 86_400))
        return at.astimezone(timezone(timedelta(hours=-5)))
    return T0 + timedelta(seconds=rng.randrange(-86_400, (days + 1) * 86_400), microseconds=7)


def _same(vault: memvault.Vault, uid: str, **kw: Any) -> EmotionalPatterns:
    got = vault.emotions.patterns(uid, **kw)
    want = patterns_reference(vault, uid, **kw)
    assert got == want, kw
    return got


def test_patterns_match_the_reference_on_random_data(vault: memvault.Vault) -> None:
    rng = random.Random(20261122)
    uid = vault.users.create("rolled").id
    other = vault.users.create("other").id
    vault.emotions.record_many(uid, _events(rng, 1_500, days=75))  # three calendar months
    vault.emotions.record_many(other, _events(rng, 300, days=75))
    assert _same(vault, uid).total == 1_500
    for _ in range(60):
        since, until = _random_at(rng, 75), _random_at(rng, 75)
        if since is not None and until is not None and since > until and rng.random() < 0.8:
            since, until = until, since
        _same(
            vault,
            uid,
            since=since,
            until=until,
            window_days=rng.choice((0.5, 1, 3.3, 7, 30)),
            top_triggers=rng.choice((0, 1, 3, 10)),
        )


def test_rollups_follow_deletes_and_updates(vault: memvault.Vault) -> None:
    rng = random.Random(5)
    uid = vault.users.create("editor").id
    events = vault.emotions.record_many(uid, _events(rng, 400, days=6))
    for event in rng.sample(events, 120):
        vault.emotions.delete(event.id, user_id=uid)
    with vault.transaction() as tx:
        # one statement moving many rows across days, emotions and triggers
        tx.execute(
            "UPDATE emotion_events SET emotion = 'calm', trigger = 'moved', "
            "occurred_at = :at WHERE user_id = :u AND emotion = 'joy' AND intensity < 0.5",
            {"u": uid, "at": tx.ts(T0 + timedelta(days=3, hours=5))},
        )
        tx.execute(
            "UPDATE emotion_events SET intensity = 1 WHERE user_id = :u AND emotion = 'fear'",
            {"u": uid},
        )
        tx.execute(  # no rollup column changes
            "UPDATE emotion_events SET context = 'ctx' WHERE user_id = :u", {"u": uid}
        )
        tx.execute(
            "DELETE FROM emotion_events WHERE user_id = :u AND emotion = 'anger' "
            "AND occurred_at < :at",
            {"u": uid, "at": tx.ts(T0 + timedelta(days=2))},
        )
    for _ in range(20):
        since, until = _random_at(rng, 6), _random_at(rng, 6)
        _same(vault, uid, since=since, until=until, window_days=2)
    before = _rollup_rows(vault, uid)
    assert before
    assert vault.emotions.rebuild_rollups() == len(before[0])
    assert _rollup_rows(vault, uid) == before


def _rollup_rows(vault: memvault.Vault, uid: str) -> tuple[list[Any], list[Any]]:
    with vault.store.read() as tx:
        rows = tx.all(
            "SELECT * FROM emotion_rollups WHERE user_id = :u ORDER BY emotion, day", {"u": uid}
        )
        trig = tx.all(
            "SELECT * FROM emotion_trigger_rollups WHERE user_id = :u "
            "ORDER BY emotion, trigger, month",
            {"u": uid},
        )
        return [tuple(dict(r).values()) for r in rows], [tuple(dict(r).values()) for r in trig]


def test_arbitrary_intensities_agree_to_rounding(vault: memvault.Vault) -> None:
    rng = random.Random(11)
    uid = vault.users.create("floats").id
    events = _events(rng, 600)
    for e in events:
        e["intensity"] = rng.random()
    vault.emotions.record_many(uid, events)
    for _ in range(15):
        kw: dict[str, Any] = {"since": _random_at(rng), "until": _random_at(rng)}
        got = vault.emotions.patterns(uid, **kw)
        want = patterns_reference(vault, uid, **kw)
        assert [(p.emotion, p.count, p.max_intensity, p.first_at, p.last_at, p.hours,
                 p.top_triggers, p.trend) for p in got.patterns] == [
            (p.emotion, p.count, p.max_intensity, p.first_at, p.last_at, p.hours,
             p.top_triggers, p.trend) for p in want.patterns
        ]  # fmt: skip
        for a, b in zip(got.patterns, want.patterns, strict=True):
            assert math.isclose(a.avg_intensity, b.avg_intensity, rel_tol=1e-12)
            assert (a.trend_delta is None) == (b.trend_delta is None)
            if a.trend_delta is not None and b.trend_delta is not None:
                assert math.isclose(a.trend_delta, b.trend_delta, abs_tol=1e-12)


def test_erasing_a_user_removes_the_rollups(vault: memvault.Vault) -> None:
    uid = vault.users.create("gone").id
    vault.emotions.record(uid, "joy", 0.5, trigger="x", occurred_at=T0)
    from memvault.admin import erase_user

    erase_user(vault, uid, vacuum=False)
    with vault.store.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM emotion_rollups") == 0
        assert tx.scalar("SELECT COUNT(*) FROM emotion_trigger_rollups") == 0


def test_reindex_rebuilds_the_rollups(vault_url: str) -> None:
    from memvault.cli import app

    with memvault.open(vault_url) as vault:
        uid = vault.users.create("re").id
        vault.emotions.record_many(uid, _events(random.Random(3), 50))
        with vault.transaction() as tx:
            tx.execute("DELETE FROM emotion_rollups")
            tx.execute("DELETE FROM emotion_trigger_rollups")
        assert vault.emotions.patterns(uid).total < 50  # rollups gone: whole days missing
    result = CliRunner().invoke(app, ["reindex", "--db", vault_url, "--json"])
    assert result.exit_code == 0, result.output
    assert '"emotion_rollups"' in result.output
    with memvault.open(vault_url) as vault:
        assert vault.emotions.patterns(uid) == patterns_reference(vault, uid)
