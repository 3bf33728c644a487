"""Stats, per-user export and erase, backup while writers run, restore."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import memvault
from memvault import Conflict, SchemaError
from memvault.admin import inspect_backup, restore


def _populate(vault: memvault.Vault, handle: str, marker: str) -> memvault.User:
    user = vault.users.create(handle, profile={"note": marker})
    session = vault.sessions.create(user.id, title=f"title {marker}")
    for i in range(3):
        vault.messages.append(session.id, "user", f"{marker} message {i}")
    memory = vault.memories.add(user.id, "fact", f"{marker} fact", session_id=session.id)
    vault.memories.update(memory.id, content=f"{marker} fact, revised", reason="test")
    return user


def test_vocab_lists_every_declared_table() -> None:
    """`stats()` counts the tables named in store/vocab.py so that it runs without importing
    SQLAlchemy: they must be the declared tables, in the declarations' order."""
    from memvault.store import vocab
    from memvault.store.schema import metadata

    assert tuple(t.name for t in metadata.sorted_tables) == vocab.ENTITY_TABLES
    assert set(vocab.OWNED_TABLES) <= set(vocab.ENTITY_TABLES)


def test_stats_counts_every_entity(vault: memvault.Vault) -> None:
    _populate(vault, "alice", "zz")
    stats = vault.stats()
    assert stats.counts["users"] == 1
    assert stats.counts["messages"] == 3
    assert stats.counts["memory_history"] == 2
    assert stats.schema_version == vault.schema_version
    assert stats.size_bytes > 0
    assert {"emotion_events", "routing_scores", "subtasks", "api_keys"} <= set(stats.counts)


def test_reset_deletes_every_row_and_keeps_the_schema(vault: memvault.Vault) -> None:
    from memvault.admin import reset

    _populate(vault, "alice", "zz")
    _populate(vault, "bob", "yy")
    before = vault.stats().counts
    removed = reset(vault)
    assert removed["users"] == 2 and removed["messages"] == 6
    # Triggers may add rows while it runs (a deleted vector leaves a tombstone): at least
    # what was counted before is deleted, and nothing is left.
    assert all(removed[t] >= n for t, n in before.items())
    assert sum(vault.stats().counts.values()) == 0
    assert vault.schema_version  # the schema stays: the store is usable at once
    _populate(vault, "carol", "xx")
    assert vault.stats().counts["users"] == 1


def test_export_holds_everything_of_one_user_and_nothing_else(vault: memvault.Vault) -> None:
    alice = _populate(vault, "alice", "ALICE")
    _populate(vault, "bob", "BOB")
    exported = vault.export_user(alice.id)
    text = json.dumps(exported)
    assert "BOB" not in text
    assert exported["user"]["handle"] == "alice"
    assert len(exported["messages"]) == 3
    assert len(exported["memories"]) == 1
    assert len(exported["memory_history"]) == 2
    assert exported["sessions"][0]["title"] == "title ALICE"


def test_erase_removes_every_row_of_the_user_only(vault: memvault.Vault) -> None:
    alice = _populate(vault, "alice", "ALICE")
    bob = _populate(vault, "bob", "BOB")
    removed = vault.erase_user(alice.id)
    assert removed["messages"] == 3 and removed["memories"] == 1
    counts = vault.stats().counts
    assert counts["users"] == 1 and counts["messages"] == 3 and counts["memory_history"] == 2
    assert vault.users.get(bob.id).handle == "bob"
    assert vault.check() == []


def test_erase_leaves_no_text_in_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    marker = "Zyxwvut" + "Qq8Marker"
    with memvault.open(path) as vault:
        user = _populate(vault, "alice", marker)
        _populate(vault, "bob", "keepme")
        vault.store.checkpoint("TRUNCATE")  # type: ignore[attr-defined]
        assert marker.encode() in path.read_bytes()
        vault.erase_user(user.id)
        raw = path.read_bytes()
        wal = Path(f"{path}-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert marker.encode() not in raw
        assert marker.lower().encode() not in raw


def test_backup_while_writers_run_is_consistent(tmp_path: Path) -> None:
    with memvault.open(tmp_path / "live.db") as vault:
        user = vault.users.create("alice")
        session = vault.sessions.create(user.id)
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                while not stop.is_set():
                    vault.messages.append(session.id, "user", "x" * 200)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for _ in range(50):  # make sure the writer is going
                vault.messages.append(session.id, "assistant", "warm-up")
            backups = [vault.backup(tmp_path / f"b{i}.db") for i in range(3)]
        finally:
            stop.set()
            thread.join()
        assert not errors
        for b in backups:
            assert inspect_backup(b.path) == []
            with memvault.open(b.path) as copy:
                s = copy.sessions.get(session.id)
                # The snapshot is consistent: the denormalized count equals the rows.
                assert s.message_count == copy.stats().counts["messages"] > 0
        with pytest.raises(Conflict):
            vault.backup(backups[0].path)


def test_restore_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    with memvault.open(tmp_path / "a.db") as vault:
        vault.users.create("from-backup")
        backup = vault.backup(tmp_path / "a.bak")
    target = tmp_path / "b.db"
    with memvault.open(target) as other:
        other.users.create("existing")
    with pytest.raises(Conflict, match="--force"):
        restore(backup.path, str(target))
    with memvault.open(target) as other:
        assert [u.handle for u in other.users.list()] == ["existing"]
    restore(backup.path, str(target), force=True)
    with memvault.open(target) as other:
        assert [u.handle for u in other.users.list()] == ["from-backup"]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(SchemaError, match=r"junk\.db"):
        restore(str(junk), str(tmp_path / "t.db"))
    assert not (tmp_path / "t.db").exists()
