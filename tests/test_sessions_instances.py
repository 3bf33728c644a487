"""Revision 0007 on every engine: unique instance numbers per parent session, the instance
count, session titles in the full-text index, and the upgrade (and downgrade) of a populated
store whose instances have duplicate numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import memvault
from memvault.cli import app
from memvault.errors import Conflict, InvalidInput
from memvault.store import migrator
from memvault.store.engine import open_store, parse_url
from memvault.store.schema import metadata
from tests.test_migrations import _drop_extras


def test_instance_numbers_are_unique_per_parent(vault: memvault.Vault) -> None:
    u = vault.users.ensure("yuki").id
    task = vault.sessions.create(u, kind="competition", title="Fix the login bug")
    first = vault.sessions.create(u, kind="instance", parent_id=task.id, instance_no=0)
    with pytest.raises(Conflict, match="instance 0"):
        vault.sessions.create(u, kind="instance", parent_id=task.id, instance_no=0)
    auto = vault.sessions.create(u, kind="instance", parent_id=task.id)
    assert (first.instance_no, auto.instance_no) == (0, 1)
    other = vault.sessions.create(u, kind="debate")
    assert vault.sessions.create(u, parent_id=other.id, instance_no=0).instance_no == 0
    with pytest.raises(InvalidInput):
        vault.sessions.create(u, instance_no=3)  # not a child
    assert vault.sessions.instance(task.id, 1) == vault.sessions.get(auto.id)
    assert vault.sessions.instance(task.id, 7) is None


def test_instance_count_follows_children(vault: memvault.Vault) -> None:
    u = vault.users.ensure("yuki").id
    task = vault.sessions.create(u, kind="ensemble")
    kids = [vault.sessions.create(u, kind="instance", parent_id=task.id) for _ in range(3)]
    assert vault.sessions.get(task.id).instance_count == 3
    vault.messages.append(task.id, "user", "go")  # the message count moves on its own
    vault.sessions.delete(kids[0].id)
    got = vault.sessions.get(task.id)
    assert (got.instance_count, got.message_count) == (2, 1)
    vault.sessions.delete(task.id)  # children cascade; nothing left to count
    assert vault.stats().counts["sessions"] == 0


def test_sessions_are_searched_by_title(vault: memvault.Vault) -> None:
    yuki = vault.users.ensure("yuki").id
    other = vault.users.ensure("other").id
    login = vault.sessions.create(yuki, kind="competition", title="Fix the login bug 🐛")
    vault.sessions.create(yuki, kind="ensemble", title="Écrire la documentation de l'API")
    vault.sessions.create(other, title="login page redesign")
    for i in range(30):
        vault.sessions.create(yuki, title=f"unrelated chore {i}")
    hits = vault.sessions.search(yuki, "login")
    assert [h.item.id for h in hits] == [login.id]  # the other user's session stays hidden
    assert [h.item.title for h in vault.sessions.search(yuki, "ecrire")] == [
        "Écrire la documentation de l'API"
    ]
    assert len(vault.sessions.search(yuki, "chor*", k=50)) == 30
    vault.sessions.update(login.id, title="Fix the signup bug")
    assert vault.sessions.search(yuki, "login") == []
    assert [h.item.id for h in vault.sessions.search(yuki, "signup")] == [login.id]
    vault.messages.append(login.id, "user", "no title change")  # the index is untouched
    assert [h.item.id for h in vault.sessions.search(yuki, "signup")] == [login.id]


USER = "01900000-0000-7000-8000-00000000000a"
PARENT = "01900000-0000-7000-8000-00000000000b"


def _child(n: int) -> str:
    return f"01900000-0000-7000-8000-0000000001{n:02d}"


def test_upgrade_renumbers_duplicate_instances_then_downgrades(vault_url: str) -> None:
    store = open_store(parse_url(vault_url))
    with store.write() as tx:
        for table in [t.name for t in reversed(metadata.sorted_tables)]:
            tx.execute(f"DROP TABLE IF EXISTS {table} CASCADE" if tx.engine != "sqlite"
                       else f"DROP TABLE IF EXISTS {table}")  # fmt: skip
        _drop_extras(tx)
    store.close()
    store = open_store(parse_url(vault_url))
    migrator.upgrade(store, "0006")
    # As an AIT42 import under 0006 left them: two instances numbered 0, one without a number,
    # one numbered 2; and two sessions that the old dual-write lookup made for one conversation.
    numbers = [0, 0, None, 2, "x"]
    with store.write() as tx:
        now = tx.ts(memvault.open.__globals__["utcnow"]())
        tx.execute(
            "INSERT INTO users (id, handle, profile, created_at, updated_at) "
            "VALUES (:id, 'yuki', :p, :now, :now)",
            {"id": USER, "p": tx.json({}), "now": now},
        )
        rows = [(PARENT, None, "competition", "Fix the login bug", {})]
        rows += [
            (_child(i), PARENT, "instance", f"agent {i}", {} if n is None else {"instanceId": n})
            for i, n in enumerate(numbers)
        ]
        rows += [(_child(50 + i), None, "chat", None, {"legacy_conversation": "c1"})
                 for i in range(2)]  # fmt: skip
        for sid, parent, kind, title, meta in rows:
            tx.execute(
                "INSERT INTO sessions (id, user_id, parent_id, kind, title, status, metadata, "
                "message_count, last_seq, started_at, updated_at) VALUES (:id, :u, :p, :k, :t, "
                "'active', :m, 0, 0, :now, :now)",
                {"id": sid, "u": USER, "p": parent, "k": kind, "t": title, "m": tx.json(meta),
                 "now": now},
            )  # fmt: skip
    assert migrator.upgrade(store, "0007") == "0007"
    store.close()
    with memvault.open(vault_url) as vault:
        kids = {s.id: s for s in vault.sessions.list(user_id=USER, parent_id=PARENT)}
        got = [kids[_child(i)].instance_no for i in range(len(numbers))]
        assert got == [0, 3, 4, 2, 5]
        assert kids[_child(1)].metadata["instance_renumbered"] == {
            "from": 0, "to": 3, "revision": "0007"
        }  # fmt: skip
        assert kids[_child(0)].metadata == {"instanceId": 0}  # the oldest keeps its number
        assert vault.sessions.get(PARENT).instance_count == 5
        with pytest.raises(Conflict):
            vault.sessions.create(USER, parent_id=PARENT, instance_no=2)
        assert vault.sessions.create(USER, parent_id=PARENT).instance_no == 6
        kept = vault.sessions.by_key(USER, "c1")
        assert kept is not None and kept.id == _child(50)
        dup = vault.sessions.get(_child(51))
        assert dup.key is None and dup.metadata["legacy_duplicate_of"] == _child(50)
        assert [h.item.id for h in vault.sessions.search(USER, "login")] == [PARENT]
        counts = vault.stats().counts
        assert vault.check() == []

    runner = CliRunner()
    refused = runner.invoke(app, ["downgrade", "0006", "--db", vault_url])
    assert refused.exit_code == 1 and "--yes" in refused.output
    done = runner.invoke(app, ["downgrade", "0006", "--db", vault_url, "--yes"])
    # From the head, whichever it is now (0008 added the LangGraph tables), through 0007.
    assert done.exit_code == 0 and f"{migrator.head()} → 0006" in done.output, done.output
    store = open_store(parse_url(vault_url))
    try:
        assert migrator.current(store) == "0006"
        with store.read() as tx:
            row = tx.one("SELECT * FROM sessions WHERE id = :id", {"id": _child(1)})
            columns = set(row.keys())  # a sqlite3.Row's `in` looks at values, not names
            assert not columns & {"instance_no", "instance_count", "legacy_key", "key"}
            meta = tx.json_out(row["metadata"])
            assert meta["instanceId"] == 0 and meta["instance_renumbered"]["to"] == 3
            n = tx.scalar("SELECT count(*) FROM sessions")
            assert n == counts["sessions"]
        assert migrator.upgrade(store, "0007") == "0007"
    finally:
        store.close()
    with memvault.open(vault_url) as vault:
        assert vault.sessions.get(_child(1)).instance_no == 3  # numbered again, the same way
        assert vault.sessions.get(PARENT).instance_count == 6
        assert [h.item.id for h in vault.sessions.search(USER, "login")] == [PARENT]


def test_transfer_keeps_instance_numbers_and_counts(tmp_path: Path, vault_url: str) -> None:
    """`instance_count` is derived: the destination's triggers count the copied children."""
    from memvault.migrate.transfer import transfer

    src = f"sqlite:///{tmp_path / 'src.db'}"
    with memvault.open(src) as vault:
        u = vault.users.ensure("yuki").id
        task = vault.sessions.create(u, kind="competition", title="Fix the login bug")
        for n in (0, 1, 5):
            vault.sessions.create(u, kind="instance", parent_id=task.id, instance_no=n)
    if vault_url.startswith("sqlite"):
        vault_url = f"sqlite:///{tmp_path / 'dst.db'}"
    transfer(src, vault_url)
    with memvault.open(vault_url) as vault:
        assert vault.sessions.get(task.id).instance_count == 3
        kids = vault.sessions.list(parent_id=task.id)
        assert sorted(s.instance_no or 0 for s in kids) == [0, 1, 5]
        assert [h.item.id for h in vault.sessions.search(u, "login")] == [task.id]


def test_concurrent_instances_of_one_parent_get_distinct_numbers(vault: memvault.Vault) -> None:
    import threading

    u = vault.users.ensure("yuki").id
    task = vault.sessions.create(u, kind="ensemble")
    threads, each, errors = 6, 5, []
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            for _ in range(each):
                vault.sessions.create(u, kind="instance", parent_id=task.id)
        except Exception as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert errors == []
    kids = vault.sessions.list(parent_id=task.id, limit=1000)
    assert sorted(s.instance_no or 0 for s in kids) == list(range(threads * each))
    assert vault.sessions.get(task.id).instance_count == threads * each
