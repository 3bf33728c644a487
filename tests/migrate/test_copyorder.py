"""copyorder: what a transfer must commit before copying a table on a second connection."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlean

import memvault
from memvault.migrate import copyorder
from memvault.migrate.transfer import table_specs
from memvault.store.schema import metadata


def test_trigger_writes_are_read_from_the_store(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    memvault.open(db).close()
    conn = sqlean.connect(db)
    try:
        derived = set(metadata.tables) - {s.name for s in table_specs()}
        writes = copyorder.trigger_writes(
            "sqlite", lambda sql: conn.execute(sql).fetchall(), derived
        )
    finally:
        conn.close()
    assert {"emotion_rollups", "emotion_trigger_rollups"} <= writes["emotion_events"]


def test_a_trigger_written_table_brings_its_parents() -> None:
    # emotion_events' own foreign keys are dropped during a load; the rollups' are not.
    parents = {"emotion_rollups": {"users"}, "sessions": {"users"}}
    writes = {"emotion_events": {"emotion_rollups"}}
    deps = copyorder.dependencies(["users", "sessions", "emotion_events"], parents, writes)
    assert deps["emotion_events"] == {"users"}
    assert deps["users"] == frozenset()
    assert copyorder.in_order(["users", "sessions", "emotion_events"], deps)
    assert not copyorder.in_order(["emotion_events", "users", "sessions"], deps)


def test_the_gate_waits_for_dependencies_and_stops_on_failure() -> None:
    gate = copyorder.Gate({"events": frozenset({"users"}), "other": frozenset({"users"})})
    passed = threading.Event()
    waiter = threading.Thread(target=lambda: (gate.wait("events"), passed.set()))
    waiter.start()
    assert not passed.wait(0.2)  # users not committed yet
    gate.done("users")
    assert passed.wait(5)
    waiter.join()
    failing = copyorder.Gate({"events": frozenset({"users"})})
    failing.fail()
    with pytest.raises(copyorder.Gate.Aborted):
        failing.wait("events")
