"""`MemvaultSaver` beyond the conformance suite: its sync methods, the owner link that puts a
thread into `export_user` / `erase_user`, transactions, and revision 0008 going down and up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.store import migrator

USER_KEY = "memvault_user_id"  # memvault.langgraph.checkpoint.USER_KEY (imported lazily here)


def _saver(vault: memvault.Vault, **options: Any) -> Any:
    from memvault.langgraph import MemvaultSaver

    return MemvaultSaver(vault, **options)


def _checkpoint(n: int, values: dict[str, Any] | None = None) -> Any:
    from langgraph.checkpoint.base import empty_checkpoint

    cp = empty_checkpoint()
    cp["id"] = f"1f0{n:05d}-0000-6000-8000-000000000000"
    cp["channel_values"] = dict(values or {})
    cp["channel_versions"] = {k: f"{n:032}.0" for k in cp["channel_values"]}
    return cp


def _put(saver: Any, thread: str, n: int, parent: str | None = None, **meta: Any) -> Any:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
    if parent:
        conf["checkpoint_id"] = parent
    cp = _checkpoint(n, {"messages": [f"m{n}"]})
    return saver.put({"configurable": conf}, cp, {"step": n, **meta}, cp["channel_versions"])


def test_sync_put_get_list_with_filter_before_and_limit(graph_vault: memvault.Vault) -> None:
    with _saver(graph_vault) as saver:
        c1 = _put(saver, "t", 1, source="input", flag=True, tags=["a"])
        c2 = _put(saver, "t", 2, c1["configurable"]["checkpoint_id"], source="loop", flag=1)
        _put(saver, "t", 3, c2["configurable"]["checkpoint_id"], source="loop")
        _put(saver, "other", 1, source="input")
        latest = saver.get_tuple({"configurable": {"thread_id": "t"}})
        assert latest.checkpoint["channel_values"] == {"messages": ["m3"]}
        assert latest.parent_config == c2
        thread: Any = {"configurable": {"thread_id": "t"}}

        def steps(**kw: Any) -> list[int]:
            return [t.metadata["step"] for t in saver.list(thread, **kw)]

        assert steps() == [3, 2, 1]
        assert steps(filter={"source": "loop"}) == [3, 2]
        assert steps(filter={"flag": True}) == [1]  # JSON's true is not the number 1
        assert steps(filter={"tags": ["a"]}) == [1]
        assert steps(before=c2) == [1]
        assert steps(limit=1) == [3]
        assert len(list(saver.list(None))) == 4
        assert len(list(saver.list(None, filter={"source": "input"}))) == 2


def test_put_writes_keeps_a_task_write_once_and_replaces_special_writes(
    graph_vault: memvault.Vault,
) -> None:
    from langgraph.checkpoint.base import WRITES_IDX_MAP

    error = "__error__"  # LangGraph's (now private) ERROR channel
    assert WRITES_IDX_MAP[error] < 0
    with _saver(graph_vault) as saver:
        config = _put(saver, "t", 1)
        saver.put_writes(config, [("a", 1), ("b", 2)], task_id="task")
        saver.put_writes(config, [("a", 10), ("b", 20)], task_id="task")  # a retry: no change
        saver.put_writes(config, [(error, "first")], task_id="task")
        saver.put_writes(config, [(error, "second")], task_id="task")  # replaces the error
        writes = saver.get_tuple(config).pending_writes
        assert writes == [("task", error, "second"), ("task", "a", 1), ("task", "b", 2)]


def test_a_thread_linked_to_a_user_is_exported_and_erased_with_them(
    graph_vault: memvault.Vault,
) -> None:
    alice = graph_vault.users.ensure("alice")
    bob = graph_vault.users.ensure("bob")
    with _saver(graph_vault, user_id=alice.id) as saver:
        config = _put(saver, "alice-thread", 1)
        saver.put_writes(config, [("a", 1)], task_id="task")
        bobs: Any = {"configurable": {"thread_id": "bob-thread", "memvault_user_id": bob.id}}
        cp = _checkpoint(1, {"x": 1})
        saver.put(bobs, cp, {}, cp["channel_versions"])
        with _saver(graph_vault) as unowned:
            _put(unowned, "nobody", 1)

        exported = graph_vault.export_user(alice.id)
        assert [r["thread_id"] for r in exported["graph_checkpoints"]] == ["alice-thread"]
        assert len(exported["graph_checkpoint_blobs"]) == 1
        assert len(exported["graph_checkpoint_writes"]) == 1

        removed = graph_vault.erase_user(alice.id, vacuum=False)
        assert removed["graph_checkpoints"] == 1
        assert saver.get_tuple({"configurable": {"thread_id": "alice-thread"}}) is None
        # Each owner's threads are read through that owner (revision 0011).
        assert saver.get_tuple(bobs) is not None
        with _saver(graph_vault) as unowned:
            assert unowned.get_tuple({"configurable": {"thread_id": "nobody"}}) is not None
        with graph_vault.store.read() as tx:
            for table in ("graph_checkpoint_blobs", "graph_checkpoint_writes"):
                left = tx.scalar(f"SELECT count(*) FROM {table} WHERE thread_id = 'alice-thread'")
                assert left == 0, table


def test_a_checkpoint_put_inside_a_failed_transaction_is_not_stored(
    graph_vault: memvault.Vault,
) -> None:
    with _saver(graph_vault) as saver:
        with pytest.raises(RuntimeError), graph_vault.transaction():
            _put(saver, "t", 1)
            raise RuntimeError("the step failed")
        assert saver.get_tuple({"configurable": {"thread_id": "t"}}) is None


def test_an_unknown_prune_strategy_is_invalid_input(graph_vault: memvault.Vault) -> None:
    with _saver(graph_vault) as saver, pytest.raises(memvault.InvalidInput):
        saver.prune(["t"], strategy="keep_some")


def test_downgrade_below_0008_drops_the_checkpoint_tables_and_upgrade_brings_them_back(
    graph_vault: memvault.Vault, vault_url: str
) -> None:
    from typer.testing import CliRunner

    from memvault.cli import app

    store = graph_vault.store
    with _saver(graph_vault) as saver:
        _put(saver, "t", 1)
    done = CliRunner().invoke(app, ["downgrade", "0007", "--db", vault_url, "--yes"])
    head = migrator.REVISIONS[-1]
    assert done.exit_code == 0 and f"{head} → 0007" in done.output, done.output
    assert migrator.current(store) == "0007"
    with store.read() as tx:
        assert not migrator.table_exists(tx, "graph_checkpoints")
        assert not migrator.table_exists(tx, "graph_checkpoint_writes")
    assert migrator.upgrade(store) == head
    with _saver(graph_vault) as saver:
        assert saver.get_tuple({"configurable": {"thread_id": "t"}}) is None
        _put(saver, "t", 2)
        assert saver.get_tuple({"configurable": {"thread_id": "t"}}) is not None


def test_an_owner_that_is_not_an_id_is_invalid_input(graph_vault: memvault.Vault) -> None:
    with pytest.raises(memvault.InvalidInput):
        _saver(graph_vault, user_id="alice")
    with _saver(graph_vault) as saver, pytest.raises(memvault.InvalidInput):
        cp = _checkpoint(1)
        saver.put({"configurable": {"thread_id": "t", USER_KEY: "alice"}}, cp, {}, {})


def test_checkpoints_travel_with_memvault_transfer(tmp_path: Path, vault_url: str) -> None:
    """SQLite → the engine under test: the copied rows are the same thread to the saver."""
    from memvault.migrate.transfer import transfer

    src = f"sqlite:///{tmp_path / 'src.db'}"
    with memvault.open(src) as vault, _saver(vault) as saver:
        config = _put(saver, "t", 1, source="input")
        saver.put_writes(config, [("a", {"k": [1, 2]})], task_id="task")
        _put(saver, "t", 2, config["configurable"]["checkpoint_id"], source="loop")
        before = [(t.config, t.checkpoint, t.metadata, t.pending_writes) for t in saver.list(None)]
    if vault_url.startswith("sqlite"):
        vault_url = f"sqlite:///{tmp_path / 'dst.db'}"
    transfer(src, vault_url)  # on PostgreSQL, the fixture emptied every table
    with memvault.open(vault_url) as vault, _saver(vault) as saver:
        after = [(t.config, t.checkpoint, t.metadata, t.pending_writes) for t in saver.list(None)]
    assert after == before


def test_a_thread_linked_to_a_session_is_found_by_it(graph_vault: memvault.Vault) -> None:
    user = graph_vault.users.create("sessioned")
    session = graph_vault.sessions.create(user.id)
    other = graph_vault.sessions.create(user.id)
    saver = _saver(graph_vault, user_id=user.id, session_id=session.id)
    try:
        _put(saver, "t-linked", 1)
        _put(saver, "t-linked", 2)
        # A call's configurable overrides the saver's session.
        cp = _checkpoint(3, {"messages": ["m3"]})
        conf = {"thread_id": "t-other", "checkpoint_ns": "", "memvault_session_id": other.id}
        saver.put({"configurable": conf}, cp, {"step": 3}, cp["channel_versions"])
        _saver(graph_vault).put(  # no session at all
            {"configurable": {"thread_id": "t-none", "checkpoint_ns": ""}}, cp, {}, {}
        )
        assert saver.session_threads(session.id) == ["t-linked"]
        assert saver.session_threads(other.id) == ["t-other"]
        got = saver.get_tuple({"configurable": {"thread_id": "t-linked", "checkpoint_ns": ""}})
        assert got.metadata["memvault_session_id"] == session.id
        listed = list(saver.list(None, filter={"memvault_session_id": session.id}))
        assert {t.config["configurable"]["thread_id"] for t in listed} == {"t-linked"}
        with pytest.raises(memvault.errors.InvalidInput, match="session_id"):
            _saver(graph_vault, session_id="not an id\x00")
    finally:
        saver.close()


def test_a_savers_hint_of_its_last_put_never_hides_another_savers_checkpoint(
    graph_vault: memvault.Vault,
) -> None:
    """`aget_tuple` reads the channel values a saver's own last put named in the same round
    trip as the checkpoint; what another saver (process) put since must still win."""
    import asyncio

    import memvault.aio
    from memvault.langgraph import MemvaultSaver

    async def scenario() -> list[Any]:
        async with memvault.aio.open(graph_vault.url) as avault:
            mine, theirs = MemvaultSaver(avault), MemvaultSaver(graph_vault)
            latest = {"configurable": {"thread_id": "hinted", "checkpoint_ns": ""}}
            seen = []
            try:
                cp1 = _checkpoint(1, {"messages": ["mine"]})
                await mine.aput(latest, cp1, {}, cp1["channel_versions"])
                seen.append(await mine.aget_tuple(latest))
                cp2 = _checkpoint(2, {"messages": ["theirs"]})
                theirs.put(latest, cp2, {}, cp2["channel_versions"])
                seen.append(await mine.aget_tuple(latest))
                # The same checkpoint id put again by the other saver, naming new versions.
                again = _checkpoint(1, {"messages": ["rewritten"]})
                again["channel_versions"] = {"messages": f"{7:032}.0"}
                theirs.put(latest, again, {}, again["channel_versions"])
                by_id = {"configurable": {**latest["configurable"], "checkpoint_id": cp1["id"]}}
                seen.append(await mine.aget_tuple(by_id))
            finally:
                mine.close()
                theirs.close()
            return seen

    first, second, third = asyncio.run(scenario())
    assert first.checkpoint["channel_values"] == {"messages": ["mine"]}
    assert second.checkpoint["channel_values"] == {"messages": ["theirs"]}
    assert third.checkpoint["channel_values"] == {"messages": ["rewritten"]}


def test_retention_prunes_checkpoints_with_their_writes_and_orphaned_blobs(
    graph_vault: memvault.Vault,
) -> None:
    from datetime import timedelta

    saver = _saver(graph_vault)
    try:
        parent = None
        for n in range(1, 5):
            parent = _put(saver, "long", n, parent)["configurable"]["checkpoint_id"]
            saver.put_writes(_at("long", parent), [("messages", f"w{n}")], f"task{n}")
        _put(saver, "short", 9)
        graph_vault.retention.set("graph_checkpoints", keep_last=2)
        assert graph_vault.retention.prune(dry_run=True).removed == {"graph_checkpoints": 2}
        assert graph_vault.retention.prune().removed == {"graph_checkpoints": 2}
        kept = [t.checkpoint["id"] for t in saver.list(_at("long"))]
        assert kept == [_checkpoint(4)["id"], _checkpoint(3)["id"]]
        latest = saver.get_tuple(_at("long"))
        assert latest.checkpoint["channel_values"] == {"messages": ["m4"]}
        assert [w[2] for w in latest.pending_writes] == ["w4"]
        with graph_vault.store.read() as tx:
            writes = tx.scalar("SELECT count(*) FROM graph_checkpoint_writes")
        assert writes == 2  # the pruned checkpoints' writes went with them
        # Age: everything is older than 5 days ten days from now; the threads' blobs go too.
        graph_vault.retention.set("graph_checkpoints", max_age_days=5)
        later = graph_vault.clock() + timedelta(days=10)
        assert graph_vault.retention.prune(now=later).removed == {"graph_checkpoints": 3}
        with graph_vault.store.read() as tx:
            left = [
                tx.scalar(f"SELECT count(*) FROM {t}")
                for t in ("graph_checkpoints", "graph_checkpoint_writes", "graph_checkpoint_blobs")
            ]
        assert left == [0, 0, 0]
    finally:
        saver.close()


def _at(thread: str, checkpoint_id: str | None = None) -> Any:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
    if checkpoint_id:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}
