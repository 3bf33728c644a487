"""Every file `memvault hook` writes holds prompts or tool inputs: readable by its owner only
(0600, in a 0700 folder), whatever the umask, in both modes (the store, and `--server`)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

from tests.hook.test_hook_process import SID, hook, prompt, used
from tests.journeys.conftest import Cli, start_service


def modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}


def test_direct_mode_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cli = Cli(tmp_path)
    cli.ok("init")
    store = f"sqlite:///{tmp_path / 'memvault.db'}"
    env = {"XDG_STATE_HOME": str(state)}
    base = ["--db", store, "--user", "me"]
    lock = sqlite3.connect(tmp_path / "memvault.db", timeout=0)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        assert "spooled" in hook(*base, event=prompt("ship it"), env=env, umask=0o022).stderr
    finally:
        lock.rollback()
        lock.close()
    assert "set aside" in hook(*base, event=prompt("a\x00b"), env=env, umask=0o022).stderr
    hook(*base, " ana ", event=used("Read"), env=env, umask=0o022)  # a stray argument
    hook(*base, event={**used("Grep"), "hook_event_name": "PreToolUse"}, env=env, umask=0o022)
    folder = state / "memvault"
    [started] = folder.glob("*.starts")  # the call's start, until its PostToolUse
    assert stat.S_IMODE(started.stat().st_mode) == 0o700
    assert modes(started) == {"toolu_Grep": 0o600}
    started.rename(tmp_path / "starts")  # the files beside it are checked below
    files = modes(folder)
    assert any(n.endswith(".jsonl.rejected") for n in files), files
    assert any(n.endswith(".jsonl.lock") for n in files), files
    assert any(n.endswith(".replay.lock") for n in files), files
    assert files and set(files.values()) == {0o600}, {n: oct(m) for n, m in files.items()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_server_mode_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cli = Cli(tmp_path)
    cli.ok("init")
    cli.ok("users", "add", "ana")
    key = cli.json("keys", "create", "--user", "ana")["key"]
    served = start_service(cli)
    env = {"XDG_STATE_HOME": str(state)}
    try:
        base = ["--server", served.url, "--key", key]
        for event in (prompt("run the tests again and commit"), used("Bash", command="make")):
            done = hook(*base, event=event, env=env, umask=0o022)
            assert done.returncode == 0 and done.stderr == "", done.stderr
        bad: dict[str, Any] = {**used("Bash"), "tool_name": "Ba\x00sh"}  # refused: 4xx
        assert "set aside" in hook(*base, event=bad, env=env, umask=0o022).stderr
    finally:
        served.stop()
    down = hook(*base, event=used("Edit"), env=env, umask=0o022)
    assert "spooled" in down.stderr, down.stderr
    folder = state / "memvault"
    files = modes(folder)
    [prompts] = [n for n in files if n.endswith(".prompts.json")]
    assert SID in json.loads((folder / prompts).read_text())
    assert any(n.endswith(".jsonl.rejected") for n in files), files
    assert set(files.values()) == {0o600}, {n: oct(m) for n, m in files.items()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
