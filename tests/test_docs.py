"""The README documents every command of the CLI (sqlite-utils' test_docs, in spirit)."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from memvault.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    root = get_command(app)
    names = sorted(root.commands)  # type: ignore[attr-defined]
    assert len(names) > 20
    missing = [name for name in names if f"memvault {name}" not in README]
    assert missing == []


def test_every_readme_command_exists() -> None:
    root = get_command(app)
    documented = {
        line.split("`memvault ", 1)[1].split()[0].rstrip("`")
        for line in README.splitlines()
        if line.startswith("| `memvault ")
    }
    assert documented <= set(root.commands)  # type: ignore[attr-defined]
