"""`MemvaultChatMessageHistory` for `RunnableWithMessageHistory`, on SQLite, PostgreSQL 15 and 18:
messages round-trip exactly (tool calls, ids, content blocks), `add_messages` is one
transaction, and a real chain keeps the same history as LangChain's in-memory reference.

LangChain deprecates `RunnableWithMessageHistory` and `InMemoryChatMessageHistory`; the
suite turns warnings into errors, so the tests that use them filter exactly those two
deprecation messages, nothing wider (`test_langchains_deprecations_still_reach_callers`
checks that the warnings are still raised)."""

from __future__ import annotations

import asyncio
import json
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.errors import InvalidInput
from tests.langchain.conftest import require_langchain

require_langchain(module=True)

from langchain_core._api.deprecation import LangChainDeprecationWarning  # noqa: E402
from langchain_core.chat_history import InMemoryChatMessageHistory  # noqa: E402
from langchain_core.language_models.fake_chat_models import (  # noqa: E402
    FakeMessagesListChatModel,
)
from langchain_core.messages import (  # noqa: E402
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    message_to_dict,
)
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder  # noqa: E402
from langchain_core.runnables.history import RunnableWithMessageHistory  # noqa: E402

from memvault.langchain import MemvaultChatMessageHistory  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CATEGORY = "langchain_core._api.deprecation.LangChainDeprecationWarning"
LEGACY_RUNNABLE = pytest.mark.filterwarnings(
    f"ignore:RunnableWithMessageHistory is deprecated:{CATEGORY}"
)
LEGACY_IN_MEMORY = pytest.mark.filterwarnings(
    f"ignore:The class `InMemoryChatMessageHistory` was deprecated:{CATEGORY}"
)


def conversation() -> list[BaseMessage]:
    """One of each kind of message, with the fields that are easy to lose."""
    return [
        SystemMessage("You are terse.", id="sys-1"),
        HumanMessage(
            content=[
                {"type": "text", "text": "What is in this picture, and the weather in Lyon?"},
                {"type": "image", "url": "https://example.com/cat.png", "mime_type": "image/png"},
            ],
            id="h-1",
            name="alice",
            additional_kwargs={"client": {"locale": "fr-FR"}},
        ),
        AIMessage(
            content="",
            id="ai-1",
            tool_calls=[
                {
                    "name": "weather",
                    "args": {"city": "Lyon", "units": "C"},
                    "id": "call_1",
                    "type": "tool_call",
                },
                {
                    "name": "caption",
                    "args": {"url": "https://example.com/cat.png"},
                    "id": "call_2",
                    "type": "tool_call",
                },
            ],
            usage_metadata={"input_tokens": 12, "output_tokens": 7, "total_tokens": 19},
            response_metadata={"model_name": "fake-1", "finish_reason": "tool_calls"},
        ),
        ToolMessage(
            "18°C, light rain", tool_call_id="call_1", id="t-1", artifact={"raw": [18, "rain"]}
        ),
        ToolMessage("failed", tool_call_id="call_2", id="t-2", status="error"),
        FunctionMessage("legacy result", name="old_fn", id="f-1"),
        ChatMessage("A note from the critic.", role="critic", id="c-1"),
        AIMessage(
            content=[
                {"type": "text", "text": "A cat. ", "annotations": []},
                {"type": "reasoning", "reasoning": "tool said rain"},
                {"type": "text", "text": "Lyon: 18°C and rain ☂"},
            ],
            id="ai-2",
        ),
        AIMessageChunk(content="partial", id="ai-3"),
    ]


@pytest.fixture
def history(vault: memvault.Vault) -> MemvaultChatMessageHistory:
    return MemvaultChatMessageHistory(vault, "thread-1")


