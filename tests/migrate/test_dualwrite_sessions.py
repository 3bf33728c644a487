"""Dual-write of AIT42's sessions and instances, the legacy-key lookup past 1,000 sessions, and
rollouts whose stage lives in the store — on every engine."""

from __future__ import annotations

from pathlib import Path

import pytest

import memvault
from memvault.errors import Conflict
from memvault.migrate.dualwrite import (
    DualWrite,
    JsonFileLegacy,
    StageError,
    _store_stage,
    backfill_legacy,
    compare,
    copy_legacy,
    get_rollout,
    open_rollout,
    stage_rollout,
)


def test_a_conversation_keeps_its_session_behind_1001_newer_sessions(
    tmp_path: Path, vault: memvault.Vault
) -> None:
    legacy = JsonFileLegacy(tmp_path / "legacy.json")
    dw = DualWrite(vault, legacy, user="yuki", stage="dual-write")
    dw.append_message("c1", "user", "first words")
    with vault.transaction():  # the user goes on working: 1,001 newer sessions
        for i in range(1001):
            vault.sessions.create(dw.user_id, title=f"later {i}")
    again = DualWrite(vault, legacy, user="yuki", stage="shadow-reads")  # e.g. a restart
    again.append_message("c1", "assistant", "still the same conversation")
    assert vault.stats().counts["sessions"] == 1002  # no second session for c1
    assert again.messages("c1") == [
        ("user", "first words"), ("assistant", "still the same conversation")
    ]  # fmt: skip
    assert again.stats.mismatches == []


def test_sessions_and_instances_are_dual_written(tmp_path: Path, vault: memvault.Vault) -> None:
    legacy = JsonFileLegacy(tmp_path / "legacy.json")
    dw = DualWrite(vault, legacy, user="yuki", stage="dual-write")
    dw.create_session("s1", kind="competition", title="Fix the login bug", status="running")
    dw.add_instance("s1", 0, agent="claude #0")
    dw.add_instance("s1", 1, agent="codex #1")
    dw.append_message("s1", "user", "go")
    with pytest.raises(Conflict):  # legacy, authoritative here, refuses a second instance 0
        dw.add_instance("s1", 0, agent="again")
    dw.update_instance("s1", 1, status="completed")
    dw.update_session("s1", status="completed")
    dw.set_stage("shadow-reads")
    assert dw.sessions() == [("s1", "competition", "Fix the login bug", "completed")]
    assert dw.instances("s1") == [(0, "claude #0", "running"), (1, "codex #1", "completed")]
    assert dw.stats.mismatches == []
    parent = vault.sessions.by_key(dw.user_id, "s1")
    assert parent is not None and parent.instance_count == 2 and parent.message_count == 1
    assert [h.item.id for h in vault.sessions.search(dw.user_id, "login")] == [parent.id]
    dw.set_stage("primary")
    with pytest.raises(Conflict):  # now memvault is authoritative: its unique index refuses
        dw.add_instance("s1", 1)
    assert legacy.instances("s1") == dw.instances("s1")
    assert compare(dw).clean


def test_rollout_stage_is_shared_through_the_store(tmp_path: Path, vault: memvault.Vault) -> None:
    legacy = JsonFileLegacy(tmp_path / "legacy.json")
    legacy.create_session("s0", "debate", "Should we adopt SQLite?", "running", _now())
    legacy.add_instance("s0", 0, "pro", "completed", _now())
    legacy.append_message("s0", "user", "before the rollout", _now())
    legacy.add_memory("fact", "uses tmux", _now())
    rollout = stage_rollout(vault, "ait42", legacy.path, "yuki")
    assert rollout.stage == "off"
    app = open_rollout(vault, "ait42")
    app.refresh = 0.0
    ops = open_rollout(vault, "ait42")  # the operator's side
    drift = compare(ops)
    assert "session s0" in drift.only_legacy and "memories" in drift.different
    assert copy_legacy(ops) == {"sessions": 1, "instances": 1, "messages": 1, "memories": 1}
    assert copy_legacy(ops) == {"sessions": 0, "instances": 0, "messages": 0, "memories": 0}
    assert compare(ops).clean
    ops.advance()
    assert app.stage == "dual-write"  # the running application follows
    app.append_message("s0", "assistant", "written twice")
    ops.advance(), ops.advance(), ops.advance()
    assert app.stage == "complete"
    app.append_message("s0", "user", "memvault only")
    assert legacy.messages("s0")[-1] == ("assistant", "written twice")
    with pytest.raises(StageError, match="rollback"):
        ops.retreat()
    assert backfill_legacy(ops)["messages"] == 1
    ops.retreat(backfilled=True)
    assert app.stage == "primary" and compare(ops).clean
    history = get_rollout(vault, "ait42").history
    assert [(h["from"], h["to"]) for h in history][-2:] == [
        ("primary", "complete"), ("complete", "primary")
    ]  # fmt: skip
    with pytest.raises(StageError, match="now"):  # two operators at once cannot skip a stage
        _store_stage(vault, "ait42", "complete", "primary", "moved meanwhile")


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)
