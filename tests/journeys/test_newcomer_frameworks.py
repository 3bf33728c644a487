"""Newcomer 14's journey: memvault as a LangGraph / LangChain developer meets it, from the
README and the reference pages only. A chatbot-ish `StateGraph` on the memvault checkpointer
(sync and async: threads, interrupt + resume, time travel, delete), the LangGraph store, the
LangChain vector store, retrievers and chat history, the Vault's keys / bulk / TTL additions,
`memvault.aio`, and the CLI counterparts as subprocesses — on a SQLite file and on the real
PostgreSQL 15 and 18 servers (`vault_url`, from tests/conftest.py).

Tests marked xfail(strict=True) assert the behaviour a user needs where newcomer 14 found
memvault doing something else (/work/notes/newcomer14.md, finding N).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import operator
import time
from datetime import timedelta
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt

import memvault
import memvault.aio
from memvault.langchain import (
    MemvaultChatMessageHistory,
    MemvaultEmbeddings,
    MemvaultRetriever,
    MemvaultVectorStore,
)
from memvault.langgraph import MemvaultSaver, MemvaultStore
from tests.journeys.conftest import Cli

UNKNOWN_UUID = "01a23bf8-c8ab-7181-8951-0b0b1d6fbade"


# --------------------------------------------------------------------------- the graph


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    approved: bool
    turns: Annotated[int, operator.add]


def _bot(state: ChatState) -> dict[str, Any]:
    last = state["messages"][-1]
    calls = (
        [{"name": "book", "args": {"city": "Lyon"}, "id": "call_1", "type": "tool_call"}]
        if "book" in str(last.content)
        else []
    )
    return {"messages": [AIMessage(f"echo: {last.content}", tool_calls=calls)], "turns": 1}


def _approve(state: ChatState) -> dict[str, Any]:
    answer = interrupt({"question": "approve booking?"})
    return {
        "approved": answer == "yes",
        "messages": [ToolMessage(f"booked={answer}", tool_call_id="call_1")],
    }


def _route(state: ChatState) -> str:
    return "approve" if getattr(state["messages"][-1], "tool_calls", None) else END


def chat_builder() -> StateGraph:
    b = StateGraph(ChatState)
    b.add_node("bot", _bot)
    b.add_node("approve", _approve)
    b.add_edge(START, "bot")
    b.add_conditional_edges("bot", _route, ["approve", END])
    b.add_edge("approve", END)
    return b


def pong_builder() -> StateGraph:
    b = StateGraph(MessagesState)
    b.add_node("n", lambda s: {"messages": [("ai", "pong")]})
    b.add_edge(START, "n")
    b.add_edge("n", END)
    return b


def cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def contents(messages: list[Any]) -> list[Any]:
    return [m.content for m in messages]


@pytest.fixture
def vault(vault_url: str) -> Any:
    v = memvault.open(vault_url)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def plain_vault(vault_url: str) -> Any:
    """A vault that does not embed memories (fast Vault-API checks)."""
    v = memvault.open(vault_url, embed_memories=False)
    try:
        yield v
    finally:
        v.close()


# --------------------------------------------------------------------------- checkpointer


def test_checkpointer_threads_interrupt_time_travel_delete(vault: Any) -> None:
    alice = vault.users.ensure("alice", "Alice")
    saver = MemvaultSaver(vault, user_id=alice.id)
    graph = chat_builder().compile(checkpointer=saver)

    r = graph.invoke({"messages": [HumanMessage("hello", id="h1")]}, cfg("t1"))
    r = graph.invoke({"messages": [HumanMessage("how are you")]}, cfg("t1"))
    assert contents(r["messages"]) == ["hello", "echo: hello", "how are you", "echo: how are you"]
    assert r["turns"] == 2

    # an interrupt, then resume
    r = graph.invoke({"messages": [HumanMessage("please book a hotel")]}, cfg("t2"))
    assert r["__interrupt__"][0].value == {"question": "approve booking?"}
    assert graph.get_state(cfg("t2")).next == ("approve",)
    r = graph.invoke(Command(resume="yes"), cfg("t2"))
    assert r["approved"] is True
    assert contents(r["messages"])[-1] == "booked=yes"

    # threads do not mix
    assert "please book a hotel" not in str(graph.get_state(cfg("t1")).values)

    # time travel: fork from the checkpoint after the first turn
    history = list(graph.get_state_history(cfg("t1")))
    assert [h.metadata["step"] for h in history] == [4, 3, 2, 1, 0, -1]
    first_turn = next(h for h in history if h.metadata["step"] == 1)
    assert contents(first_turn.values["messages"]) == ["hello", "echo: hello"]
    r = graph.invoke({"messages": [HumanMessage("fork!")]}, first_turn.config)
    assert contents(r["messages"]) == ["hello", "echo: hello", "fork!", "echo: fork!"]
    assert r["turns"] == 2
    assert len(list(graph.get_state_history(cfg("t1")))) == 9
    # the original branch is still there
    assert contents(history[0].values["messages"])[-1] == "echo: how are you"

    # update_state and metadata-filtered list
    graph.update_state(cfg("t1"), {"messages": [AIMessage("manual edit", id="m-edit")]})
    assert contents(graph.get_state(cfg("t1")).values["messages"])[-1] == "manual edit"
    assert len(list(saver.list(cfg("t1"), filter={"source": "input"}))) == 3
    assert len(list(saver.list(cfg("t1"), limit=2))) == 2

    # the thread belongs to alice: it is in her export
    assert vault.export_user(alice.id)["graph_checkpoints"]

    saver.delete_thread("t2")
    assert graph.get_state(cfg("t2")).values == {}
    assert list(graph.get_state_history(cfg("t2"))) == []
    assert len(list(graph.get_state_history(cfg("t1")))) == 10


def test_checkpointer_async_concurrent_threads(vault_url: str) -> None:
    async def main() -> None:
        async with memvault.aio.open(vault_url) as av:
            user = await av.users.ensure("carol", "Carol")
            sess = await av.sessions.create(user.id, title="async chat")
            saver = MemvaultSaver(av, user_id=user.id, session_id=sess.id)
            graph = chat_builder().compile(checkpointer=saver)

            async def run(tid: str) -> None:
                for i in range(4):
                    await graph.ainvoke({"messages": [HumanMessage(f"{tid} msg {i}")]}, cfg(tid))

            await asyncio.gather(*(run(f"as-{k}") for k in range(6)))
            for k in range(6):
                state = await graph.aget_state(cfg(f"as-{k}"))
                msgs = contents(state.values["messages"])
                assert len(msgs) == 8
                assert all(f"as-{k} msg" in m for m in msgs), msgs

            r = await graph.ainvoke({"messages": [HumanMessage("book it")]}, cfg("as-int"))
            assert r["__interrupt__"]
            r = await graph.ainvoke(Command(resume="no"), cfg("as-int"))
            assert r["approved"] is False
            assert len([h async for h in graph.aget_state_history(cfg("as-int"))]) == 4

            assert sorted(saver.session_threads(sess.id)) == sorted(
                [f"as-{k}" for k in range(6)] + ["as-int"]
            )
            await saver.adelete_thread("as-0")
            assert (await graph.aget_state(cfg("as-0"))).values == {}
            await saver.acopy_thread("as-1", "as-1-copy")
            copied = await graph.aget_state(cfg("as-1-copy"))
            assert len(copied.values["messages"]) == 8
            await saver.aprune(["as-2"])
            assert len([h async for h in graph.aget_state_history(cfg("as-2"))]) == 1
            saver.close()

    asyncio.run(main())


def test_saver_for_one_user_does_not_see_another_users_thread(plain_vault: Any) -> None:
    v = plain_vault
    alice = v.users.ensure("era", "Era")
    bob = v.users.ensure("erb", "Erb")
    ga = pong_builder().compile(checkpointer=MemvaultSaver(v, user_id=alice.id))
    gb = pong_builder().compile(checkpointer=MemvaultSaver(v, user_id=bob.id))
    ga.invoke({"messages": [("user", "secret of era")]}, cfg("ta"))
    r = gb.invoke({"messages": [("user", "bob writes")]}, cfg("ta"))
    assert "secret of era" not in contents(r["messages"])
    assert "secret of era" not in str(gb.get_state(cfg("ta")).values)


def test_erasing_one_user_keeps_the_other_users_checkpoints_readable(plain_vault: Any) -> None:
    v = plain_vault
    alice = v.users.ensure("era2", "Era")
    bob = v.users.ensure("erb2", "Erb")
    ga = pong_builder().compile(checkpointer=MemvaultSaver(v, user_id=alice.id))
    gb = pong_builder().compile(checkpointer=MemvaultSaver(v, user_id=bob.id))
    ga.invoke({"messages": [("user", "alice turn")]}, cfg("shared"))
    gb.invoke({"messages": [("user", "bob turn")]}, cfg("shared"))
    v.erase_user(alice.id)
    remaining = list(gb.get_state_history(cfg("shared")))
    assert remaining, "bob's checkpoints went with alice"
    # what bob wrote is still readable from his latest checkpoint
    assert "bob turn" in contents(gb.get_state(cfg("shared")).values["messages"])


def test_saver_with_unknown_user_says_not_found(plain_vault: Any) -> None:
    # Finding 9: refused when the saver is made (it was a FOREIGN KEY error at first invoke)...
    with pytest.raises(memvault.NotFound, match=UNKNOWN_UUID):
        MemvaultSaver(plain_vault, user_id=UNKNOWN_UUID)
    # ... and a call's unknown memvault_user_id at its first write.
    graph = pong_builder().compile(checkpointer=MemvaultSaver(plain_vault))
    per_call = {"configurable": {"thread_id": "u", "memvault_user_id": UNKNOWN_UUID}}
    with pytest.raises(memvault.NotFound, match=UNKNOWN_UUID):
        graph.invoke({"messages": [("user", "hi")]}, per_call)


# --------------------------------------------------------------------------- LangGraph store


def test_langgraph_store_namespaces_search_ttl_owners(vault: Any) -> None:
    alice = vault.users.ensure("alice", "Alice")
    bob = vault.users.ensure("bob", "Bob")
    index = {"dims": 384, "embed": "memvault", "fields": ["text"]}
    sa = MemvaultStore(
        vault, user_id=alice.id, index=index, ttl={"default_ttl": 60, "refresh_on_read": True}
    )
    sb = MemvaultStore(vault, user_id=bob.id, index=index)
    try:
        value = {
            "text": "Alice is vegetarian",
            "since": 2021,
            "tags": ["food", "diet"],
            "nested": {"a": [1, 2.5, None, True]},
            "unicode": "héllo ✓ 日本",
        }
        sa.put(("memories", "prefs"), "diet", value)
        sa.put(
            ("memories", "prefs"),
            "drink",
            {"text": "Alice drinks green tea every morning", "since": 2019},
        )
        sa.put(("memories", "travel"), "city", {"text": "Alice wants to visit Lyon", "since": 2025})
        sa.put(("memories",), "pet", {"text": "Alice has a cat named Miso", "since": 2023})
        sa.put(("mem",), "short", {"text": "a namespace that is a prefix of another's label"})
        sb.put(
            ("memories", "prefs"),
            "diet",
            {"text": "Bob eats everything, loves steak", "since": 2020},
        )

        item = sa.get(("memories", "prefs"), "diet")
        assert item is not None and item.value == value
        assert tuple(item.namespace) == ("memories", "prefs")
        assert sb.get(("memories", "prefs"), "diet").value["text"].startswith("Bob")
        assert sb.get(("memories",), "pet") is None

        hits = sa.search(("memories",), query="what does she eat", limit=3)
        assert hits[0].key == "diet" and hits[0].score is not None
        hits = sa.search(("memories",), query="what does she eat", filter={"since": {"$lt": 2022}})
        assert {h.key for h in hits} == {"diet", "drink"}
        assert [h.key for h in sa.search(("memories",), filter={"since": 2021})] == ["diet"]
        assert [h.key for h in sa.search(("memories",))] == ["pet", "city", "drink", "diet"]
        assert [h.key for h in sa.search(("mem",))] == ["short"]
        assert {h.value["text"] for h in sb.search(("memories",), query="vegetarian")} == {
            "Bob eats everything, loves steak"
        }

        assert sa.list_namespaces(prefix=("memories",)) == [
            ("memories",),
            ("memories", "prefs"),
            ("memories", "travel"),
        ]
        assert sa.list_namespaces(max_depth=1) == [("mem",), ("memories",)]
        assert sa.list_namespaces(suffix=("prefs",)) == [("memories", "prefs")]
        assert sa.list_namespaces(prefix=("memories", "*")) == [
            ("memories", "prefs"),
            ("memories", "travel"),
        ]
        assert sb.list_namespaces() == [("memories", "prefs")]

        sa.put(("memories", "prefs"), "diet", {"text": "Alice is vegan now", "since": 2024})
        assert sa.get(("memories", "prefs"), "diet").value == {
            "text": "Alice is vegan now",
            "since": 2024,
        }
        sa.delete(("memories", "prefs"), "drink")
        assert sa.get(("memories", "prefs"), "drink") is None
        # items are memories of their owner
        keys = {m.key for m in vault.memories.list(alice.id, key_prefix="langgraph/")}
        assert (
            "langgraph/memories.prefs..diet" in keys
            and "langgraph/memories.prefs..drink" not in keys
        )

        sa.put(("tmp",), "x", {"text": "short"}, ttl=0.02)  # 1.2 s
        assert sa.get(("tmp",), "x") is not None
        time.sleep(1.6)
        assert sa.get(("tmp",), "x") is None
        assert sa.sweep_ttl() == 1

        async def am() -> None:
            await sa.aput(("async",), "k", {"text": "async item"})
            assert (await sa.aget(("async",), "k")).value == {"text": "async item"}
            assert [h.key for h in await sa.asearch(("async",), query="item")] == ["k"]

        asyncio.run(am())
    finally:
        sa.close()
        sb.close()


def test_store_datetime_value_is_iso_text_or_invalid_input(plain_vault: Any) -> None:
    user = plain_vault.users.ensure("dora", "Dora")
    store = MemvaultStore(plain_vault, user_id=user.id)
    try:
        store.put(("x",), "dt", {"when": dt.datetime(2026, 1, 1)})
    except memvault.InvalidInput as e:
        assert "when" in str(e)
    else:
        assert store.get(("x",), "dt").value == {"when": "2026-01-01T00:00:00"}


def test_store_refuses_an_async_vault_when_made(vault_url: str) -> None:
    async def main() -> None:
        async with memvault.aio.open(vault_url, embed_memories=False) as av:
            user = await av.users.ensure("amy", "Amy")
            with pytest.raises((TypeError, memvault.InvalidInput), match="Vault"):
                MemvaultStore(av, user_id=user.id)

    asyncio.run(main())


# --------------------------------------------------------------------------- LangChain


DOCS = [
    Document(
        "Holidays are booked in the HR portal.",
        metadata={
            "source": "hr.md",
            "year": 2026,
            "tags": ["hr"],
            "nested": {"x": 1},
            "score": 0.5,
            "ok": True,
            "none": None,
        },
    ),
    Document(
        "Expenses are filed within 30 days using the finance app.",
        metadata={"source": "fin.md", "year": 2024},
    ),
    Document(
        "The office is closed on public holidays.", metadata={"source": "hr.md", "year": 2023}
    ),
    Document("Laptops are replaced every three years.", metadata={"source": "it.md", "year": 2025}),
]


def test_langchain_vectorstore_and_retrievers(vault: Any) -> None:
    alice = vault.users.ensure("alice", "Alice")
    bob = vault.users.ensure("bob", "Bob")
    emb = MemvaultEmbeddings()
    assert len(emb.embed_query("hello")) == emb.dimension == 384
    sa = MemvaultVectorStore(vault, emb, user_id=alice.id, collection="handbook")
    sb = MemvaultVectorStore(vault, emb, user_id=bob.id, collection="handbook")
    other = MemvaultVectorStore(vault, emb, user_id=alice.id, collection="other")

    assert sa.add_documents(DOCS, ids=["hr-1", "fin-1", "hr-2", "it-1"]) == [
        "hr-1",
        "fin-1",
        "hr-2",
        "it-1",
    ]
    sb.add_documents(
        [Document("Bob's secret: the vault code is 1234", metadata={"year": 2026})], ids=["hr-1"]
    )
    other.add_documents([Document("Other collection doc about holidays")], ids=["hr-1"])

    by_id = {d.id: d for d in sa.get_by_ids(["hr-1", "missing", "it-1"])}
    assert set(by_id) == {"hr-1", "it-1"}
    assert by_id["hr-1"].page_content == DOCS[0].page_content
    assert by_id["hr-1"].metadata == DOCS[0].metadata

    def ids(docs: list[Document]) -> list[str | None]:
        return [d.id for d in docs]

    assert set(ids(sa.similarity_search("day off", k=4, filter={"year": {"$gte": 2025}}))) == {
        "hr-1",
        "it-1",
    }
    assert set(ids(sa.similarity_search("holidays", k=4, filter={"source": "hr.md"}))) == {
        "hr-1",
        "hr-2",
    }
    assert set(
        ids(sa.similarity_search("x", k=4, filter={"$or": [{"source": "it.md"}, {"year": 2024}]}))
    ) == {"it-1", "fin-1"}
    assert set(
        ids(sa.similarity_search("x", k=4, filter={"source": {"$in": ["it.md", "fin.md"]}}))
    ) == {"it-1", "fin-1"}
    assert ids(sa.similarity_search("x", k=4, filter={"tags": {"$contains": "hr"}})) == ["hr-1"]
    assert set(ids(sa.similarity_search("x", k=4, filter={"source": {"$ne": "hr.md"}}))) == {
        "it-1",
        "fin-1",
    }
    scored = sa.similarity_search_with_score("holidays", k=2)
    assert len(scored) == 2 and scored[0][1] >= scored[1][1]

    # re-adding an id replaces text and metadata
    sa.add_documents(
        [Document("Holidays are now booked via Workday.", metadata={"source": "hr2.md"})],
        ids=["hr-1"],
    )
    (doc,) = sa.get_by_ids(["hr-1"])
    assert (doc.page_content, doc.metadata) == (
        "Holidays are now booked via Workday.",
        {"source": "hr2.md"},
    )
    assert len(sa.similarity_search("holidays", k=10)) == 4

    # Document.id is used when no ids= is given; no id at all: one is made
    sa.add_documents([Document("Parking is free for staff.", id="park-1")])
    assert ids(sa.get_by_ids(["park-1"])) == ["park-1"]
    (auto,) = sa.add_texts(["Coffee machine on floor 2"])
    assert auto

    assert sa.delete(["fin-1", "never-there"]) is True
    assert ids(sa.get_by_ids(["fin-1", "hr-2"])) == ["hr-2"]

    # owners and collections never see each other's documents
    assert all(
        "secret" not in d.page_content for d in sa.similarity_search("secret vault code", k=10)
    )
    assert [d.page_content for d in sb.similarity_search("holidays", k=10)] == [
        "Bob's secret: the vault code is 1234"
    ]
    assert ids(other.similarity_search("holidays", k=10)) == ["hr-1"]

    assert len(sa.as_retriever(search_kwargs={"k": 2}).invoke("day off")) == 2
    hybrid = MemvaultRetriever.from_vectorstore(sa, k=3)
    got = hybrid.invoke("holidays")
    assert len(got) == 3 and "hr-1" in ids(got)
    assert len(hybrid.invoke("holidays", k=1)) == 1
    assert len(sa.max_marginal_relevance_search("holidays", k=2, fetch_k=5)) == 2

    async def am() -> None:
        await sa.aadd_documents(
            [Document("Async doc about printers", metadata={"a": 1})], ids=["pr-1"]
        )
        assert ids(await sa.asimilarity_search("printer", k=1)) == ["pr-1"]
        await sa.adelete(["pr-1"])
        assert await sa.aget_by_ids(["pr-1"]) == []

    asyncio.run(am())

    sa.delete()
    assert vault.memories.list(alice.id, key_prefix="langchain/handbook/") == []
    assert len(vault.memories.list(alice.id, key_prefix="langchain/other/")) == 1
    assert len(vault.memories.list(bob.id, key_prefix="langchain/handbook/")) == 1

    # a retriever over any memories, with memvault's filters
    vault.memories.add(alice.id, "fact", "Alice is vegetarian", metadata={"topic": "food"})
    vault.memories.add(
        alice.id, "preference", "Alice prefers window seats", metadata={"topic": "travel"}
    )
    food = MemvaultRetriever(vault=vault, user_id=alice.id, filters={"metadata.topic": "food"})
    assert [d.page_content for d in food.invoke("what does Alice eat")] == ["Alice is vegetarian"]
    prefs = MemvaultRetriever(vault=vault, user_id=alice.id).invoke("seat", kinds=["preference"])
    assert [d.page_content for d in prefs] == ["Alice prefers window seats"]


def test_vectorstore_non_text_is_invalid_input(plain_vault: Any) -> None:
    user = plain_vault.users.ensure("alice", "Alice")
    store = MemvaultVectorStore(
        plain_vault, MemvaultEmbeddings(), user_id=user.id, collection="bad"
    )
    with pytest.raises(memvault.InvalidInput, match="text"):
        store.add_texts([123], ids=["n"])  # type: ignore[list-item]


def test_metadata_key_order_round_trips_on_postgresql(engine: str, plain_vault: Any) -> None:
    if engine == "sqlite":
        pytest.skip("SQLite keeps key order; the finding is about PostgreSQL's jsonb")
    user = plain_vault.users.ensure("alice", "Alice")
    metadata = {"source": "hr.md", "year": 2026, "zeta": 1, "alpha": 2}
    m = plain_vault.memories.put(user.id, "ordered", "note", "ordered metadata", metadata=metadata)
    assert list(plain_vault.memories.get(m.id).metadata) == list(metadata)


def test_chat_message_history_round_trip(plain_vault: Any) -> None:
    v = plain_vault
    alice = v.users.ensure("alice", "Alice")
    bob = v.users.ensure("bob", "Bob")
    hist = MemvaultChatMessageHistory(v, "thread-42", user_id=alice.id)
    assert hist.messages == []
    msgs = [
        SystemMessage("You are helpful", id="s1"),
        HumanMessage(
            content=[
                {"type": "text", "text": "What's in this image?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
            id="h1",
            name="alice",
        ),
        AIMessage(
            "",
            id="a1",
            tool_calls=[
                {
                    "name": "lookup",
                    "args": {"q": "cat", "n": 3},
                    "id": "call_9",
                    "type": "tool_call",
                }
            ],
            additional_kwargs={"x": 1},
            response_metadata={"model": "m"},
            usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
        ),
        ToolMessage(
            content='{"result":"a cat"}',
            tool_call_id="call_9",
            id="t1",
            name="lookup",
            artifact={"raw": [1, 2]},
        ),
        AIMessage("It's a cat.", id="a2"),
    ]
    hist.add_messages(msgs)
    assert hist.messages == msgs
    # the same LangChain session id for another user is another conversation
    assert MemvaultChatMessageHistory(v, "thread-42", user_id=bob.id).messages == []
    # one bad message: nothing of the batch is stored
    with pytest.raises(memvault.InvalidInput, match=r"messages\[1\]"):
        MemvaultChatMessageHistory(v, "t3", user_id=alice.id).add_messages(
            [HumanMessage("ok"), HumanMessage("a\x00b")]
        )
    assert MemvaultChatMessageHistory(v, "t3", user_id=alice.id).messages == []
    hist.add_user_message("another")
    assert len(hist.messages) == 6
    hist.clear()
    assert hist.messages == []
    hist.add_user_message("after clear")
    assert contents(hist.messages) == ["after clear"]
    session = v.sessions.by_key(alice.id, "thread-42")
    assert session is not None and session.message_count == 1


# --------------------------------------------------------------------------- Vault additions


def test_vault_keys_bulk_ttl_history(plain_vault: Any) -> None:
    v = plain_vault
    a = v.users.ensure("alice", "Alice")
    b = v.users.ensure("bob", "Bob")

    m = v.memories.put(
        a.id,
        "docs/42",
        "note",
        "Lyon is in France",
        metadata={"source": "wiki"},
        ttl=timedelta(days=7),
    )
    assert v.memories.by_key(b.id, "docs/42") is None
    v.memories.put(b.id, "docs/42", "note", "Bob's doc")
    assert v.memories.by_key(a.id, "docs/42").content == "Lyon is in France"
    v.memories.put(
        a.id,
        "docs/42",
        "note",
        "Lyon is on the Rhône",
        metadata={"source": "web"},
        reason="precise",
    )
    assert [(h.op, h.reason) for h in v.memories.history(m.id)] == [
        ("create", None),
        ("update", "precise"),
    ]

    written = v.memories.put_many(
        a.id,
        [
            {
                "key": f"docs/{i}",
                "kind": "note",
                "content": f"doc {i}",
                "metadata": {"source": "web" if i % 2 else "wiki", "i": i},
            }
            for i in range(100, 110)
        ],
    )
    assert len(written) == 10
    with pytest.raises(memvault.InvalidInput, match=r"items\[1\]\.kind"):
        v.memories.put_many(
            a.id,
            [
                {"key": "ok1", "kind": "note", "content": "fine"},
                {"key": "bad", "kind": "gossip", "content": "x"},
            ],
        )
    assert v.memories.by_key(a.id, "ok1") is None
    assert sorted(
        x.key
        for x in v.memories.list(
            a.id, key_prefix="docs/", filters={"metadata.source": {"$ne": "web"}}
        )
    ) == ["docs/100", "docs/102", "docs/104", "docs/106", "docs/108"]
    assert v.memories.list(a.id, key_prefix="docs%") == []
    assert sorted(x.key for x in v.memories.list(a.id, filters={"metadata.i": {"gt": 107}})) == [
        "docs/108",
        "docs/109",
    ]
    with pytest.raises(memvault.InvalidInput, match="regex"):
        v.memories.list(a.id, filters={"metadata.i": {"$regex": "1"}})

    assert v.memories.count(a.id) == 11
    assert v.memories.delete_many(a.id, keys=["docs/100", "gone", "docs/101"]) == 2
    with pytest.raises(memvault.InvalidInput):
        v.memories.delete_many(a.id)
    ids = [x.id for x in v.memories.list(a.id, key_prefix="docs/10")]
    assert v.memories.delete_many(a.id, key_prefix="docs/10", reason="cleanup") == 8
    assert v.memories.count(a.id) == 1
    assert v.memories.count(b.id) == 1
    for i in ids:
        assert [(h.op, h.reason) for h in v.memories.history(i)][-1] == ("delete", "cleanup")

    jazz = v.memories.add(a.id, "fact", "Alice likes jazz")
    v.memories.update(jazz.id, content="Alice loves jazz", reason="stronger")
    v.memories.delete(jazz.id, reason="user asked")
    hist = v.memories.history(jazz.id)
    assert [h.op for h in hist] == ["create", "update", "delete"]
    assert hist[-1].old_content == "Alice loves jazz" and hist[-1].reason == "user asked"
    with pytest.raises(memvault.NotFound):
        v.memories.history(jazz.id, user_id=b.id)

    fact = v.memories.add(a.id, "fact", "Alice is vegetarian")
    assert v.memories.add(a.id, "fact", "  alice IS   vegetarian ").id == fact.id
    with pytest.raises(memvault.Duplicate):
        v.memories.add(a.id, "fact", "Alice is vegetarian", dedupe="raise")
    assert v.memories.add(a.id, "fact", "Alice is vegetarian", dedupe=False).id != fact.id

    v.memories.put(a.id, "ttl1", "note", "short lived", ttl=timedelta(seconds=1))
    short = v.memories.put(a.id, "ttl2", "note", "refreshed", ttl=timedelta(seconds=2))
    time.sleep(1.2)
    assert v.memories.by_key(a.id, "ttl1") is None
    assert [x.key for x in v.memories.list(a.id, keys=["ttl1"], include_expired=True)] == ["ttl1"]
    assert v.memories.by_key(a.id, "ttl2", refresh_ttl=True) is not None
    time.sleep(1.2)
    assert v.memories.by_key(a.id, "ttl2") is not None
    v.memories.extend(short.id, timedelta(hours=1))
    with pytest.raises(memvault.InvalidInput, match="ttl"):
        v.memories.extend(fact.id)
    assert v.memories.purge_expired() == 1
    with pytest.raises(memvault.InvalidInput, match="ttl"):
        v.memories.put(a.id, "neg", "note", "x", ttl=timedelta(seconds=-5))

    s = v.sessions.put(a.id, "lc-thread-7", title="support")
    assert v.sessions.put(a.id, "lc-thread-7").id == s.id
    assert v.sessions.put(b.id, "lc-thread-7").id != s.id
    assert [
        m.seq
        for m in v.messages.append_many(
            s.id, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        )
    ] == [1, 2]
    with pytest.raises(memvault.InvalidInput, match=r"messages\[1\]\.role"):
        v.messages.append_many(
            s.id, [{"role": "user", "content": "ok"}, {"role": "robot", "content": "x"}]
        )
    assert len(v.messages.list(s.id)) == 2
    with pytest.raises(memvault.NotFound):
        v.messages.clear(s.id, user_id=b.id)
    assert v.messages.clear(s.id) == 2
    assert v.messages.append(s.id, "user", "again").seq == 3
    assert v.sessions.get(s.id).message_count == 1


def test_add_with_key_is_not_deduplicated_by_content(plain_vault: Any) -> None:
    v = plain_vault
    user = v.users.ensure("zed", "Zed")
    plain = v.memories.add(user.id, "fact", "Zed is vegetarian")
    keyed = v.memories.add(user.id, "fact", "Zed is vegetarian", key="diet")
    assert keyed.key == "diet" and keyed.id != plain.id
    assert v.memories.by_key(user.id, "diet") is not None


def test_aio_keys_bulk_and_owners(vault_url: str) -> None:
    async def main() -> None:
        async with memvault.aio.open(vault_url, embed_memories=False) as v:
            a = await v.users.ensure("amy", "Amy")
            b = await v.users.ensure("ben", "Ben")
            m = await v.memories.put(a.id, "docs/1", "note", "async doc", ttl=timedelta(days=1))
            assert (
                await v.memories.by_key(a.id, "docs/1", refresh_ttl=True)
            ).content == "async doc"
            await asyncio.gather(
                *(
                    v.memories.put(a.id if i % 2 else b.id, f"c/{i}", "note", f"conc {i}")
                    for i in range(60)
                )
            )
            assert len(await v.memories.list(a.id, key_prefix="c/", limit=1000)) == 30
            assert len(await v.memories.list(b.id, key_prefix="c/", limit=1000)) == 30
            s = await v.sessions.put(a.id, "t1")
            await asyncio.gather(*(v.messages.append(s.id, "user", f"m{i}") for i in range(20)))
            msgs = await v.messages.list(s.id)
            assert sorted(x.seq for x in msgs) == list(range(1, 21))
            with pytest.raises(memvault.NotFound):
                await v.scoped(b.id).memories.get(m.id)
            with pytest.raises(memvault.InvalidInput, match="kind"):
                await v.memories.add(a.id, "gossip", "x")

    asyncio.run(main())


# --------------------------------------------------------------------------- embeddings speed


def test_embedding_time_does_not_grow_with_text_length_beyond_the_model_window() -> None:
    emb = MemvaultEmbeddings()
    emb.embed_query("warm up")
    sentence = "Alice prefers vegetarian food and travels to Lyon every spring with her cat. "

    def timed(n: int) -> float:
        text = (sentence * (n // len(sentence) + 1))[:n]
        t = time.perf_counter()
        emb.embed_documents([text])
        return time.perf_counter() - t

    short = min(timed(2500) for _ in range(2))
    long = min(timed(30_000) for _ in range(2))
    # e5-small reads 512 tokens: a text 12x longer than the window should not cost 12x
    assert long < 4 * short + 1.0, (short, long)


# --------------------------------------------------------------------------- CLI


def test_cli_keys_filters_and_errors(cli: Cli) -> None:
    assert cli("memories", "list", "--user", "alice").returncode == 1  # no store yet
    cli.ok("init")
    cli.ok("users", "add", "alice", "--name", "Alice")
    m = cli.json("memories", "add", "note", "Lyon doc", "--user", "alice", "--key", "docs/1")
    assert m["key"] == "docs/1"
    cli.ok("memories", "add", "note", "Paris doc", "--user", "alice", "--key", "docs/2")
    listed = cli.json("memories", "list", "--user", "alice", "--key-prefix", "docs/")
    assert sorted(x["key"] for x in listed) == ["docs/1", "docs/2"]
    assert (
        cli.json("memories", "list", "--user", "alice", "--where", '{"metadata.source": "x"}') == []
    )
    for args, needle in [
        (("memories", "list", "--user", "alice", "--where", "{not json"), "--where"),
        (("memories", "list", "--user", "alice", "--where", '{"colour": 1}'), "colour"),
        (("memories", "list", "--user", "nobody"), "nobody"),
        (("memories", "add", "gossip", "x", "--user", "alice"), "kind"),
        (("memories", "add", "fact", "x", "--user", "alice", "--confidence", "7"), "confidence"),
        (("memories", "add", "fact", "", "--user", "alice"), "content"),
        (("memories", "show", UNKNOWN_UUID), "not found"),
        (("memories", "show", "not-an-id"), "memory_id"),
        (("memories", "delete", UNKNOWN_UUID, "--yes"), "not found"),
        (("memories", "add", "fact", "x", "--user", "alice", "--base"), "--base"),
    ]:
        r = cli(*args)
        assert r.returncode != 0, args
        assert needle in r.stderr + r.stdout, (args, r.stderr)
        assert "Traceback" not in r.stderr
    # nothing was written by the refused commands
    assert len(cli.json("memories", "list", "--user", "alice")) == 2


def test_cli_add_with_an_existing_key_and_other_content_does_not_return_another_memory(
    cli: Cli,
) -> None:
    cli.ok("init")
    cli.ok("users", "add", "alice")
    first = cli.json("memories", "add", "note", "Lyon doc", "--user", "alice", "--key", "docs/1")
    cli.ok("memories", "add", "note", "Paris doc", "--user", "alice", "--key", "docs/2")
    r = cli("memories", "add", "note", "Paris doc", "--user", "alice", "--key", "docs/1", "--json")
    # either refused (the key is taken) or the memory named docs/1 — never docs/2's, silently
    if r.returncode == 0:
        assert json.loads(r.stdout)["key"] == "docs/1"
        assert json.loads(r.stdout)["id"] == first["id"]
    else:
        assert "docs/1" in r.stderr


# --------------------------------------------------------------------------- REST


def _rest_setup(cli: Cli, service: Any) -> tuple[Any, str, dict[str, str]]:
    cli.ok("init")
    admin_key = cli.json("keys", "create", "--admin")["key"]
    served = service()
    users: dict[str, str] = {}
    with served.client(admin_key) as admin:
        for handle in ("alice", "bob"):
            made = admin.post("/api/users", json={"handle": handle})
            assert made.status_code == 201, made.text
            users[handle] = made.json()["id"]
    return served, admin_key, users


def test_rest_keys_and_filters(cli: Cli, service: Any) -> None:
    served, admin_key, users = _rest_setup(cli, service)
    alice = users["alice"]
    with served.client(admin_key) as admin:
        body = {"user_id": alice, "kind": "note", "content": "rest doc", "metadata": {"s": 1}}
        put = admin.put("/api/memories/by-key/rest%2F1", json=body)
        assert put.status_code == 200, put.text
        assert (put.json()["user_id"], put.json()["key"]) == (alice, "rest/1")
        got = admin.get("/api/memories/by-key/rest%2F1", params={"user_id": alice})
        assert got.status_code == 200 and got.json()["content"] == "rest doc"
        listed = admin.get("/api/memories", params={"user_id": alice, "key_prefix": "rest/"})
        assert [m["key"] for m in listed.json()["items"]] == ["rest/1"]
        flt = admin.get(
            "/api/memories", params={"user_id": alice, "filters": json.dumps({"metadata.s": 1})}
        )
        assert [m["key"] for m in flt.json()["items"]] == ["rest/1"]
        bad = admin.get("/api/memories", params={"user_id": alice, "filters": "notjson"})
        assert bad.status_code == 422 and bad.json()["field"] == "filters"
        bad = admin.post("/api/memories", json={"user_id": alice, "kind": "gossip", "content": "x"})
        assert bad.status_code == 422 and bad.json()["field"] == "kind"
        missing = admin.get("/api/memories/by-key/nope", params={"user_id": alice})
        assert missing.status_code == 404


def test_rest_put_by_key_with_user_id_in_the_query_does_not_land_in_the_base_layer(
    cli: Cli, service: Any
) -> None:
    served, admin_key, users = _rest_setup(cli, service)
    with served.client(admin_key) as admin:
        r = admin.put(
            "/api/memories/by-key/private",
            params={"user_id": users["alice"]},
            json={"kind": "note", "content": "alice's private doc"},
        )
        # either it is alice's, or the request is refused — never the shared layer, silently
        if r.status_code < 400:
            assert r.json()["user_id"] == users["alice"]
        base = admin.get("/api/memories/by-key/private", params={"base": "true"})
        assert base.status_code == 404


def test_rest_unknown_body_fields_are_refused(cli: Cli, service: Any) -> None:
    served, admin_key, users = _rest_setup(cli, service)
    with served.client(admin_key) as admin:
        r = admin.put(
            "/api/memories/by-key/exp",
            json={"user_id": users["alice"], "kind": "note", "content": "t", "ttl_seconds": 60},
        )
        assert r.status_code == 422, r.text
        assert "ttl_seconds" in r.text


def test_store_query_search_still_returns_items_without_a_vector(vault: Any) -> None:
    # LangGraph's InMemoryStore answers a query search with the scored items, then the
    # items it has no vector for (score None): stored with index=False, or without the field.
    user = vault.users.ensure("gus", "Gus")
    store = MemvaultStore(
        vault, user_id=user.id, index={"dims": 384, "embed": "memvault", "fields": ["text"]}
    )
    store.put(("n",), "k1", {"text": "pasta recipe"})
    store.put(("n",), "k3", {"other": "no indexed field"})
    store.put(("n",), "k4", {"text": "not indexed"}, index=False)
    hits = store.search(("n",), query="cooking")
    assert hits[0].key == "k1"
    assert {h.key for h in hits} == {"k1", "k3", "k4"}
