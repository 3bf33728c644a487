"""mem0 facade: a history entry, once written, never changes (the memory's later delete
included); and a user_id with spaces is refused, as memvault refuses such handles everywhere."""

from __future__ import annotations

import pytest

from memvault.compat.mem0 import Memory
from memvault.errors import InvalidInput


def test_a_spaced_user_id_is_refused_not_stripped(mem: Memory) -> None:
    mem.add("I like tea", user_id="bob", infer=False)
    for spaced in (" bob ", "bob ", "\tbob"):
        with pytest.raises(InvalidInput, match="non-empty identifier without whitespace"):
            mem.add("abc", user_id=spaced, infer=False)
        with pytest.raises(InvalidInput, match="without whitespace"):
            mem.get_all(filters={"user_id": spaced})
    assert [r["memory"] for r in mem.get_all(filters={"user_id": "bob"})["results"]] == [
        "I like tea"
    ]


@pytest.mark.parametrize("how", ["delete", "delete_all"])
def test_history_entries_read_the_same_after_the_delete(mem: Memory, how: str) -> None:
    added = mem.add([{"role": "user", "content": "Maria lives in Porto", "name": "ana"}],
                    user_id="alice", infer=False)  # fmt: skip
    memory_id = added["results"][0]["id"]
    mem.add("an unrelated later memory", user_id="alice", infer=False)
    mem.update(memory_id, data="Maria moved to Lisbon")
    before = mem.history(memory_id)
    assert [(h["event"], h["role"], h["actor_id"]) for h in before] == [
        ("ADD", "user", "ana"), ("UPDATE", "user", "ana")]  # fmt: skip
    if how == "delete":
        mem.delete(memory_id)
    else:
        mem.delete_all(user_id="alice")
    after = mem.history(memory_id)
    assert after[: len(before)] == before  # unchanged, field for field
    [gone] = after[len(before) :]
    assert (gone["event"], gone["is_deleted"], gone["role"]) == ("DELETE", True, None)
    assert gone["old_memory"] == "Maria moved to Lisbon"
