"""The store commands, run as a user runs them: the installed `memvault` entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def run(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [MEMVAULT, *args], cwd=cwd, capture_output=True, text=True, input=input, env=env,
        timeout=120,
    )  # fmt: skip


def test_demo_on_the_default_store(tmp_path: Path) -> None:
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Les Halles Paul Bocuse" in result.stdout
    assert "Is vegetarian" in result.stdout
    assert (tmp_path / "memvault.db").exists()
    stats = json.loads(run("stats", "--json", cwd=tmp_path).stdout)
    assert stats["counts"]["messages"] == 4
    assert stats["counts"]["memories"] == 3


def test_init_stats_check(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("init", "--db", db, cwd=tmp_path).returncode == 0
    stats = json.loads(run("stats", "--db", db, "--json", cwd=tmp_path).stdout)
    assert stats["engine"] == "sqlite" and stats["counts"]["users"] == 0
    check = run("check", "--db", db, "--json", cwd=tmp_path)
    assert check.returncode == 0
    assert json.loads(check.stdout)["ok"] is True


def test_check_fails_on_a_broken_foreign_key(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "broken.db"
    assert run("demo", "--db", f"sqlite:///{path}", cwd=tmp_path).returncode == 0
    with sqlite3.connect(path) as conn:  # foreign_keys is off by default in this connection
        conn.execute("UPDATE messages SET session_id = '00000000-0000-7000-8000-000000000000'")
    result = run("check", "--db", f"sqlite:///{path}", cwd=tmp_path)
    assert result.returncode == 1
    assert "foreign_key_check" in result.stdout


def test_backup_restore_cycle(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    assert run("demo", "--db", db, cwd=tmp_path).returncode == 0
    result = run("backup", str(tmp_path / "copy.db"), "--db", db, cwd=tmp_path)
    assert result.returncode == 0 and "sha256" in result.stdout
    again = run("backup", str(tmp_path / "copy.db"), "--db", db, cwd=tmp_path)
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr
    refused = run("restore", str(tmp_path / "copy.db"), "--db", db, cwd=tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("restore", str(tmp_path / "copy.db"), "--db", target, cwd=tmp_path).returncode == 0
    stats = json.loads(run("stats", "--db", target, "--json", cwd=tmp_path).stdout)
    assert stats["counts"]["messages"] == 4


def test_reset_asks_and_yes_skips_the_question(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    run("demo", "--db", db, cwd=tmp_path)
    declined = run("reset", "--db", db, cwd=tmp_path, input="n\n")
    assert declined.returncode == 1 and "nothing was deleted" in declined.stderr
    assert json.loads(run("stats", "--db", db, "--json", cwd=tmp_path).stdout)["counts"]["users"]
    done = run("reset", "--db", db, "--yes", cwd=tmp_path)
    assert done.returncode == 0 and "every row deleted" in done.stdout
    counts = json.loads(run("stats", "--db", db, "--json", cwd=tmp_path).stdout)["counts"]
    assert sum(counts.values()) == 0


@pytest.mark.parametrize(
    ("db", "message"),
    [("mysql://x/y", "unknown URL scheme"), ("postgresql://u@127.0.0.1:1/x", "cannot reach")],
)
def test_bad_urls_exit_non_zero_with_one_clear_line(tmp_path: Path, db: str, message: str) -> None:
    result = run("stats", "--db", db, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_history_prints_changes_as_json_and_never_wraps_when_piped(tmp_path: Path) -> None:
    import memvault

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with memvault.open(url, embedder=None) as vault:
        m = vault.memories.add(None, "fact", "deploys to Fly.io", metadata={"topic": "deploy"})
        long_reason = ("moved" + " to another provider" * 5) + " for cost"  # > 80 columns
        vault.memories.update(m.id, metadata={"topic": "ops", "ok": True}, reason=long_reason)
    env = {k: v for k, v in os.environ.items() if k not in ("MEMVAULT_URL", "COLUMNS")}
    result = subprocess.run(
        [MEMVAULT, "memories", "history", m.id, "--db", url],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Finding 6: JSON (true, double quotes), not Python's repr (True, single quotes).
    change = next(line for line in lines if "metadata" in line)
    assert json.loads(change) == {"metadata": [{"topic": "deploy"}, {"ok": True, "topic": "ops"}]}
    # Finding 28: stdout is a pipe, so no line is cut at the 80 columns of a terminal.
    assert f"  why: {long_reason}" in lines
