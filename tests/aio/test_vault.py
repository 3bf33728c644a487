"""memvault.aio on SQLite, PostgreSQL 15 and 18: the domains, the scoped view, errors and plans
behave as the sync vault's, and the vault is natively async exactly on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

import memvault
import memvault.aio
from memvault.errors import NotFound
from memvault.records import Memory
from memvault.store.plan import Final, Plan, Query, Values


def test_the_domains_return_the_sync_records_and_errors(vault_url: str, engine: str) -> None:
    async def scenario() -> None:
        async with memvault.aio.open(vault_url) as vault:
            assert (vault.astore is not None) == engine.startswith("pg")
            alice = await vault.users.create("alice-aio")
            bob = await vault.users.create("bob-aio")
            stored = await vault.memories.add(alice.id, "fact", "likes green tea")
            assert isinstance(stored, Memory) and stored.content == "likes green tea"
            assert (await vault.memories.get(stored.id)).id == stored.id
            # Calls run concurrently on the pool and all land.
            added = await asyncio.gather(
                *(vault.memories.add(alice.id, "fact", f"fact number {i}") for i in range(12))
            )
            assert len({m.id for m in added}) == 12
            assert len(await vault.memories.list(alice.id, limit=100)) == 13
            with pytest.raises(NotFound):
                await vault.scoped(bob.id).memories.get(stored.id)
            mine = await vault.scoped(alice.id).memories.list(limit=100)
            assert {m.id for m in mine} >= {stored.id}
            exported = await vault.export_user(alice.id)
            assert any(m["id"] == stored.id for m in exported["memories"])

    asyncio.run(scenario())


def _count(values: Values, user_id: str) -> Plan[int]:
    (rows,) = yield [
        Query("SELECT count(*) AS n FROM memories WHERE user_id = :u", {"u": user_id}, fetch=True)
    ]
    return int(rows[0]["n"])


def test_a_plan_gives_the_same_answer_async_and_sync(vault_url: str) -> None:
    async def scenario() -> tuple[int, int]:
        async with memvault.aio.open(vault_url) as vault:
            user = await vault.users.create("carol-aio")
            for i in range(3):
                await vault.memories.add(user.id, "fact", f"plan fact {i}")
            native = await vault.run_plan(lambda v: _count(v, user.id), write=False)
            threaded = await vault.run(
                memvault.store.plan.run_in, vault.sync.store, lambda v: _count(v, user.id),
                write=False,
            )  # fmt: skip
            return native, threaded

    assert asyncio.run(scenario()) == (3, 3)


@pytest.mark.parametrize("final", [True, False], ids=["one-pipeline", "transaction"])
def test_a_failed_write_plan_stores_nothing(vault_url: str, final: bool) -> None:
    def change_then_fail(values: Values, user_id: str) -> Plan[None]:
        change = Query("UPDATE users SET display_name = 'changed' WHERE id = :u", {"u": user_id})
        duplicate = Query("INSERT INTO users (id, handle) VALUES (:u, 'x')", {"u": user_id})
        if final:  # one atomic pipeline
            yield Final([change, duplicate])
        else:  # two steps in a transaction
            _, rows = yield [change, Query("SELECT 1 AS one", fetch=True)]
            assert rows[0]["one"] == 1
            yield [duplicate]

    async def scenario() -> str | None:
        async with memvault.aio.open(vault_url) as vault:
            user = await vault.users.create("dave-aio", display_name="Dave")
            with pytest.raises(memvault.errors.MemvaultError):
                await vault.run_plan(lambda v: change_then_fail(v, user.id), write=True)
            return (await vault.users.get(user.id)).display_name

    assert asyncio.run(scenario()) == "Dave"
