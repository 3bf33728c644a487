"""Revision 0012: record metadata comes back exactly as written, key order included, on every
engine (PostgreSQL keeps it as `json`); filters still match it; the revision goes down and up
again with the data kept."""

from __future__ import annotations

from typing import Any

import memvault
from memvault.store import migrator
from memvault.store.engine import open_store, parse_url

ORDERED: dict[str, Any] = {
    "zeta": 1, "alpha": {"z": [3, {"y": 1, "b": 2}], "a": None}, "source": "hr.md",
    "year": 2026, "b": True,
}  # fmt: skip


def _order(value: Any) -> Any:
    """The keys of every object in `value`, in order (dict equality ignores order)."""
    if isinstance(value, dict):
        return [(k, _order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_order(v) for v in value]
    return value


def test_metadata_of_records_comes_back_as_written(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    m = vault.memories.put(alice, "k", "note", "ordered", metadata=ORDERED, embedding=False)
    assert _order(vault.memories.get(m.id).metadata) == _order(ORDERED)
    listed = vault.memories.list(alice, filters={"metadata.alpha.z": {"contains": 3}})
    assert [_order(x.metadata) for x in listed] == [_order(ORDERED)]
    assert vault.memories.list(alice, filters={"metadata.year": {"$gte": 2026}, "metadata.b": True})
    session = vault.sessions.put(alice, "s", metadata=ORDERED)
    message = vault.messages.append(session.id, "user", "hi", metadata=ORDERED, user_id=alice)
    assert _order(vault.sessions.get(session.id, user_id=alice).metadata) == _order(ORDERED)
    (got,) = vault.messages.list(session.id, user_id=alice)
    assert got.id == message.id and _order(got.metadata) == _order(ORDERED)


def _column_types(url: str) -> set[str]:
    store = open_store(parse_url(url))
    try:
        with store.read() as tx:
            rows = tx.all(
                "SELECT table_name, data_type FROM information_schema.columns "
                "WHERE column_name = 'metadata' AND table_schema = current_schema()"
            )
    finally:
        store.close()
    return {f"{r['table_name']}:{r['data_type']}" for r in rows}


def test_downgrade_to_jsonb_and_back_keeps_the_metadata(vault_url: str, engine: str) -> None:
    with memvault.open(vault_url) as vault:
        alice = vault.users.ensure("alice").id
        mid = vault.memories.put(alice, "k", "note", "x", metadata=ORDERED, embedding=False).id
    store = open_store(parse_url(vault_url))
    try:
        assert migrator.downgrade(store, "0011") == "0011"
        if engine != "sqlite":
            types = _column_types(vault_url)
            assert "memories:jsonb" in types and "graph_checkpoints:jsonb" in types
            assert not [t for t in types if t.endswith(":json")]
            with store.read() as tx:
                row = tx.one("SELECT metadata FROM memories WHERE id = :id", {"id": mid})
            assert row is not None and row["metadata"] == ORDERED  # values kept, order lost
    finally:
        assert migrator.upgrade(store) == migrator.head()
        store.close()
    if engine != "sqlite":
        types = _column_types(vault_url)
        assert len([t for t in types if t.endswith(":json")]) == 12
        assert "graph_checkpoints:jsonb" in types
    with memvault.open(vault_url) as vault:
        assert vault.memories.get(mid).metadata == ORDERED
        assert vault.memories.list(alice, filters={"metadata.source": "hr.md"})
        again = vault.memories.put(alice, "k", "note", "y", metadata=ORDERED, embedding=False)
        assert _order(again.metadata) == _order(ORDERED)
        assert _order(vault.memories.get(mid).metadata) == _order(ORDERED)
