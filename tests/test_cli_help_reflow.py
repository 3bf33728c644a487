"""`memvault -h` and every subcommand's help, printed by the real CLI in a subprocess at two
terminal widths: a description is wrapped by the terminal, never broken where the
docstring's source line ended. A line break is legitimate when the next word would not
have fit on the line (the terminal's wrap) or when a sentence, paragraph or list item ends
there; any other break is a hard break left from the source."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from memvault.cli.app import reflow

MEMVAULT = str(Path(sys.executable).with_name("memvault"))
SENTENCE_END = re.compile(r"[.:!?]$")
ITEM_START = re.compile(r"(?:[-*•]|\d+[.)])\s|[A-Z`\[-]")  # Typer's own: [default: …]

# Every command path's help in one interpreter per width (the entry point `memvault` runs,
# called once per path), so that sixty help screens do not cost sixty interpreter starts.
DRIVER = """
import sys
import typer.main
from memvault.cli.app import ALL_MODULES, app
from importlib import import_module
from memvault.entry import main

for module in ALL_MODULES:
    import_module(f"memvault.cli.{module}")
paths = []
def walk(cmd, path):
    paths.append(path)
    for name, sub in getattr(cmd, "commands", {}).items():
        if not getattr(sub, "hidden", False):
            walk(sub, [*path, name])
walk(typer.main.get_group(app), [])
for path in paths:
    print("=== memvault", " ".join(path), flush=True)
    sys.argv = ["memvault", *path, "-h"]
    try:
        main()
    except SystemExit:
        pass
    sys.stdout.flush()
"""


def hard_breaks(screen: str, width: int) -> list[str]:
    """Line breaks in `screen` (help as printed at `width` columns) that neither the width
    nor the end of a sentence or paragraph explains, as `line ⏎ next line`."""
    found = []
    lines = screen.splitlines()
    for line, after in itertools.pairwise(lines):
        if not line.strip() or not after.strip() or line.lstrip().startswith("Usage:"):
            continue
        boxed = line.startswith("│") and after.startswith("│")
        if boxed != (line.startswith("│") or after.startswith("│")):
            continue  # into or out of a panel
        body = after[1:] if boxed else after
        start = (len(body) - len(body.lstrip())) + (1 if boxed else 0)
        if boxed:
            end = line.rstrip().rfind("│") - 1  # the panel's border, its padding before it
            if start >= len(line) or line[start - 1] != " " or line[start] == " ":
                continue  # not under a cell of this line
        else:
            end = width - 1  # Rich's padding of one column on each side
            if len(line) - len(line.lstrip()) != start:
                continue  # not the same paragraph
        text = line[start : end + 1].rstrip()
        rest = (after[start:].rstrip()[:-1] if boxed else after[start:]).strip()
        if boxed and re.search(r"\S {2,}\S", rest + " | " + text):
            continue  # a row of its own, or under a column other than the last (the help)
        if SENTENCE_END.search(text) and ITEM_START.match(rest):
            continue
        if end - (start + len(text)) >= len(rest.split()[0]) + 1:
            found.append(f"{text.strip()} ⏎ {rest}")
    return found


@pytest.mark.parametrize("width", [60, 200])
def test_help_text_reflows_at_any_terminal_width(width: int) -> None:
    env = {**os.environ, "COLUMNS": str(width), "TERMINAL_WIDTH": str(width)}
    env.pop("NO_COLOR", None)
    root = subprocess.run([MEMVAULT, "-h"], capture_output=True, text=True, env=env,
                          timeout=120, check=True).stdout  # fmt: skip
    assert "PostgreSQL constraints and indexes" in " ".join(root.replace("│", " ").split())
    every = subprocess.run([sys.executable, "-c", DRIVER], capture_output=True, text=True,
                           env=env, timeout=600, check=True).stdout  # fmt: skip
    screens = every.split("=== ")
    assert len(screens) > 50, every[-2000:]
    # The panels are as wide as the terminal: the width took effect.
    assert max(len(line) for line in root.splitlines()) == width
    broken = {
        screen.split("\n", 1)[0]: hard_breaks(screen, width)
        for screen in [f"memvault -h\n{root}", *screens]
        if hard_breaks(screen, width)
    }
    assert not broken, broken


def test_the_checker_finds_a_break_the_width_does_not_explain() -> None:
    """`hard_breaks` itself, on a panel and a paragraph as Rich prints them."""
    ok = (
        "│ check      Integrity check (SQLite integrity_check +     │\n"
        "│            foreign_key_check; PostgreSQL constraints and │\n"
        "│            indexes) and schema version.                  │\n"
    )
    assert hard_breaks(ok, 60) == []
    bad = (
        "│ check      Integrity check (SQLite; PostgreSQL           │\n"
        "│            constraints and                               │\n"
        "│            indexes) and schema version.                  │\n"
    )
    assert hard_breaks(bad, 60) == ["constraints and ⏎ indexes) and schema version."]
    prose = " Copy every table, then verify row\n counts per table.\n"
    assert hard_breaks(prose, 60) == ["Copy every table, then verify row ⏎ counts per table."]


def test_reflow_keeps_paragraphs_lists_and_verbatim_blocks() -> None:
    text = """First sentence broken
        mid-way. Second one.

        Options:
        - one item that goes
          on here
        - two

        \b
        kept   as
        written
        """
    assert reflow(text) == (
        "First sentence broken mid-way. Second one.\n\n"
        "Options:\n- one item that goes on here\n- two\n\n"
        "\b\nkept   as\nwritten"
    )
