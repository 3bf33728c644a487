"""Finding 9: a tool call's duration. `PreToolUse` notes when the call starts, in a private
file keyed by its `tool_use_id` beside the spool; the call's `PostToolUse` sets `duration_ms`
from it, whatever the delivery (direct, spooled, `--background`, `--server`)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import memvault
from memvault.hook import starts
from memvault.hook.spool import Spool
from tests.hook.test_hook_process import hook, used


def pre(tool: str) -> dict[str, Any]:
    return {**used(tool), "hook_event_name": "PreToolUse"}


def durations(url: str) -> dict[str, float | None]:
    with memvault.open(url) as vault:
        return {a.tool_name: a.duration_ms for a in vault.actions.list(memvault.ANY)}


def test_the_start_is_private_taken_once_and_never_overrides_the_agents(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    assert starts.handle(spool, pre("Bash")) is True  # nothing more to do for PreToolUse
    folder = starts.folder(spool)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "toolu_Bash").stat().st_mode) == 0o600
    started = float((folder / "toolu_Bash").read_text())
    post = used("Bash")
    starts.take_duration(spool, post, started + 1.25)
    assert post["duration_ms"] == 1250.0 and list(folder.iterdir()) == []
    again = used("Bash")  # the same call delivered again: its start is gone
    starts.take_duration(spool, again, started + 9)
    assert "duration_ms" not in again
    starts.handle(spool, pre("Task"))
    task = {**used("Task"), "tool_response": {"totalDurationMs": 40}}  # the agent's own
    assert starts.handle(spool, task) is False and "duration_ms" not in task
    for odd in ("../x", "a/b", "", "é", "x" * 300, 7):  # never a path outside the folder
        starts.handle(spool, {**pre("Read"), "tool_use_id": odd})
    assert list(folder.iterdir()) == []
    starts.handle(spool, pre("Old"))
    day_ago = time.time() - starts.STALE_SECONDS - 60
    os.utime(folder / "toolu_Old", (day_ago, day_ago))
    starts.handle(spool, {"hook_event_name": "SessionEnd"})  # a call that never ended: dropped
    assert list(folder.iterdir()) == []


def test_post_tool_use_stores_the_duration_directly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()
    base = ["--db", url, "--user", "me", "--spool", str(tmp_path / "s.jsonl")]
    done = hook(*base, event=pre("Grep"))
    assert done.returncode == 0 and done.stdout == done.stderr == ""
    assert durations(url) == {}  # PreToolUse stores nothing (and opens no store)
    time.sleep(0.05)
    assert hook(*base, event=used("Grep")).returncode == 0
    assert durations(url)["Grep"] >= 50  # type: ignore[operator]


def test_background_keeps_the_duration_through_the_spool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()
    spool = tmp_path / "s.jsonl"
    base = ["--db", url, "--user", "me", "--spool", str(spool), "--background"]
    hook(*base, event=pre("Edit"))
    time.sleep(0.05)
    hook(*base, event=used("Edit"))
    deadline = time.monotonic() + 30
    while "Edit" not in durations(url) or spool.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert durations(url)["Edit"] >= 50  # type: ignore[operator]
