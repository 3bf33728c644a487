"""Lilith's shared layer learns from its users: a user's use of a base pattern adds to the
base pattern's totals and to that user's counts; its content stays the teacher's."""

from __future__ import annotations

import threading

import pytest

import memvault
from memvault import Forbidden


def test_a_user_records_uses_of_a_base_pattern(vault: memvault.Vault) -> None:
    ana = vault.users.create("ana").id
    bo = vault.users.create("bo").id
    base = vault.patterns.add(None, "greeting", "hello", "Hi!", teacher=True)
    used = vault.patterns.record_use(base.id, True, user_id=ana)
    assert used.is_base and used.usage_count == 1 and used.success_score == 1.0
    vault.patterns.record_use(base.id, False, user_id=ana)
    vault.patterns.record_use(base.id, 0.5, user_id=bo)
    got = vault.patterns.get(base.id, user_id=None)
    assert got.usage_count == 3 and got.success_score == pytest.approx(0.5)
    assert got.response_text == "Hi!"
    [mine] = vault.patterns.uses(base.id, user_id=ana)
    assert (mine.user_id, mine.usage_count, mine.success_rate) == (ana, 2, 0.5)
    assert {u.user_id: u.usage_count for u in vault.patterns.uses(base.id, user_id=None)} == {
        ana: 2, bo: 1
    }  # fmt: skip
    with pytest.raises(Forbidden):  # content is still the teacher's
        vault.patterns.update(base.id, user_id=ana, response_text="hacked")
    # Another user's own pattern stays out of reach.
    private = vault.patterns.add(bo, "greeting", "yo", "Yo!")
    with pytest.raises(memvault.NotFound):
        vault.patterns.record_use(private.id, True, user_id=ana)
    # Erasing a user removes their counts, not the base pattern.
    vault.erase_user(ana)
    assert [u.user_id for u in vault.patterns.uses(base.id, user_id=None)] == [bo]
    assert vault.patterns.get(base.id, user_id=None).usage_count == 3


def test_concurrent_uses_of_one_base_pattern_are_exact(vault: memvault.Vault) -> None:
    users = [vault.users.create(f"u{i}").id for i in range(4)]
    base = vault.patterns.add(None, "thanks", "thank you", "You're welcome!", teacher=True)
    threads, per_thread, errors = 8, 25, []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                vault.patterns.record_use(base.id, (t + i) % 2 == 0, user_id=users[t % 4])
        except Exception as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert errors == []
    wins = sum((t + i) % 2 == 0 for t in range(threads) for i in range(per_thread))
    got = vault.patterns.get(base.id, user_id=None)
    assert got.usage_count == threads * per_thread
    assert got.success_score == pytest.approx(wins / (threads * per_thread))
    per_user = {u.user_id: u for u in vault.patterns.uses(base.id, user_id=None)}
    assert set(per_user) == set(users)
    for k, user in enumerate(users):
        mine = [t for t in range(threads) if t % 4 == k]
        assert per_user[user].usage_count == len(mine) * per_thread
        assert per_user[user].success_total == sum(
            (t + i) % 2 == 0 for t in mine for i in range(per_thread)
        )