def test_every_kind_of_message_round_trips_exactly(
    history: MemvaultChatMessageHistory, vault: memvault.Vault
) -> None:
    sent = conversation()
    history.add_messages(sent)
    got = MemvaultChatMessageHistory(vault, "thread-1").messages
    assert got == sent
    assert [type(m) for m in got] == [type(m) for m in sent]
    assert got[2].tool_calls == sent[2].tool_calls  # type: ignore[attr-defined]
    assert got[1].content == sent[1].content and got[3].artifact == {"raw": [18, "rain"]}  # type: ignore[attr-defined]


def test_content_blocks_and_tool_call_args_keep_their_key_order(
    history: MemvaultChatMessageHistory, vault: memvault.Vault
) -> None:
    sent = AIMessage(
        content=[{"type": "text", "text": "hi", "zeta": 1, "alpha": {"z": 0, "a": 1}}],
        tool_calls=[
            {"name": "w", "args": {"zeta": 1, "alpha": 2}, "id": "c1", "type": "tool_call"}
        ],
        id="ordered",
    )
    history.add_messages([sent])
    (got,) = MemvaultChatMessageHistory(vault, "thread-1").messages
    assert json.dumps(message_to_dict(got)) == json.dumps(message_to_dict(sent))


def test_they_are_memvault_messages_of_the_session_keyed_by_the_thread(
    history: MemvaultChatMessageHistory, vault: memvault.Vault
) -> None:
    history.add_messages(conversation())
    session = vault.sessions.by_key(None, "thread-1")
    assert session is not None and session.message_count == len(conversation())
    stored = vault.messages.list(session.id)
    assert [m.role for m in stored] == [
        "system", "user", "assistant", "tool", "tool", "function", "user", "assistant",
        "assistant",
    ]  # fmt: skip
    assert stored[7].content == "A cat. Lyon: 18°C and rain ☂"
    hits = vault.messages.search(None, "rain", mode="text", session_id=session.id)
    assert {h.item.seq for h in hits} == {4, 8}


def test_add_messages_is_one_transaction(
    history: MemvaultChatMessageHistory, vault: memvault.Vault
) -> None:
    history.add_messages([HumanMessage("kept", id="k")])
    bad = [HumanMessage("one"), AIMessage("two", response_metadata={"x": float("nan")})]
    with pytest.raises(InvalidInput, match="metadata"):
        history.add_messages(bad)
    assert history.messages == [HumanMessage("kept", id="k")]
    with pytest.raises(InvalidInput):
        MemvaultChatMessageHistory(vault, "new-thread").add_messages(
            [HumanMessage("fine"), HumanMessage("nul \x00")]
        )
    assert vault.sessions.by_key(None, "new-thread") is None  # not even the session


