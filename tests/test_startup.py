"""Start-up: the CLI and an open SQLite vault import only what they use (SQLAlchemy, Alembic,
psycopg and numpy load when a migration runs, on PostgreSQL, or when vectors are used), and
each CLI module loads when one of its commands runs. Timings belong in bench/README.md."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import memvault

HEAVY = ("alembic", "numpy", "psycopg", "psycopg_pool", "sqlalchemy")

RUN_CLI = """
import json, sys
from memvault.cli import main
sys.argv = ["memvault", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
cli = sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("memvault.cli."))
print(json.dumps({{"code": code, "heavy": heavy, "cli": cli}}))
"""


def _cli(*args: str) -> dict[str, object]:
    """Run `memvault ARGS` in a fresh interpreter; what it exited with and imported."""
    out = subprocess.run(
        [sys.executable, "-c", RUN_CLI.format(heavy=HEAVY), *args],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_opening_an_up_to_date_sqlite_vault_loads_no_heavy_dependency(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    memvault.open(url).close()  # creates the schema here: that part needs Alembic
    code = (
        "import sys, memvault.cli, memvault\n"
        f"v = memvault.open({url!r})\n"
        "v.users.ensure('a'); v.stats(); v.close()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_commands_on_sqlite_load_only_their_module(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    memvault.open(url).close()
    stats = _cli("stats", "--db", url, "--json")
    assert stats == {"code": 0, "heavy": [], "cli": ["app", "core"]}

    src = tmp_path / "src"
    src.mkdir()
    lines = [json.dumps({"id": i, "conv": i % 2, "text": f"bonjour {i}"}) for i in range(5)]
    (src / "a.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"files": ["*.jsonl"], "id": "id", "content": "text",
                                   "session": "conv"}), "utf-8")  # fmt: skip
    imported = _cli("import", str(src), "--format", "generic", "--mapping", str(mapping),
                    "--db", url, "--user", "zoé", "--json")  # fmt: skip
    assert imported == {"code": 0, "heavy": [], "cli": ["app", "imports"]}


def test_help_lists_every_command_without_heavy_dependencies() -> None:
    result = _cli("--help")
    assert result["code"] == 0 and result["heavy"] == []


def test_commands_table_names_the_module_of_every_command() -> None:
    """`memvault.cli.app.COMMANDS` (what loads on demand) matches what the modules define."""
    from memvault.cli.app import ALL_MODULES, COMMANDS, app

    for module in ALL_MODULES:
        import_module(f"memvault.cli.{module}")
    defined: dict[str, str] = {}
    for command in app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__.replace("_", "-")
        defined[name] = command.callback.__module__.rsplit(".", 1)[1]
    for group in app.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        callback = group.typer_instance.registered_commands[0].callback
        assert callback is not None
        defined[group.name] = callback.__module__.rsplit(".", 1)[1]
    assert defined == COMMANDS
