"""A user moving off ChatGPT: `memvault import` on the export as they hold it - the unzipped
folder, its conversations.json, the zip - with --format auto, then a cut file and an empty
folder, checking exit codes, what the output says, the report and what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.journeys.conftest import Cli
from tests.migrate.chatgpt_export import Export, complete_before, write_export, zip_export

N = 300


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Export, Path]:
    base = tmp_path_factory.mktemp("download")
    made = write_export(base / "chatgpt-export", N)
    return made, zip_export(made.folder, base / "chatgpt-export.zip")


@pytest.mark.parametrize("held", ["folder", "file", "zip"])
def test_import_the_export_as_held_with_auto(
    cli: Cli, export: tuple[Export, Path], held: str
) -> None:
    made, archive = export
    source = {"folder": made.folder, "file": made.file, "zip": archive}[held]
    run = cli("import", str(source), "--format", "auto", "--report", "report.json")
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    assert f"{N:,}" in run.stdout and "conversations" in run.stdout
    counts = cli.json("stats")["counts"]
    assert counts["sessions"] == N
    assert counts["messages"] == made.total_messages
    # a conversation's messages read back, in order, from the store
    exported = json.loads(cli.ok("export", "--format", "json").stdout)
    text = json.dumps(exported, ensure_ascii=False)
    some = made.ids[N // 2]
    assert made.first_user_text[some] in text
    report = json.loads((cli.cwd / "report.json").read_text("utf-8"))
    assert report["run"]["status"] == "completed" and report["run"]["quarantine"] == []
    # importing it again stores nothing new, and says so: still a success
    again = cli("import", str(source), "--format", "auto")
    assert again.returncode == 0 and "already in the store" in again.stdout
    assert cli.json("stats")["counts"]["sessions"] == N


def test_a_cut_export_keeps_what_is_complete(cli: Cli, export: tuple[Export, Path]) -> None:
    made, _ = export
    text = made.file.read_text("utf-8")
    data = text.encode("utf-8")
    cut = len(data) * 2 // 3
    folder = cli.cwd / "cut-export"
    folder.mkdir()
    (folder / "conversations.json").write_bytes(data[:cut])
    complete = complete_before(text, cut)
    assert 0 < complete < N
    run = cli("import", str(folder), "--format", "auto", "--report", "cut.json")
    assert run.returncode == 2, (run.stdout[-2000:], run.stderr[-2000:])
    assert "truncated file" in run.stdout and "conversations.json" in run.stdout
    assert cli.json("stats")["counts"]["sessions"] == complete
    report = json.loads((cli.cwd / "cut.json").read_text("utf-8"))["run"]
    [tail] = report["quarantine"]
    assert tail["file"] == "conversations.json"  # relative to the folder named
    assert tail["location"].startswith(f"record {complete}")
    assert f"{complete} complete record(s)" in tail["reason"]


def test_an_empty_folder_fails_and_says_why(cli: Cli) -> None:
    (cli.cwd / "nothing").mkdir()
    auto = cli("import", "nothing")
    assert auto.returncode == 1
    assert "no known legacy format" in auto.stderr
    named = cli("import", "nothing", "--format", "chatgpt", "--report", "r.json")
    assert named.returncode == 1
    assert "nothing was imported" in named.stderr and "conversations.json" in named.stderr
    report = json.loads((cli.cwd / "r.json").read_text("utf-8"))["run"]
    assert report["status"] == "failed" and "no chatgpt data found" in report["error"]


def test_an_export_of_wrong_records_fails(cli: Cli) -> None:
    folder = cli.cwd / "wrong"
    folder.mkdir()
    broken = [{"id": f"c{i}", "title": "no mapping here"} for i in range(3)]
    (folder / "conversations.json").write_text(json.dumps(broken), "utf-8")
    run = cli("import", str(folder), "--format", "chatgpt", "--report", "w.json")
    assert run.returncode == 1
    assert "every record" in run.stderr
    assert "conversation needs an id and an object mapping" in run.stdout
    report = json.loads((cli.cwd / "w.json").read_text("utf-8"))["run"]
    assert len(report["quarantine"]) == 3 and report["quarantine"][0]["field"] == "mapping"
