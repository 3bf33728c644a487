"""`memvault hook` as the agent runs it: a process fed one event on stdin. It always exits 0,
and an event the store cannot take now (locked, unreachable, not there) is spooled and
replayed by the next call: nothing is lost, nothing is stored twice."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import memvault

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
SID = "5e55-1on"


def hook(*args: str, event: Any = None, stdin: bytes | None = None, timeout: float = 60,
         env: dict[str, str] | None = None, umask: int = -1,
         ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`memvault hook ARGS` fed `event` (or `stdin`); `env`: added to ours (less the
    MEMVAULT_URL/USER a developer may have set)."""
    full = {k: v for k, v in os.environ.items() if k not in ("MEMVAULT_URL", "MEMVAULT_USER")}
    full.update(env or {})
    data = stdin if stdin is not None else json.dumps(event).encode()
    done = subprocess.run([MEMVAULT, "hook", *args], input=data, capture_output=True,
                          timeout=timeout, env=full, umask=umask)  # fmt: skip
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(),
                                       done.stderr.decode())  # fmt: skip


def prompt(text: str) -> dict[str, Any]:
    return {"session_id": SID, "cwd": "/w/p", "hook_event_name": "UserPromptSubmit",
            "prompt": text}  # fmt: skip


def used(tool: str, **tool_input: Any) -> dict[str, Any]:
    return {"session_id": SID, "cwd": "/w/p", "hook_event_name": "PostToolUse",
            "tool_name": tool, "tool_input": tool_input, "tool_response": {},
            "tool_use_id": f"toolu_{tool}"}  # fmt: skip


def actions(url: str) -> list[str]:
    with memvault.open(url) as vault:
        return [a.tool_name for a in reversed(vault.actions.list(memvault.ANY))]


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()
    return url


def test_always_exits_zero_whatever_it_is_given(store: str, tmp_path: Path) -> None:
    spool = str(tmp_path / "spool.jsonl")
    base = ["--db", store, "--user", "me", "--spool", spool]
    for stdin in (
        b"",
        b"not json",
        b"[1, 2]",
        b"\xff\xfe",
        b'{"hook_event_name": 5}',
        b'{"hook_event_name": "PostToolUse"}',
        b'{"hook_event_name": "Mystery"}',
    ):
        done = hook(*base, stdin=stdin)
        assert done.returncode == 0 and done.stdout == "", (stdin, done.stderr)
        assert "Traceback" not in done.stderr
    done = hook(*base, "--unknown-flag", "x", event=used("Read", file_path="/w/p/a"))
    assert done.returncode == 0 and "ignoring unknown arguments" in done.stderr
    assert hook("--busy-timeout", "soon", *base, event=used("Read")).returncode == 0
    assert actions(store) == ["Read"]
    assert not Path(spool).exists()


