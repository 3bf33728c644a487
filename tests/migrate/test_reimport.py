"""Progressive migration: the legacy system keeps running beside memvault and is imported
again. A re-import brings the legacy rows that changed up to date (and says so in the report)
and adds the new ones; when nothing changed it is a no-op."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import memvault
from memvault.migrate import import_source
from tests.migrate.legacy_data import DCM_DDL, DCM_S1, write_edgesoul, write_workly


def clean_dcm(base: Path) -> Path:
    """A routing.db without bad rows (so that a clean import exits 0)."""
    root = base / "dcm"
    path = root / "home" / ".claude" / "routing.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(DCM_DDL)
    conn.executemany(
        "INSERT INTO tool_usage (session_id, tool_name, tool_type, file_paths, exit_code,"
        " duration_ms, project_path, created_at) VALUES (?,?,?,?,?,?,?,?)",
        [
            (DCM_S1, "Read", "builtin", '["/home/u/p/a.py"]', 0, 12, "/home/u/p",
             "2025-12-01 10:00:00"),
            (DCM_S1, "Edit", "builtin", '["/home/u/p/a.py"]', 0, 40, "/home/u/p",
             "2025-12-01 10:00:05"),
        ],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO keyword_tool_scores (keyword, tool_name, tool_type, score, usage_count,"
        " success_count, last_used) VALUES (?,?,?,?,?,?,?)",
        [
            ("refactor", "Edit", "builtin", 1.2, 4, 3, "2025-11-01 10:00:00"),
            ("deploy", "mcp__vercel__deploy", "mcp", 2.5, 10, 9, "2025-11-03 12:00:00"),
        ],
    )
    conn.commit()
    conn.close()
    return root


def legacy_db(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(root / "home" / ".claude" / "routing.db")


def metadata(vault: memvault.Vault, score_id: str) -> dict:  # type: ignore[type-arg]
    with vault.store.read() as tx:
        row = tx.one("SELECT metadata FROM routing_scores WHERE id = :id", {"id": score_id})
        assert row is not None
        meta: dict = tx.json_out(row["metadata"])  # type: ignore[type-arg]
    return meta


def run(vault: memvault.Vault, root: Path, fmt: str, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    result = import_source(vault, root, format=fmt, backup_dir=tmp_path / "backups")
    report = result.as_dict()
    assert result.exit_code == 0, report["run"]
    store: dict = report["run"]["store"]  # type: ignore[type-arg]
    return store


def test_dcm_reimport_updates_changed_scores_and_adds_actions(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    root = clean_dcm(tmp_path)
    first = run(vault, root, "dcm", tmp_path)
    assert first["routing_scores"]["new"] == 2
    # The old hook keeps running: a success on "refactor"/Edit and one more tool use.
    with legacy_db(root) as conn:
        conn.execute(
            "UPDATE keyword_tool_scores SET score = 1.3, usage_count = 5, success_count = 4,"
            " last_used = '2025-12-05 09:30:00' WHERE keyword = 'refactor'"
        )
        conn.execute(
            "INSERT INTO tool_usage (session_id, tool_name, tool_type, file_paths, exit_code,"
            " duration_ms, project_path, created_at) VALUES (?, 'Bash', 'builtin', NULL, 0, 7,"
            " '/home/u/p', '2025-12-05 09:30:00')",
            (DCM_S1,),
        )
    conn.close()
    second = run(vault, root, "dcm", tmp_path)
    assert second["routing_scores"]["updated"] == 1
    assert second["routing_scores"]["unchanged"] == 1
    assert second["routing_scores"]["new"] == 0
    assert second["actions"]["new"] == 1 and second["actions"]["updated"] == 0
    [score] = vault.routing.scores(None, keyword="refactor")
    assert (score.weight, score.usage_count, score.success_count) == (1.3, 5, 4)
    assert len(vault.routing.scores(None)) == 2  # updated in place, not duplicated
    log = metadata(vault, score.id)["import_updates"]
    assert log[-1]["changed"]["weight"] == [1.2, 1.3]
    assert log[-1]["changed"]["usage_count"] == [4, 5]
    assert len(vault.actions.list(memvault.ANY)) == 3

    third = run(vault, root, "dcm", tmp_path)
    assert all(c["new"] == 0 and c["updated"] == 0 for c in third.values()), third
    [again] = vault.routing.scores(None, keyword="refactor")
    assert metadata(vault, again.id)["import_updates"] == log


def test_workly_reimport_updates_a_changed_trait(vault: memvault.Vault, tmp_path: Path) -> None:
    root = write_workly(tmp_path)
    result = import_source(vault, root, format="workly", backup_dir=tmp_path / "b")
    assert result.exit_code in (0, 2), result.as_dict()["run"]
    path = root / "data" / "memory" / "personality.json"
    data = json.loads(path.read_text("utf-8"))
    trait = data["traits"]["humor"]
    old = trait["score"]
    trait["score"] = round(min(1.0, old + 0.1), 4)
    trait["evolution_history"].append(
        {"timestamp": "2025-12-05T10:00:00", "old_score": old, "new_score": trait["score"],
         "delta": trait["score"] - old, "reason": "a good joke"}
    )  # fmt: skip
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    again = import_source(vault, root, format="workly", backup_dir=tmp_path / "b")
    store = again.as_dict()["run"]["store"]
    assert again.as_dict()["run"]["verification"]["problems"] == []
    assert store["traits"]["updated"] == 1
    assert store["trait_changes"]["new"] == 1
    user = vault.users.resolve("default")
    [humor] = [t for t in vault.traits.list(user.id) if t.name == "humor"]
    assert humor.value == trait["score"]
    history = vault.traits.history(user.id, agent=humor.agent, limit=10_000)
    assert any(c.reason == "a good joke" for c in history)
    third = import_source(vault, root, format="workly", backup_dir=tmp_path / "b")
    store = third.as_dict()["run"]["store"]
    changed = {t: c for t, c in store.items() if c["new"] or c["updated"]}
    assert changed == {}, changed  # its bad records were quarantined by the first run
    assert third.exit_code == 0 and third.quarantined_before == third.quarantined > 0


def test_edgesoul_profile_reaches_an_existing_user_and_follows_changes(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    # "default" already exists (another import made it): EdgeSoul's profile must still land.
    run(vault, clean_dcm(tmp_path), "dcm", tmp_path)
    root = write_edgesoul(tmp_path)
    import_source(vault, root, format="edgesoul", backup_dir=tmp_path / "b")
    default = vault.users.resolve("default").id
    assert vault.profiles.get(default).personality["empathy"] == 0.5
    # EdgeSoul keeps running: Amélie turns empathy up.
    db = root / "backend" / "data" / "edgesoul.db"
    db = db if db.exists() else next(root.rglob("edgesoul.db"))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE user_profiles SET empathy_level = 95 WHERE user_id = 'user_001'")
    conn.close()
    again = import_source(vault, root, format="edgesoul", backup_dir=tmp_path / "b")
    assert again.as_dict()["run"]["store"]["users"]["updated"] == 1
    amelie = vault.users.resolve("user_001").id
    assert vault.profiles.get(amelie).personality["empathy"] == 0.95
    third = import_source(vault, root, format="edgesoul", backup_dir=tmp_path / "b")
    assert third.as_dict()["run"]["store"]["users"]["updated"] == 0
