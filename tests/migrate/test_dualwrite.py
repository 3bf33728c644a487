"""Dual-write adapter: stages off → dual-write → shadow reads → primary → complete, each
reversible; the legacy store is authoritative until primary; shadow reads log mismatches."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import memvault
from memvault.migrate.dualwrite import STAGES, DualWrite, JsonFileLegacy, StageError


@pytest.fixture
def vault(tmp_path: Path) -> memvault.Vault:
    v = memvault.open(f"sqlite:///{tmp_path / 'v.db'}")
    yield v  # type: ignore[misc]
    v.close()


def test_stages_in_order_and_reversible(
    tmp_path: Path, vault: memvault.Vault, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = JsonFileLegacy(tmp_path / "legacy.json")
    dw = DualWrite(vault, legacy, user="desk")
    dw.append_message("c1", "user", "only legacy 🙂")
    assert legacy.messages("c1") == [("user", "only legacy 🙂")]
    assert vault.stats().counts["messages"] == 0

    assert dw.advance() == "dual-write"
    dw.append_message("c1", "assistant", "both ✓")
    dw.add_memory("fact", "aime le thé")
    assert vault.stats().counts["messages"] == 1  # memvault got what came after the switch
    assert dw.messages("c1") == legacy.messages("c1")  # reads: legacy, authoritative

    assert dw.advance() == "shadow-reads"
    with caplog.at_level(logging.WARNING, logger="memvault.dualwrite"):
        assert dw.messages("c1") == [("user", "only legacy 🙂"), ("assistant", "both ✓")]
    # memvault lacks the message written before dual-write: the mismatch is logged.
    assert len(dw.stats.mismatches) == 1 and "mismatch" in caplog.text
    assert dw.memories() == [("fact", "aime le thé")]
    assert len(dw.stats.mismatches) == 1  # memories agree

    # Backfill the early message, then shadow reads agree.
    sid = dw._session("c1")
    with vault.store.write() as tx:
        tx.execute("UPDATE messages SET seq = seq + 1 WHERE session_id = :s", {"s": sid})
        tx.execute("UPDATE sessions SET last_seq = last_seq + 1 WHERE id = :s", {"s": sid})
    vault.messages.append(sid, "user", "only legacy 🙂")  # appended at the end: order differs
    dw.messages("c1")
    assert len(dw.stats.mismatches) == 2

    assert dw.advance() == "primary"
    dw.append_message("c2", "user", "memvault first")
    assert dw.messages("c2") == [("user", "memvault first")]
    assert legacy.messages("c2") == [("user", "memvault first")]  # still written for rollback

    assert dw.retreat() == "shadow-reads"  # reversible
    assert dw.advance() == "primary"
    assert dw.advance() == "complete"
    dw.append_message("c2", "assistant", "memvault only")
    assert legacy.messages("c2") == [("user", "memvault first")]
    with pytest.raises(StageError, match="rollback"):
        dw.retreat()
    assert dw.retreat(backfilled=True) == "primary"
    with pytest.raises(StageError):
        dw.set_stage("off")
    assert STAGES[0] == "off" and dw.stage == "primary"


def test_secondary_failure_is_logged_not_raised(tmp_path: Path, vault: memvault.Vault) -> None:
    legacy = JsonFileLegacy(tmp_path / "legacy.json")
    dw = DualWrite(vault, legacy, user="desk", stage="dual-write")
    dw.add_memory("fact", "x")  # memvault refuses an empty memory below, legacy does not
    dw.add_memory("fact", "   ")
    assert dw.stats.secondary_failures == 1
    assert legacy.memories() == [("fact", "x"), ("fact", "   ")]
    dw.set_stage("shadow-reads")
    dw.set_stage("primary")
    with pytest.raises(memvault.errors.MemvaultError):  # authoritative side: raised
        dw.add_memory("fact", "")
