"""Crashes and full disks during an import: kill -9 at a random point then --resume gives exact
counts and no duplicates; SQLite `max_page_count` gives a clear StoreFull, keeps every
committed batch, and the run resumes once there is room again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.errors import StoreFull
from memvault.migrate import import_source

MEMVAULT = str(Path(sys.executable).with_name("memvault"))
MAPPING = {
    "files": ["*.ndjson"], "id": "id", "content": "text", "role": "role",
    "session": "thread", "created_at": "ts",
}  # fmt: skip


def write_chats(root: Path, n: int, threads: int = 40) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "chats.ndjson").open("w", encoding="utf-8") as fh:
        for i in range(n):
            role = "user" if i % 2 == 0 else "assistant"
            rec = {"id": f"m{i}", "thread": f"t{i % threads}", "role": role,
                   "text": f"message {i}: déjà vu 🚀 {'x' * (i % 50)}",
                   "ts": 1_700_000_000_000 + i}  # fmt: skip
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.write('{"id": "broken", "text": \n')  # one bad line: quarantined
    (root.parent / "mapping.json").write_text(json.dumps(MAPPING), "utf-8")
    return root


def checkpoint_state(url: str) -> tuple[int, int]:
    """(position, messages the checkpoints say were committed), summed over the runs."""
    with memvault.open(url) as v, v.store.read() as tx:
        position, committed = 0, 0
        for row in tx.all("SELECT position, state FROM import_checkpoints"):
            position += int(row["position"])
            committed += int((tx.json_out(row["state"]) or {}).get("new", {}).get("messages", 0))
    return position, committed


def store_counts(url: str) -> dict[str, Any]:
    with memvault.open(url) as v, v.store.read() as tx:
        return {
            "messages": int(tx.scalar("SELECT count(*) FROM messages")),
            "distinct": int(tx.scalar("SELECT count(DISTINCT content) FROM messages")),
            "sessions": int(tx.scalar("SELECT count(*) FROM sessions")),
            "bad_sessions": int(
                tx.scalar(
                    "SELECT count(*) FROM sessions s WHERE message_count <> "
                    "(SELECT count(*) FROM messages m WHERE m.session_id = s.id) OR last_seq <> "
                    "(SELECT coalesce(max(seq), 0) FROM messages m WHERE m.session_id = s.id)"
                )
            ),
        }


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MEMVAULT, "import", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("attempt", [1, 2])
def test_kill_9_then_resume_exact_counts(vault_url: str, tmp_path: Path, attempt: int) -> None:
    n = 12_000
    src = write_chats(tmp_path / "src", n)
    memvault.open(vault_url).close()
    args = [str(src), "--format", "generic", "--mapping", str(tmp_path / "mapping.json"),
            "--db", vault_url, "--batch-rows", "300",
            "--backup-dir", str(tmp_path / "b")]  # fmt: skip
    proc = subprocess.Popen(
        [MEMVAULT, "import", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while checkpoint_state(vault_url)[0] == 0 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(random.Random(attempt * 7919 + os.getpid()).uniform(0.0, 0.4))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Each batch committed with its checkpoint: the store holds exactly what they record.
    _, committed = checkpoint_state(vault_url)
    before = store_counts(vault_url)
    assert before["messages"] == committed
    assert before["bad_sessions"] == 0

    done = run_cli(*args, "--resume", "--json")
    assert done.returncode == 2, done.stderr  # the bad line is quarantined
    report = json.loads(done.stdout)
    assert report["run"]["resumed"] is True
    assert report["formats"]["generic"]["entities"]["messages"] == n
    assert report["run"]["store"]["messages"]["expected"] == n
    assert report["run"]["store"]["messages"]["verified"] == n
    after = store_counts(vault_url)
    assert after == {"messages": n, "distinct": n, "sessions": 40, "bad_sessions": 0}
    with memvault.open(vault_url) as v, v.store.read() as tx:
        assert int(tx.scalar("SELECT count(*) FROM quarantine")) == 1
        assert int(tx.scalar("SELECT count(*) FROM import_runs")) == 1

    again = run_cli(*args, "--json")
    # Nothing new: the bad line stays quarantined once (by the first run), so exit 0.
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["run"]["quarantined_before"] == 1
    rerun = json.loads(again.stdout)["run"]["store"]
    assert rerun["messages"]["new"] == 0 and rerun["messages"]["already_present"] == n
    assert store_counts(vault_url)["messages"] == n
    with memvault.open(vault_url) as v, v.store.read() as tx:
        assert int(tx.scalar("SELECT count(*) FROM quarantine")) == 1


def test_disk_full_is_clear_keeps_committed_and_resumes(tmp_path: Path) -> None:
    n = 20_000
    src = write_chats(tmp_path / "src", n)
    db = tmp_path / "full.db"
    url = f"sqlite:///{db}"
    with memvault.open(url) as v, v.store.read() as tx:
        pages = int(tx.scalar("PRAGMA page_count"))

    def cap(conn: Any) -> None:
        conn.execute(f"PRAGMA max_page_count = {pages + 600}")

    small = memvault.open(url)
    small.store.connect_hooks.append(cap)  # type: ignore[attr-defined]  (new connections)
    with small.store.write() as tx:  # and this thread's open one
        tx.execute(f"PRAGMA max_page_count = {pages + 600}")
    try:
        with pytest.raises(StoreFull) as info:
            import_source(
                small, src, format="generic", mapping=MAPPING, batch_rows=500,
                backup_dir=tmp_path / "b", report=tmp_path / "r.json",
            )  # fmt: skip
    finally:
        small.close()
    assert "full" in str(info.value).lower()
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["run"]["status"] == "failed" and report["run"]["exit_code"] == 1
    position, committed = checkpoint_state(url)
    partial = store_counts(url)
    assert 0 < committed < n and partial["messages"] == committed and position > 0
    assert partial["bad_sessions"] == 0

    with memvault.open(url) as roomy:
        result = import_source(
            roomy, src, format="generic", mapping=MAPPING, batch_rows=500, resume=True,
            backup_dir=tmp_path / "b",
        )  # fmt: skip
        assert result.resumed and result.exit_code == 2 and not result.problems
        assert result.tables["messages"].new == n
        assert result.tables["messages"].verified == n
    assert store_counts(url) == {"messages": n, "distinct": n, "sessions": 40, "bad_sessions": 0}


def test_resume_refuses_a_source_changed_since_the_crash(tmp_path: Path) -> None:
    src = write_chats(tmp_path / "src", 3000)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    with memvault.open(url) as v:

        def boom(event: Any) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            import_source(
                v, src, format="generic", mapping=MAPPING, batch_rows=300,
                backup_dir=tmp_path / "b", progress=boom,
            )  # fmt: skip
    with (src / "chats.ndjson").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "late", "text": "added after the crash", "thread": "t1"}\n')
    args = [str(src), "--format", "generic", "--mapping", str(tmp_path / "mapping.json"),
            "--db", url, "--backup-dir", str(tmp_path / "b"), "--resume"]  # fmt: skip
    done = run_cli(*args)
    assert done.returncode == 1
    assert "changed since run" in done.stderr
