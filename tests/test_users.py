"""Users and projects, on every engine."""

from __future__ import annotations

import pytest

import memvault
from memvault import Conflict, InvalidInput, NotFound


def test_create_get_and_unique_handle(vault: memvault.Vault) -> None:
    alice = vault.users.create("alice", "Alice", {"interests": ["hiking"]})
    assert vault.users.get(alice.id) == alice
    assert vault.users.get_by_handle("alice").id == alice.id
    assert vault.users.resolve("alice").id == alice.id
    assert vault.users.resolve(alice.id).handle == "alice"
    with pytest.raises(Conflict, match="alice"):
        vault.users.create("alice")
    assert vault.stats().counts["users"] == 1


def test_ensure_is_idempotent(vault: memvault.Vault) -> None:
    first = vault.users.ensure("bob")
    assert vault.users.ensure("bob").id == first.id
    assert [u.handle for u in vault.users.list()] == ["bob"]


def test_profile_update_merges_nested_keys(vault: memvault.Vault) -> None:
    user = vault.users.create("carol", profile={"voice": {"speed": 1.0, "pitch": 0.5}})
    updated = vault.users.update(user.id, profile={"voice": {"speed": 1.2}, "empathy": 95})
    assert updated.profile == {"voice": {"speed": 1.2, "pitch": 0.5}, "empathy": 95}
    assert vault.users.get(user.id).profile == updated.profile
    replaced = vault.users.update(user.id, profile={"x": 1}, merge_profile=False)
    assert replaced.profile == {"x": 1}


def test_missing_user(vault: memvault.Vault) -> None:
    with pytest.raises(NotFound, match="user"):
        vault.users.get(memvault.new_id())
    with pytest.raises(InvalidInput, match="user_id"):
        vault.users.get("not-an-id")


def test_projects_unique_per_owner(vault: memvault.Vault) -> None:
    alice = vault.users.create("alice")
    bob = vault.users.create("bob")
    p1 = vault.projects.create("memvault", user_id=alice.id, path="/src/memvault")
    p2 = vault.projects.create("memvault", user_id=bob.id)
    base = vault.projects.create("memvault")
    assert len({p1.id, p2.id, base.id}) == 3
    with pytest.raises(Conflict):
        vault.projects.create("memvault", user_id=alice.id)
    with pytest.raises(Conflict):
        vault.projects.create("memvault")  # the base layer is unique too
    assert vault.projects.ensure("memvault", user_id=alice.id).id == p1.id
    assert [p.id for p in vault.projects.list(user_id=alice.id)] == [p1.id]
    with pytest.raises(NotFound):
        vault.projects.get(p1.id, user_id=bob.id)
    with pytest.raises(NotFound, match="user"):
        vault.projects.create("x", user_id=memvault.new_id())


def test_handles_with_stray_spaces_or_another_case_are_refused_not_created(
    vault: memvault.Vault,
) -> None:
    # Newcomer 15: `--user "  alice  "` / `--user ALICE` silently made new, empty users.
    alice = vault.users.ensure("alice")
    with pytest.raises(InvalidInput, match="must not start or end with whitespace"):
        vault.users.create("  bob")
    for handle in ("  alice  ", "ALICE", "Alice "):
        with pytest.raises(InvalidInput, match="there is 'alice'") as caught:
            vault.users.ensure(handle)
        assert caught.value.field == "handle" and caught.value.value == handle
    assert vault.users.ensure("alice").id == alice.id
    assert [u.handle for u in vault.users.list()] == ["alice"]


def test_concurrent_first_ensures_of_a_new_handle_all_get_the_one_user(
    vault: memvault.Vault,
) -> None:
    """Twelve callers meet a handle nobody created yet (mem0's first `add` for a new
    user_id from a thread pool): one creates it, every other one gets that same user, none
    is told "no such user, but there is 'newcomer'"."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    for round_ in range(3):
        handle = f"newcomer{round_}"
        start = Barrier(12)

        def first(_: int, handle: str = handle, start: Barrier = start) -> str:
            start.wait()
            return vault.users.ensure(handle).id

        with ThreadPoolExecutor(12) as pool:
            ids = list(pool.map(first, range(12)))
        assert len(set(ids)) == 1
        assert vault.users.get_by_handle(handle).id == ids[0]
