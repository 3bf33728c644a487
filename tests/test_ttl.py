"""Sliding expiry: a memory with a ttl expires ttl after its last write or refreshing read;
reads with refresh_ttl (get, by_key, list) and extend push it back; every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import memvault
from memvault import InvalidInput


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tv(vault_url: str, clock: Clock) -> Iterator[memvault.Vault]:
    v = memvault.open(vault_url, clock=clock, embed_memories=False)
    try:
        yield v
    finally:
        v.close()


def test_a_refreshing_read_pushes_the_expiry_back(tv: memvault.Vault, clock: Clock) -> None:
    alice = tv.users.create("alice").id
    item = tv.memories.put(alice, "ns:item", "note", "value", ttl=timedelta(minutes=10))
    assert item.ttl_seconds == 600 and item.expires_at == clock.now + timedelta(minutes=10)
    clock.now += timedelta(minutes=8)
    plain = tv.memories.by_key(alice, "ns:item")
    assert plain is not None and plain.expires_at == item.expires_at  # no refresh asked
    refreshed = tv.memories.by_key(alice, "ns:item", refresh_ttl=True)
    assert refreshed is not None and refreshed.expires_at == clock.now + timedelta(minutes=10)
    stored = tv.memories.get(item.id, track_access=False)
    assert stored.expires_at == refreshed.expires_at and stored.updated_at == item.updated_at
    assert [c.op for c in tv.memories.history(item.id)] == ["create"]  # a read, not a change
    clock.now += timedelta(minutes=9)  # 17 min after the write, 9 after the refresh: alive
    assert tv.memories.by_key(alice, "ns:item") is not None
    listed = tv.memories.list(alice, key_prefix="ns:", refresh_ttl=True, track_access=False)
    assert listed[0].expires_at == clock.now + timedelta(minutes=10)
    clock.now += timedelta(minutes=11)
    assert tv.memories.by_key(alice, "ns:item", refresh_ttl=True) is None  # expired: hidden
    assert tv.memories.by_key(alice, "ns:item", include_expired=True) is not None
    assert tv.memories.list(alice, key_prefix="ns:") == []
    got = tv.memories.get(item.id, refresh_ttl=True)  # by id: still readable, and revived
    assert got.expires_at == clock.now + timedelta(minutes=10)
    assert tv.memories.by_key(alice, "ns:item") is not None


def test_only_memories_with_a_ttl_move(tv: memvault.Vault, clock: Clock) -> None:
    alice = tv.users.create("alice").id
    fixed_at = clock.now + timedelta(hours=1)
    fixed = tv.memories.add(alice, "fact", "fixed", expires_at=fixed_at)
    forever = tv.memories.add(alice, "fact", "forever")
    short = tv.memories.add(alice, "fact", "short", ttl=timedelta(seconds=30))
    long_ = tv.memories.add(alice, "fact", "long", ttl=timedelta(hours=2))
    clock.now += timedelta(seconds=10)
    out = {m.id: m.expires_at for m in tv.memories.list(alice, refresh_ttl=True)}
    assert out[fixed.id] == fixed_at and out[forever.id] is None
    assert out[short.id] == clock.now + timedelta(seconds=30)
    assert out[long_.id] == clock.now + timedelta(hours=2)
    stored = {m.id: m.expires_at for m in tv.memories.list(alice, track_access=False)}
    assert stored == out


def test_extend_and_update_ttl(tv: memvault.Vault, clock: Clock) -> None:
    alice = tv.users.create("alice").id
    m = tv.memories.add(alice, "fact", "x", ttl=timedelta(minutes=5))
    clock.now += timedelta(minutes=1)
    assert tv.memories.extend(m.id).expires_at == clock.now + timedelta(minutes=5)
    assert tv.memories.extend(m.id, timedelta(days=1)).expires_at == clock.now + timedelta(days=1)
    plain = tv.memories.add(alice, "fact", "no ttl")
    with pytest.raises(InvalidInput):
        tv.memories.extend(plain.id)
    changed = tv.memories.update(plain.id, ttl=timedelta(minutes=1))
    assert changed.ttl_seconds == 60 and changed.expires_at == clock.now + timedelta(minutes=1)
    dropped = tv.memories.update(plain.id, ttl=None)
    assert dropped.ttl_seconds is None
    with pytest.raises(InvalidInput):
        tv.memories.add(alice, "fact", "bad", ttl=timedelta(0))
