"""Imports that tell the truth: every format takes what its users hold (a file, a folder, a
zip), `auto` finds each layout, an import that stores nothing fails and says why, and a cut
file keeps every complete record before the cut."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memvault
from memvault.errors import InvalidInput
from memvault.migrate import import_source
from memvault.migrate.report import EXIT_CLEAN, EXIT_FAILED, EXIT_QUARANTINED
from memvault.migrate.sources import detect, scan
from memvault.migrate.sources.records import Quarantined
from tests.migrate import legacy_data as ld
from tests.migrate.chatgpt_export import complete_before, write_export, zip_export


def open_vault(tmp_path: Path, name: str = "v.db") -> memvault.Vault:
    return memvault.open(f"sqlite:///{tmp_path / name}")


def session_ids(vault: memvault.Vault) -> set[str]:
    with vault.store.read() as tx:
        rows = tx.all("SELECT metadata FROM sessions")
        return {tx.json_out(r["metadata"])["id"] for r in rows}


# -- ChatGPT: the folder, the file, the zip, and auto -------------------------------------


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, int]:
    base = tmp_path_factory.mktemp("chatgpt")
    made = write_export(base / "export", 40)
    archive = zip_export(made.folder, base / "chatgpt-export.zip")
    return made.folder, archive, len(made.ids), made.total_messages


@pytest.mark.parametrize("fmt", ["chatgpt", "auto"])
@pytest.mark.parametrize("held", ["folder", "file", "zip"])
def test_chatgpt_export_as_held(
    tmp_path: Path, export: tuple[Path, Path, int, int], held: str, fmt: str
) -> None:
    folder, archive, n_conv, n_msg = export
    source = {"folder": folder, "file": folder / "conversations.json", "zip": archive}[held]
    with open_vault(tmp_path) as vault:
        result = import_source(vault, source, format=fmt, backup=False)
        assert (result.status, result.exit_code, result.error) == ("completed", EXIT_CLEAN, None)
        assert list(result.formats) == ["chatgpt"]
        assert result.formats["chatgpt"].entities["conversations"] == n_conv
        stats = vault.stats().counts
        assert (stats["sessions"], stats["messages"]) == (n_conv, n_msg)


def test_zip_quarantine_names_the_member(tmp_path: Path) -> None:
    made = write_export(tmp_path / "export", 5)
    made.file.write_text(made.file.read_text("utf-8")[:-400], "utf-8")
    archive = zip_export(made.folder, tmp_path / "export.zip")
    with open_vault(tmp_path) as vault:
        result = import_source(vault, archive, format="auto", backup=False)
    assert result.exit_code == EXIT_QUARANTINED
    assert [q["file"] for q in result.quarantine] == ["export.zip/conversations.json"]


def test_zip_backup_and_fingerprint_are_of_the_zip(tmp_path: Path) -> None:
    made = write_export(tmp_path / "export", 3)
    archive = zip_export(made.folder, tmp_path / "export.zip")
    with open_vault(tmp_path) as vault:
        result = import_source(vault, archive, format="chatgpt")
    assert result.exit_code == EXIT_CLEAN
    copied = Path(result.backup["dir"]) / "source" / "export.zip"
    assert copied.read_bytes() == archive.read_bytes()


# -- every format: a file, its folder, and what auto detects --------------------------------


def _held(base: Path) -> dict[str, list[tuple[str, Path]]]:
    """For each format: (what the user holds, path) pairs built from the legacy trees."""
    ld.write_all(base)
    home = base / "ait42" / "home"
    lilith, workly = base / "lilith", base / "workly" / "data" / "memory"
    edgesoul, dcm = base / "edgesoul", base / "dcm" / "home" / ".claude"
    return {
        "ait42": [("home folder", home), (".ait42", home / ".ait42"),
                  ("sessions/", home / ".ait42" / "sessions"),
                  ("v3 file", home / ".ait42" / "sessions" / "04cc6cd0a462ef43.json"),
                  ("v2 file", home / ".ait42" / "sessions.json")],
        "lilith": [("working folder", lilith),
                   ("pattern file", lilith / "response_patterns.json")],
        "edgesoul": [("backend", edgesoul),
                     ("database file", next(edgesoul.glob("**/edgesoul.db"))),
                     ("export file",
                      edgesoul / "exports" / "edgesoul-chats-user_001-2025-11-01.json")],
        "workly": [("app folder", base / "workly"), ("data/memory", workly),
                   ("one file", workly / "personality.json")],
        "dcm": [("~/.claude", dcm), ("routing.db", dcm / "routing.db")],
        "chatgpt": [("unzipped export", base / "chatgpt" / "export-2025-06"),
                    ("conversations.json",
                     base / "chatgpt" / "export-2025-01" / "conversations.json")],
        "langchain": [("history file", base / "langchain" / "chat_history.json"),
                      ("folder", base / "langchain")],
    }  # fmt: skip


def test_every_format_reads_and_detects_each_layout(tmp_path: Path) -> None:
    held = _held(tmp_path)
    failures = []
    for fmt, cases in held.items():
        for what, path in cases:
            assert path.exists(), (fmt, what, path)
            found = [d.format for d in detect(path)]
            if fmt not in found:
                failures.append(f"{fmt} {what}: detect found {found}")
            records = [r for r in scan(fmt, path).records() if not isinstance(r, Quarantined)]
            data = [r for r in records if type(r).__name__ != "UserRec"]
            if not data:
                failures.append(f"{fmt} {what}: no records read")
    assert not failures, failures


def test_detect_a_file_is_one_format(tmp_path: Path) -> None:
    held = _held(tmp_path)
    for fmt, cases in held.items():
        for what, path in cases:
            if path.is_file():
                assert [d.format for d in detect(path)] == [fmt], (fmt, what)


def test_edgesoul_and_dcm_databases_are_told_apart_by_their_tables(tmp_path: Path) -> None:
    held = _held(tmp_path)
    db = dict(held["dcm"])["routing.db"]
    copy = tmp_path / "backup-2025.sqlite"
    shutil.copy(db, copy)
    assert [d.format for d in detect(copy)] == ["dcm"]
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert detect(other) == []


# -- nothing stored is never a success ----------------------------------------------------


def test_empty_folder_fails_and_says_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with open_vault(tmp_path) as vault:
        result = import_source(vault, tmp_path / "empty", format="chatgpt", backup=False)
        with pytest.raises(InvalidInput, match="no known legacy format"):
            import_source(vault, tmp_path / "empty", format="auto", backup=False)
    assert (result.status, result.exit_code) == ("failed", EXIT_FAILED)
    assert result.error is not None
    assert "no chatgpt data found" in result.error and "conversations.json" in result.error


@pytest.mark.parametrize("dry_run", [False, True])
def test_files_without_records_fail(tmp_path: Path, dry_run: bool) -> None:
    (tmp_path / "conversations.json").write_text("[]")
    with open_vault(tmp_path) as vault:
        result = import_source(
            vault, tmp_path / "conversations.json", format="chatgpt", dry_run=dry_run,
            backup=False,
        )  # fmt: skip
    assert result.exit_code == EXIT_FAILED
    assert result.error is not None and "hold no records" in result.error
    assert "conversations.json" in result.error


def test_every_record_refused_fails(tmp_path: Path) -> None:
    bad = [{"id": f"c{i}", "title": "no mapping"} for i in range(3)]
    (tmp_path / "conversations.json").write_text(json.dumps(bad))
    with open_vault(tmp_path) as vault:
        result = import_source(vault, tmp_path, format="chatgpt", backup=False)
    assert result.exit_code == EXIT_FAILED
    assert result.error is not None and "every record" in result.error
    assert "3 quarantined" in result.error and "mapping" in result.error
    assert len(result.quarantine) == 3


def test_rerun_stores_nothing_new_and_says_so(tmp_path: Path) -> None:
    made = write_export(tmp_path / "export", 4)
    with open_vault(tmp_path) as vault:
        first = import_source(vault, made.folder, format="chatgpt", backup=False)
        again = import_source(vault, made.folder, format="chatgpt", backup=False)
    assert first.exit_code == again.exit_code == EXIT_CLEAN
    assert first.note is None
    assert again.note is not None and "already in the store" in again.note


# -- a cut export keeps every complete record before the cut ------------------------------


@pytest.fixture(scope="module")
def cut_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    made = write_export(tmp_path_factory.mktemp("cut") / "export", 12, seed=3)
    return made.file.read_text("utf-8"), made.ids


@settings(
    max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(fraction=st.floats(0.0, 0.999))
def test_truncated_chatgpt_export_keeps_the_complete_prefix(
    tmp_path_factory: pytest.TempPathFactory, cut_source: tuple[str, list[str]], fraction: float
) -> None:
    text, ids = cut_source
    data = text.encode("utf-8")
    cut = int(len(data) * fraction)
    complete = complete_before(text, cut)
    work = tmp_path_factory.mktemp("run")
    (work / "conversations.json").write_bytes(data[:cut])
    with open_vault(work) as vault:
        result = import_source(vault, work / "conversations.json", format="chatgpt", backup=False)
        stored = session_ids(vault)
    assert stored == set(ids[:complete])
    if complete == 0:
        assert result.exit_code == EXIT_FAILED  # nothing imported: never a success
        assert result.error is not None
    else:
        assert result.exit_code == EXIT_QUARANTINED, result.error
        [tail] = result.quarantine
        assert tail["location"].startswith(f"record {complete}")
        assert "truncated" in tail["reason"] and f"{complete} complete" in tail["reason"]


# Every JSON-array format: a cut file gives exactly the records of its complete prefix.
ARRAY_FILES = {
    "ait42": "ait42/home/.ait42/sessions/04cc6cd0a462ef43.json",
    "lilith": "lilith/response_patterns.json",
    "edgesoul": "edgesoul/exports/edgesoul-chats-user_001-2025-11-01.json",
    "langchain": "langchain/sessions/abc123.json",
    "chatgpt": "chatgpt/export-2025-06/conversations.json",
}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ld.write_all(tmp_path_factory.mktemp("legacy"))


def _keys(fmt: str, path: Path) -> tuple[set[str], list[Quarantined]]:
    records = list(scan(fmt, path).records())
    kept = {r.source_key for r in records if not isinstance(r, Quarantined)}
    return kept, [r for r in records if isinstance(r, Quarantined)]


@settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(fmt=st.sampled_from(sorted(ARRAY_FILES)), fraction=st.floats(0.0, 0.999))
def test_every_array_format_keeps_the_complete_prefix_of_a_cut_file(
    tmp_path_factory: pytest.TempPathFactory, legacy: Path, fmt: str, fraction: float
) -> None:
    source = legacy / ARRAY_FILES[fmt]
    data = source.read_bytes()
    if fmt == "chatgpt":  # {"conversations": [...]}: compare against the array inside
        text = json.dumps(json.loads(data)["conversations"], ensure_ascii=False)
        data = text.encode("utf-8")
    text = data.decode("utf-8")
    cut = int(len(data) * fraction)
    complete = complete_before(text, cut)
    work = tmp_path_factory.mktemp(fmt)
    (work / "cut").mkdir()
    (work / "prefix").mkdir()
    cut_file = work / "cut" / source.name
    cut_file.write_bytes(data[:cut])
    items = json.loads(text)[:complete]
    prefix_file = work / "prefix" / source.name
    prefix_file.write_text(json.dumps(items, ensure_ascii=False), "utf-8")
    got, bad = _keys(fmt, cut_file)
    want, _ = _keys(fmt, prefix_file)
    if complete:
        assert got == want
        tails = [q for q in bad if q.reason.startswith("truncated file")]
        assert [t.record_index for t in tails] == [complete]
        assert data[:cut].endswith(tails[0].raw)  # the quarantine keeps the lost bytes
    elif data[:cut].strip():  # nothing complete: nothing but the owner (a blank file is an
        # empty collection by contract, e.g. an empty LangChain history)
        assert {k for k in got if ":user:" not in k} == set()
