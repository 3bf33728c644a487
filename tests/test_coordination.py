"""Requests, waves and subtasks with validated transitions; agent messages and subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import memvault
from memvault import Conflict, InvalidInput, NotFound


def test_request_transitions(vault: memvault.Vault) -> None:
    u = vault.users.create("ana")
    r = vault.tasks.create_request("refactor the parser", user_id=u.id, prompt_type="code")
    assert r.status == "pending"
    with pytest.raises(Conflict, match="from 'pending' to 'completed'"):
        vault.tasks.set_request_status(r.id, "completed", user_id=u.id)
    r = vault.tasks.set_request_status(r.id, "active", user_id=u.id)
    r = vault.tasks.set_request_status(r.id, "completed", user_id=u.id)
    assert r.status == "completed" and r.completed_at is not None
    with pytest.raises(Conflict, match="final state"):
        vault.tasks.set_request_status(r.id, "active", user_id=u.id)
    with pytest.raises(InvalidInput, match="status"):
        vault.tasks.set_request_status(r.id, "done", user_id=u.id)
    other = vault.users.create("bob")
    with pytest.raises(NotFound):
        vault.tasks.get_request(r.id, user_id=other.id)
    with pytest.raises(NotFound):
        vault.tasks.set_request_status(r.id, "failed", user_id=other.id)
    assert [x.id for x in vault.tasks.list_requests(u.id, status="completed")] == [r.id]
    assert vault.tasks.list_requests(other.id) == []


def test_waves_and_subtask_lifecycle(vault: memvault.Vault) -> None:
    u = vault.users.create("cat")
    seen: list[memvault.Event] = []
    vault.events.subscribe(seen.append, ["subtask.updated"])
    r = vault.tasks.create_request("ship it", user_id=u.id)
    w1 = vault.tasks.add_wave(r.id, user_id=u.id, name="analysis")
    w2 = vault.tasks.add_wave(r.id, user_id=u.id)
    assert (w1.wave, w2.wave) == (1, 2)
    with pytest.raises(Conflict, match="wave 2"):
        vault.tasks.add_wave(r.id, user_id=u.id, wave=2)
    assert [w.id for w in vault.tasks.waves(r.id, user_id=u.id)] == [w1.id, w2.id]
    s = vault.tasks.add_subtask(w1.id, "read the code", user_id=u.id, agent_type="explorer")
    assert s.status == "pending" and s.started_at is None
    with pytest.raises(Conflict) as err:
        vault.tasks.set_status(s.id, "completed", user_id=u.id)
    assert "'pending'" in str(err.value) and "'completed'" in str(err.value)
    s = vault.tasks.set_status(s.id, "running", user_id=u.id, agent_id="agent-7")
    assert s.started_at is not None and s.agent_id == "agent-7"
    s = vault.tasks.set_status(s.id, "failed", user_id=u.id, result={"error": "timeout"})
    assert s.completed_at is not None and s.result == {"error": "timeout"}
    s = vault.tasks.set_status(s.id, "pending", user_id=u.id)  # retry reopens it
    assert s.completed_at is None
    s = vault.tasks.set_status(s.id, "running", user_id=u.id)
    s = vault.tasks.set_status(s.id, "completed", user_id=u.id, result={"files": 3})
    assert s.result == {"files": 3} and s.duration_s is not None and s.duration_s >= 0
    with pytest.raises(Conflict, match="final state"):
        vault.tasks.set_status(s.id, "running", user_id=u.id)
    assert [(e.data["from"], e.data["to"]) for e in seen] == [
        ("pending", "running"), ("running", "failed"), ("failed", "pending"),
        ("pending", "running"), ("running", "completed"),
    ]  # fmt: skip
    b = vault.tasks.add_subtask(w2.id, "blocked one", user_id=u.id)
    vault.tasks.set_status(b.id, "blocked", user_id=u.id)
    vault.tasks.set_status(b.id, "cancelled", user_id=u.id)
    w = vault.tasks.set_wave_status(w1.id, "running", user_id=u.id)
    assert w.status == "running"
    with pytest.raises(Conflict):
        vault.tasks.set_wave_status(w1.id, "pending", user_id=u.id)
    (ov,) = vault.tasks.overview(u.id)
    assert ov.waves == 2 and ov.subtasks == {"completed": 1, "cancelled": 1}
    assert [x.id for x in vault.tasks.subtasks(u.id, request_id=r.id, status="completed")] == [s.id]
    other = vault.users.create("dog")
    with pytest.raises(NotFound):
        vault.tasks.add_subtask(w1.id, "sneaky", user_id=other.id)
    with pytest.raises(NotFound):
        vault.tasks.get_subtask(s.id, user_id=other.id)
    assert vault.tasks.subtasks(other.id) == []


def test_claim_takes_each_subtask_once(vault: memvault.Vault) -> None:
    r = vault.tasks.create_request("batch")
    w = vault.tasks.add_wave(r.id, user_id=None)
    ids = [vault.tasks.add_subtask(w.id, f"job {i}", user_id=None).id for i in range(3)]
    got = [vault.tasks.claim(f"agent-{i}", user_id=None) for i in range(4)]
    assert [g.id for g in got if g] == ids and got[3] is None
    assert {g.agent_id for g in got if g} == {"agent-0", "agent-1", "agent-2"}
    assert all(g.status == "running" and g.started_at for g in got if g)


def test_agent_messages_topics_and_receipts(vault: memvault.Vault) -> None:
    u = vault.users.create("eve")
    other = vault.users.create("fox")
    seen: list[memvault.Event] = []
    vault.events.subscribe(seen.append, ["agent_message"])
    vault.agents.subscribe("reviewer", "builds", user_id=u.id)
    assert vault.agents.subscribe("reviewer", "builds", user_id=u.id).topic == "builds"  # idem
    direct = vault.agents.send("planner", to_agent="reviewer", payload={"pr": 12}, user_id=u.id)
    urgent = vault.agents.send("ci", topic="builds", payload={"ok": False}, priority=5,
                               user_id=u.id)  # fmt: skip
    vault.agents.send("reviewer", topic="builds", payload="my own", user_id=u.id)
    vault.agents.send("ci", topic="deploys", payload={}, user_id=u.id)  # not subscribed
    past = datetime.now(UTC) - timedelta(minutes=1)
    vault.agents.send("ci", to_agent="reviewer", payload={}, user_id=u.id, expires_at=past)
    vault.agents.send("ci", topic="builds", payload={"tenant": "fox"}, user_id=other.id)
    with pytest.raises(InvalidInput, match="to_agent"):
        vault.agents.send("ci", user_id=u.id)
    unread = vault.agents.unread("reviewer", user_id=u.id)
    assert [m.id for m in unread] == [urgent.id, direct.id]  # priority first
    assert vault.agents.mark_read("reviewer", [direct.id], user_id=u.id) == 1
    assert vault.agents.mark_read("reviewer", [direct.id], user_id=u.id) == 0  # once
    assert [m.id for m in vault.agents.unread("reviewer", user_id=u.id)] == [urgent.id]
    assert len(vault.agents.inbox("reviewer", user_id=u.id, unread_only=False)) == 2
    assert vault.agents.unread("reviewer", user_id=other.id) == []  # fox's reviewer: no sub
    with pytest.raises(NotFound):
        vault.agents.mark_read("reviewer", [urgent.id], user_id=other.id)
    with pytest.raises(NotFound):
        vault.agents.get(urgent.id, user_id=other.id)
    assert vault.agents.unsubscribe("reviewer", "builds", user_id=u.id) is True
    assert vault.agents.unsubscribe("reviewer", "builds", user_id=u.id) is False
    assert vault.agents.unread("reviewer", user_id=u.id) == []
    assert [s.agent_id for s in vault.agents.subscriptions(u.id)] == []
    assert sum(e.kind == "agent_message.sent" for e in seen) == 6


def test_recent_agent_messages_newest_first_scoped_and_read_only(vault: memvault.Vault) -> None:
    ana, bob = vault.users.create("ana"), vault.users.create("bob")
    first = vault.agents.send("planner", to_agent="coder", payload=1, user_id=ana.id)
    second = vault.agents.send("ci", topic="builds", payload=2, user_id=ana.id)
    third = vault.agents.send("coder", to_agent="reviewer", payload=3, user_id=ana.id)
    vault.agents.send("spy", to_agent="coder", payload=4, user_id=bob.id)
    assert [m.id for m in vault.agents.recent(ana.id)] == [third.id, second.id, first.id]
    assert [m.id for m in vault.agents.recent(ana.id, limit=2, offset=1)] == [second.id, first.id]
    assert [m.id for m in vault.agents.recent(ana.id, agent_id="coder")] == [third.id, first.id]
    assert [m.payload for m in vault.agents.recent(bob.id)] == [4]
    assert len(vault.agents.recent(memvault.ANY)) == 4
    # Listing them marks nothing read: the coder's inbox still holds the one sent to it.
    assert {m.id for m in vault.agents.unread("coder", user_id=ana.id)} == {first.id}
