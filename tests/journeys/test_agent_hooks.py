"""A DCM user replaces the hand-written hook with `memvault hook install`, works a session in
Claude Code (the events are the documented JSON, run through the exact command the settings
file holds, from the project's directory, as the agent runs it), and finds it all again:
the session's memories at start, the actions, the routes learned, the same suggestions over
MCP; then uninstalls. And the same hook posting to a running `memvault serve`, spooling while
the service is down."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio

from tests.journeys.conftest import Cli
from tests.mcp.conftest import require_mcp, result, stdio_session

DCM_HOOK = "(nohup bash ~/.claude/services/context-manager/hooks/track-usage.sh >/dev/null 2>&1 &)"
SID = "9f1c2b7e-3d4a-4c55-8e0f-0a1b2c3d4e5f"


def events(project: Path) -> list[dict[str, Any]]:
    base = {"session_id": SID, "cwd": str(project),
            "transcript_path": f"/home/dev/.claude/projects/x/{SID}.jsonl"}  # fmt: skip
    return [
        {**base, "hook_event_name": "SessionStart", "source": "startup"},
        {**base, "hook_event_name": "UserPromptSubmit",
         "prompt": "Les tests du parseur échouent, corrige-les"},
        {**base, "hook_event_name": "PreToolUse", "tool_name": "Grep",
         "tool_input": {"pattern": "def parse", "path": str(project)}, "tool_use_id": "toolu_1"},
        {**base, "hook_event_name": "PostToolUse", "tool_name": "Grep",
         "tool_input": {"pattern": "def parse", "path": str(project)},
         "tool_response": {"numFiles": 2}, "tool_use_id": "toolu_1"},
        {**base, "hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
         "tool_input": {"command": "pytest tests/test_parser.py"},
         "error": "Exit code 1", "tool_use_id": "toolu_2"},
        {**base, "hook_event_name": "PostToolUse", "tool_name": "Edit",
         "tool_input": {"file_path": str(project / "parser.py"), "old_string": "a",
                        "new_string": "b"}, "tool_response": {}, "tool_use_id": "toolu_3"},
        {**base, "hook_event_name": "PostToolUse", "tool_name": "Bash",
         "tool_input": {"command": "pytest tests/test_parser.py"},
         "tool_response": {"stdout": "4 passed"}, "tool_use_id": "toolu_4"},
        {**base, "hook_event_name": "PostToolUse", "tool_name": "mcp__memvault__add_memory",
         "tool_input": {"content": "parser tests need LANG=C"}, "tool_use_id": "toolu_5"},
        {**base, "hook_event_name": "Stop", "stop_hook_active": False},
        {**base, "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"},
    ]  # fmt: skip


def run_hooks(settings: dict[str, Any], event: dict[str, Any], cwd: Path,
              env: dict[str, str] | None = None) -> list[str]:  # fmt: skip
    """What the agent does for one event: every command hook registered for it, in bash."""
    outputs = []
    for group in settings["hooks"].get(event["hook_event_name"], []):
        for hook in group["hooks"]:
            if "memvault" not in hook["command"]:
                continue  # DCM's line would need its own service
            done = subprocess.run(["bash", "-c", hook["command"]], input=json.dumps(event),
                                  capture_output=True, text=True, cwd=cwd, timeout=60,
                                  env=env)  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert "spooled" not in done.stderr and "Traceback" not in done.stderr, done.stderr
            outputs.append(done.stdout)
    return outputs


def settle(state: Path, timeout: float = 60) -> None:
    """Wait until the detached writers of `--background` hooks have stored every spooled
    event (a spool is gone once replayed)."""
    deadline = time.monotonic() + timeout
    folder = state / "memvault"
    while any(folder.glob("*.jsonl")) or any(folder.glob("*.replaying")):
        assert time.monotonic() < deadline, sorted(p.name for p in folder.iterdir())
        time.sleep(0.05)


def test_install_work_a_session_recall_it_and_uninstall(cli: Cli, tmp_path: Path) -> None:
    require_mcp()  # the session's routes are read back over MCP too
    cli.ok("init")
    cli.ok("users", "add", "dev")
    cli.ok("memories", "add", "preference", "dev wants commits in English", "--user", "dev")
    cli.ok("memories", "add", "fact", "The parser project targets Python 3.11", "--user", "dev")
    claude = tmp_path / "home" / ".claude"
    claude.mkdir(parents=True)
    settings_path = claude / "settings.json"
    before = {"hooks": {"PostToolUse": [{"matcher": "*", "hooks": [
        {"type": "command", "command": DCM_HOOK}]}]}}  # fmt: skip
    settings_path.write_text(json.dumps(before, indent=2))

    done = cli.ok("hook", "install", "--settings", str(settings_path), "--db", "memvault.db",
                  "--user", "dev")  # fmt: skip
    assert "added: SessionStart, UserPromptSubmit, PreToolUse, PostToolUse" in done.stdout
    settings = json.loads(settings_path.read_text())
    assert settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"] == DCM_HOOK

    # The installed hooks run in the background (all but SessionStart): the agent goes on
    # at once and detached writers store the events; the spool is in the user's state home.
    assert "--background" in settings["hooks"]["PostToolUse"][1]["hooks"][0]["command"]
    assert "--background" not in settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    project = tmp_path / "work" / "parser"
    project.mkdir(parents=True)
    env = {**cli.env, "XDG_STATE_HOME": str(tmp_path / "state")}
    outputs = [run_hooks(settings, e, project, env) for e in events(project)]
    settle(tmp_path / "state")
    start = json.loads(outputs[0][0])["hookSpecificOutput"]
    assert start["hookEventName"] == "SessionStart"
    assert start["additionalContext"].splitlines()[1] == (
        "- [fact] The parser project targets Python 3.11")  # fmt: skip

    actions = cli.json("actions", "list", "--user", "dev")
    assert [(a["tool_name"], a["tool_type"], a["exit_code"]) for a in reversed(actions)] == [
        ("Grep", "builtin", 0), ("Bash", "builtin", 1), ("Edit", "builtin", 0),
        ("Bash", "builtin", 0), ("mcp__memvault__add_memory", "mcp", 0),
    ]  # fmt: skip
    assert actions[2]["file_paths"] == [str(project / "parser.py")]
    # Grep's PreToolUse noted its start: its duration is known (the others had none).
    assert actions[-1]["duration_ms"] > 0 and actions[0]["duration_ms"] is None
    [session] = cli.json("sessions", "list")
    assert session["kind"] == "agent" and session["status"] == "completed"
    assert session["message_count"] == 1
    routes = cli.json("route", "le parseur échoue encore", "--user", "dev")
    assert [r["tool_name"] for r in routes][:3] == ["Edit", "Grep",
                                                     "mcp__memvault__add_memory"]  # fmt: skip
    assert "parseur" in routes[0]["matched"]
    bash = [r for r in routes if r["tool_name"] == "Bash"]
    assert bash and bash[0]["score"] == 0.5  # failed once (-0.5), then succeeded (+1)

    async def over_mcp() -> None:
        async with stdio_session("--db", "memvault.db", "--user", "dev", cwd=cli.cwd) as s:
            got = result(
                await s.call_tool("suggest_tools", {"request": "le parseur échoue encore"})
            )
            assert [x["tool_name"] for x in got["suggestions"]][:1] == ["Edit"]

    anyio.run(over_mcp)

    done = cli.ok("hook", "uninstall", "--settings", str(settings_path))
    assert json.loads(settings_path.read_text()) == before
    # one backup (the file before the last change), not one per run
    assert [p.name for p in claude.glob("*.bak")] == ["settings.json.memvault.bak"]


def test_hook_posts_to_the_service_and_spools_while_it_is_down(
    cli: Cli, service: Any, tmp_path: Path
) -> None:
    cli.ok("init")
    cli.ok("users", "add", "dev")
    key = cli.json("keys", "create", "--user", "dev")["key"]
    spool = tmp_path / "spool.jsonl"
    project = tmp_path / "api"
    evs = events(project)

    def hook(url: str, event: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return cli("hook", "--server", url, "--key", key, "--spool", str(spool),
                   input=json.dumps(event))  # fmt: skip

    served = service()
    for event in evs[:4]:  # start (memories over HTTP: none yet), prompt, Grep (Pre, Post)
        done = hook(served.url, event)
        assert done.returncode == 0 and done.stderr == "", done.stderr
    served.stop()
    down = hook(served.url, evs[5])  # Edit, while the service is down
    assert down.returncode == 0 and "spooled" in down.stderr
    assert len(spool.read_text().splitlines()) == 1
    again = service()
    assert hook(again.url, evs[6]).returncode == 0  # Bash: replays Edit first
    assert not spool.exists() or spool.read_text() == ""
    actions = cli.json("actions", "list", "--user", "dev")
    assert [a["tool_name"] for a in reversed(actions)] == ["Grep", "Edit", "Bash"]
    assert actions[0]["metadata"]["external_session_id"] == SID
    routes = cli.json("route", "parseur", "--user", "dev")
    assert {r["tool_name"] for r in routes} == {"Grep", "Edit", "Bash"}
    # A wrong key is the hook's setting, not a bad event: spooled until the key is corrected.
    refused = cli("hook", "--server", again.url, "--key", "mv_wrong", "--spool", str(spool),
                  input=json.dumps(evs[3]))  # fmt: skip
    assert refused.returncode == 0 and "refused --key" in refused.stderr
    assert len(spool.read_text().splitlines()) == 1