def test_a_locked_store_spools_and_the_next_call_replays(store: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    base = ["--db", store, "--user", "me", "--spool", str(spool)]
    assert hook(*base, event=prompt("rename the payment module")).returncode == 0
    lock = sqlite3.connect(store.removeprefix("sqlite:///"), timeout=0)
    lock.execute("BEGIN EXCLUSIVE")  # another writer holds the store
    try:
        first = hook(*base, event=used("Grep", pattern="payment"))
        second = hook(*base, event=used("Edit", file_path="/w/p/payment.py"))
    finally:
        lock.rollback()
        lock.close()
    for done in (first, second):
        assert done.returncode == 0, done.stderr
        assert "spooled" in done.stderr and "Traceback" not in done.stderr
    spooled = [json.loads(line)["event"]["tool_name"] for line in spool.read_text().splitlines()]
    assert spooled == ["Grep", "Edit"]
    assert actions(store) == []

    assert hook(*base, event=used("Bash", command="pytest")).returncode == 0
    assert actions(store) == ["Grep", "Edit", "Bash"]  # replayed first, in order
    assert not spool.exists() or spool.read_text() == ""
    with memvault.open(store) as vault:
        me = vault.users.get_by_handle("me")
        learned = {s.tool_name for s in vault.routing.scores(me.id, keyword="payment")}
        assert learned == {"Grep", "Edit", "Bash"}
        spooled_at = [a.created_at for a in reversed(vault.actions.list(me.id))]
        assert spooled_at == sorted(spooled_at)  # each kept the time it was received
    assert hook(*base, event=used("Read")).returncode == 0
    assert actions(store) == ["Grep", "Edit", "Bash", "Read"]  # nothing twice


def test_a_missing_store_spools_until_it_exists(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    spool = tmp_path / "spool.jsonl"
    base = ["--db", url, "--user", "me", "--spool", str(spool)]
    done = hook(*base, event=used("Read"))
    assert done.returncode == 0 and "memvault init" in done.stderr
    assert not (tmp_path / "later.db").exists()  # the hook never creates a store
    memvault.open(url).close()
    assert hook(*base, event=used("Write")).returncode == 0
    assert actions(url) == ["Read", "Write"]


def test_a_stopped_postgresql_server_spools_then_replays(
    pg_databases: dict[str, str], tmp_path: Path
) -> None:
    if "pg18" not in pg_databases:
        pytest.skip("PostgreSQL 18 not available")
    from tests.conftest import engine_url

    url = engine_url("pg18", tmp_path, pg_databases)
    with socket.socket() as s:  # a port where no server listens: the server is stopped
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead = f"postgresql://postgres@127.0.0.1:{dead_port}/memvault"
    spool = tmp_path / "spool.jsonl"
    for tool in ("Read", "Edit"):
        done = hook("--db", dead, "--user", "me", "--spool", str(spool), event=used(tool))
        assert done.returncode == 0 and "spooled" in done.stderr, done.stderr
    assert len(spool.read_text().splitlines()) == 2
    done = hook("--db", url, "--user", "me", "--spool", str(spool), event=used("Bash"))
    assert done.returncode == 0, done.stderr
    assert actions(url) == ["Read", "Edit", "Bash"]


def test_an_event_the_store_refuses_is_set_aside_not_retried(store: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    base = ["--db", store, "--user", "me", "--spool", str(spool)]
    done = hook(*base, event=prompt("bad \x00 byte"))
    assert done.returncode == 0 and "set aside" in done.stderr
    rejected = spool.with_name("spool.jsonl.rejected").read_text().splitlines()
    assert "NUL" in json.loads(rejected[0])["error"]
    assert json.loads(rejected[0])["error"].startswith("invalid prompt=")  # the field sent
    assert hook(*base, event=used("Read")).returncode == 0
    assert actions(store) == ["Read"]


def test_session_start_prints_the_documented_output(store: str, tmp_path: Path) -> None:
    with memvault.open(store) as vault:
        me = vault.users.ensure("me")
        vault.memories.add(me.id, "preference", "Answers in French", embedding=False)
    base = ["--db", store, "--user", "me", "--spool", str(tmp_path / "s.jsonl")]
    start = {"session_id": SID, "cwd": "/w/p", "hook_event_name": "SessionStart",
             "source": "startup"}  # fmt: skip
    out = json.loads(hook(*base, event=start).stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    assert "- [preference] Answers in French" in out["hookSpecificOutput"]["additionalContext"]
    assert hook(*base, "--no-context", event=start).stdout == ""


def test_the_process_ends_without_the_interpreters_shutdown(store: str, tmp_path: Path) -> None:
    """After the event is stored (store closed) and the output flushed, the hook leaves with
    `os._exit`: an atexit handler, which the interpreter's shutdown would run, never runs,
    yet the exit code is 0, the output is whole and the event is there."""
    with memvault.open(store) as vault:
        vault.memories.add(vault.users.ensure("me").id, "fact", "Uses tabs", embedding=False)
    marker = tmp_path / "shutdown-ran"
    code = (
        "import atexit, pathlib, sys\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).touch)\n"
        "from memvault.entry import main\n"
        f"sys.argv = ['memvault', 'hook', '--db', {store!r}, '--user', 'me', '--spool', "
        f"{str(tmp_path / 's.jsonl')!r}]\n"
        "main()\n"
    )
    for event in (used("Grep", pattern="x"), {"session_id": SID, "cwd": "/w/p",
                                              "hook_event_name": "SessionStart"}):  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], input=json.dumps(event).encode(),
                              capture_output=True, timeout=60)  # fmt: skip
        assert done.returncode == 0 and done.stderr == b"", done.stderr
    context = json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "- [fact] Uses tabs" in context
    assert not marker.exists()
    assert actions(store) == ["Grep"]


def test_replay_command_and_its_refusal_on_a_missing_store(store: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    hook("--db", missing, "--user", "me", "--spool", str(spool), event=used("Read"))
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    refused = subprocess.run([MEMVAULT, "hook", "replay", "--db", missing, "--user", "me",
                              "--spool", str(spool)], capture_output=True, text=True, env=env,
                             timeout=60)  # fmt: skip
    assert refused.returncode != 0 and "memvault init" in refused.stderr
    done = subprocess.run([MEMVAULT, "hook", "replay", "--db", store, "--user", "me",
                           "--spool", str(spool)], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0 and "replayed 1 event" in done.stdout, done.stderr
    assert actions(store) == ["Read"]


def test_background_mode_returns_at_once_and_stores_soon_after(store: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    base = ["--db", store, "--user", "me", "--spool", str(spool), "--background"]
    events = [
        prompt("speed up the search index"),
        used("Grep", pattern="index"),
        used("Edit", file_path="/w/p/index.py"),
        used("Bash", command="make bench"),
    ]
    for event in events:
        done = hook(*base, event=event)
        assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    deadline = time.monotonic() + 30
    while actions(store) != ["Grep", "Edit", "Bash"] or spool.exists():
        assert time.monotonic() < deadline, (actions(store), spool.exists())
        time.sleep(0.1)
    with memvault.open(store) as vault:
        me = vault.users.get_by_handle("me")
        learned = {s.tool_name for s in vault.routing.scores(me.id, keyword="index")}
        assert learned == {"Grep", "Edit", "Bash"}
    # SessionStart stays in the foreground: its output is the session's context.
    with memvault.open(store) as vault:
        vault.memories.add(me.id, "fact", "Benchmarks run with make bench", embedding=False)
    start = {"session_id": SID, "cwd": "/w/p", "hook_event_name": "SessionStart"}
    assert "make bench" in hook(*base, event=start).stdout


def test_a_damaged_spool_line_is_set_aside_and_the_rest_replayed(
    store: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.jsonl"
    good = {"received_at": "2026-11-02T09:00:00+00:00", "event": used("Grep")}
    spool.write_text(
        json.dumps({"event": used("Read")}) + "\n"  # no received_at: cannot be replayed
        + '{"received_at": "2026-11-02T09:00:0\n'  # cut by a crash mid-write: skipped
        + json.dumps(good) + "\n"
    )  # fmt: skip
    done = hook("--db", store, "--user", "me", "--spool", str(spool), event=used("Edit"))
    assert done.returncode == 0 and "KeyError" in done.stderr
    assert actions(store) == ["Grep", "Edit"]
    assert not spool.exists()
    [rejected] = spool.with_name("spool.jsonl.rejected").read_text().splitlines()
    assert json.loads(rejected)["event"]["tool_name"] == "Read"
    done = hook("--db", store, "--user", "me", "--spool", str(spool), event=used("Bash"))
    assert done.returncode == 0 and done.stderr == ""
    assert actions(store) == ["Grep", "Edit", "Bash"]


# What the agent waits for must stay small: the interpreter, argparse and json, the spool.
HEAVY = ("typing", "sqlite3", "dataclasses", "memvault.records", "memvault.vault",
         "memvault.store", "typer", "pydantic", "numpy", "psycopg")  # fmt: skip


def _imported(stderr: str) -> set[str]:
    """Module names in `python -X importtime` lines."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_the_background_parent_exits_before_any_heavy_import(store: str, tmp_path: Path) -> None:
    """`--background`: the process the agent waits for spools the event and forks; only the
    detached child (whose stderr is closed, so its imports are not listed) opens the store.
    The parent's own import list is checked, and the event still arrives."""
    spool = tmp_path / "spool.jsonl"
    event = used("Read", file_path="/w/p/a.py")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", MEMVAULT, "hook", "--db", store, "--user", "me",
         "--spool", str(spool), "--background"],
        input=json.dumps(event).encode(), capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    parent = _imported(done.stderr.decode())
    assert "memvault.hook.run" in parent and "memvault.hook.spool" in parent, parent
    assert not parent & set(HEAVY), parent & set(HEAVY)
    deadline = time.monotonic() + 30
    while actions(store) != ["Read"] or spool.exists():
        assert time.monotonic() < deadline, (actions(store), spool.exists())
        time.sleep(0.1)


def test_the_foreground_hook_loads_only_the_domains_it_writes(store: str, tmp_path: Path) -> None:
    """A tool call opens the store and writes an action: no CLI framework, no server, no
    numpy, not the domains it does not touch (memories, emotions, tasks, ...), and not
    logging, hashlib nor base64 (imported where they are used)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", MEMVAULT, "hook", "--db", store, "--user", "me",
         "--spool", str(tmp_path / "spool.jsonl")],
        input=json.dumps(used("Grep", pattern="x")).encode(), capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    loaded = _imported(done.stderr.decode())
    assert "memvault.tools" in loaded and "memvault.store.sqlite" in loaded, loaded
    unwanted = {"typer", "rich", "click", "fastapi", "starlette", "uvicorn", "pydantic",
                "numpy", "memvault.cli", "memvault.server", "memvault.search",
                "memvault.memories", "memvault.emotions", "memvault.tasks", "memvault.agents",
                "memvault.contexts", "memvault.admin", "logging", "hashlib", "base64"}  # fmt: skip
    assert not loaded & unwanted, loaded & unwanted
    assert actions(store) == ["Grep"]


def test_a_refused_user_keeps_the_event_and_says_how_to_replay_it(
    store: str, tmp_path: Path
) -> None:
    """A mistyped --user in the settings must not lose the session: every event is spooled
    (the events are good, the setting is not), stderr says why and how to bring them back."""
    with memvault.open(store) as vault:
        vault.users.ensure("ana")
    spool = tmp_path / "spool.jsonl"
    for event in (prompt("deploy the staging cluster"), used("Bash", command="make deploy")):
        done = hook("--db", store, "--user", " ana ", "--spool", str(spool), event=event)
        assert done.returncode == 0 and "Traceback" not in done.stderr
        assert "--user ' ana ' refused" in done.stderr and "no such user" in done.stderr
        assert "spooled" in done.stderr and "memvault hook replay" in done.stderr, done.stderr
    assert len(spool.read_text().splitlines()) == 2
    assert actions(store) == []
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    done = subprocess.run([MEMVAULT, "hook", "replay", "--db", store, "--user", "ana",
                           "--spool", str(spool)], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0 and "replayed 2 event" in done.stdout, done.stderr
    assert actions(store) == ["Bash"]


def test_a_bad_option_value_is_reported_and_the_event_kept(store: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    done = hook("--db", store, "--user", "me", "--spool", str(spool), "--busy-timeout", "soon",
                event=used("Read"))  # fmt: skip
    assert done.returncode == 0 and "--busy-timeout" in done.stderr, done.stderr
    assert actions(store) == ["Read"]


def test_a_prompt_delivered_again_is_stored_once(store: str, tmp_path: Path) -> None:
    """A crash between storing a spooled prompt and emptying the spool replays the same event
    again: stored once, as a tool call (same tool_use_id) is. The same words typed again
    later are a new prompt, kept."""
    spool = tmp_path / "spool.jsonl"
    base = ["--db", store, "--user", "me", "--spool", str(spool)]
    entry = {"received_at": "2026-11-02T09:00:00+00:00", "event": prompt("rename the module")}
    stamped = {"received_at": "2026-11-02T09:00:05+00:00",
               "event": {**prompt("go on"), "timestamp": "2026-11-02T09:00:01Z"}}  # fmt: skip
    for _ in range(2):  # the second time: what a crash before the truncate leaves
        spool.write_text(json.dumps(entry) + "\n" + json.dumps(stamped) + "\n")
        assert hook(*base, event=used("Read")).returncode == 0
    again = {**stamped, "received_at": "2026-11-02T09:00:09+00:00"}  # the agent re-sent it
    spool.write_text(json.dumps(again) + "\n")
    assert hook(*base, event=used("Read")).returncode == 0
    for _ in range(2):
        assert hook(*base, event=prompt("continue")).returncode == 0
    with memvault.open(store) as vault:
        [session] = vault.sessions.list(memvault.ANY)
        said = [m.content for m in vault.messages.last(session.id, 20)]
    assert said == ["rename the module", "go on", "continue", "continue"]


def test_a_failure_keeps_the_exit_code_its_error_text_gives(store: str, tmp_path: Path) -> None:
    """Claude Code gives a failed Bash's code only inside `error`."""
    base = ["--db", store, "--user", "me", "--spool", str(tmp_path / "spool.jsonl")]
    errors = {"t128": "Command failed with exit code 128: fatal: could not read Username",
              "t2": "Exit code 2", "t1": "Permission denied"}  # fmt: skip
    for tool_use_id, error in errors.items():
        event = {**used("Bash", command="git push"), "hook_event_name": "PostToolUseFailure",
                 "error": error, "tool_use_id": tool_use_id}  # fmt: skip
        assert hook(*base, event=event).returncode == 0
    with memvault.open(store) as vault:
        got = {a.metadata["tool_use_id"]: a.exit_code for a in vault.actions.list(memvault.ANY)}
    assert got == {"t128": 128, "t2": 2, "t1": 1}


def test_usage_count_counts_outcomes_learned_as_the_readme_says(store: str, tmp_path: Path) -> None:
    """One prompt, three successful Bash calls: the route learned one outcome, and README says
    that is what `usage_count` counts (it said calls)."""
    base = ["--db", store, "--user", "me", "--spool", str(tmp_path / "spool.jsonl")]
    assert hook(*base, event=prompt("deploy the staging cluster")).returncode == 0
    for n in range(3):
        assert hook(*base, event={**used("Bash"), "tool_use_id": f"t{n}"}).returncode == 0
    with memvault.open(store) as vault:
        me = vault.users.get_by_handle("me")
        [bash] = vault.routing.suggest("deploy staging", user_id=me.id)
    assert (bash.tool_name, bash.usage_count, bash.success_count) == ("Bash", 1, 1)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "three successful `Bash` calls after one prompt count 1" in " ".join(readme.split())
