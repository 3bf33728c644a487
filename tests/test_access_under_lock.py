"""A read never waits for another writer: searching and listing bump access counts only when
the write lock is free at once (newcomer 15: `memvault search` failed after 30 s while another
process held SQLite's write lock)."""

from __future__ import annotations

import threading
import time

import memvault
from memvault import ANY


def test_search_and_list_answer_while_another_writer_holds_the_lock(vault_url: str) -> None:
    with memvault.open(vault_url, embed_memories=False) as reader, memvault.open(
        vault_url, embed_memories=False
    ) as writer:  # fmt: skip
        user = reader.users.create("alice")
        memory = reader.memories.add(user.id, "fact", "Alice is allergic to peanuts")
        locked, release = threading.Event(), threading.Event()

        def hold() -> None:  # another connection mid-write on the same row
            with writer.store.write() as tx:
                tx.execute("UPDATE memories SET importance = importance")
                locked.set()
                release.wait(60)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert locked.wait(30)
            started = time.monotonic()
            hits = reader.memories.search(query="peanuts", user_id=user.id, mode="text")
            listed = reader.memories.list(user.id)
            assert time.monotonic() - started < 5  # the busy timeout is 30 s
            assert [h.item.id for h in hits] == [memory.id]
            assert [m.id for m in listed] == [memory.id]
        finally:
            release.set()
            holder.join(60)
        # skipped while locked, counted again once the lock is free
        assert reader.memories.get(memory.id, user_id=ANY, track_access=False).access_count == 0
        reader.memories.search(query="peanuts", user_id=user.id, mode="text")
        assert reader.memories.get(memory.id, track_access=False).access_count == 1
