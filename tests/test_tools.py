"""Actions and per-tool statistics; routing scores, their updates and suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import memvault
from memvault import ANY, InvalidInput, NotFound
from memvault.tools import keywords

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def test_keywords_english_and_french() -> None:
    assert keywords("Please run the unit tests, then deploy!") == ["run", "unit", "tests",
                                                                   "deploy"]  # fmt: skip
    assert keywords("Peux-tu lancer les tests de l'application, s'il te plaît ?") == [
        "lancer", "tests", "application",
    ]  # fmt: skip
    assert keywords("Éditer le fichier README.md — 2024") == ["éditer", "fichier", "readme", "md"]
    assert keywords("the THE The") == []


def test_actions_record_query_and_isolation(vault: memvault.Vault) -> None:
    u = vault.users.create("dev")
    other = vault.users.create("ops")
    proj = vault.projects.create("api", user_id=u.id)
    a1 = vault.actions.record("Bash", tool_type="command", user_id=u.id, project_id=proj.id,
                              input="pytest -q", file_paths=["tests/a.py"], exit_code=0,
                              duration_ms=120, created_at=T0)  # fmt: skip
    vault.actions.record("Read", user_id=u.id, created_at=T0 + timedelta(hours=1))
    vault.actions.record("Bash", tool_type="command", user_id=other.id, created_at=T0)
    with pytest.raises(InvalidInput, match="tool_type"):
        vault.actions.record("X", tool_type="plugin")
    with pytest.raises(NotFound, match="project"):  # as an unknown id: nothing confirmed
        vault.actions.record("Bash", user_id=other.id, project_id=proj.id)
    assert vault.actions.get(a1.id, user_id=u.id).file_paths == ["tests/a.py"]
    with pytest.raises(NotFound):
        vault.actions.get(a1.id, user_id=other.id)
    assert [a.tool_name for a in vault.actions.list(u.id)] == ["Read", "Bash"]
    assert [a.id for a in vault.actions.list(u.id, project_id=proj.id)] == [a1.id]
    assert len(vault.actions.list(u.id, tool_name="Bash")) == 1
    assert len(vault.actions.list(ANY, tool_name="Bash")) == 2
    assert len(vault.actions.list(u.id, since=T0 + timedelta(minutes=30))) == 1
    assert len(vault.actions.list(u.id, until=T0 + timedelta(minutes=30))) == 1


def test_tool_stats_exact(vault: memvault.Vault) -> None:
    u = vault.users.create("stat")
    with vault.transaction():
        for i in range(1, 101):  # durations 1..100 ms; exit codes: 0 x70, 1 x20, None x10
            code = 0 if i <= 70 else (1 if i <= 90 else None)
            vault.actions.record("Bash", tool_type="command", user_id=u.id, exit_code=code,
                                 duration_ms=float(i), created_at=T0)  # fmt: skip
        for d in (5.0, 1.0, 3.0):
            vault.actions.record("Grep", user_id=u.id, exit_code=0, duration_ms=d)
        vault.actions.record("Grep", user_id=u.id, exit_code=2)  # no duration
    bash, grep = vault.actions.stats(u.id)
    assert (bash.tool_name, bash.count, bash.successes, bash.failures, bash.unknown) == (
        "Bash", 100, 70, 20, 10,
    )  # fmt: skip
    assert bash.success_rate == pytest.approx(70 / 90)  # unknown codes left out
    assert bash.median_ms == 50.0 and bash.p95_ms == 95.0 and bash.avg_ms == pytest.approx(50.5)
    assert (grep.count, grep.success_rate) == (4, pytest.approx(0.75))
    assert grep.median_ms == 3.0 and grep.p95_ms == 5.0
    assert vault.actions.stats(vault.users.create("none").id) == []
    assert [s.tool_name for s in vault.actions.stats(u.id, tool_name="Grep")] == ["Grep"]


def test_routing_update_and_suggest(vault: memvault.Vault) -> None:
    u = vault.users.create("router")
    seen: list[memvault.Event] = []
    vault.events.subscribe(seen.append, ["routing"])
    vault.routing.update("run the python tests", "Bash", True, tool_type="command")
    vault.routing.update("run the python tests", "Bash", True, tool_type="command")
    vault.routing.update("run python tests", "Task", False, tool_type="agent")
    vault.routing.update(["search", "python files"], "Grep", True)
    rows = {(s.keyword, s.tool_name): s for s in vault.routing.scores(None, limit=100)}
    assert rows[("python", "Bash")].weight == 2.0 and rows[("python", "Bash")].usage_count == 2
    assert rows[("tests", "Task")].weight == -0.5 and rows[("tests", "Task")].success_count == 0
    assert rows[("files", "Grep")].weight == 1.0
    got = vault.routing.suggest("Run my Python tests please")
    assert [(s.tool_name, s.score) for s in got] == [("Bash", 6.0), ("Grep", 1.0)]  # not Task
    assert got[0].matched == ["python", "run", "tests"]
    # two calls, each learned on three keywords: counted twice, not six times (newcomer 15)
    assert (got[0].usage_count, got[0].success_count) == (2, 2)
    got = vault.routing.suggest("search python")
    assert [(s.tool_name, s.score) for s in got] == [("Bash", 2.0), ("Grep", 2.0)]
    # a user's own scores add to the global ones (layered) and stay theirs
    vault.routing.update("search python", "Grep", True, user_id=u.id)
    vault.routing.update("search python", "Grep", True, user_id=u.id)
    assert [s.tool_name for s in vault.routing.suggest("search python", user_id=u.id)] == [
        "Grep", "Bash",
    ]  # fmt: skip
    assert vault.routing.suggest("search python", user_id=u.id)[0].score == 6.0
    assert [s.score for s in vault.routing.suggest("search python", user_id=u.id,
                                                   layered=False)] == [4.0]  # fmt: skip
    assert vault.routing.suggest("search python")[1].score == 2.0  # global untouched
    assert vault.routing.suggest("nothing matches zzz") == []
    assert vault.routing.suggest("the and of") == []
    with pytest.raises(InvalidInput, match="no keyword"):
        vault.routing.update("the of", "Bash", True)
    assert len(vault.routing.suggest("run python tests search files", limit=1)) == 1
    assert {e.kind for e in seen} == {"routing.updated"} and len(seen) == 6
