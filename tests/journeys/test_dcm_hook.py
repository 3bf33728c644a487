"""DCM's users switch to memvault without touching their hook: `memvault serve --dcm-user`.

The commands are the ones of DCM's migration guide (seed 002, "Tester l'API manuellement" and
"Commandes de vérification"), run by bash as the hook runs them: no key. Only the port differs
(the guide's 3847 may be taken on a test machine; the service gets a free one).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.journeys.conftest import Cli

# Verbatim from the guide.
HOOK_TEST = """curl -X POST http://127.0.0.1:3847/api/actions \\
  -H "Content-Type: application/json" \\
  -d '{"tool_name": "Test", "tool_type": "builtin", "project_path": "/test"}'"""
CHECKS = [
    "curl http://127.0.0.1:3847/health",
    "curl http://127.0.0.1:3847/api/actions?limit=5",
    "curl http://127.0.0.1:3847/stats",
    'curl "http://127.0.0.1:3847/api/routing/suggest?q=test"',
]

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def sh(command: str, port: int) -> subprocess.CompletedProcess[str]:
    command = command.replace("127.0.0.1:3847", f"127.0.0.1:{port}")
    # -w appends the status on its own line; -s hides the progress meter (not the body).
    return subprocess.run(
        ["bash", "-c", command.replace("curl ", "curl -s -w '\\n%{http_code}' ", 1)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def status_and_body(result: subprocess.CompletedProcess[str]) -> tuple[int, Any]:
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else None


def test_dcm_hook_unchanged_with_dcm_user(cli: Cli, service: Any) -> None:
    served = service("--init", "--dcm-user", "rony")
    assert "DCM-compatible mode" in served.log
    port = int(served.url.rsplit(":", 1)[1])
    status, action = status_and_body(sh(HOOK_TEST, port))
    assert status == 201, action
    assert action["tool_name"] == "Test" and action["project_id"]
    for check in CHECKS:
        status, body = status_and_body(sh(check, port))
        assert status == 200, (check, body)
    _, listed = status_and_body(sh(CHECKS[1], port))
    assert [a["tool_name"] for a in listed["items"]] == ["Test"]
    status, projects = status_and_body(sh(f"curl http://127.0.0.1:{port}/api/projects", port))
    assert status == 200 and [p["name"] for p in projects["items"]] == ["/test"]
    # What was written is the configured user's, as the CLI shows it.
    actions = cli.json("actions", "list", "--user", "rony")
    assert [(a["tool_name"], a["tool_type"]) for a in actions] == [("Test", "builtin")]
    assert cli.json("actions", "list", "--user", "rony")[0]["user_id"] == actions[0]["user_id"]
    # A key still works beside the mode, and still sees only its own user's rows.
    admin = cli.json("keys", "create", "--admin")
    with served.client(admin.get("key") or admin.get("secret")) as http:
        alice = http.post("/api/users", json={"handle": "alice"}).json()
        key = http.post("/api/keys", json={"user_id": alice["id"]}).json()["key"]
    with served.client(key) as http:
        assert http.get("/api/actions").json()["items"] == []
        assert http.get("/api/projects").json()["items"] == []
    served.stop()


def test_without_dcm_user_the_hook_gets_401(cli: Cli, service: Any) -> None:
    served = service("--init")
    port = int(served.url.rsplit(":", 1)[1])
    status, body = status_and_body(sh(HOOK_TEST, port))
    assert status == 401 and body["error"] == "unauthorized", body
    assert cli.json("actions", "list") == []
    served.stop()
