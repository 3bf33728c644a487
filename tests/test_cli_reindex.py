"""`memvault reindex --ann` says what it built, or why it built nothing, in words."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import memvault
from memvault.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


def test_reindex_ann_says_why_nothing_was_built_then_what_was(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    with memvault.open(url) as v:
        alice = v.users.create("alice")
        for text in ("Alice likes tea", "Alice lives in Lyon", "Alice plays chess"):
            v.memories.add(alice.id, "fact", text)
    assert runner.invoke(app, ["embed", "--db", url]).exit_code == 0
    below = runner.invoke(app, ["reindex", "--ann", "--db", url])
    assert below.exit_code == 0, below.output
    assert "approximate index: none built" in below.output
    assert "at least 10,000 vectors" in below.output and "{" not in below.output
    built = runner.invoke(app, ["reindex", "--ann", "--min-rows", "1", "--db", url])
    assert built.exit_code == 0, built.output
    assert f"approximate index: memories of user {alice.id}" in built.output
    assert "vectors in" in built.output and "{" not in built.output
