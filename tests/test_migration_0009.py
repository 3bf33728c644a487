"""Revision 0009 on a populated 0008 store, and back: keys, dedupe, ttl, the history that
outlives its memory; every engine."""

from __future__ import annotations

from typer.testing import CliRunner

import memvault
from memvault.cli import app
from memvault.store import migrator
from memvault.store.engine import open_store, parse_url
from memvault.store.schema import metadata
from tests.test_migrations import _drop_extras

USER = "01900000-0000-7000-8000-0000000000c1"
MEMORY = "01900000-0000-7000-8000-0000000000c2"
BASE_OLD = "01900000-0000-7000-8000-0000000000c3"
BASE_NEW = "01900000-0000-7000-8000-0000000000c4"
MINE = "01900000-0000-7000-8000-0000000000c5"


def _at_0008(url: str) -> None:
    store = open_store(parse_url(url))
    with store.write() as tx:
        for table in [t.name for t in reversed(metadata.sorted_tables)]:
            tx.execute(f"DROP TABLE IF EXISTS {table} CASCADE" if tx.engine != "sqlite"
                       else f"DROP TABLE IF EXISTS {table}")  # fmt: skip
        _drop_extras(tx)
    store.close()
    store = open_store(parse_url(url))
    try:
        migrator.upgrade(store, "0008")
        with store.write() as tx:
            now = tx.ts(memvault.open.__globals__["utcnow"]())
            tx.execute("INSERT INTO users (id, handle, profile, created_at, updated_at) "
                       "VALUES (:id, 'old', :p, :now, :now)",
                       {"id": USER, "p": tx.json({}), "now": now})  # fmt: skip
            # 0008's unique index left base-layer sessions free to share a legacy key
            for sid, owner in ((BASE_OLD, None), (BASE_NEW, None), (MINE, USER)):
                tx.execute(
                    "INSERT INTO sessions (id, user_id, kind, status, metadata, message_count, "
                    "last_seq, started_at, updated_at, legacy_key) VALUES (:id, :u, 'chat', "
                    "'active', :m, 0, 0, :now, :now, 'conv-1')",
                    {"id": sid, "u": owner, "m": tx.json({}), "now": now},
                )
            tx.execute(
                "INSERT INTO memories (id, user_id, kind, content, confidence, importance, "
                "access_count, content_hash, metadata, created_at, updated_at) VALUES (:id, :u, "
                "'fact', 'old fact', 1, 0.5, 0, :h, :m, :now, :now)",
                {"id": MEMORY, "u": USER, "h": memvault.memories.content_hash("old fact"),
                 "m": tx.json({}), "now": now},
            )  # fmt: skip
            tx.execute(
                "INSERT INTO memory_history (id, memory_id, user_id, op, new_content, changes, "
                "changed_at) VALUES (:id, :m, :u, 'create', 'old fact', :c, :now)",
                {"id": memvault.new_id(), "m": MEMORY, "u": USER, "c": tx.json({}), "now": now},
            )
    finally:
        store.close()


def test_0009_upgrades_a_populated_store_and_downgrades(vault_url: str) -> None:
    _at_0008(vault_url)
    with memvault.open(vault_url, embed_memories=False) as vault:
        assert vault.schema_version == migrator.head()
        mine = vault.sessions.by_key(USER, "conv-1")
        assert mine is not None and mine.id == MINE
        kept = vault.sessions.by_key(None, "conv-1")
        assert kept is not None and kept.id == BASE_OLD  # the oldest keeps the key
        dup = vault.sessions.get(BASE_NEW)
        assert dup.key is None and dup.metadata["key_duplicate_of"] == BASE_OLD
        old = vault.memories.get(MEMORY, track_access=False)
        assert (old.key, old.dedupe, old.ttl_seconds) == (None, True, None)
        assert vault.memories.add(USER, "fact", "OLD fact").id == MEMORY  # still de-duplicated
        copy = vault.memories.add(USER, "fact", "old fact", dedupe=False)
        gone = vault.memories.put(USER, "k", "note", "to delete")
        vault.memories.delete(gone.id)
        assert [c.op for c in vault.memories.history(gone.id)] == ["create", "delete"]
        assert vault.check() == []
    done = CliRunner().invoke(app, ["downgrade", "0008", "--db", vault_url, "--yes"])
    assert done.exit_code == 0, done.output
    store = open_store(parse_url(vault_url))
    try:
        assert migrator.current(store) == "0008"
        with store.read() as tx:
            ids = {str(r["id"]) for r in tx.all("SELECT id FROM memories")}
            assert ids == {MEMORY}  # the copy sharing its text could not stay
            assert copy.id not in ids
            orphans = tx.scalar("SELECT count(*) FROM memory_history WHERE memory_id = :m",
                                {"m": gone.id})  # fmt: skip
            assert orphans == 0
            row = tx.one("SELECT legacy_key FROM sessions WHERE id = :id", {"id": MINE})
            assert row is not None and row["legacy_key"] == "conv-1"
        assert store.check() == []
    finally:
        store.close()
    with memvault.open(vault_url, embed_memories=False) as vault:  # and up again
        assert vault.sessions.by_key(USER, "conv-1") is not None
