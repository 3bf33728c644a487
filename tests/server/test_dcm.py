"""DCM's checks from its migration guide work unchanged (with a key), on every engine."""

from __future__ import annotations

from tests.server.conftest import Served


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
