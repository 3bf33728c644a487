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

import pytest

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


def _store(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return report["run"]["store"]  # type: ignore[no-any-return]


def _written(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(new, updated) of every table that got either, quarantine aside."""
    return {
        table: (c["new"], c["updated"])
        for table, c in _store(report).items()
        if table != "quarantine" and (c["new"] or c["updated"])
    }


def _reimport_then_noop(cli: Cli, tree: Path, fmt: str) -> dict[str, Any]:
    """Import the mutated tree (no mismatch), then once more: nothing written."""
    code, report = run_import(cli, tree, fmt)
    assert code in (0, 2), (report["run"]["error"], report["run"]["verification"])
    assert report["run"]["verification"]["problems"] == []
    again_code, again = run_import(cli, tree, fmt)
    assert again_code == 0, again["run"]  # nothing new, no new quarantine
    assert _written(again) == {}, _written(again)
    assert cli("verify", "--against", str(tree)).returncode in (0, 3)
    return report


def _memories(cli: Cli, user: str) -> list[dict[str, Any]]:
    return cli.json("memories", "list", "--user", user, "--limit", "1000")  # type: ignore[no-any-return]


def test_edgesoul_reimport_brings_changed_rows_up_to_date(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("edgesoul", tmp_path / "edgesoul")
    run_import(cli, tree, "edgesoul")
    mutate("edgesoul", tree)
    report = _reimport_then_noop(cli, tree, "edgesoul")
    written = _written(report)
    assert written["memories"] == (1, 1)  # the cat adopted; Zürich → Genève edited
    assert written["users"] == (0, 1)  # name and humor level
    assert written["messages"][0] == 10  # the new browser export
    mine = {m["content"]: m for m in _memories(cli, "default")}
    assert "Lives in Zürich (note 9)" not in mine
    moved = mine["Lives in Genève now (moved)"]
    assert moved["confidence"] == pytest.approx(0.99)
    history = cli.json("memories", "history", moved["id"])
    assert any(h["reason"] and "re-import" in h["reason"] for h in history), history
    user = cli.json("users", "show", "user_001")
    assert user["display_name"] == "Navin K."
    assert user["profile"]["personality"]["humor"] == pytest.approx(0.95)


def test_workly_reimport_brings_changed_rows_up_to_date(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("workly", tmp_path / "workly")
    run_import(cli, tree, "workly")
    mutate("workly", tree)
    report = _reimport_then_noop(cli, tree, "workly")
    written = _written(report)
    assert written["messages"] == (0, 1)  # the edited message
    assert written["memories"] == (1, 1)  # Besançon new; Lyon seen again: updated, not merged
    assert written["traits"] == (0, 1)
    assert _store(report)["memories"]["merged"] <= 1  # the source's own duplicate preference
    lyon = next(m for m in _memories(cli, "default") if m["content"] == "Lyon")
    assert lyon["confidence"] == pytest.approx(0.95)
    assert lyon["metadata"]["occurrences"] == 9
    sessions = cli.json("sessions", "list", "--user", "default")
    texts = [
        m["content"] for s in sessions for m in cli.json("sessions", "show", s["id"])["messages"]
    ]
    assert "Salut Workly (édité) !" in texts


def test_ait42_reimport_brings_changed_rows_up_to_date(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("ait42", tmp_path / "ait42")
    run_import(cli, tree, "ait42")
    mutate("ait42", tree)
    report = _reimport_then_noop(cli, tree, "ait42")
    written = _written(report)
    assert written["sessions"][1] >= 1  # the session (its first instance if it changed)
    assert written["messages"] == (1, 0)
    found = [
        s
        for s in cli.json("sessions", "list", "--user", "default", "--limit", "500")
        if (s.get("title") or "").endswith(" (v2)")
    ]
    assert len(found) == 1 and found[0]["status"] == "completed"
    assert found[0]["ended_at"] is not None


def test_lilith_reimport_updates_and_then_is_a_noop(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("lilith", tmp_path / "lilith")
    run_import(cli, tree, "lilith")
    mutate("lilith", tree)
    report = _reimport_then_noop(cli, tree, "lilith")
    assert _written(report)["response_patterns"] == (1, 1)


def _counts_add_up(entities: dict[str, dict[str, Any]]) -> None:
    for name, e in entities.items():
        assert e["source"] == e["matched"] + e["missing"], (name, e)
        assert e["store"] <= e["matched"] + e["extra"], (name, e)  # merged records share a row
        assert e["changed"] <= e["matched"], (name, e)


def test_verify_counts_add_up_and_name_the_drift(cli: Cli, tmp_path: Path) -> None:
    """Before the re-import, verify sees every legacy change: an edited memory and a new
    display name as changed, a deleted memory as extra (in the store only), and its
    store count is the rows it holds (matched + extra)."""
    tree = legacy("edgesoul", tmp_path / "edgesoul")
    run_import(cli, tree, "edgesoul")
    mutate("edgesoul", tree)
    drift = cli("verify", "--against", str(tree), "--json")
    assert drift.returncode == 3
    entities = json.loads(drift.stdout)["entities"]
    _counts_add_up(entities)
    memories = entities["memories"]
    assert (memories["source"], memories["store"], memories["matched"]) == (71, 71, 70)
    assert (memories["missing"], memories["extra"], memories["changed"]) == (1, 1, 1)
    assert "Genève" in memories["changed_ids"][0]
    assert entities["users"]["changed"] == 1
    assert "Navin K." in entities["users"]["changed_ids"][0]
    text = cli("verify", "--against", str(tree)).stdout
    assert "only in the store" in text and "only in the source" in text


def test_verify_workly_entity_seen_again_is_changed_not_extra(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("workly", tmp_path / "workly")
    run_import(cli, tree, "workly")
    mutate("workly", tree)
    entities = json.loads(cli("verify", "--against", str(tree), "--json").stdout)["entities"]
    _counts_add_up(entities)
    memories = entities["memories"]
    assert memories["extra"] == 0, memories["extra_ids"]
    assert memories["changed"] == 1 and "0.95" in memories["changed_ids"][0]
    assert memories["missing"] == 1  # Besançon, not imported yet


def test_reimport_adds_no_quarantine_twice_and_is_a_clean_noop(cli: Cli, tmp_path: Path) -> None:
    """The same bad record of an unchanged source is quarantined once, however many times
    it is imported; the unchanged re-import exits 0 and says the record is still bad."""
    tree = legacy("ait42", tmp_path / "ait42")
    code, first = run_import(cli, tree, "ait42")
    assert code == 2 and first["run"]["quarantined"] == 1
    for _ in range(2):
        code, again = run_import(cli, tree, "ait42")
        assert code == 0, again["run"]
        assert again["run"]["quarantined_before"] == 1
        assert _written(again) == {} and _store(again)["quarantine"]["new"] == 0
    assert cli.json("stats")["counts"]["quarantine"] == 1
    text = " ".join(cli("import", str(tree), "--format", "ait42", "--no-embed").stdout.split())
    assert "quarantined by an earlier import" in text


def test_records_deleted_in_the_source_are_kept_and_said(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("lilith", tmp_path / "lilith")
    run_import(cli, tree, "lilith")
    mutate("lilith", tree)  # alice deleted one of her patterns
    _, report = run_import(cli, tree, "lilith")
    assert report["run"]["no_longer_in_source"] == {"response_patterns": 1}
    assert "1 stored record(s) are no longer in the source" in report["run"]["note"]
    text = " ".join(cli("import", str(tree), "--format", "lilith", "--no-embed").stdout.split())
    assert "no longer in the source" in text and "verify --against" in text


def test_a_quarantined_ait42_message_shifts_no_other(cli: Cli, tmp_path: Path) -> None:
    """One message of a session turns bad (an unknown role) after the import: it is
    quarantined on the re-import, and the messages after it are not 'stored content
    differs' (their seq is their place in the legacy history, not a running count)."""
    tree = legacy("ait42", tmp_path / "ait42")
    run_import(cli, tree, "ait42")
    for path in sorted((tree / "home" / ".ait42" / "sessions").glob("*.json")):
        sessions = json.loads(path.read_text("utf-8") or "null")
        target = next((s for s in sessions or [] if len(s.get("chatHistory", [])) >= 3), None)
        if target is not None:
            target["chatHistory"][0]["role"] = "robot"
            path.write_text(json.dumps(sessions, ensure_ascii=False, indent=2), "utf-8")
            break
    else:
        pytest.fail("no session with three messages")
    code, report = run_import(cli, tree, "ait42")
    assert report["run"]["verification"]["problems"] == []
    assert code == 2, report["run"]
    assert any("role" in (q["field"] or "") for q in report["run"]["quarantine"])


def _by_id(files: list[Path], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in files:
        try:
            data = json.loads(path.read_text("utf-8"))
        except ValueError:  # the tree's deliberately broken files
            continue
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get(key), str):
                out.setdefault(entry[key], entry)
    return out


def test_ait42_export_keeps_updated_at_as_written(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("ait42", tmp_path / "ait42")
    run_import(cli, tree, "ait42")
    cli.ok("export", "--format", "ait42", "--out", str(tmp_path / "back"))
    before = _by_id(list(tree.rglob("*.json")), "id")
    after = _by_id(list((tmp_path / "back").rglob("*.json")), "id")
    shared = [sid for sid in after if sid in before and "updatedAt" in before[sid]]
    assert len(shared) > 10
    for sid in shared:
        assert after[sid]["updatedAt"] == before[sid]["updatedAt"], sid


def test_lilith_export_gives_back_the_embedding_values(cli: Cli, tmp_path: Path) -> None:
    tree = legacy("lilith", tmp_path / "lilith")
    run_import(cli, tree, "lilith")
    cli.ok("export", "--format", "lilith", "--out", str(tmp_path / "back"))
    before = _by_id(list(tree.rglob("*.json")), "fragment_id")
    after = _by_id(list((tmp_path / "back").rglob("*.json")), "fragment_id")
    cached = [f for f, p in before.items() if p.get("embedding_cache") and f in after]
    assert cached
    for fragment in cached:
        assert after[fragment]["embedding_cache"] == before[fragment]["embedding_cache"]


def test_an_import_names_the_user_it_writes_into(cli: Cli, tmp_path: Path) -> None:
    """Data naming no user from two systems lands in one 'default' user: the second
    import says it wrote into an existing user, and points at --user."""
    run_import(cli, legacy("edgesoul", tmp_path / "edgesoul"), "edgesoul")
    workly_tree = legacy("workly", tmp_path / "workly")
    out = cli("import", str(workly_tree), "--format", "workly", "--no-embed")
    text = " ".join(out.stdout.split())
    assert "users written: default (existing, already in the store)" in text
    assert "--user NAME" in text
    _, again = run_import(cli, workly_tree, "workly")
    assert again["run"]["users"] == {"default": "existing"}
    fresh = cli("import", str(workly_tree), "--format", "workly", "--no-embed", "--user", "amelie")
    assert "users written: amelie (new" in " ".join(fresh.stdout.split())


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("ait42", "`memvault sessions list`"),
        ("edgesoul", "`memvault users show USER`"),
    ],
)
def test_an_import_says_where_its_data_shows(
    cli: Cli, tmp_path: Path, kind: str, said: str
) -> None:
    """After an AIT42 import `memvault tasks` is empty and after an EdgeSoul import
    `memvault traits` is: the summary says where that data is instead."""
    out = cli("import", str(legacy(kind, tmp_path / kind)), "--format", kind, "--no-embed")
    assert said in " ".join(out.stdout.split()), out.stdout[-2000:]


def test_sessions_show_of_a_competition_lists_its_instances(cli: Cli, tmp_path: Path) -> None:
    run_import(cli, legacy("ait42", tmp_path / "ait42"), "ait42")
    parents = [s for s in cli.json("sessions", "list", "--limit", "500") if s["kind"] != "instance"]
    shown = cli.json("sessions", "show", parents[0]["id"])
    assert shown["instances"] and all(i["kind"] == "instance" for i in shown["instances"])
    text = cli.ok("sessions", "show", parents[0]["id"]).stdout
    assert f"{len(shown['instances'])} instance(s):" in text


def test_edgesoul_trend_shows_while_no_newer_events(cli: Cli, tmp_path: Path) -> None:
    """EdgeSoul's recorded trend (increasing/decreasing) is what `memvault emotions`
    shows for an imported pattern until recorded events give a trend of their own."""
    import sqlite3

    tree = legacy("edgesoul", tmp_path / "edgesoul")
    with sqlite3.connect(tree / "backend" / "data" / "edgesoul.db") as conn:
        legacy_trends = dict(
            conn.execute("SELECT emotion, trend FROM emotional_patterns WHERE user_id = 'default'")
        )
    conn.close()
    assert "increasing" in legacy_trends.values() and "decreasing" in legacy_trends.values()
    run_import(cli, tree, "edgesoul")
    shown = {p["emotion"]: p["trend"] for p in cli.json("emotions", "default")["patterns"]}
    for emotion, trend in legacy_trends.items():
        assert shown[emotion] == trend, (emotion, shown)


def test_workly_export_gives_back_every_preference(cli: Cli, tmp_path: Path) -> None:
    """Workly never de-duplicates preferences: a repeated one is one memory here, and the
    export writes it back as many times as the legacy file had it."""
    tree = legacy("workly", tmp_path / "workly")
    facts = tree / "data" / "memory" / "facts.json"
    before = json.loads(facts.read_text("utf-8"))
    run_import(cli, tree, "workly")
    cli.ok("export", "--format", "workly", "--out", str(tmp_path / "back"))
    after = json.loads((tmp_path / "back" / "data" / "memory" / "facts.json").read_text("utf-8"))
    for section in ("preferences", "entities", "events", "relationships"):
        assert len(after[section]) == len(before[section]), section
    key = ("category", "subject", "sentiment", "context")
    assert sorted(tuple(p.get(k) for k in key) for p in after["preferences"]) == sorted(
        tuple(p.get(k) for k in key) for p in before["preferences"]
    )
    assert not any("import_updates" in f or "legacy_digest" in f for s in after.values() for f in s)
