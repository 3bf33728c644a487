"""`memvault.compat.mem0` on its own, on each engine: the scope mapping onto memvault owners,
infer=True with a supplied extractor, de-duplication, expiry, filters, AsyncMemory."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any

import pytest

import memvault
from memvault import ANY, NotFound
from memvault.compat.mem0 import AsyncMemory, Memory, MemoryNotFound
from memvault.embed.base import HashingEmbedder


def test_a_user_id_is_a_memvault_user_and_its_memories_are_theirs(mem: Memory) -> None:
    added = mem.add("I am vegetarian", user_id="alice", agent_id="chef", infer=False)
    memory_id = added["results"][0]["id"]
    alice = mem.vault.users.get_by_handle("alice")
    stored = mem.vault.memories.get(memory_id, track_access=False)
    assert stored.user_id == alice.id and stored.kind == "fact"
    assert stored.metadata == {"user_id": "alice", "agent_id": "chef", "role": "user"}
    # the rest of memvault sees them through the owner rule
    assert [m.id for m in mem.vault.scoped(alice.id).memories.list(track_access=False)] == [
        memory_id
    ]
    bob = mem.vault.users.ensure("bob")
    with pytest.raises(NotFound):
        mem.vault.scoped(bob.id).memories.get(memory_id)
    # without user_id: the base layer, narrowed by agent_id
    base = mem.add("Keep answers short", agent_id="chef", infer=False)["results"][0]["id"]
    assert mem.vault.memories.get(base, track_access=False).user_id is None
    assert [r["id"] for r in mem.get_all(filters={"agent_id": "chef"})["results"]] == [base]


def test_reads_never_create_users(mem: Memory) -> None:
    assert mem.get_all(filters={"user_id": "ghost"}) == {"results": []}
    assert mem.search("anything", filters={"user_id": "ghost"}) == {"results": []}
    mem.delete_all(user_id="ghost")
    with pytest.raises(NotFound):
        mem.vault.users.get_by_handle("ghost")


def test_the_same_text_again_is_stored_once_and_answers_none(mem: Memory) -> None:
    first = mem.add("Likes tea", user_id="alice", infer=False)["results"][0]
    again = mem.add("likes   TEA", user_id="alice", infer=False)["results"][0]
    assert (first["event"], again["event"]) == ("ADD", "NONE")
    assert again["id"] == first["id"] and again["memory"] == "Likes tea"
    other = mem.add("Likes tea", user_id="bob", infer=False)["results"][0]
    assert other["event"] == "ADD" and other["id"] != first["id"]


def test_add_reports_skipped_messages_only_when_there_are_some(mem: Memory) -> None:
    chat = [
        {"role": "system", "content": "You are helpful."},  # left out silently, as mem0 does
        {"role": "user", "content": "Likes tea"},
        "not a message",
        {"role": "user"},
    ]
    added = mem.add(chat, user_id="alice", infer=False)
    assert [r["memory"] for r in added["results"]] == ["Likes tea"]
    reason = "not a dict with role and content"
    assert added["skipped"] == [{"index": 2, "reason": reason}, {"index": 3, "reason": reason}]
    assert set(mem.add(chat[:2], user_id="alice", infer=False)) == {"results"}


def test_infer_without_an_extractor_names_infer_false(mem: Memory) -> None:
    with pytest.raises(ValueError, match="infer=False"):
        mem.add("I moved to Lyon", user_id="alice")
    assert mem.get_all(filters={"user_id": "alice"}) == {"results": []}


def test_infer_stores_what_the_extractor_finds(vault_url: str) -> None:
    seen: list[Any] = []

    def extractor(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)  # an LLM would be asked here; mem0's answer format:
        return json.dumps(
            {"memory": [{"text": "Lives in Lyon", "attributed_to": "user"}, {"text": "Has a cat"}]}
        )

    with memvault.open(vault_url, embedder=HashingEmbedder(64)) as vault:
        mem = Memory(vault, extractor=extractor)
        chat = [{"role": "user", "content": "I moved to Lyon with my cat"}]
        added = mem.add(chat, user_id="alice", metadata={"source": "chat"})
        assert [(r["memory"], r["event"]) for r in added["results"]] == [
            ("Lives in Lyon", "ADD"),
            ("Has a cat", "ADD"),
        ]
        assert set(added["results"][0]) == {"id", "memory", "event"}
        assert seen == [chat]
        lyon = mem.get(added["results"][0]["id"])
        assert lyon is not None
        assert lyon["attributed_to"] == "user" and lyon["metadata"] == {"source": "chat"}
        # facts already stored are skipped, as mem0 skips them
        assert mem.add(chat, user_id="alice") == {"results": []}
        # plain lists of strings work too
        mem.extractor = lambda messages: ["Speaks French"]
        assert mem.add("Je parle français", user_id="alice")["results"][0]["event"] == "ADD"


def test_expiration_date_hides_a_memory_after_that_day(mem: Memory) -> None:
    past = (date.today() - timedelta(days=2)).isoformat()
    future = (date.today() + timedelta(days=30)).isoformat()
    old = mem.add("Old offer", user_id="alice", expiration_date=past, infer=False)
    new = mem.add("New offer", user_id="alice", expiration_date=future, infer=False)
    listed = mem.get_all(filters={"user_id": "alice"})["results"]
    assert [r["memory"] for r in listed] == ["New offer"]
    assert listed[0]["expiration_date"] == future
    everything = mem.get_all(filters={"user_id": "alice"}, show_expired=True)["results"]
    assert {r["id"] for r in everything} == {
        old["results"][0]["id"],
        new["results"][0]["id"],
    }
    mem.update(old["results"][0]["id"], expiration_date=None)
    assert len(mem.get_all(filters={"user_id": "alice"})["results"]) == 2


def test_threshold_is_a_cosine_similarity(mem: Memory) -> None:
    mem.add("green tea with jasmine", user_id="alice", infer=False)
    mem.add("quarterly tax return", user_id="alice", infer=False)
    found = mem.search("green tea", filters={"user_id": "alice"}, threshold=0.0)["results"]
    assert found[0]["memory"] == "green tea with jasmine"
    vector = mem.vault.search.embed(["green tea"])[0]
    stored = mem.vault.search.embed(["green tea with jasmine"])[0]
    assert found[0]["score"] == pytest.approx(float(vector @ stored), abs=1e-5)
    high = mem.search("green tea", filters={"user_id": "alice"}, threshold=0.99)
    assert high == {"results": []}
    explained = mem.search("green tea", filters={"user_id": "alice"}, explain=True, top_k=1)
    assert explained["results"][0]["score_details"]["semantic_score"] == found[0]["score"]


def test_unsupported_filters_are_refused_by_name(mem: Memory) -> None:
    mem.add("x", user_id="alice", infer=False)
    for bad in ({"topic": {"nin": ["a"]}}, {"topic": "*"}, {"NOT": [{"topic": "a"}]}):
        with pytest.raises(ValueError, match="filters"):
            mem.get_all(filters={"user_id": "alice", **bad})


def test_metadata_cannot_change_the_scope(mem: Memory) -> None:
    added = mem.add("hello", user_id="alice", metadata={"user_id": "mallory", "k": 1}, infer=False)
    memory_id = added["results"][0]["id"]
    mem.update(memory_id, metadata={"agent_id": "evil", "k": 2})
    got = mem.get(memory_id)
    assert got is not None
    assert got["user_id"] == "alice" and "agent_id" not in got and got["metadata"] == {"k": 2}


def test_not_found_is_memvaults_and_a_value_error(mem: Memory) -> None:
    with pytest.raises(MemoryNotFound) as caught:
        mem.delete("01900000-0000-7000-8000-000000000000")
    assert isinstance(caught.value, NotFound) and isinstance(caught.value, ValueError)


def test_from_config_refuses_mem0_backend_sections(vault_url: str) -> None:
    with pytest.raises(ValueError, match="vector_store"):
        Memory.from_config({"vector_store": {"provider": "qdrant"}})
    mem = Memory.from_config({"url": vault_url, "embedder": HashingEmbedder(64)})
    try:
        assert mem.add("x", user_id="a", infer=False)["results"][0]["event"] == "ADD"
    finally:
        mem.close()


def test_async_memory_awaits_the_same_calls(vault_url: str) -> None:
    async def run() -> None:
        async with AsyncMemory(vault_url, embedder=HashingEmbedder(64)) as mem:
            added = await mem.add("Likes tea", user_id="alice", infer=False)
            memory_id = added["results"][0]["id"]
            assert (await mem.get(memory_id)) is not None
            listed = await mem.get_all(filters={"user_id": "alice"})
            assert [r["memory"] for r in listed["results"]] == ["Likes tea"]
            found = await mem.search("tea", filters={"user_id": "alice"}, top_k=1)
            assert found["results"][0]["id"] == memory_id
            await mem.update(memory_id, text="Likes coffee")
            assert [h["event"] for h in await mem.history(memory_id)] == ["ADD", "UPDATE"]
            await mem.delete(memory_id)
            await mem.add("x", user_id="bob", infer=False)
            await mem.delete_all(user_id="bob")
            await mem.reset()
            assert (await mem.get_all(filters={"user_id": "bob"})) == {"results": []}

    asyncio.run(run())


def test_async_memory_has_memorys_calls_awaited_with_the_same_signatures() -> None:
    import inspect

    from memvault.compat.mem0 import AWAITED, NOT_AWAITED

    public = {n for n, v in vars(Memory).items() if inspect.isfunction(v) and n[0] != "_"}
    assert set(AWAITED) == public - NOT_AWAITED
    assert {"add", "search", "get_all", "update", "delete", "history", "reset"} <= set(AWAITED)
    for name in AWAITED:
        mine = getattr(AsyncMemory, name)
        assert inspect.iscoroutinefunction(mine), name
        assert inspect.signature(mine) == inspect.signature(getattr(Memory, name)), name


def test_async_memory_shares_an_async_vaults_pool(vault_url: str) -> None:
    import memvault.aio

    async def run() -> list[str]:
        async with memvault.aio.open(vault_url, embedder=HashingEmbedder(64)) as avault:
            mem = AsyncMemory(avault)
            assert mem.aio is avault and mem.vault is avault.sync
            await mem.add("Likes tea", user_id="alice", infer=False)
            mine = await avault.memories.list(ANY, limit=10)
            mem.close()  # leaves the shared vault open
            assert await avault.memories.count(ANY) == 1
            return [m.content for m in mine]

    assert asyncio.run(run()) == ["Likes tea"]


def test_search_says_why_it_is_empty_when_nothing_has_a_vector(
    vault_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Newcomer 15: with embed_memories=False, search returned {"results": []} silently.
    with memvault.open(vault_url, embed_memories=False) as vault:
        mem = Memory(vault)
        mem.add("Dana avoids mushrooms", user_id="dana", infer=False)
        with caplog.at_level("WARNING", logger="memvault.compat.mem0"):
            assert mem.search("mushrooms", filters={"user_id": "dana"}) == {"results": []}
    assert "has a vector" in caplog.text and "memvault embed" in caplog.text
