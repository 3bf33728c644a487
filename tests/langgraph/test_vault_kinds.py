"""The LangGraph and LangChain classes that need a sync `memvault.Vault` refuse a
`memvault.aio` vault when they are made, naming the vault to pass, instead of failing at
first use (an AttributeError, or "'coroutine' object is not iterable")."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

import memvault
import memvault.aio
from memvault.langchain import (
    MemvaultChatMessageHistory,
    MemvaultRetriever,
    MemvaultVectorStore,
)
from memvault.langgraph import MemvaultSaver, MemvaultStore


def test_sync_only_classes_refuse_an_async_vault_and_accept_its_sync_one(vault_url: str) -> None:
    async def main() -> None:
        async with memvault.aio.open(vault_url, embed_memories=False) as av:
            amy = await av.users.ensure("amy", "Amy")
            emb = DeterministicFakeEmbedding(size=8)
            makers = {
                "MemvaultStore": lambda v: MemvaultStore(v, user_id=amy.id),
                "MemvaultVectorStore": lambda v: MemvaultVectorStore(v, emb, user_id=amy.id),
                "MemvaultRetriever": lambda v: MemvaultRetriever(vault=v, user_id=amy.id),
                "MemvaultChatMessageHistory": lambda v: MemvaultChatMessageHistory(
                    v, "s", user_id=amy.id
                ),
            }
            for name, make in makers.items():
                with pytest.raises(memvault.InvalidInput, match=name) as refused:
                    make(av)
                assert refused.value.field == "vault"
                assert "memvault.Vault" in str(refused.value)
                assert ".sync" in str(refused.value)
                make(av.sync)  # the async vault's own sync Vault is what they take
            # The async methods of the store then work from the event loop.
            store = MemvaultStore(av.sync, user_id=amy.id)
            await store.aput(("notes",), "k", {"text": "hi"})
            got = await store.aget(("notes",), "k")
            assert got is not None and got.value == {"text": "hi"}
            store.close()
            # MemvaultSaver takes either kind.
            MemvaultSaver(av, user_id=amy.id).close()
            MemvaultSaver(av.sync, user_id=amy.id).close()

    asyncio.run(main())
