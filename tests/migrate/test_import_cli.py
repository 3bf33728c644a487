"""`memvault import`: exit codes (0 clean, 2 quarantined, 3 mismatch, 1 failed), --dry-run,
--report, --json, --user, --mapping, and the human summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import memvault
from memvault.cli import app
from memvault.migrate.lock import ImportLock
from tests.migrate import legacy_data as ld
from tests.migrate.test_pipeline import REPORTS, ROWS, table_counts

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["import", *args])
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'v.db'}"


def chats(root: Path, n: int = 12) -> tuple[Path, Path]:
    root.mkdir(parents=True)
    lines = [
        json.dumps({"id": i, "conv": i % 2, "role": "user" if i % 2 else "assistant",
                    "text": f"bonjour {i} 🙂"})
        for i in range(n)
    ]  # fmt: skip
    (root / "a.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    mapping = root.parent / "map.json"
    mapping.write_text(
        json.dumps({"files": ["*.jsonl"], "id": "id", "content": "text", "session": "conv"}),
        "utf-8",
    )
    return root, mapping


def test_clean_import_exits_0_with_summary(tmp_path: Path, db: str) -> None:
    src, mapping = chats(tmp_path / "src")
    code, out = invoke(str(src), "--format", "generic", "--mapping", str(mapping), "--db", db,
                       "--user", "zoé")  # fmt: skip
    assert code == 0, out
    assert "completed" in out and "messages" in out and "12" in out
    with memvault.open(db) as v:
        assert table_counts(v) == {"users": 1, "sessions": 2, "messages": 12}


def test_quarantine_exits_2_and_report_matches_store(tmp_path: Path, db: str) -> None:
    root = ld.write_all(tmp_path / "src")
    report = tmp_path / "report.json"
    code, out = invoke(str(root), "--db", db, "--report", str(report))
    assert code == 2, out
    data = json.loads(report.read_text("utf-8"))
    assert data["formats"] == REPORTS
    assert data["run"]["exit_code"] == 2 and data["run"]["status"] == "quarantined"
    with memvault.open(db) as v:
        stored = table_counts(v)
    assert {t: c["new"] for t, c in data["run"]["store"].items() if c["new"]} == stored
    assert stored["quarantine"] == sum(r["quarantine"] for r in ROWS.values())
    # A second run adds nothing, not even the same quarantined records again: exit 0,
    # and it says they are still quarantined.
    code, out = invoke(str(root), "--db", db, "--json")
    assert code == 0, out
    again = json.loads(out)["run"]
    assert {t: c["new"] for t, c in again["store"].items() if c["new"]} == {}
    assert again["quarantined_before"] == stored["quarantine"]
    with memvault.open(db) as v:
        assert table_counts(v)["quarantine"] == stored["quarantine"]


def test_dry_run_writes_nothing(tmp_path: Path, db: str) -> None:
    root = ld.write_all(tmp_path / "src")
    code, out = invoke(str(root), "--db", db, "--dry-run", "--json")
    assert code == 2
    plan = json.loads(out)["run"]["plan"]
    # 103: the cut LangChain history keeps its 2 complete messages; ChatGPT's two empty
    # hidden system roots are not messages
    assert plan["rows"]["messages"] == 103 and plan["enough_space"] is True
    with memvault.open(db) as v:
        assert table_counts(v) == {}
    assert not Path(db.removeprefix("sqlite:///") + ".import-backups").exists()


def test_mismatch_exits_3(tmp_path: Path, db: str) -> None:
    src, mapping = chats(tmp_path / "src")
    with memvault.open(db) as v, v.store.write() as tx:
        tx.execute(
            "CREATE TRIGGER lose AFTER INSERT ON messages WHEN NEW.seq = 3 "
            "BEGIN DELETE FROM messages WHERE id = NEW.id; END"
        )
    code, out = invoke(str(src), "--format", "generic", "--mapping", str(mapping), "--db", db)
    assert code == 3, out
    assert "mismatch" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "generic"], "mapping"),
        (["--format", "nope"], "format"),
    ],
)
def test_bad_options_exit_1(tmp_path: Path, db: str, args: list[str], message: str) -> None:
    src, _ = chats(tmp_path / "src")
    code, out = invoke(str(src), "--db", db, *args)
    assert code == 1 and message in out


def test_missing_source_exits_1(tmp_path: Path, db: str) -> None:
    code, out = invoke(str(tmp_path / "nowhere"), "--db", db)
    assert code == 1 and "no such file or directory" in out


def test_locked_store_exits_1_naming_the_run(tmp_path: Path, db: str) -> None:
    src, mapping = chats(tmp_path / "src")
    with memvault.open(db) as v, ImportLock(v.store, "run-holding-it", "/x"):
        code, out = invoke(str(src), "--format", "generic", "--mapping", str(mapping), "--db", db)
    assert code == 1 and "run-holding-it" in out
