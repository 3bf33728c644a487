"""Emotion events and patterns, traits and their history, profiles, conversation context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import memvault
from memvault import InvalidInput, NotFound

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def test_intensity_scale_is_explicit(vault: memvault.Vault) -> None:
    u = vault.users.create("ana")
    legacy = vault.emotions.record(u.id, "Joy", 80, scale=100, occurred_at=T0)
    assert legacy.intensity == pytest.approx(0.8)
    assert legacy.emotion == "joy"
    assert vault.emotions.get(legacy.id, user_id=u.id).intensity == pytest.approx(0.8)
    with pytest.raises(InvalidInput) as err:
        vault.emotions.record(u.id, "joy", 80)  # a 0–100 value without scale=100
    assert err.value.field == "intensity" and "scale=100" in str(err.value)
    with pytest.raises(InvalidInput, match="intensity"):
        vault.emotions.record(u.id, "joy", 150, scale=100)
    with pytest.raises(InvalidInput, match="intensity"):
        vault.emotions.record(u.id, "joy", -0.1)
    with pytest.raises(InvalidInput, match="scale"):
        vault.emotions.record(u.id, "joy", 0.5, scale=0)
    assert [e.id for e in vault.emotions.list(u.id)] == [legacy.id]  # nothing else stored


def _seed_patterns(vault: memvault.Vault) -> str:
    u = vault.users.create("bea")
    events = [
        # joy: 4 events, earlier half low, recent half high (window = 4 days before T0+4d)
        ("joy", 0.2, "music", T0 + timedelta(hours=9)),
        ("joy", 0.4, "music", T0 + timedelta(days=1, hours=9)),
        ("joy", 0.8, "friends", T0 + timedelta(days=2, hours=21)),
        ("joy", 1.0, "music", T0 + timedelta(days=3, hours=9)),
        # sadness: 2 events, decreasing
        ("sadness", 0.9, "rain", T0 + timedelta(hours=7)),
        ("sadness", 0.3, None, T0 + timedelta(days=3, hours=7)),
        # calm: stable
        ("calm", 0.5, "tea", T0 + timedelta(hours=8)),
        ("calm", 0.52, "tea", T0 + timedelta(days=3, hours=8)),
    ]
    vault.emotions.record_many(
        u.id,
        [{"emotion": e, "intensity": i, "trigger": t, "occurred_at": at} for e, i, t, at in events],
    )
    return u.id


def test_patterns_exact(vault: memvault.Vault) -> None:
    uid = _seed_patterns(vault)
    other = vault.users.create("intruder")
    vault.emotions.record(other.id, "joy", 1.0, trigger="music", occurred_at=T0)
    report = vault.emotions.patterns(uid, until=T0 + timedelta(days=4), window_days=4)
    assert report.total == 8 and report.dominant == "joy"
    by = {p.emotion: p for p in report.patterns}
    assert [p.emotion for p in report.patterns] == ["joy", "calm", "sadness"]
    joy = by["joy"]
    assert joy.count == 4 and joy.frequency == pytest.approx(0.5)
    assert joy.avg_intensity == pytest.approx(0.6) and joy.max_intensity == pytest.approx(1.0)
    assert [(t.trigger, t.count) for t in joy.top_triggers] == [("music", 3), ("friends", 1)]
    assert joy.hours[9] == 3 and joy.hours[21] == 1 and sum(joy.hours) == 4
    assert joy.first_at == T0 + timedelta(hours=9)
    assert joy.last_at == T0 + timedelta(days=3, hours=9)
    # earlier half [T0, T0+2d): 0.2, 0.4 → 0.3; recent half: 0.8, 1.0 → 0.9
    assert joy.trend == "increasing" and joy.trend_delta == pytest.approx(0.6)
    assert by["sadness"].trend == "decreasing"
    assert by["sadness"].trend_delta == pytest.approx(-0.6)
    assert [(t.trigger, t.count) for t in by["sadness"].top_triggers] == [("rain", 1)]
    assert by["calm"].trend == "stable" and by["calm"].trend_delta == pytest.approx(0.02)
    # a range filter narrows everything, including the trend halves
    late = vault.emotions.patterns(uid, since=T0 + timedelta(days=2), until=T0 + timedelta(days=4),
                                   window_days=4)  # fmt: skip
    assert late.total == 4
    assert {p.emotion: p.count for p in late.patterns} == {"joy": 2, "sadness": 1, "calm": 1}
    assert {p.emotion: p.trend for p in late.patterns}["joy"] == "stable"  # one half empty
    with pytest.raises(InvalidInput, match="window_days"):
        vault.emotions.patterns(uid, window_days=0)


def test_events_list_range_and_isolation(vault: memvault.Vault) -> None:
    uid = _seed_patterns(vault)
    other = vault.users.create("eve")
    foreign = vault.emotions.record(other.id, "anger", 0.7)
    in_range = vault.emotions.list(uid, since=T0 + timedelta(days=1), until=T0 + timedelta(days=3))
    assert [e.intensity for e in in_range] == pytest.approx([0.8, 0.4])  # newest first
    assert len(vault.emotions.list(uid, emotion="JOY", newest_first=False)) == 4
    with pytest.raises(NotFound):
        vault.emotions.get(foreign.id, user_id=uid)
    with pytest.raises(NotFound):
        vault.emotions.delete(foreign.id, user_id=uid)
    assert vault.emotions.get(foreign.id, user_id=other.id).emotion == "anger"
    assert vault.emotions.patterns(other.id).total == 1


def test_session_trajectory_and_context(vault: memvault.Vault) -> None:
    u = vault.users.create("cleo")
    s = vault.sessions.create(u.id)
    vault.messages.append(s.id, "user", "I want to plan a hiking trip in the Alps", emotion="joy")
    vault.messages.append(s.id, "assistant", "Great, which month?")
    vault.messages.append(s.id, "user", "July. Hiking with friends, the Alps are lovely")
    assert [p.emotion for p in vault.emotions.trajectory(s.id, user_id=u.id)] == ["joy"]
    assert vault.emotions.trajectory(s.id, user_id=u.id)[0].source == "message"
    vault.emotions.record(u.id, "excitement", 0.6, session_id=s.id, occurred_at=T0)
    vault.emotions.record(u.id, "worry", 0.3, session_id=s.id, occurred_at=T0 + timedelta(1))
    traj = vault.emotions.trajectory(s.id, user_id=u.id)
    assert [(p.emotion, p.intensity, p.source) for p in traj] == [
        ("excitement", 0.6, "event"), ("worry", 0.3, "event"),
    ]  # fmt: skip
    ctx = vault.contexts.get(s.id, user_id=u.id, last=2, topics=2)
    assert [m.seq for m in ctx.messages] == [2, 3]
    assert ctx.topics == ["july", "hiking"]  # user messages among the last 2, stop words gone
    assert ctx.current_emotion == "worry"
    full = vault.contexts.get(s.id, user_id=u.id, last=10, topics=2)
    assert full.topics == ["hiking", "alps"]
    other = vault.users.create("dan")
    with pytest.raises(NotFound):
        vault.contexts.get(s.id, user_id=other.id)
    with pytest.raises(NotFound):
        vault.emotions.trajectory(s.id, user_id=other.id)
    with pytest.raises(NotFound):  # an event cannot point at another user's session
        vault.emotions.record(other.id, "joy", 0.5, session_id=s.id)


def test_traits_history_and_personality(vault: memvault.Vault) -> None:
    u = vault.users.create("fay")
    v2 = vault.users.create("gus")
    events: list[memvault.Event] = []
    vault.events.subscribe(events.append, ["trait"])
    vault.traits.set(None, "humor", 0.5, agent="lilith", reason="base default")
    vault.traits.set(None, "empathy", 0.6, agent="lilith")
    t = vault.traits.set(u.id, "humor", 0.7, agent="lilith", reason="liked a joke")
    assert t.value == 0.7
    again = vault.traits.set(u.id, "humor", 0.7, agent="lilith", reason="no-op")
    assert again.updated_at == t.updated_at
    vault.traits.adjust(u.id, "humor", 0.5, agent="lilith", reason="laughed a lot")  # clamps
    vault.traits.adjust(u.id, "curiosity", -0.1, agent="lilith", initial=0.5)
    history = vault.traits.history(u.id, "humor", agent="lilith")
    assert [(c.old_value, c.new_value, c.reason) for c in history] == [
        (None, 0.7, "liked a joke"), (0.7, 1.0, "laughed a lot"),
    ]  # fmt: skip
    assert vault.traits.get(u.id, "curiosity", agent="lilith").value == pytest.approx(0.4)
    persona = vault.traits.personality(u.id, agent="lilith")
    assert persona.traits == {"curiosity": pytest.approx(0.4), "empathy": 0.6, "humor": 1.0}
    assert vault.traits.personality(u.id, agent="lilith", layered=False).traits.keys() == {
        "curiosity", "humor",
    }  # fmt: skip
    assert vault.traits.personality(v2.id, agent="lilith").traits == {"empathy": 0.6,
                                                                       "humor": 0.5}  # fmt: skip
    with pytest.raises(NotFound):
        vault.traits.get(v2.id, "curiosity", agent="lilith")
    with pytest.raises(InvalidInput, match="value"):
        vault.traits.set(u.id, "humor", 1.5)
    assert vault.traits.history(v2.id) == []
    assert [e.kind for e in events].count("trait.changed") == 5


def test_profile_helpers_and_exact_usage(vault: memvault.Vault) -> None:
    u = vault.users.create("hal", profile={"timezone": "Europe/Paris"})
    p = vault.profiles.set_personality(u.id, {"humor": 7, "formality": 2}, scale=10)
    assert p.personality == {"humor": pytest.approx(0.7), "formality": pytest.approx(0.2)}
    p = vault.profiles.set_voice(u.id, speed=1.25, pitch=-2, auto_speak=True)
    assert p.voice == {"speed": 1.25, "pitch": -2, "auto_speak": True}
    with pytest.raises(InvalidInput, match="voice"):
        vault.profiles.set_voice(u.id, shout=True)
    with pytest.raises(InvalidInput, match="speed"):
        vault.profiles.set_voice(u.id, speed=0)
    vault.profiles.add_interests(u.id, "hiking", "Jazz", "hiking")
    vault.profiles.add_dislikes(u.id, "spam", "jazz")  # jazz moves to dislikes
    p = vault.profiles.remove_dislikes(u.id, "SPAM")
    assert p.interests == ["hiking"] and p.dislikes == ["jazz"]
    assert vault.users.get(u.id).profile["timezone"] == "Europe/Paris"  # merged, not replaced
    a = vault.sessions.create(u.id, started_at=T0)
    b = vault.sessions.create(u.id, started_at=T0)
    for i in range(5):
        vault.messages.append(a.id, "user", f"m{i}")
    last = vault.messages.append(b.id, "user", "x")
    vault.messages.append(b.id, "user", "y")
    vault.messages.delete(last.id)
    vault.sessions.update(a.id, ended_at=T0 + timedelta(seconds=60))
    vault.sessions.update(b.id, ended_at=T0 + timedelta(seconds=120))
    usage = vault.profiles.get(u.id).usage
    assert (usage.conversations, usage.messages) == (2, 6)
    assert usage.avg_messages_per_session == pytest.approx(3.0)
    assert usage.avg_session_seconds == pytest.approx(90.0)
    assert vault.profiles.usage(vault.users.create("new").id).conversations == 0
    with pytest.raises(NotFound):
        vault.profiles.get(memvault.new_id())


def test_emotion_events_are_published(vault: memvault.Vault) -> None:
    u = vault.users.create("ivy")
    seen: list[memvault.Event] = []
    vault.events.subscribe(seen.append, ["emotion"])
    e = vault.emotions.record(u.id, "joy", 0.5)
    assert [(x.kind, x.user_id, x.ids["event_id"]) for x in seen] == [
        ("emotion.recorded", u.id, e.id)
    ]
