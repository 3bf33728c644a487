"""`memvault hook install|uninstall` on a settings file that already holds other hooks:
entries added once, every other hook kept, a backup first, and uninstall removes exactly
what install added. Also: the hook's start-up path stays lean."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memvault.errors import InvalidInput
from memvault.hook import settings as hs

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
DCM = "(nohup bash ~/.claude/services/context-manager/hooks/track-usage.sh >/dev/null 2>&1 &)"
EXISTING: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(git status)"]},
    "hooks": {
        "PostToolUse": [
            {"matcher": "*", "hooks": [{"type": "command", "command": DCM}]},
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "ruff format"}]},
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        "SessionStart": [{"hooks": [{"type": "command", "command": "echo hello"}]}],
    },
}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MEMVAULT_URL", "MEMVAULT_USER")}
    return subprocess.run([MEMVAULT, "hook", *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=cwd)  # fmt: skip


def ours(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        event: [h["command"] for g in groups for h in g["hooks"] if hs.is_ours(h)]
        for event, groups in data.get("hooks", {}).items()
    }


def test_install_keeps_every_other_hook_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=4))
    original = path.read_text()
    done = cli("install", "--settings", str(path), "--db", "sqlite:///v.db", "--user", "me",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "added: SessionStart, UserPromptSubmit, PreToolUse, PostToolUse" in done.stdout
    assert "created the store" in done.stderr and (tmp_path / "v.db").is_file()
    data = json.loads(path.read_text())
    command = ours(data)["PostToolUse"][0]
    assert command.split()[1:] == ["hook", "--db", f"sqlite:///{tmp_path / 'v.db'}",
                                   "--user", "me", "--background", "--managed"]  # fmt: skip
    assert Path(command.split()[0]).name == "memvault"
    # Background by default, but SessionStart prints the memories: it stays in the foreground.
    assert ours(data)["SessionStart"] == [command.replace(" --background", "")]
    assert {e: len(c) for e, c in ours(data).items()} == {
        "PostToolUse": 1, "Stop": 0, "SessionStart": 1, "UserPromptSubmit": 1,
        "PreToolUse": 1, "PostToolUseFailure": 1, "SessionEnd": 1,
    }  # fmt: skip
    # Every existing entry is still there, unchanged, before ours.
    assert data["model"] == "opus" and data["permissions"] == EXISTING["permissions"]
    assert data["hooks"]["PostToolUse"][:2] == EXISTING["hooks"]["PostToolUse"]
    assert data["hooks"]["Stop"] == EXISTING["hooks"]["Stop"]
    assert data["hooks"]["SessionStart"][0] == EXISTING["hooks"]["SessionStart"][0]
    assert data["hooks"]["PostToolUse"][2]["matcher"] == "*"
    assert "matcher" not in data["hooks"]["UserPromptSubmit"][0]
    assert path.read_text().startswith('{\n    "model"')  # the file's 4-space indent is kept
    [backup] = path.parent.glob("settings.json*.bak")
    assert backup.name == "settings.json.memvault.bak" and backup.read_text() == original

    after_first = path.read_text()
    again = cli("install", "--settings", str(path), "--db", "sqlite:///v.db", "--user", "me",
                cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0 and "already installed" in again.stdout
    assert path.read_text() == after_first

    # Installing with other options updates our entries in place, adds none.
    other = tmp_path / "data" / "v.db"
    moved = cli("install", "--settings", str(path), "--db", f"sqlite:///{other}", cwd=tmp_path)
    assert moved.returncode == 0 and "updated:" in moved.stdout, moved.stderr
    assert all(len(c) == (0 if e == "Stop" else 1) for e, c in ours(json.loads(
        path.read_text())).items())  # fmt: skip

    gone = cli("uninstall", "--settings", str(path))
    assert gone.returncode == 0, gone.stderr
    assert json.loads(path.read_text()) == EXISTING  # exactly what was there before
    assert "no memvault hook" in cli("uninstall", "--settings", str(path)).stdout
    assert len(list(path.parent.glob("*.bak"))) == 1  # one backup, not one per run


def test_the_users_own_memvault_hook_commands_are_not_touched(tmp_path: Path) -> None:
    # Newcomer 15, finding 1: any `memvault hook` command was taken for ours.
    path = tmp_path / "mine.json"
    mine = {"hooks": {
        "Stop": [{"hooks": [{"type": "command",
                             "command": "memvault hook --db /home/alice/other.db --user alice"}]}],
        "PostToolUse": [{"matcher": "*", "hooks": [
            {"type": "command", "command": "/usr/local/bin/memvault hook --no-context"}]}],
    }}  # fmt: skip
    path.write_text(json.dumps(mine, indent=2))
    change = hs.install(path, f"{MEMVAULT} hook --db x.db --user alice --managed")
    assert change.updated == [] and "PostToolUse" in change.added
    data = json.loads(path.read_text())
    assert data["hooks"]["Stop"] == mine["hooks"]["Stop"]
    assert data["hooks"]["PostToolUse"][0] == mine["hooks"]["PostToolUse"][0]
    assert len(data["hooks"]["PostToolUse"]) == 2
    change = hs.uninstall(path)
    assert "Stop" not in change.removed
    assert json.loads(path.read_text()) == mine


def test_an_entry_an_older_install_wrote_is_taken_over_not_duplicated(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    old = f"{MEMVAULT} hook --user me"
    path.write_text(json.dumps({"hooks": {"SessionEnd": [{"hooks": [
        {"type": "command", "command": old, "timeout": 10}]}]}}))  # fmt: skip
    change = hs.install(path, old + " --managed")
    assert change.updated == ["SessionEnd"]
    [group] = json.loads(path.read_text())["hooks"]["SessionEnd"]
    assert group["hooks"] == [{"type": "command", "command": old + " --managed", "timeout": 10}]


def test_install_checks_the_store_and_refuses_a_bad_user(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    db = tmp_path / "fresh" / ".memvault" / "me.db"  # folder and store created
    done = cli("install", "--settings", str(path), "--db", str(db), "--user", "me")
    assert done.returncode == 0, done.stderr
    assert db.is_file() and "backup" not in done.stdout and "created" in done.stdout
    bad = tmp_path / "bad.json"
    refused = cli("install", "--settings", str(bad), "--db", str(db), "--user", " me ")
    assert refused.returncode == 1 and "invalid handle=' me '" in refused.stderr
    assert not bad.exists()


def test_install_into_a_missing_file_and_uninstall_back_to_nothing(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.json"
    change = hs.install(path, "memvault hook --user me --managed")
    assert change.backup is None and set(change.added) == set(hs.EVENTS)
    change = hs.uninstall(path)
    assert set(change.removed) == set(hs.EVENTS) and change.backup is not None
    assert json.loads(path.read_text()) == {}


def test_a_group_shared_with_another_hook_keeps_the_other(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    shared = {"hooks": {"PostToolUse": [{"matcher": "*", "hooks": [
        {"type": "command", "command": "/opt/venv/bin/memvault hook --user me --managed"},
        {"type": "command", "command": DCM}]}]}}  # fmt: skip
    path.write_text(json.dumps(shared))
    change = hs.install(path, "/opt/venv/bin/memvault hook --user me --managed")
    assert change.updated == ["PostToolUse"]  # the timeout was added; no second entry
    hs.uninstall(path)
    expected = copy.deepcopy(shared)
    del expected["hooks"]["PostToolUse"][0]["hooks"][0]
    assert json.loads(path.read_text()) == expected


def test_a_settings_file_that_is_not_json_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{ not json")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        hs.install(path, "memvault hook")
    assert path.read_text() == "{ not json"
    # Run where ./memvault.db (the default store) would be created: the file is refused
    # first, so no store appears (it did, in CI in the repository's root).
    done = cli("install", "--settings", str(path), "--user", "me", cwd=tmp_path)
    assert done.returncode == 1 and "invalid settings=" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [path]
    assert not (tmp_path / "memvault.db").exists()
    path.write_text('{"hooks": {"PostToolUse": {"matcher": "*"}}}')  # valid JSON, bad shape
    done = cli("install", "--settings", str(path), "--user", "me", cwd=tmp_path)
    assert done.returncode == 1 and "hooks.PostToolUse is not a list" in done.stderr
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("memvault hook --managed", True),
        ("/home/me/.venv/bin/memvault hook --db sqlite:///x.db --managed", True),
        ("'/path with space/memvault' hook --user me --managed", True),
        ("memvault hook", False),  # the user's own: no marker
        ("/home/me/.venv/bin/memvault hook --db sqlite:///x.db", False),
        ("memvault hooks --managed", False),
        ("memvault mcp --user me", False),
        ("echo memvault --managed", False),
        (DCM, False),
        ("unbalanced 'quote", False),
    ],
)
def test_which_entries_are_ours(command: str, expected: bool) -> None:
    assert hs.is_ours({"type": "command", "command": command}) is expected
    assert hs.is_ours("memvault hook --managed") is False


def test_the_hook_event_path_loads_no_cli_library_and_no_heavy_dependency(
    tmp_path: Path,
) -> None:
    import memvault

    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()
    spool = str(tmp_path / "s.jsonl")
    code = (
        "import sys, io, json\n"
        f"sys.argv = ['memvault', 'hook', '--db', {url!r}, '--user', 'me', '--spool', {spool!r}]\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps({'hook_event_name': 'PostToolUse',"
        " 'session_id': 's', 'tool_name': 'Read'}).encode()))\n"
        "import os\n"
        "os._exit = sys.exit  # the hook ends with os._exit: look at sys.modules after it\n"
        "from memvault.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('typer', 'rich', 'click', 'numpy', 'sqlalchemy', 'alembic', 'psycopg', 'mcp')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    with memvault.open(url) as vault:
        assert [a.tool_name for a in vault.actions.list(memvault.ANY)] == ["Read"]


def test_install_foreground_writes_no_background_flag(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    done = cli("install", "--settings", str(path), "--user", "me", "--foreground", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    commands = ours(json.loads(path.read_text()))
    assert len(commands) == len(hs.EVENTS)
    assert all(c[0].endswith("hook --user me --managed") for c in commands.values())


def test_a_reinstall_over_the_old_foreground_default_updates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    old = f"{MEMVAULT} hook --user me --managed"  # what install wrote before --background
    hs.install(path, old)
    legacy = f"{MEMVAULT} hook --user me"  # and before the marker (UserPromptSubmit only here)
    data = json.loads(path.read_text())
    data["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"] = legacy
    path.write_text(json.dumps(data))
    change = hs.install(path, f"{MEMVAULT} hook --user me --background --managed")
    assert set(change.updated) == set(hs.EVENTS) - {"SessionStart"} and change.added == []
    data = json.loads(path.read_text())
    assert all(len(groups) == 1 and len(groups[0]["hooks"]) == 1
               for groups in data["hooks"].values())  # fmt: skip
    assert ours(data)["SessionStart"] == [old]
    assert ours(data)["PostToolUse"] == [f"{MEMVAULT} hook --user me --background --managed"]
    # Both forms are ours: uninstall removes them all.
    assert set(hs.uninstall(path).removed) == set(hs.EVENTS)
    assert json.loads(path.read_text()) == {}
