"""memvault verify --against: a store against another store, and against a legacy tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sqlean

import memvault
from memvault.migrate.pipeline import import_source
from memvault.migrate.transfer import transfer
from memvault.migrate.verify import verify_against
from tests.migrate.legacy_data import write_dcm, write_edgesoul, write_workly
from tests.migrate.test_transfer import MEMVAULT, REPO, populate, sqlite_url


def test_store_against_store_lists_missing_extra_changed(tmp_path: Path) -> None:
    src = sqlite_url(tmp_path / "a.db")
    populate(src, messages=10)
    dst = sqlite_url(tmp_path / "b.db")
    assert transfer(src, dst).ok
    assert verify_against(dst, src).ok

    conn = sqlean.connect(str(tmp_path / "b.db"))
    ids = [r[0] for r in conn.execute("SELECT id FROM messages ORDER BY id").fetchall()]
    conn.execute("UPDATE messages SET content = 'changed' WHERE id = ?", (ids[0],))
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("DELETE FROM messages WHERE id = ?", (ids[1],))
    conn.execute("UPDATE users SET display_name = 'Bob' WHERE handle = 'alice'")
    conn.commit()
    conn.close()
    report = verify_against(dst, src)
    assert not report.ok
    messages = report.entities["messages"]
    assert (messages.source_count, messages.store_count) == (10, 9)
    assert messages.changed == [ids[0]] and messages.missing == [ids[1]]
    assert report.entities["users"].changed_total == 1
    assert {d.entity for d in report.drift} == {"messages", "users"}

    proc = subprocess.run(
        [*MEMVAULT, "verify", "--against", src, "--db", dst, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 3
    assert '"missing": 1' in proc.stdout


def test_store_against_legacy_tree(tmp_path: Path) -> None:
    root = write_workly(tmp_path / "legacy")
    url = sqlite_url(tmp_path / "vault.db")
    with memvault.open(url) as vault:
        import_source(vault, root, format="workly", backup=False)
    report = verify_against(url, str(root))
    assert report.ok, report.as_dict()
    assert report.entities["messages"].source_count > 0
    assert report.entities["messages"].source_count == report.entities["messages"].store_count

    # Drift: a message edited in memvault, a fact deleted, and a message written after the
    # cutover only in memvault (with a workly source key it does not have in the tree).
    conn = sqlean.connect(str(tmp_path / "vault.db"))
    mid, sid, uid, meta = conn.execute(
        "SELECT id, session_id, user_id, metadata FROM messages ORDER BY id LIMIT 1"
    ).fetchone()
    conn.execute("UPDATE messages SET content = 'edited' WHERE id = ?", (mid,))
    fact = conn.execute("SELECT id FROM memories WHERE kind = 'fact' LIMIT 1").fetchone()[0]
    conn.execute("DELETE FROM memories WHERE id = ?", (fact,))
    conn.execute(
        "INSERT INTO messages (id, session_id, user_id, seq, role, content, metadata, created_at) "
        "VALUES ('00000000-0000-7000-8000-000000000001', ?, ?, 9999, 'user', 'new', "
        "'{\"source_key\": \"workly:new\"}', '2026-01-01T00:00:00.000000Z')",
        (sid, uid),
    )
    conn.commit()
    conn.close()
    report = verify_against(url, str(root))
    assert not report.ok
    assert report.entities["messages"].changed_total == 1
    # An extra row is named by its legacy key and its memvault id; the counts add up.
    assert report.entities["messages"].extra == [
        "workly:new (memvault id 00000000-0000-7000-8000-000000000001)"
    ]
    messages = report.entities["messages"]
    assert messages.store_count == messages.matched + messages.extra_total
    assert messages.source_count == messages.matched + messages.missing_total
    assert report.entities["memories"].missing_total == 1
    del meta


def test_legacy_tree_comparison_covers_routing_scores_and_pattern_baselines(
    tmp_path: Path,
) -> None:
    dcm_root = write_dcm(tmp_path / "legacy")
    soul_root = write_edgesoul(tmp_path / "legacy")
    url = sqlite_url(tmp_path / "vault.db")
    with memvault.open(url) as vault:
        import_source(vault, dcm_root, format="dcm", backup=False)
        import_source(vault, soul_root, format="edgesoul", backup=False)
    for root in (dcm_root, soul_root):
        report = verify_against(url, str(root))
        assert report.ok, report.as_dict()
    assert verify_against(url, str(dcm_root)).entities["routing_scores"].source_count == 3
    assert verify_against(url, str(dcm_root)).entities["projects"].store_count == 2
    assert verify_against(url, str(soul_root)).entities["emotion_events"].store_count == 16

    conn = sqlean.connect(str(tmp_path / "vault.db"))
    conn.execute("UPDATE routing_scores SET weight = 9.0 WHERE keyword = 'refactor'")
    conn.execute("DELETE FROM emotion_events WHERE emotion = 'anxiety' AND trigger IS NULL")
    conn.commit()
    conn.close()
    report = verify_against(url, str(dcm_root))
    assert not report.ok
    drift = report.entities["routing_scores"]
    assert drift.changed == ["refactor/Edit: weight 1.4 -> 9.0"]
    report = verify_against(url, str(soul_root))
    events = report.entities["emotion_events"]
    assert events.missing_total == 3  # each lost baseline event counts: source = matched + missing
    assert events.source_count == events.matched + events.missing_total
    assert "emotional_patterns" in events.missing[0] and "(3 baseline events)" in events.missing[0]
