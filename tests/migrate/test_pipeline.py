"""The import pipeline on every engine: exact counts per format in the report and the store,
re-runs that add nothing, dry runs that write nothing, verification, lock, changed sources."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.embed.default import MODEL_ID as E5_MODEL
from memvault.migrate import ImportLocked, SourceChanged, import_source
from memvault.migrate import quarantine as q
from memvault.migrate.loader import TABLES
from memvault.migrate.lock import ImportLock
from memvault.migrate.pipeline import ProgressEvent
from tests.migrate import legacy_data as ld
from tests.migrate import (
    test_sources_ait42,
    test_sources_chatgpt,
    test_sources_dcm,
    test_sources_edgesoul,
    test_sources_langchain,
    test_sources_lilith,
    test_sources_workly,
)

REPORTS = {
    "ait42": test_sources_ait42.EXPECTED,
    "lilith": test_sources_lilith.EXPECTED,
    "edgesoul": test_sources_edgesoul.EXPECTED,
    "workly": test_sources_workly.EXPECTED,
    "dcm": test_sources_dcm.EXPECTED,
    "chatgpt": test_sources_chatgpt.EXPECTED,
    "langchain": test_sources_langchain.EXPECTED,
}

# Rows each format's generated tree puts in the store (quarantine: this run's bad records).
ROWS: dict[str, dict[str, int]] = {
    "ait42": {"users": 1, "projects": 3, "sessions": 14, "messages": 10, "quarantine": 5},
    "lilith": {"users": 6, "response_patterns": 15, "quarantine": 3},
    "edgesoul": {"users": 4, "sessions": 3, "messages": 14, "memories": 4, "emotion_events": 16,
                 "quarantine": 3},  # 2 emotional patterns: 12 + 4 baseline events
    "workly": {
        "users": 1, "sessions": 3, "messages": 45, "memories": 9, "embeddings": 3,
        "emotion_events": 5, "traits": 6, "trait_changes": 108, "quarantine": 1,
    },
    "dcm": {
        "users": 1, "projects": 2, "sessions": 3, "actions": 6, "routing_scores": 3,
        "quarantine": 4,
    },
    "chatgpt": {"users": 1, "sessions": 4, "messages": 15, "quarantine": 2},
    "langchain": {"users": 1, "sessions": 8, "messages": 19, "quarantine": 3},
}  # fmt: skip

# Workly holds the same preference twice: one memory row, counted as merged.
MERGED = {"workly": {"memories": 1}}


def table_counts(vault: memvault.Vault) -> dict[str, int]:
    """Rows per table that the import loaded. The vectors the import's embedding step adds
    afterwards (the default model's, one per memory) are checked in test_vector_paths.py."""
    with vault.store.read() as tx:
        counts = {t: int(tx.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}
        counts["embeddings"] -= int(tx.scalar(
            "SELECT count(*) FROM embeddings WHERE model = :m", {"m": E5_MODEL}
        ))  # fmt: skip
    return {t: n for t, n in counts.items() if n}


def write(fmt: str, base: Path) -> Path:
    root: Path = getattr(ld, f"write_{fmt}")(base)
    return root


@pytest.mark.parametrize("fmt", sorted(REPORTS))
def test_each_format_exact_counts_and_rerun_is_noop(
    vault: memvault.Vault, tmp_path: Path, fmt: str
) -> None:
    root = write(fmt, tmp_path / "src")
    report_path = tmp_path / "report.json"
    result = import_source(
        vault, root, format=fmt, report=report_path, backup_dir=tmp_path / "backups"
    )
    assert result.formats[fmt].as_dict() == REPORTS[fmt]
    assert result.status == "quarantined" and result.exit_code == 2
    assert table_counts(vault) == ROWS[fmt]
    # The report and the store agree, table by table.
    report = json.loads(report_path.read_text("utf-8"))
    assert report["formats"] == {fmt: REPORTS[fmt]}
    assert report["run"]["verification"] == {"ok": True, "problems": []}
    stored = report["run"]["store"]
    assert {t: c["new"] for t, c in stored.items() if c["new"]} == ROWS[fmt]
    assert {t: c["merged"] for t, c in stored.items() if c["merged"]} == MERGED.get(fmt, {})
    for c in stored.values():
        assert c["verified"] == c["expected"] - c["merged"]
        assert c["missing"] == c["different"] == 0
    assert q.count(vault, result.run_id) == ROWS[fmt]["quarantine"]

    again = import_source(vault, root, format=fmt, backup_dir=tmp_path / "backups")
    assert again.formats[fmt].as_dict() == REPORTS[fmt]
    # A re-run writes nothing, not even the same bad records again (quarantine is once
    # per source, file, record and reason), and exits 0 saying they are still bad.
    assert {t: c.new for t, c in again.tables.items() if c.new} == {}
    assert again.quarantined_before == ROWS[fmt]["quarantine"]
    after = table_counts(vault)
    assert after == ROWS[fmt]
    assert again.problems == [] and again.exit_code == 0


def test_auto_tree_session_counts_exact_and_base_stays_base(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    root = ld.write_all(tmp_path / "src")
    result = import_source(vault, root, format="auto", backup_dir=tmp_path / "b")
    assert set(result.formats) == set(REPORTS)
    for fmt, rep in result.formats.items():
        assert rep.as_dict() == REPORTS[fmt]
    expected: dict[str, int] = {}
    for rows in ROWS.values():
        for t, n in rows.items():
            expected[t] = expected.get(t, 0) + n
    expected["users"] = 9  # 'default' is shared by the formats that name no user
    assert table_counts(vault) == expected
    with vault.store.read() as tx:
        bad = tx.all(
            "SELECT s.id FROM sessions s WHERE s.message_count <> "
            "(SELECT count(*) FROM messages m WHERE m.session_id = s.id) OR s.last_seq <> "
            "(SELECT coalesce(max(seq), 0) FROM messages m WHERE m.session_id = s.id)"
        )
        assert bad == []
        base = tx.scalar("SELECT count(*) FROM response_patterns WHERE user_id IS NULL")
        lilith_base = sum(1 for _ in (root / "lilith" / "data" / "base").glob("patterns.json"))
        assert lilith_base == 1 and base > 0
        vectors = tx.all("SELECT model, dim FROM embeddings WHERE model <> :m", {"m": E5_MODEL})
        assert {(r["model"], r["dim"]) for r in vectors} == {("all-MiniLM-L6-v2", 384)}
        with_vector = tx.all("SELECT metadata FROM response_patterns")
        embedded = [r for r in with_vector if "embedding" in (tx.json_out(r["metadata"]) or {})]
        assert len(embedded) == REPORTS["lilith"]["entities"]["patterns_with_embedding"]


def test_imported_messages_are_full_text_searchable(vault: memvault.Vault, tmp_path: Path) -> None:
    root = write("workly", tmp_path / "src")
    import_source(vault, root, format="workly", backup_dir=tmp_path / "b")
    with vault.store.read() as tx:
        uid = str(tx.scalar("SELECT id FROM users WHERE handle = 'default'"))
    hits = vault.messages.search(uid, "planning")
    assert hits


def test_dry_run_writes_nothing_and_plans_the_rows(vault: memvault.Vault, tmp_path: Path) -> None:
    root = ld.write_all(tmp_path / "src")
    plan = import_source(vault, root, format="auto", dry_run=True, backup_dir=tmp_path / "b")
    assert table_counts(vault) == {}
    assert not (tmp_path / "b").exists()
    assert plan.dry_run and plan.exit_code == 2
    assert plan.plan is not None
    assert plan.plan["embedding_dimensions"] == {"384": 3, "64": 1}
    assert plan.plan["duplicates_in_source"] == {"memories": 1}
    assert plan.plan["estimated_store_bytes"] > 0
    real = import_source(vault, root, format="auto", backup_dir=tmp_path / "b")
    assert {t: c.expected for t, c in real.tables.items() if c.expected} == plan.plan["rows"]


def test_backups_manifest_and_run_row(vault: memvault.Vault, tmp_path: Path) -> None:
    root = write("langchain", tmp_path / "src")
    result = import_source(vault, root, format="langchain", backup_dir=tmp_path / "b")
    run_dir = tmp_path / "b" / result.run_id
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert [f["path"] for f in manifest["files"]] == files
    for f in manifest["files"]:
        copied = run_dir / "source" / f["path"]
        assert copied.read_bytes() == (root / f["path"]).read_bytes()
    if vault.engine == "sqlite":
        assert (run_dir / "target.db").exists()
    else:
        assert "pg_dump" in manifest["backup"]["target"]
    with vault.store.read() as tx:
        row = tx.one("SELECT status, report FROM import_runs WHERE id = :id", {"id": result.run_id})
        assert row is not None and row["status"] == "quarantined"
        assert tx.json_out(row["report"])["formats"]["langchain"] == REPORTS["langchain"]


def test_generic_ndjson_clean_exit_zero(vault: memvault.Vault, tmp_path: Path) -> None:
    root = tmp_path / "chats"
    root.mkdir()
    lines = [
        {"id": f"m{i}", "thread": f"t{i % 3}", "who": "user" if i % 2 else "assistant",
         "text": f"message {i} ✨", "ts": 1_700_000_000 + i}
        for i in range(30)
    ]  # fmt: skip
    (root / "log.ndjson").write_text("\n".join(json.dumps(x) for x in lines) + "\n", "utf-8")
    mapping = {"files": ["*.ndjson"], "id": "id", "content": "text", "role": "who",
               "session": "thread", "created_at": "ts"}  # fmt: skip
    result = import_source(
        vault, root, format="generic", mapping=mapping, backup_dir=tmp_path / "b", user="ann"
    )
    assert result.exit_code == 0 and result.status == "completed"
    assert table_counts(vault) == {"users": 1, "sessions": 3, "messages": 30}
    with vault.store.read() as tx:
        assert tx.scalar("SELECT handle FROM users") == "ann"
        counts = sorted(
            int(r["message_count"]) for r in tx.all("SELECT message_count FROM sessions")
        )
        assert counts == [10, 10, 10]


def test_an_import_reads_back_without_the_memory_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: the read-back verification touches every page written; through the 256 MB
    memory map each stays resident (262 MB peak RSS for a 94 MB file). While an import
    runs its thread reads with no map; afterwards the store maps again."""
    import memvault.migrate.pipeline as pipeline

    seen: list[int] = []
    real_verify = pipeline.verify

    def verify(store: Any, spool: Any, counts: Any) -> list[str]:
        with store.read() as tx:
            seen.append(int(tx.scalar("PRAGMA mmap_size")))
        return real_verify(store, spool, counts)

    monkeypatch.setattr(pipeline, "verify", verify)
    root = write("langchain", tmp_path)
    with memvault.open(f"sqlite:///{tmp_path / 'v.db'}") as vault:
        result = import_source(vault, root, format="langchain", backup_dir=tmp_path / "b")
        assert result.status == "quarantined" and table_counts(vault)["messages"] == 19
        with vault.store.read() as tx:
            after = int(tx.scalar("PRAGMA mmap_size"))
    assert seen == [0] and after == 256 << 20


def test_lock_refuses_a_second_import_naming_the_run(vault: memvault.Vault, tmp_path: Path) -> None:
    root = write("langchain", tmp_path / "src")
    holder = ImportLock(vault.store, "01900000-0000-7000-8000-000000000001", "/elsewhere")
    with holder, pytest.raises(ImportLocked) as info:
        import_source(vault, root, format="langchain", backup_dir=tmp_path / "b")
    if vault.engine == "sqlite":
        assert "01900000-0000-7000-8000-000000000001" in str(info.value)
    assert "another import is running" in str(info.value)
    assert table_counts(vault) == {}
    # Released: the import now runs.
    assert import_source(vault, root, format="langchain", backup_dir=tmp_path / "b").exit_code == 2


def test_source_changed_during_the_run_fails(vault: memvault.Vault, tmp_path: Path) -> None:
    root = write("workly", tmp_path / "src")
    victim = root / "data" / "memory" / "personality.json"
    touched: list[Any] = []

    def tamper(event: ProgressEvent) -> None:
        if not touched:
            touched.append(event)
            victim.write_text(victim.read_text("utf-8") + " ", "utf-8")

    with pytest.raises(SourceChanged, match=r"personality\.json") as info:
        import_source(
            vault, root, format="workly", backup_dir=tmp_path / "b", progress=tamper,
            batch_rows=20, report=tmp_path / "r.json",
        )  # fmt: skip
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["run"]["status"] == "failed" and report["run"]["exit_code"] == 1
    assert report["run"]["source_changed"]
    # Never a silent partial: the error says what the failed run had stored.
    stored = table_counts(vault)
    assert stored.get("messages")
    assert "had stored " in str(info.value)
    assert f"{stored['messages']:,} messages" in str(info.value)
    assert report["run"]["error"] == str(info.value)


def test_reading_a_wal_database_is_not_a_source_change(
    sqlite_vault: memvault.Vault, tmp_path: Path
) -> None:
    """Reading a legacy SQLite database in WAL mode creates or touches its -wal and -shm:
    that is not a change of the source (its content is compared, the -shm is no data)."""
    root = write("edgesoul", tmp_path / "src")
    dbs = list(root.rglob("*.db"))
    assert dbs
    for db in dbs:
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    for wal in [*root.rglob("*.db-wal"), *root.rglob("*.db-shm")]:
        wal.unlink()
    first = import_source(sqlite_vault, root, format="edgesoul", backup_dir=tmp_path / "b")
    assert first.status != "failed", first.error
    assert list(root.rglob("*.db-shm"))  # the read made them
    again = import_source(sqlite_vault, root, format="edgesoul", backup_dir=tmp_path / "b")
    assert again.status != "failed", again.error


def test_mismatch_when_the_store_loses_rows(sqlite_vault: memvault.Vault, tmp_path: Path) -> None:
    """A store that silently drops some rows (here a trigger) is caught: exit 3."""
    root = write("langchain", tmp_path / "src")
    with sqlite_vault.store.write() as tx:
        tx.execute(
            "CREATE TRIGGER lose_one AFTER INSERT ON messages WHEN NEW.seq = 2 "
            "BEGIN DELETE FROM messages WHERE id = NEW.id; END"
        )
    result = import_source(sqlite_vault, root, format="langchain", backup_dir=tmp_path / "b")
    assert result.status == "mismatch" and result.exit_code == 3
    assert result.tables["messages"].missing > 0
    assert any("messages" in p and "missing" in p for p in result.problems)


def test_a_differing_row_is_named_by_its_legacy_record(
    sqlite_vault: memvault.Vault, tmp_path: Path
) -> None:
    """A verification line names the legacy file and record, not only the memvault id."""
    root = write("langchain", tmp_path / "src")
    with sqlite_vault.store.write() as tx:
        tx.execute(
            "CREATE TRIGGER garble AFTER INSERT ON messages WHEN NEW.seq = 2 "
            "BEGIN UPDATE messages SET content = 'garbled' WHERE id = NEW.id; END"
        )
    result = import_source(sqlite_vault, root, format="langchain", backup_dir=tmp_path / "b")
    assert result.status == "mismatch"
    differs = [p for p in result.problems if "stored content differs" in p]
    assert differs and all("(legacy langchain:" in p for p in differs), differs
