"""DCM's checks from its migration guide work unchanged (with a key), on every engine."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import memvault
from memvault.server import create_app
from memvault.server.auth import DCM_KEY_ID, Principal, dcm_principal
from tests.server.conftest import Served, ServerThread


def test_dcm_checks(served: Served) -> None:
    s = served
    with s.client() as c:
        health = c.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "healthy"
    with s.client(s.admin_key) as c:
        # The hook's body, as track-usage.sh sends it.
        r = c.post("/api/actions", json={"tool_name": "Test", "tool_type": "builtin",
                                         "project_path": "/test"})  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["tool_name"] == "Test" and r.json()["project_id"]
        hook = {"session_id": "6f1c2f7e-claude-code", "tool_name": "Edit", "tool_type": "builtin",
                "file_paths": "a.py,b.py", "exit_code": "", "duration_ms": 12,
                "project_path": "/test"}  # fmt: skip
        r = c.post("/api/actions", json=hook)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["file_paths"] == ["a.py", "b.py"] and body["exit_code"] is None
        assert body["metadata"]["external_session_id"] == "6f1c2f7e-claude-code"
        for i in range(6):
            c.post("/api/actions", json={"tool_name": f"T{i}", "exit_code": 0})
        listed = c.get("/api/actions?limit=5")
        assert listed.status_code == 200 and len(listed.json()["items"]) == 5
        assert listed.json()["next_offset"] == 5
        rest = c.get("/api/actions?limit=5&offset=5").json()["items"]
        assert {a["tool_name"] for a in rest} == {"Edit", "Test", "T0"}
        stats = c.get("/stats")
        assert stats.status_code == 200 and stats.json()["counts"]["actions"] == 8
        assert stats.json()["schema_version"] and stats.json()["size_bytes"] > 0
        for _ in range(3):
            c.post(
                "/api/routing/feedback",
                json={"query": "run the test suite", "tool_name": "Bash", "success": True},
            )
        c.post("/api/routing/feedback", json={"query": "read test file", "tool_name": "Read",
                                              "success": True})  # fmt: skip
        r = c.get("/api/routing/suggest", params={"q": "test"})
        assert r.status_code == 200
        suggestions = r.json()["suggestions"]
        assert [x["tool_name"] for x in suggestions] == ["Bash", "Read"]
        assert suggestions[0]["matched"] == ["test"]


# DCM-compatible mode (`memvault serve --dcm-user HANDLE`): DCM's hook sends no key.

HOOK = {"session_id": "6f1c2f7e-claude-code", "tool_name": "Edit", "tool_type": "builtin",
        "file_paths": "a.py", "exit_code": "0", "duration_ms": 12,
        "project_path": "/home/rony/proj"}  # fmt: skip


def scope(client: tuple[str, int] | None, path: str = "/api/actions", method: str = "POST",
          host: bytes = b"127.0.0.1:3847") -> dict[str, Any]:  # fmt: skip
    return {"type": "http", "method": method, "path": path, "client": client,
            "headers": [(b"host", host), (b"content-type", b"application/json")]}  # fmt: skip


def test_the_dcm_decision() -> None:
    user = "01a2379c-0000-7000-8000-000000000001"
    allowed = dcm_principal(scope(("127.0.0.1", 5000)), user)
    assert allowed == Principal(DCM_KEY_ID, user, False)  # a user's rights, never an admin's
    for client in [("127.0.0.1", 1), ("127.8.9.10", 1), ("::1", 1)]:
        assert dcm_principal(scope(client), user) is not None, client
    for host in [b"localhost:3847", b"[::1]:3847", b"127.0.0.1", b"LOCALHOST"]:
        assert dcm_principal(scope(("127.0.0.1", 1), host=host), user) is not None, host
    refused = [
        (scope(("127.0.0.1", 1)), None),  # the mode is off
        (scope(("10.0.0.7", 1)), user),  # another machine
        (scope(("192.168.1.20", 1)), user),
        (scope(("2001:db8::1", 1)), user),
        (scope(("::ffff:10.0.0.7", 1)), user),
        (scope(None), user),  # no client address known
        (scope(("127.0.0.1", 1), host=b"evil.example:3847"), user),  # DNS rebinding
        (scope(("127.0.0.1", 1), host=b""), user),
        (scope(("127.0.0.1", 1), path="/api/memories", method="GET"), user),  # not DCM's
        (scope(("127.0.0.1", 1), path="/api/keys"), user),
        (scope(("127.0.0.1", 1), path="/api/actions", method="DELETE"), user),
    ]
    for s, configured in refused:
        assert dcm_principal(s, configured) is None, s


@pytest.fixture
def dcm_served(sqlite_vault: memvault.Vault) -> Iterator[tuple[str, memvault.Vault, Any]]:
    rony = sqlite_vault.users.create("rony")
    app = create_app(sqlite_vault, dcm_user=rony.id)
    with ServerThread(app) as server:
        yield f"http://127.0.0.1:{server.port}", sqlite_vault, app


def test_the_hook_works_without_a_key_from_loopback(
    dcm_served: tuple[str, memvault.Vault, Any],
) -> None:
    url, vault, _ = dcm_served
    rony = vault.users.get_by_handle("rony")
    with httpx.Client(base_url=url, timeout=30) as c:  # no Authorization header at all
        r = c.post("/api/actions", json={"tool_name": "Test", "tool_type": "builtin",
                                         "project_path": "/test"})  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["user_id"] == rony.id
        r = c.post("/api/actions", json=HOOK)
        assert r.status_code == 201 and r.json()["exit_code"] == 0, r.text
        assert [a.tool_name for a in vault.actions.list(rony.id)] == ["Edit", "Test"]
        projects = c.get("/api/projects")
        assert projects.status_code == 200, projects.text
        assert [p["name"] for p in projects.json()["items"]] == ["/home/rony/proj", "/test"]
        assert len(c.get("/api/actions", params={"limit": 5}).json()["items"]) == 2
        assert c.get("/api/routing/suggest", params={"q": "test"}).status_code == 200
        assert c.get("/stats").status_code == 200
        # Everything else still needs a key, and a remote client never gets this.
        assert c.get("/api/memories").status_code == 401
        assert c.get("/api/whoami").status_code == 401
        assert c.post("/api/keys", json={"admin": True}).status_code == 401
        forwarded = c.post("/api/actions", json=HOOK, headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded.status_code == 401, forwarded.text  # uvicorn trusts a local proxy
        rebound = c.post("/api/actions", json=HOOK, headers={"Host": "evil.example:3847"})
        assert rebound.status_code == 401
    assert len(vault.actions.list(rony.id)) == 2


def test_a_non_loopback_client_gets_401_in_dcm_mode(
    dcm_served: tuple[str, memvault.Vault, Any],
) -> None:
    _, vault, app = dcm_served

    async def post(client: tuple[str, int]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3847") as c:
            return await c.post("/api/actions", json=HOOK)

    remote = asyncio.run(post(("198.51.100.4", 40000)))
    assert remote.status_code == 401 and remote.json()["error"] == "unauthorized"
    assert asyncio.run(post(("127.0.0.1", 40000))).status_code == 201
    assert len(vault.actions.list(vault.users.get_by_handle("rony").id)) == 1


def test_without_dcm_mode_the_hook_gets_401(served_sqlite: Served) -> None:
    with served_sqlite.client() as c:
        r = c.post("/api/actions", json=HOOK)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert c.get("/api/projects").status_code == 401


def test_projects_are_scoped_to_the_caller(served_sqlite: Served) -> None:
    s = served_sqlite
    s.vault.projects.create("/alice/p", user_id=s.alice.id)
    bob_project = s.vault.projects.create("/bob/p", user_id=s.bob.id)
    with s.client(s.alice_key) as c:
        assert [p["name"] for p in c.get("/api/projects").json()["items"]] == ["/alice/p"]
        assert c.get(f"/api/projects/{bob_project.id}").status_code == 404
        assert c.get("/api/projects", params={"user_id": s.bob.id}).status_code == 404
    with s.client(s.admin_key) as c:
        names = [p["name"] for p in c.get("/api/projects").json()["items"]]
        assert names == ["/alice/p", "/bob/p"]
