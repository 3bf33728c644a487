"""memories.list and sessions.list filtered on metadata with eq/ne/gt/gte/lt/lte (also
written `$eq` …) and by key prefix; every engine."""

from __future__ import annotations

from typing import Any

import pytest

import memvault
from memvault import InvalidInput


@pytest.fixture
def alice(vault: memvault.Vault) -> str:
    return vault.users.create("alice").id


ROWS: list[dict[str, Any]] = [
    {"n": 1, "tag": "a"},
    {"n": 5, "tag": "b"},
    {"n": 10, "tag": "a", "deep": {"x": True}},
    {"tag": "c"},  # no n
    {"n": "5", "tag": "d"},  # n as text
]


@pytest.fixture
def memories(vault: memvault.Vault, alice: str) -> dict[str, str]:
    out = {}
    for i, meta in enumerate(ROWS):
        m = vault.memories.put(alice, f"k{i}", "note", f"row {i}", metadata=meta, embedding=False)
        out[m.id] = f"k{i}"
    return out


def _keys(vault: memvault.Vault, alice: str, flt: Any) -> list[str]:
    return sorted(str(m.key) for m in vault.memories.list(alice, filters=flt, track_access=False))


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"metadata.n": 5}, ["k1"]),
        ({"metadata.n": {"$eq": 5}}, ["k1"]),
        ({"metadata.n": {"eq": "5"}}, ["k4"]),
        ({"metadata.n": {"$ne": 5}}, ["k0", "k2", "k3", "k4"]),  # absent and text too
        ({"metadata.n": {"$gt": 1}}, ["k1", "k2"]),
        ({"metadata.n": {"$gte": 5}}, ["k1", "k2"]),
        ({"metadata.n": {"$lt": 10}}, ["k0", "k1"]),
        ({"metadata.n": {"$lte": 10}}, ["k0", "k1", "k2"]),
        ({"metadata.tag": "a", "metadata.n": {"$gt": 1}}, ["k2"]),
        ({"metadata.deep.x": True}, ["k2"]),
        ({("metadata", "deep", "x"): True}, ["k2"]),  # a tuple: each element one literal key
        ({("metadata", "deep.x"): True}, []),
        ({"$or": [{"metadata.tag": "c"}, {"metadata.n": 1}]}, ["k0", "k3"]),
        ({"$and": [{"metadata.tag": {"$ne": "a"}}, {"metadata.tag": {"$ne": "b"}}]},
         ["k3", "k4"]),
    ],
)  # fmt: skip
def test_memory_metadata_operators(
    vault: memvault.Vault, alice: str, memories: dict[str, str], flt: Any, expected: list[str]
) -> None:
    assert _keys(vault, alice, flt) == expected


def test_unknown_operator_names_the_filter(vault: memvault.Vault, alice: str) -> None:
    with pytest.raises(InvalidInput, match=r"\$regex"):
        vault.memories.list(alice, filters={"metadata.n": {"$regex": "x"}})


def test_a_tuple_field_is_a_metadata_path_of_literal_keys(
    vault: memvault.Vault, alice: str
) -> None:
    vault.memories.put(alice, "d", "note", "dotted", metadata={"a.b": 1, "a": {"b": 2}},
                       embedding=False)  # fmt: skip
    assert _keys(vault, alice, {("metadata", "a.b"): 1}) == ["d"]
    assert _keys(vault, alice, {("metadata", "a.b"): 2}) == []
    for bad in [("kind",), ("metadata",), ("metadata", 'q"'), ("metadata", "x\n"), ("metadata", 1)]:
        with pytest.raises(InvalidInput, match="filters"):
            vault.memories.list(alice, filters={bad: 1})


def test_session_list_filters_and_prefix(vault: memvault.Vault, alice: str) -> None:
    s1 = vault.sessions.create(alice, key="lg:ns1:a", metadata={"topic": "food", "n": 3})
    s2 = vault.sessions.create(alice, key="lg:ns1:b", metadata={"topic": "trip", "n": 7})
    s3 = vault.sessions.create(alice, key="lg:ns2:a", metadata={"topic": "food"})
    vault.sessions.create(alice, metadata={"topic": "food"})
    vault.messages.append(s2.id, "user", "hi")

    def ids(**kw: Any) -> set[str]:
        return {s.id for s in vault.sessions.list(alice, **kw)}

    assert ids(key_prefix="lg:ns1:") == {s1.id, s2.id}
    assert ids(key_prefix="lg:", filters={"metadata.topic": "food"}) == {s1.id, s3.id}
    assert ids(
        filters={
            "metadata.n": {
                "$gte": 3,
            }
        }
    ) == {s1.id, s2.id}
    assert ids(filters={"metadata.n": {"$lt": 5}}) == {s1.id}
    assert ids(filters={"metadata.topic": {"$ne": "food"}}) == {s2.id}
    assert ids(filters={"message_count": {"$gte": 1}}) == {s2.id}
    assert ids(filters={"key": {"$eq": "lg:ns2:a"}}) == {s3.id}
    with pytest.raises(InvalidInput, match="unknown field"):
        vault.sessions.list(alice, filters={"content": "x"})
