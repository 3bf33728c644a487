"""`auto` detection and the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from memvault.errors import InvalidInput
from memvault.migrate import sources
from tests.migrate.legacy_data import write_all, write_chatgpt, write_lilith, write_workly


def test_tree_of_all_formats(tmp_path: Path) -> None:
    write_all(tmp_path)
    found = sources.detect(tmp_path)
    assert [d.format for d in found] == list(sources.FORMATS)
    assert all(d.root == tmp_path / d.format for d in found)
    scans = sources.scan_tree(tmp_path)
    reports = {s.format: s.run().as_dict() for s in scans}
    assert reports["workly"]["entities"]["segments"] == 3
    assert reports["dcm"]["entities"]["tool_usage"] == 6


def test_single_format_folder(tmp_path: Path) -> None:
    root = write_workly(tmp_path)
    assert [d.format for d in sources.detect(root)] == ["workly"]
    assert [d.format for d in sources.detect(write_chatgpt(tmp_path))] == ["chatgpt"]
    assert [d.format for d in sources.detect(write_lilith(tmp_path))] == ["lilith"]


def test_nothing_to_detect(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert sources.detect(tmp_path) == []


def test_unknown_format_and_missing_root(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        sources.scan("mystery", tmp_path)
    with pytest.raises(InvalidInput):
        sources.scan("ait42", tmp_path / "absent")


def test_scan_is_single_use(tmp_path: Path) -> None:
    scan = sources.scan("langchain", tmp_path)
    scan.run()
    with pytest.raises(RuntimeError):
        list(scan.records())
