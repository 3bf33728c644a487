"""`memvault hook --server URL --key KEY` against a real `memvault serve`: a refused key is the
hook's setting, not a bad event (the events wait in the spool until the key is corrected)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hook.test_hook_process import hook, prompt, used
from tests.journeys.conftest import Cli, Service, start_service


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Cli, Service, str]]:
    cli = Cli(tmp_path)
    cli.ok("init")
    cli.ok("users", "add", "ana")
    cli.ok("users", "add", "bob")
    key = cli.json("keys", "create", "--user", "ana")["key"]
    service = start_service(cli)
    try:
        yield cli, service, key
    finally:
        service.stop()


def tools(cli: Cli, user: str) -> list[str]:
    return [a["tool_name"] for a in reversed(cli.json("actions", "list", "--user", user))]


def test_a_refused_key_keeps_the_events_until_it_is_corrected(
    served: tuple[Cli, Service, str], tmp_path: Path
) -> None:
    cli, service, key = served
    spool = tmp_path / "spool.jsonl"
    for tool in ("Grep", "Edit"):
        done = hook("--server", service.url, "--key", "mv_wrong", "--spool", str(spool),
                    event=used(tool))  # fmt: skip
        assert done.returncode == 0 and "refused --key" in done.stderr, done.stderr
        assert "HTTP 401" in done.stderr and "spooled" in done.stderr
    assert not spool.with_name("spool.jsonl.rejected").exists()
    assert len(spool.read_text().splitlines()) == 2
    # Finding 9: the call's PreToolUse notes its start (posting nothing), its PostToolUse
    # then carries the duration to the service.
    hook("--server", service.url, "--key", key, "--spool", str(spool),
         event={**used("Bash"), "hook_event_name": "PreToolUse"})  # fmt: skip
    done = hook("--server", service.url, "--key", key, "--spool", str(spool),
                event=used("Bash"))  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert tools(cli, "ana") == ["Grep", "Edit", "Bash"]  # replayed first, in order
    [bash] = [a for a in cli.json("actions", "list", "--user", "ana") if a["tool_name"] == "Bash"]
    assert bash["duration_ms"] is not None and bash["duration_ms"] > 0
    assert not spool.exists() or spool.read_text() == ""


def test_an_event_the_service_refuses_is_set_aside(
    served: tuple[Cli, Service, str], tmp_path: Path
) -> None:
    cli, service, key = served
    spool = tmp_path / "spool.jsonl"
    bad: dict[str, Any] = {**used("Bash"), "tool_name": "Ba\x00sh"}
    done = hook("--server", service.url, "--key", key, "--spool", str(spool), event=bad)
    assert done.returncode == 0 and "set aside" in done.stderr and "HTTP 4" in done.stderr
    assert len(spool.with_name("spool.jsonl.rejected").read_text().splitlines()) == 1
    hook("--server", service.url, "--key", key, "--spool", str(spool), event=prompt("x"))
    assert tools(cli, "ana") == []


def test_a_user_the_key_does_not_belong_to_is_refused(
    served: tuple[Cli, Service, str], tmp_path: Path
) -> None:
    """--user bob with ana's key: the service would file bob's events under ana. They are
    kept (spooled) and stderr says whose key it is; ana's own handle goes through."""
    cli, service, key = served
    spool = tmp_path / "spool.jsonl"
    done = hook("--server", service.url, "--key", key, "--user", "bob", "--spool", str(spool),
                event=used("Grep"))  # fmt: skip
    assert done.returncode == 0 and "--user 'bob' but the key belongs to 'ana'" in done.stderr
    assert "spooled" in done.stderr, done.stderr
    assert len(spool.read_text().splitlines()) == 1
    assert tools(cli, "ana") == [] and tools(cli, "bob") == []
    done = hook("--server", service.url, "--key", key, "--user", "ana", event=used("Edit"),
                env={"XDG_STATE_HOME": str(tmp_path / "state")})  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert tools(cli, "ana") == ["Edit"]
