"""A legacy record holding what no engine can store (NaN, an integer beyond 64 bits, JSON nested
deeper than `validate.MAX_JSON_DEPTH`, NUL in its JSON) is quarantined with its field named; the
rest of the run is stored and verified — on SQLite, PostgreSQL 15 and PostgreSQL 18, from the
Python API and the CLI. (Such a record used to stop the whole import with a traceback.)"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import memvault
from memvault.cli import app
from memvault.migrate.pipeline import import_source
from memvault.migrate.quarantine import entries
from memvault.validate import MAX_JSON_DEPTH

MAPPING = {"files": ["*.ndjson"], "id": "id", "content": "text", "session": "thread"}
DEEP = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
LINES = [
    '{"id": "ok1", "thread": "t", "text": "fine"}',
    '{"id": "big", "thread": "t", "text": "x", "n": 123456789012345678901234567890}',
    '{"id": "nan", "thread": "t", "text": "x", "n": NaN}',
    '{"id": "inf", "thread": "t", "text": "x", "n": [1e999]}',
    '{"id": "deep", "thread": "t", "text": "x", "d": ' + DEEP + "}",
    '{"id": "nul", "thread": "t", "text": "x", "note": "a\\u0000b"}',
    # Repaired, as before: NUL in the text itself, lone surrogates anywhere.
    '{"id": "ok2", "thread": "t", "text": "nul\\u0000 and \\ud800", "k": "\\udfff"}',
]
BAD = {"big", "nan", "inf", "deep", "nul"}


def source(root: Path) -> Path:
    root.mkdir()
    (root / "chats.ndjson").write_text("\n".join(LINES) + "\n", "utf-8")
    return root


def test_unstorable_records_are_quarantined_naming_the_field(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    result = import_source(vault, source(tmp_path / "src"), format="generic", mapping=MAPPING,
                           backup=False)  # fmt: skip
    assert result.exit_code == 2 and result.status == "quarantined", result.error
    assert result.quarantined == len(BAD)
    listed = {q["reason"].split(":", 3)[2]: q for q in result.quarantine}
    assert set(listed) == BAD
    for entry in listed.values():
        assert entry["field"] == "metadata" and entry["file"] == "chats.ndjson"
    assert "NaN" in listed["nan"]["reason"] and "64-bit" in listed["big"]["reason"]
    assert f"deeper than {MAX_JSON_DEPTH}" in listed["deep"]["reason"]
    assert "NUL" in listed["nul"]["reason"]
    stored = entries(vault, result.run_id)
    assert len(stored) == len(BAD) and {e.field for e in stored} == {"metadata"}
    with vault.store.read() as tx:
        contents = sorted(str(r["content"]) for r in tx.all("SELECT content FROM messages"))
    assert contents == ["fine", "nul\ufffd and " + "\ufffd" * 3]  # as the sources repair


def test_the_cli_reports_them_without_a_traceback(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'v.db'}"
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps(MAPPING), "utf-8")
    result = CliRunner().invoke(app, ["import", str(source(tmp_path / "src")), "--format",
                                      "generic", "--mapping", str(mapping), "--db", db,
                                      "--no-backup", "--json"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    run = json.loads(result.output)["run"]
    assert run["status"] == "quarantined" and run["quarantined"] == len(BAD)
    assert {q["field"] for q in run["quarantine"]} == {"metadata"}


def test_plain_fields_are_checked_without_the_slow_path(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    """`storable` skips the call for ordinary text, numbers and None: NUL in a field the
    loader does not repair (a session title) is still refused naming that field, non-ASCII
    text in one still stored, NUL in the content still repaired."""
    root = tmp_path / "src"
    root.mkdir()
    lines = [
        {"id": "a", "thread": "t1", "title": "Réunion à Lyon ☕", "text": "déjà vu 🚀"},
        {"id": "b", "thread": "t2", "title": "bad\u0000title", "text": "x"},
        {"id": "c", "thread": "t3", "title": "plain", "text": "nul\u0000inside"},
    ]
    (root / "chats.ndjson").write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    mapping = {**MAPPING, "title": "title"}
    result = import_source(vault, root, format="generic", mapping=mapping, backup=False)
    # The session (its title) and the message (its record keeps the title) are refused.
    assert result.status == "quarantined" and result.quarantined == 2, result.error
    fields = {q["field"]: q["reason"] for q in result.quarantine}
    assert set(fields) == {"title", "metadata"}, fields
    assert fields["title"].startswith("generic:session:t2: title") and "NUL" in fields["title"]
    with vault.store.read() as tx:
        titles = sorted(str(r["title"]) for r in tx.all("SELECT title FROM sessions"))
        contents = sorted(str(r["content"]) for r in tx.all("SELECT content FROM messages"))
    assert titles == ["Réunion à Lyon ☕", "plain"]
    assert contents == ["déjà vu 🚀", "nul\ufffdinside"]
