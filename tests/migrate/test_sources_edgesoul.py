"""EdgeSoul reader: every database row loads; exports are validated and de-duplicated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from memvault.migrate.sources import edgesoul
from memvault.migrate.sources._base import ScanOptions
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import EDGESOUL_SESSION, write_edgesoul

EXPECTED = {
    "entities": {
        "user_profiles": 3, "memories": 4, "emotional_patterns": 2, "conversation_contexts": 2,
        "context_messages": 3, "chat_export_records": 4,
    },
    "bad_records": {"chat_export_records_invalid": 2},
    "bad_records_total": 2,
    "duplicates": {"chat_export_records_dropped": 3},  # incl. the cut file's first record
    "warnings": {"conversation_contexts_empty": 1},
    "corrupt_files": ["exports/edgesoul-chats-broken.json"],
}  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_edgesoul(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    assert edgesoul.scan(root).run().as_dict() == EXPECTED


def test_profiles_memories_and_patterns(root: Path) -> None:
    got = collect(edgesoul.scan(root))
    users = {u.handle: u for u in got["UserRec"]}
    assert list(users) == ["default", "user_001", EDGESOUL_SESSION, "ghost"]
    amelie = users["user_001"]
    assert amelie.display_name == "Amélie"
    assert amelie.profile["interests"] == ["cuisine", "vélo", "jazz 🎷"]
    assert amelie.created_at == datetime(2025, 10, 28, 8, 0, 0, 1, tzinfo=UTC)
    mems = {m.metadata["memory_id"]: m for m in got["MemoryRec"]}
    coffee = mems["user_001_1761597639.307292"]
    assert (coffee.kind, coffee.content, coffee.confidence) == (
        "preference", "Aime le café très noir ☕", 0.9
    )  # fmt: skip
    assert mems["ghost_1761700000.25"].owner_handle == "ghost"
    patterns = {p.emotion: p for p in got["EmotionPatternRec"]}
    assert patterns["joy"].avg_intensity == 0.88
    assert patterns["anxiety"].avg_intensity == 0.65  # 0–100 scale normalised
    assert patterns["joy"].time_patterns == {"09:00": 3, "21:00": 9}


def test_local_clock_option(root: Path) -> None:
    paris = timezone(timedelta(hours=1))
    got = collect(edgesoul.scan(root, ScanOptions(local_tz=paris)))
    mem = next(m for m in got["MemoryRec"] if m.metadata["memory_id"] == "user_001_1761597640.1")
    assert mem.created_at == datetime(2025, 10, 27, 20, 40, 40, 100000, tzinfo=UTC)


def test_context_and_export_messages(root: Path) -> None:
    got = collect(edgesoul.scan(root))
    sessions = by_key(got["SessionRec"])
    assert len(sessions) == 3
    ctx_msgs = [m for m in got["MessageRec"] if ":conversation_contexts:" in m.session_source_key]
    assert [(m.seq, m.role) for m in ctx_msgs[:2]] == [(1, "user"), (2, "assistant")]
    assert ctx_msgs[0].emotion == "joy" and ctx_msgs[0].content == "Salut ! Ça va ?"
    export = [m for m in got["MessageRec"] if m.session_source_key == "edgesoul:export:user_001"]
    assert len(export) == 8 and [m.seq for m in export] == list(range(1, 9))
    assert export[0].created_at == datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
    assert export[5].created_at == datetime(2025, 11, 1, 8, 2, 0, 500000, tzinfo=UTC)
    bad = sorted((q.record_index, q.field) for q in got["Quarantined"] if not q.whole_file)
    assert bad == [(1, None), (3, "timestamp"), (4, "id")]  # 1: the cut file's tail


def test_backup_database_is_not_read(root: Path) -> None:
    got = collect(edgesoul.scan(root))
    assert all("backups" not in m.source_key for m in got["MemoryRec"])


def test_corrupt_database(tmp_path: Path) -> None:
    db = tmp_path / "backend" / "data" / "edgesoul.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    scan = edgesoul.scan(tmp_path)
    got = collect(scan)
    assert scan.report.corrupt_files == ["backend/data/edgesoul.db"]
    assert got["Quarantined"][0].whole_file
