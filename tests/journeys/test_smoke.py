"""The first steps of the README, as a newcomer takes them: demo, stats, a key, the service."""

from __future__ import annotations

from typing import Any

from tests.journeys.conftest import Cli


def test_demo_then_the_service_shows_the_conversation(cli: Cli, service: Any) -> None:
    cli.ok("demo")
    stats = cli.json("stats")
    assert stats["counts"]["messages"] == 4
    admin = cli.json("keys", "create", "--admin")
    key = admin["key"] if "key" in admin else admin["secret"]
    served = service()
    with served.client(key) as http:
        sessions = http.get("/api/sessions").json()
        items = sessions["items"] if isinstance(sessions, dict) else sessions
        assert items, sessions
        messages = http.get(f"/api/sessions/{items[0]['id']}/messages").json()
        texts = [
            m["content"] for m in (messages["items"] if isinstance(messages, dict) else messages)
        ]
        assert any("Les Halles" in t for t in texts), texts
    assert served.stop() == 0  # SIGTERM is a clean shutdown
