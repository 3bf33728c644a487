"""`migrate.runs`: the one module that reads and writes import runs and their checkpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import memvault
from memvault.ids import new_id
from memvault.migrate import runs

PACKAGE = Path(memvault.__file__).parent
SQL_ON_RUNS = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+import_(runs|checkpoints)\b", re.I)


def test_no_other_module_runs_sql_on_the_run_tables() -> None:
    owners = {PACKAGE / "migrate" / "runs.py"}
    found = [
        f"{path.relative_to(PACKAGE)}: {match.group(0)}"
        for path in PACKAGE.rglob("*.py")
        if path not in owners and "migrations" not in path.parts
        for match in SQL_ON_RUNS.finditer(path.read_text("utf-8"))
    ]
    assert found == []


def test_a_run_and_its_checkpoints_round_trip(vault: memvault.Vault) -> None:
    run_id = new_id()
    started = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    with vault.store.write() as tx:
        runs.start_run(tx, run_id, "/legacy", "demo", {"batch": 5}, started)
        runs.save_checkpoint(tx, run_id, "messages", 10, 8, {"last": ["a"], "rows": 10})
        runs.save_checkpoint(tx, run_id, "messages", 20, 18, {"last": ["b"], "rows": 20})
    with vault.store.read() as tx:
        assert runs.unfinished_runs(tx, "demo") == [(run_id, "/legacy", {"batch": 5})]
        assert runs.unfinished_runs(tx, "demo", source="/elsewhere") == []
        points = runs.load_checkpoints(tx, run_id)
    assert points == {"messages": runs.Checkpoint(20, 18, {"last": ["b"], "rows": 20})}
    with vault.store.write() as tx:
        runs.finish_run(tx, run_id, "failed", {"error": "x"}, started)
        assert runs.resume_run(tx, run_id) == started
    assert runs.get_run(vault, run_id).status == "running"
    with vault.store.write() as tx:
        runs.delete_run(tx, run_id)
    with vault.store.read() as tx:
        assert runs.unfinished_runs(tx, "demo") == []
        assert runs.load_checkpoints(tx, run_id) == {}
