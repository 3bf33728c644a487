"""Several processes, each with its own Vault, learning at once: no lost increment, no id
collision, each subtask claimed exactly once — on SQLite and both PostgreSQL servers."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import memvault

PROCS = 4
ROUNDS = 24  # per process and per kind of update


def _learner(url: str, user_id: str, pattern_id: str, worker: int) -> dict[str, Any]:
    ids: list[str] = []
    claimed: list[str] = []
    with memvault.open(url) as vault:
        for i in range(ROUNDS):
            success = i % 4 != 0
            vault.routing.update("Deploy the service!", "Deploy", success, tool_type="skill")
            vault.routing.update("deploy service", "Deploy", success, user_id=user_id)
            vault.patterns.record_use(pattern_id, i % 2 == 0, user_id=user_id)
            vault.traits.adjust(user_id, "energy", 0.001, reason=f"w{worker}")
            if i % 4 == 0:
                ids.append(vault.patterns.add(user_id, "learned", f"w{worker} t{i}", "ok").id)
        while (task := vault.tasks.claim(f"agent-{worker}", user_id=user_id)) is not None:
            claimed.append(task.id)
    return {"ids": ids, "claimed": claimed}


def test_concurrent_learners_lose_nothing(vault_url: str) -> None:
    with memvault.open(vault_url) as vault:
        user = vault.users.create("learner")
        pattern = vault.patterns.add(user.id, "greeting", "hello", "Hi!")
        request = vault.tasks.create_request("fan out", user_id=user.id)
        wave = vault.tasks.add_wave(request.id, user_id=user.id)
        tasks = [vault.tasks.add_subtask(wave.id, f"job {i}", user_id=user.id).id
                 for i in range(PROCS * 6)]  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCS, mp_context=ctx) as pool:
        futures = [pool.submit(_learner, vault_url, user.id, pattern.id, w) for w in range(PROCS)]
        results = [f.result(timeout=240) for f in futures]
    total = PROCS * ROUNDS
    successes = PROCS * sum(1 for i in range(ROUNDS) if i % 4 != 0)
    with memvault.open(vault_url) as vault:
        for owner in (None, user.id):
            for score in vault.routing.scores(owner, tool_name="Deploy"):
                assert (score.keyword, score.usage_count) in (("deploy", total),
                                                              ("service", total))  # fmt: skip
                assert score.success_count == successes
                assert score.weight == pytest.approx(successes * 1.0 - (total - successes) * 0.5)
            assert len(vault.routing.scores(owner, tool_name="Deploy")) == 2
        learned = vault.patterns.get(pattern.id, user_id=user.id)
        assert learned.usage_count == total
        assert learned.success_score == pytest.approx(0.5)
        assert vault.traits.get(user.id, "energy").value == pytest.approx(0.5 + total * 0.001)
        assert len(vault.traits.history(user.id, "energy", limit=1000)) == total
        new_ids = [i for r in results for i in r["ids"]]
        assert len(new_ids) == len(set(new_ids)) == PROCS * (ROUNDS // 4)
        assert len(vault.patterns.find(user.id, intent="learned", limit=1000)) == len(new_ids)
        claimed = [t for r in results for t in r["claimed"]]
        assert sorted(claimed) == sorted(tasks)  # every subtask once, none twice
        running = vault.tasks.subtasks(user.id, status="running", limit=1000)
        assert len(running) == len(tasks)
