"""Sessions and messages, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import memvault
from memvault import InvalidInput, NotFound


@pytest.fixture
def alice(vault: memvault.Vault) -> memvault.User:
    return vault.users.create("alice")


def test_append_numbers_messages_and_counts_exactly(
    vault: memvault.Vault, alice: memvault.User
) -> None:
    session = vault.sessions.create(alice.id, title="chat")
    sent = [vault.messages.append(session.id, "user", f"message {i}") for i in range(5)]
    assert [m.seq for m in sent] == [1, 2, 3, 4, 5]
    assert all(m.user_id == alice.id for m in sent)
    assert vault.sessions.get(session.id).message_count == 5
    vault.messages.delete(sent[1].id)
    assert vault.sessions.get(session.id).message_count == 4
    following = vault.messages.append(session.id, "assistant", "after delete")
    assert following.seq == 6  # sequence numbers are never reused
    assert [m.seq for m in vault.messages.list(session.id)] == [1, 3, 4, 5, 6]


def test_paging_and_last(vault: memvault.Vault, alice: memvault.User) -> None:
    session = vault.sessions.create(alice.id)
    for i in range(120):
        vault.messages.append(session.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    page1 = vault.messages.list(session.id, limit=50)
    page2 = vault.messages.list(session.id, after_seq=page1[-1].seq, limit=50)
    page3 = vault.messages.list(session.id, after_seq=page2[-1].seq, limit=50)
    assert [len(p) for p in (page1, page2, page3)] == [50, 50, 20]
    contents = [m.content for m in page1 + page2 + page3]
    assert contents == [f"m{i}" for i in range(120)]
    last = vault.messages.last(session.id, 10)
    assert [m.content for m in last] == [f"m{i}" for i in range(110, 120)]


def test_get_edit_delete(vault: memvault.Vault, alice: memvault.User) -> None:
    session = vault.sessions.create(alice.id)
    message = vault.messages.append(session.id, "user", "helo", metadata={"lang": "en"})
    assert vault.messages.get(message.id) == message
    edited = vault.messages.edit(message.id, "hello", metadata={"fixed": True})
    assert edited.content == "hello"
    assert edited.metadata == {"lang": "en", "fixed": True}
    assert edited.edited_at is not None
    assert vault.messages.get(message.id).content == "hello"
    vault.messages.delete(message.id)
    with pytest.raises(NotFound):
        vault.messages.get(message.id)
    with pytest.raises(NotFound):
        vault.messages.delete(message.id)


def test_roles_are_checked(vault: memvault.Vault, alice: memvault.User) -> None:
    session = vault.sessions.create(alice.id)
    with pytest.raises(InvalidInput, match="role='wizard'"):
        vault.messages.append(session.id, "wizard", "hi")
    assert vault.sessions.get(session.id).message_count == 0
    assert vault.stats().counts["messages"] == 0


def test_missing_session_writes_nothing(vault: memvault.Vault) -> None:
    with pytest.raises(NotFound, match="session"):
        vault.messages.append(memvault.new_id(), "user", "hi")
    assert vault.stats().counts["messages"] == 0


def test_sessions_kinds_statuses_parents(vault: memvault.Vault, alice: memvault.User) -> None:
    parent = vault.sessions.create(alice.id, kind="competition", title="refactor", status="running")
    child = vault.sessions.create(alice.id, kind="instance", parent_id=parent.id)
    assert child.parent_id == parent.id
    assert [s.id for s in vault.sessions.list(parent_id=parent.id)] == [child.id]
    with pytest.raises(InvalidInput, match="status"):
        vault.sessions.create(alice.id, status="exploded")
    with pytest.raises(InvalidInput, match="kind"):
        vault.sessions.create(alice.id, kind="nope")
    bob = vault.users.create("bob")
    with pytest.raises(NotFound, match="session"):  # as an unknown id: nothing confirmed
        vault.sessions.create(bob.id, parent_id=parent.id)
    ended = vault.sessions.end(parent.id, status="completed")
    assert ended.status == "completed" and ended.ended_at is not None
    vault.messages.append(child.id, "assistant", "instance output")
    vault.sessions.delete(parent.id)  # cascades to the instance and its messages
    assert vault.stats().counts["sessions"] == 0
    assert vault.stats().counts["messages"] == 0


def test_session_update_merges_metadata(vault: memvault.Vault, alice: memvault.User) -> None:
    session = vault.sessions.create(alice.id, metadata={"model": "x", "temp": 0.2})
    updated = vault.sessions.update(session.id, title="renamed", metadata={"temp": 0.7})
    assert updated.title == "renamed"
    assert updated.metadata == {"model": "x", "temp": 0.7}


def test_owner_scoping(vault: memvault.Vault, alice: memvault.User) -> None:
    bob = vault.users.create("bob")
    session = vault.sessions.create(alice.id)
    message = vault.messages.append(session.id, "user", "secret")
    with pytest.raises(NotFound):
        vault.sessions.get(session.id, user_id=bob.id)
    with pytest.raises(NotFound):
        vault.messages.get(message.id, user_id=bob.id)
    with pytest.raises(NotFound):  # another owner's session, as an unknown one
        vault.messages.list(session.id, user_id=bob.id)
    with pytest.raises(NotFound):
        vault.messages.last(session.id, user_id=bob.id)
    assert vault.messages.list(session.id, user_id=alice.id)[0].id == message.id
    assert vault.sessions.list(user_id=bob.id) == []
    assert [s.id for s in vault.sessions.list(user_id=alice.id)] == [session.id]


def test_imported_times_are_kept_in_utc(vault: memvault.Vault, alice: memvault.User) -> None:
    paris = datetime(2025, 3, 1, 12, 0, tzinfo=UTC) + timedelta(0)
    started = datetime.fromisoformat("2025-03-01T13:00:00+01:00")
    session = vault.sessions.create(alice.id, started_at=started)
    message = vault.messages.append(session.id, "user", "old", created_at=started)
    assert session.started_at == paris
    stored = vault.messages.get(message.id)
    assert stored.created_at == paris
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == timedelta(0)


EDGES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def test_times_at_the_edges_round_trip_and_sort(
    vault: memvault.Vault, alice: memvault.User
) -> None:
    session = vault.sessions.create(alice.id)
    for when in EDGES:
        message = vault.messages.append(session.id, "user", "edge", created_at=when)
        assert vault.messages.get(message.id).created_at == when
        vault.memories.add(alice.id, "note", f"at {when.isoformat()}", created_at=when)
    newest_first = vault.memories.list(alice.id, track_access=False)
    assert [m.created_at for m in newest_first] == sorted(EDGES, reverse=True)
    since_1000 = vault.memories.list(alice.id, since=datetime(1000, 1, 1, tzinfo=UTC))
    assert len(since_1000) == 2
