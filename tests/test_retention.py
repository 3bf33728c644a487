"""Retention policies and prune (dry run and real), per entity."""

from __future__ import annotations

from datetime import timedelta

import pytest

import memvault
from memvault import ANY, InvalidInput, NotFound


def test_prune_by_age_and_keep_last(vault: memvault.Vault) -> None:
    now = vault.clock()
    a, b = vault.users.create("ana"), vault.users.create("bob")
    with vault.transaction():
        for days in (1, 10, 40, 50):
            vault.actions.record("Bash", user_id=a.id, created_at=now - timedelta(days=days))
        vault.actions.record("Bash", created_at=now - timedelta(days=100))  # unowned, old
        for i in range(5):
            vault.emotions.record(a.id, "joy", 0.1 * i, occurred_at=now - timedelta(hours=i))
        for i in range(2):
            vault.emotions.record(b.id, "joy", 0.5, occurred_at=now - timedelta(hours=i))
    vault.retention.set("actions", max_age_days=30)
    vault.retention.set("emotion_events", keep_last=3)
    assert [p.entity for p in vault.retention.list()] == ["actions", "emotion_events"]
    dry = vault.retention.prune(dry_run=True)
    assert dry.removed == {"actions": 3, "emotion_events": 2} and dry.total == 5
    assert len(vault.actions.list(ANY)) == 5  # nothing deleted on a dry run
    seen: list[memvault.Event] = []
    vault.events.subscribe(seen.append, ["retention"])
    done = vault.retention.prune()
    assert done.removed == {"actions": 3, "emotion_events": 2} and not done.dry_run
    assert len(vault.actions.list(ANY)) == 2
    kept = vault.emotions.list(a.id)
    assert [e.intensity for e in kept] == pytest.approx([0.0, 0.1, 0.2])  # the newest 3
    assert len(vault.emotions.list(b.id)) == 2  # per user: bob keeps both
    assert vault.retention.prune().total == 0  # idempotent
    assert [e.data["removed"] for e in seen] == [{"actions": 3, "emotion_events": 2}]


def test_both_limits_and_policy_management(vault: memvault.Vault) -> None:
    now = vault.clock()
    u = vault.users.create("cy")
    for _ in range(4):
        vault.agents.send("a", to_agent="b", user_id=u.id)
    with vault.transaction() as tx:  # age them (messages take the clock's time)
        rows = tx.all("SELECT id FROM agent_messages ORDER BY id")
        for row, days in zip(rows, (60, 3, 2, 1), strict=True):
            tx.execute("UPDATE agent_messages SET created_at = :t WHERE id = :id",
                       {"t": tx.ts(now - timedelta(days=days)), "id": row["id"]})  # fmt: skip
    vault.retention.set("agent_messages", max_age_days=30, keep_last=2)
    assert vault.retention.prune(dry_run=True).removed == {"agent_messages": 2}  # old OR beyond
    policy = vault.retention.set("agent_messages", keep_last=10)  # replaced, not added
    assert (policy.max_age_days, policy.keep_last) == (None, 10)
    assert vault.retention.get("agent_messages").keep_last == 10
    assert vault.retention.prune().removed == {"agent_messages": 0}
    vault.retention.remove("agent_messages")
    with pytest.raises(NotFound):
        vault.retention.get("agent_messages")
    with pytest.raises(InvalidInput, match="entity"):
        vault.retention.set("users", max_age_days=1)
    with pytest.raises(InvalidInput):
        vault.retention.set("actions")
    with pytest.raises(InvalidInput, match="max_age_days"):
        vault.retention.set("actions", max_age_days=0)
    assert vault.retention.prune().removed == {}
