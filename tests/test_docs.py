"""The README documents every command of the CLI (sqlite-utils' test_docs, in spirit)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.main import get_command

from memvault.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _command_names() -> list[str]:
    """The commands as `memvault --help` lists them (their modules load on demand)."""
    root = get_command(app)
    return sorted(root.list_commands(typer.Context(root)))  # type: ignore[attr-defined]


def test_every_command_is_in_the_readme() -> None:
    names = _command_names()
    assert len(names) > 20
    missing = [name for name in names if f"memvault {name}" not in README]
    assert missing == []


def test_every_readme_command_exists() -> None:
    documented = {
        line.split("`memvault ", 1)[1].split()[0].rstrip("`")
        for line in README.splitlines()
        if line.startswith("| `memvault ")
    }
    assert documented <= set(_command_names())
