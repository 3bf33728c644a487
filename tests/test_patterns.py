"""Response patterns: teacher-only base, atomic learning, layered best-first retrieval."""

from __future__ import annotations

import pytest

import memvault
from memvault import Forbidden, NotFound


def test_base_layer_is_teacher_only(vault: memvault.Vault) -> None:
    u = vault.users.create("ana")
    with pytest.raises(Forbidden, match="teacher"):
        vault.patterns.add(None, "greeting", "hello", "Hi!")
    base = vault.patterns.add(None, "greeting", "hello", "Hi!", teacher=True)
    assert base.is_base
    with pytest.raises(Forbidden):
        vault.patterns.record_use(base.id, True, user_id=None)  # no user: only the teacher
    with pytest.raises(Forbidden):
        vault.patterns.update(base.id, user_id=u.id, response_text="hacked")
    with pytest.raises(Forbidden):
        vault.patterns.delete(base.id, user_id=u.id)
    unchanged = vault.patterns.get(base.id, user_id=None)
    assert (unchanged.response_text, unchanged.usage_count) == ("Hi!", 0)
    used = vault.patterns.record_use(base.id, True, user_id=None, teacher=True)
    assert used.usage_count == 1
    mine = vault.patterns.add(u.id, "greeting", "hello", "Hey Ana!")  # the user's own layer
    assert vault.patterns.get(mine.id, user_id=u.id).user_id == u.id


def test_record_use_running_mean(vault: memvault.Vault) -> None:
    u = vault.users.create("bob")
    p = vault.patterns.add(u.id, "thanks", "thank you", "You're welcome", success_score=0.5)
    seen: list[memvault.Event] = []
    vault.events.subscribe(seen.append, ["pattern.used"])
    for outcome in (True, False, True, True):
        p = vault.patterns.record_use(p.id, outcome, user_id=u.id)
    assert p.usage_count == 4 and p.success_score == pytest.approx(0.75)
    p = vault.patterns.record_use(p.id, 0.25, user_id=u.id)  # graded outcome
    assert p.usage_count == 5 and p.success_score == pytest.approx((3 + 0.25) / 5)
    assert p.last_used_at is not None and len(seen) == 5
    with pytest.raises(memvault.InvalidInput, match="outcome"):
        vault.patterns.record_use(p.id, 2.0, user_id=u.id)


def test_layered_retrieval_best_first(vault: memvault.Vault) -> None:
    u = vault.users.create("cat")
    other = vault.users.create("dog")
    b1 = vault.patterns.add(None, "greeting", "hello", "Hello.", success_score=0.9, teacher=True)
    b2 = vault.patterns.add(None, "greeting", "good morning", "Morning!", success_score=0.4,
                            teacher=True)  # fmt: skip
    u1 = vault.patterns.add(u.id, "greeting", "hello there", "Hi Cat!", success_score=0.3)
    u2 = vault.patterns.add(u.id, "Greeting", "hey", "Hey!", success_score=0.8)
    vault.patterns.add(u.id, "farewell", "bye", "See you!", success_score=1.0)
    secret = vault.patterns.add(other.id, "greeting", "hello", "Dog only", success_score=1.0)
    found = vault.patterns.find(u.id, intent="greeting")
    assert [p.id for p in found] == [u2.id, u1.id, b1.id, b2.id]  # user layer, then base
    assert [p.id for p in vault.patterns.find(u.id, intent="greeting", layered=False)] == [
        u2.id, u1.id,
    ]  # fmt: skip
    assert [p.id for p in vault.patterns.find(None, intent="greeting")] == [b1.id, b2.id]
    # text: triggers containing the text, or contained in it (case-insensitive)
    assert [p.id for p in vault.patterns.find(u.id, text="HELLO")] == [u1.id, b1.id]
    assert [p.id for p in vault.patterns.find(u.id, text="well hello there friend")] == [
        u1.id, b1.id,
    ]  # fmt: skip
    assert vault.patterns.find(u.id, text="%") == []  # LIKE wildcards are escaped
    assert vault.patterns.find(u.id, text="_") == []
    assert vault.patterns.best(u.id, intent="greeting", text="good morning to you") == b2
    assert [p.id for p in vault.patterns.find(u.id, min_score=0.85)] == [
        vault.patterns.find(u.id, intent="farewell")[0].id, b1.id,
    ]  # fmt: skip
    with pytest.raises(NotFound):
        vault.patterns.get(secret.id, user_id=u.id)
    with pytest.raises(NotFound):
        vault.patterns.record_use(secret.id, True, user_id=u.id)
    assert secret.id not in {p.id for p in vault.patterns.find(u.id, limit=100)}


def test_update_and_delete_own_pattern(vault: memvault.Vault) -> None:
    u = vault.users.create("eli")
    p = vault.patterns.add(u.id, "help", "help me", "Sure.", metadata={"lang": "en"})
    p = vault.patterns.update(p.id, user_id=u.id, response_text="Of course.",
                              metadata={"tone": "warm"})  # fmt: skip
    assert p.response_text == "Of course." and p.metadata == {"lang": "en", "tone": "warm"}
    vault.patterns.delete(p.id, user_id=u.id)
    with pytest.raises(NotFound):
        vault.patterns.get(p.id, user_id=u.id)
