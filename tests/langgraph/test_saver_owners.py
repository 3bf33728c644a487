"""`MemvaultSaver` threads are per owner (revision 0011, newcomer14 findings 7-9): the same
thread id of two users is two independent threads for every method, erasing one user leaves
the other's thread whole, an unknown user is NotFound, and stores written before 0011 keep
their checkpoints through the upgrade (and the downgrade)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import memvault
import memvault.aio
from memvault.store import migrator
from tests.langgraph.test_saver import _checkpoint

UNKNOWN = "01a23bf8-c8ab-7181-8951-0b0b1d6fbade"


def _saver(vault: Any, **options: Any) -> Any:
    from memvault.langgraph import MemvaultSaver

    return MemvaultSaver(vault, **options)


def _put(saver: Any, thread: str, n: int, text: str, parent: str | None = None, **meta: Any) -> Any:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
    if parent:
        conf["checkpoint_id"] = parent
    cp = _checkpoint(n, {"messages": [text]})
    return saver.put({"configurable": conf}, cp, {"step": n, **meta}, cp["channel_versions"])


def _thread(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}


def _history(saver: Any, thread: str) -> list[Any]:
    return [t.checkpoint["channel_values"]["messages"] for t in saver.list(_thread(thread))]


def _two(vault: memvault.Vault) -> tuple[Any, Any]:
    alice = vault.users.ensure("alice")
    bob = vault.users.ensure("bob")
    return _saver(vault, user_id=alice.id), _saver(vault, user_id=bob.id)


def test_two_users_with_the_same_thread_id_have_two_threads(graph_vault: memvault.Vault) -> None:
    sa, sb = _two(graph_vault)
    with sa, sb:
        # Interleaved: the same thread id, the same checkpoint ids and versions.
        a1 = _put(sa, "t", 1, "alice secret", run_id="ra")
        b1 = _put(sb, "t", 1, "bob one", run_id="rb")
        sa.put_writes(a1, [("messages", "alice pending")], task_id="task")
        sb.put_writes(b1, [("messages", "bob pending")], task_id="task")
        a2 = _put(sa, "t", 2, "alice two", a1["configurable"]["checkpoint_id"], run_id="ra")
        _put(sb, "t", 2, "bob two", b1["configurable"]["checkpoint_id"], run_id="rb")
        assert _history(sa, "t") == [["alice two"], ["alice secret"]]
        assert _history(sb, "t") == [["bob two"], ["bob one"]]
        assert [t.pending_writes for t in sa.list(_thread("t"))][1] == [
            ("task", "messages", "alice pending")
        ]
        assert [t.pending_writes for t in sb.list(_thread("t"))][1] == [
            ("task", "messages", "bob pending")
        ]
        assert sb.get_tuple(a1).checkpoint["channel_values"] == {"messages": ["bob one"]}
        assert "alice" not in str([t.checkpoint for t in sb.list(None)])
        assert [t.metadata["step"] for t in sb.list(None, filter={"run_id": "ra"})] == []
        # A call's memvault_user_id reads that user's thread, not the saver's.
        alices = {"configurable": {"thread_id": "t", "memvault_user_id": sa.user_id}}
        assert sb.get_tuple(alices).config == a2
        # copy, delete, prune, delete_for_runs touch only the saver's owner's rows.
        sb.copy_thread("t", "t-copy")
        assert _history(sb, "t-copy") == [["bob two"], ["bob one"]]
        assert sa.get_tuple(_thread("t-copy")) is None
        sb.prune(["t"])
        assert _history(sb, "t") == [["bob two"]]
        assert _history(sa, "t") == [["alice two"], ["alice secret"]]
        sb.delete_for_runs(["ra", "rb"])
        assert _history(sb, "t") == []
        assert _history(sa, "t") == [["alice two"], ["alice secret"]]
        sb.delete_thread("t-copy")
        sa.delete_thread("t")
        assert _history(sa, "t") == []
        with graph_vault.store.read() as tx:
            for table in ("graph_checkpoints", "graph_checkpoint_blobs", "graph_checkpoint_writes"):
                assert tx.scalar(f"SELECT count(*) FROM {table}") == 0, table
        # A saver without a user sees only the threads without an owner.
        with _saver(graph_vault) as nobody:
            _put(sa, "t", 1, "alice again")
            assert nobody.get_tuple(_thread("t")) is None
            _put(nobody, "t", 1, "no owner")
            assert _history(nobody, "t") == [["no owner"]]
            assert _history(sa, "t") == [["alice again"]]


def test_erasing_one_user_leaves_the_others_thread_whole(graph_vault: memvault.Vault) -> None:
    sa, sb = _two(graph_vault)
    with sa, sb:
        _put(sa, "shared", 1, "alice turn")
        b1 = _put(sb, "shared", 1, "bob turn")
        sb.put_writes(b1, [("messages", "bob pending")], task_id="task")
        removed = graph_vault.erase_user(sa.user_id, vacuum=False)
        assert removed["graph_checkpoints"] == 1
        assert removed["graph_checkpoint_blobs"] == 1
        got = sb.get_tuple(_thread("shared"))
        assert got.checkpoint["channel_values"] == {"messages": ["bob turn"]}
        assert got.pending_writes == [("task", "messages", "bob pending")]
        exported = graph_vault.export_user(sb.user_id)
        assert len(exported["graph_checkpoint_blobs"]) == 1


def test_an_unknown_user_is_not_found(graph_vault: memvault.Vault) -> None:
    with pytest.raises(memvault.NotFound, match=UNKNOWN):
        _saver(graph_vault, user_id=UNKNOWN)
    with _saver(graph_vault) as saver, pytest.raises(memvault.NotFound, match=UNKNOWN):
        cp = _checkpoint(1)
        saver.put({"configurable": {"thread_id": "t", "memvault_user_id": UNKNOWN}}, cp, {}, {})

    async def main() -> None:
        async with memvault.aio.open(graph_vault.store.location.url) as av:
            with _saver(av) as saver, pytest.raises(memvault.NotFound, match=UNKNOWN):
                conf = {"thread_id": "t", "memvault_user_id": UNKNOWN}
                await saver.aput({"configurable": conf}, _checkpoint(1), {}, {})

    asyncio.run(main())


def test_async_methods_are_per_owner_too(graph_vault: memvault.Vault) -> None:
    """With an AsyncVault on PostgreSQL, `aput`/`aget_tuple`/`alist` run natively async."""
    alice = graph_vault.users.ensure("alice")
    bob = graph_vault.users.ensure("bob")

    async def main() -> None:
        async with memvault.aio.open(graph_vault.store.location.url) as av:
            sa, sb = _saver(av, user_id=alice.id), _saver(av, user_id=bob.id)
            with sa, sb:
                for saver, text in ((sa, "alice"), (sb, "bob"), (sa, "alice 2"), (sb, "bob 2")):
                    n = 2 if text.endswith("2") else 1
                    cp = _checkpoint(n, {"messages": [text]})
                    conf = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
                    await saver.aput(conf, cp, {"step": n}, cp["channel_versions"])
                got = await sb.aget_tuple(_thread("t"))
                assert got.checkpoint["channel_values"] == {"messages": ["bob 2"]}
                listed = [t.checkpoint["channel_values"] async for t in sa.alist(_thread("t"))]
                assert listed == [{"messages": ["alice 2"]}, {"messages": ["alice"]}]

    asyncio.run(main())


def test_checkpoints_written_before_0011_keep_their_owner_through_the_upgrade(
    graph_vault: memvault.Vault,
) -> None:
    store = graph_vault.store
    sa, sb = _two(graph_vault)
    nobody = _saver(graph_vault)
    with sa, sb, nobody:
        a1 = _put(sa, "t", 1, "alice one")
        sa.put_writes(a1, [("messages", "alice pending")], task_id="task")
        cp = _checkpoint(2, {"messages": ["bob two"]})
        cp["channel_versions"] = {"messages": "00000000000000000000000000000002.5"}
        sb.put(_thread("t"), cp, {"step": 2}, cp["channel_versions"])
        _put(nobody, "n", 1, "no owner")
        # Down to 0010: one thread "t" shared by both owners, as stores before 0011 held it.
        assert migrator.downgrade(store, "0010") == "0010"
        with store.read() as tx:
            assert tx.scalar("SELECT count(*) FROM graph_checkpoints") == 3
            assert tx.scalar("SELECT count(*) FROM graph_checkpoint_blobs") == 3
        assert migrator.upgrade(store) == migrator.REVISIONS[-1]
        sa._latest.clear(), sb._latest.clear()  # read what the upgrade wrote, not the hints
        got = sa.get_tuple(_thread("t"))
        assert got.checkpoint["channel_values"] == {"messages": ["alice one"]}
        assert got.pending_writes == [("task", "messages", "alice pending")]
        assert _history(sb, "t") == [["bob two"]]
        assert _history(nobody, "n") == [["no owner"]]
        assert nobody.get_tuple(_thread("t")) is None
        with store.read() as tx:
            owners = tx.all("SELECT owner FROM graph_checkpoint_writes")
            assert [r["owner"] for r in owners] == [sa.user_id]
