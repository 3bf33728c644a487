"""A newcomer's four seed migrations (EdgeSoul, Workly, Lilith, AIT42), run with the real
`memvault` command on the legacy trees their own generators wrote (tests/data/nc2: each
`gen_*.py FOLDER` writes a tree, each `mutate_*.py FOLDER` changes it as the legacy tool
would between two imports).

Each journey: import, look through the CLI, change the legacy data, import again (the
changes are applied and said), import once more (nothing to do), and verify.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.journeys.conftest import Cli

NC2 = Path(__file__).resolve().parents[1] / "data" / "nc2"


def legacy(kind: str, folder: Path) -> Path:
    """Run the newcomer's `gen_<kind>.py` into `folder`."""
    subprocess.run(
        [sys.executable, str(NC2 / f"gen_{kind}.py"), str(folder)],
        check=True,
        capture_output=True,
    )
    return folder


def mutate(kind: str, folder: Path) -> None:
    """Run the newcomer's `mutate_<kind>.py` on `folder`."""
    subprocess.run(
        [sys.executable, str(NC2 / f"mutate_{kind}.py"), str(folder)],
        check=True,
        capture_output=True,
    )


def run_import(cli: Cli, source: Path, fmt: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("import", str(source), "--format", fmt, "--json", "--no-embed", *extra)
    assert result.stdout, result.stderr[-3000:]
    return result.returncode, json.loads(result.stdout)


def test_edgesoul_wal_database_imports_without_touching_the_check(cli: Cli, tmp_path: Path) -> None:
    """EdgeSoul ran its db in WAL mode: reading it (read-only) creates -wal/-shm, which is
    not a change of the source; a second run finds it all there."""
    tree = legacy("edgesoul", tmp_path / "edgesoul")
    data = tree / "backend" / "data"
    assert not (data / "edgesoul.db-shm").exists()
    code, report = run_import(cli, tree, "edgesoul")
    assert code == 2, report["run"]["error"]  # one bad export record, quarantined
    assert report["run"]["source_changed"] == []
    assert report["run"]["store"]["memories"]["new"] == 71
    code, report = run_import(cli, tree, "edgesoul")  # now with -shm/-wal beside it
    assert code in (0, 2), report["run"]["error"]
    assert report["run"]["source_changed"] == []
    # The lock is released and its file removed: nothing left next to the store.
    assert not (cli.cwd / "memvault.db.import.lock").exists()


def test_edgesoul_wal_frames_are_read_and_a_writer_is_noticed(cli: Cli, tmp_path: Path) -> None:
    """Committed frames still in the -wal are data: they are imported, and a legacy
    writer appending to the -wal during the import is still a change."""
    import sqlite3

    tree = legacy("edgesoul", tmp_path / "edgesoul")
    db = tree / "backend" / "data" / "edgesoul.db"
    holder = sqlite3.connect(db)  # keeps the -wal from being checkpointed away
    holder.execute("PRAGMA wal_autocheckpoint=0")
    holder.execute(
        "INSERT INTO memories (memory_id, user_id, memory_type, content, confidence, "
        "importance, access_count, created_at) VALUES ('w1', 'user_001', 'fact', "
        "'Only in the WAL', 0.9, 0.5, 0, '2025-11-02 10:00:00.000000')"
    )
    holder.commit()
    assert (db.with_name("edgesoul.db-wal")).stat().st_size > 0
    code, report = run_import(cli, tree, "edgesoul")
    holder.close()
    assert code == 2, report["run"]["error"]
    assert report["run"]["store"]["memories"]["new"] == 72
    found = cli.json("search", "Only in the WAL", "--user", "user_001", "--mode", "text")
    assert found, "the WAL's committed row was not imported"