def test_a_message_that_is_not_a_langchain_message_is_refused(
    history: MemvaultChatMessageHistory, vault: memvault.Vault
) -> None:
    with pytest.raises(InvalidInput, match=r"messages\[1\]='hi': .* not str"):
        history.add_messages([HumanMessage("one"), "hi"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match=r"messages\[0\]=\{.*\}: .* not dict"):
        history.add_message({"role": "user", "content": "x"})  # type: ignore[arg-type]
    assert vault.sessions.by_key(None, "thread-1") is None


def test_clear_empties_the_thread_and_it_goes_on(history: MemvaultChatMessageHistory) -> None:
    assert history.messages == []
    history.clear()  # nothing stored yet: nothing to do
    history.add_user_message("one")
    history.add_ai_message("two")
    history.clear()
    assert history.messages == []
    history.add_messages([HumanMessage("three", id="3")])
    assert history.messages == [HumanMessage("three", id="3")]


def test_threads_of_two_users_are_apart(vault: memvault.Vault) -> None:
    alice, bob = vault.users.ensure("alice").id, vault.users.ensure("bob").id
    a = MemvaultChatMessageHistory(vault, "t", user_id=alice)
    b = MemvaultChatMessageHistory(vault, "t", user_id=bob)
    a.add_messages([HumanMessage("alice's")])
    b.add_messages([HumanMessage("bob's")])
    b.clear()
    assert [m.content for m in a.messages] == ["alice's"] and b.messages == []


def test_async_methods(history: MemvaultChatMessageHistory) -> None:
    async def main() -> list[BaseMessage]:
        await history.aadd_messages([HumanMessage("a", id="1"), AIMessage("b", id="2")])
        got = await history.aget_messages()
        await history.aclear()
        return got

    assert asyncio.run(main()) == [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    assert history.messages == []


def test_a_long_thread_is_read_whole(history: MemvaultChatMessageHistory) -> None:
    sent: list[BaseMessage] = [HumanMessage(f"m{i}", id=str(i)) for i in range(2345)]
    history.add_messages(sent)
    assert history.messages == sent


@LEGACY_IN_MEMORY
def test_same_history_as_langchains_in_memory_reference(
    history: MemvaultChatMessageHistory,
) -> None:
    reference = InMemoryChatMessageHistory()
    for h in (reference, history):
        h.add_messages(conversation()[:4])
        h.add_user_message("and then?")
        h.add_messages(conversation()[4:])
    assert history.messages == reference.messages


def scripted_model() -> FakeMessagesListChatModel:
    """A chat model answering a tool call, then text (ids fixed, so runs compare)."""
    return FakeMessagesListChatModel(
        responses=[
            AIMessage(
                "",
                id="r1",
                tool_calls=[
                    {"name": "weather", "args": {"city": "Lyon"}, "id": "c1", "type": "tool_call"}
                ],
            ),
            AIMessage([{"type": "text", "text": "It rains in Lyon."}], id="r2"),
        ]
    )


def chain_with(histories: dict[str, Any]) -> RunnableWithMessageHistory:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    return RunnableWithMessageHistory(
        prompt | scripted_model(),
        lambda session_id: histories[session_id],
        input_messages_key="question",
        history_messages_key="history",
    )


@LEGACY_RUNNABLE
@LEGACY_IN_MEMORY
def test_runnable_with_message_history_keeps_what_the_reference_keeps(
    vault: memvault.Vault,
) -> None:
    ours = chain_with({"t": MemvaultChatMessageHistory(vault, "t")})
    theirs_history = InMemoryChatMessageHistory()
    theirs = chain_with({"t": theirs_history})
    config: Any = {"configurable": {"session_id": "t"}}
    for question in ("Weather in Lyon?", "So?"):
        assert ours.invoke({"question": question}, config) == theirs.invoke(
            {"question": question}, config
        )
    kept = MemvaultChatMessageHistory(vault, "t").messages
    assert kept == theirs_history.messages
    assert [type(m).__name__ for m in kept] == [
        "HumanMessage", "AIMessage", "HumanMessage", "AIMessage",
    ]  # fmt: skip
    assert kept[1].tool_calls[0]["id"] == "c1"  # type: ignore[attr-defined]


@LEGACY_RUNNABLE
def test_runnable_with_message_history_async(vault: memvault.Vault) -> None:
    chain = chain_with({"t": MemvaultChatMessageHistory(vault, "t")})
    config: Any = {"configurable": {"session_id": "t"}}
    asyncio.run(chain.ainvoke({"question": "Weather in Lyon?"}, config))
    assert [m.id for m in MemvaultChatMessageHistory(vault, "t").messages][1] == "r1"


def test_langchains_deprecations_still_reach_callers(vault: memvault.Vault) -> None:
    # The filters above are per test: everywhere else LangChain's warnings are raised
    # (LangChain warns about a deprecated class once per process, about this runnable on
    # every construction, so the runnable is the one a test can see).
    with pytest.warns(LangChainDeprecationWarning, match="RunnableWithMessageHistory"):
        chain_with({})
    ini = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    filters = ini["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert not [f for f in filters if "langchain" in f.lower() or "deprecat" in f.lower()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MemvaultChatMessageHistory(vault, "t")  # memvault's class adds no warning of its own
