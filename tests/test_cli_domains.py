"""The domain commands: emotions (table, JSON, chart), traits, patterns, actions, route,
tasks, prune — on every engine, through the same Vault API."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import memvault
from memvault.cli import app

T0 = datetime(2024, 6, 1, 8, tzinfo=UTC)
runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def seeded(vault_url: str) -> str:
    with memvault.open(vault_url) as v:
        u = v.users.create("zoe")
        v.emotions.record_many(u.id, [
            {"emotion": "joy", "intensity": 0.4, "trigger": "music", "occurred_at": T0},
            {"emotion": "joy", "intensity": 0.8, "trigger": "music",
             "occurred_at": T0 + timedelta(days=1)},
            {"emotion": "anxiety", "intensity": 0.6, "occurred_at": T0},
        ])  # fmt: skip
        v.traits.set(u.id, "humor", 0.7, reason="first")
        v.traits.set(u.id, "humor", 0.9, reason="second")
        v.patterns.add(None, "greeting", "hello", "Hello!", teacher=True)
        v.patterns.add(u.id, "greeting", "hi", "Hi Zoe!", success_score=0.2)
        for ms, code in ((10.0, 0), (20.0, 0), (30.0, 1)):
            v.actions.record("Bash", tool_type="command", exit_code=code, duration_ms=ms)
        v.routing.update("run the tests", "Bash", True, tool_type="command")
        r = v.tasks.create_request("build it", user_id=u.id)
        w = v.tasks.add_wave(r.id, user_id=u.id)
        v.tasks.add_subtask(w.id, "compile", user_id=u.id)
        v.actions.record("Old", created_at=datetime.now(UTC) - timedelta(days=90))
        v.retention.set("actions", max_age_days=30)
    return vault_url


def test_emotions_table_json_and_user_by_id(seeded: str) -> None:
    out = run("emotions", "zoe", "--db", seeded)
    assert "joy" in out and "anxiety" in out and "music (2)" in out
    data = json.loads(run("emotions", "zoe", "--db", seeded, "--json",
                          "--until", "2024-06-03T00:00:00", "--window-days", "2"))  # fmt: skip
    joy = next(p for p in data["patterns"] if p["emotion"] == "joy")
    assert data["total"] == 3 and joy["count"] == 2
    assert joy["avg_intensity"] == pytest.approx(0.6) and joy["trend"] == "increasing"
    with memvault.open(seeded) as v:
        uid = v.users.get_by_handle("zoe").id
    assert json.loads(run("emotions", uid, "--db", seeded, "--json"))["user_id"] == uid
    missing = runner.invoke(app, ["emotions", "nobody", "--db", seeded])
    assert missing.exit_code != 0


def test_emotions_plot(seeded: str, tmp_path: Path) -> None:
    from matplotlib.image import imread  # part of the test extra: this must run, not skip

    png = tmp_path / "charts" / "2024" / "e.png"  # a folder that does not exist yet
    out = run("emotions", "zoe", "--db", seeded, "--plot", str(png))
    assert "chart written" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(str(png))
    assert pixels.shape[0] > 500 and pixels.shape[1] > 1000
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def test_emotions_plot_refuses_a_user_without_events(seeded: str, tmp_path: Path) -> None:
    with memvault.open(seeded) as v:
        v.users.create("quiet")
    png = tmp_path / "out" / "quiet.png"
    result = runner.invoke(app, ["emotions", "quiet", "--db", seeded, "--plot", str(png)])
    assert result.exit_code == 1, result.output
    assert "no emotion events" in result.output and "Traceback" not in result.output
    assert not png.exists() and not png.parent.exists()
    # Outside [since, until) counts as none too.
    result = runner.invoke(app, ["emotions", "zoe", "--db", seeded, "--plot", str(png),
                                 "--since", "2030-01-01T00:00:00"])  # fmt: skip
    assert result.exit_code == 1 and not png.exists()


def test_emotions_plot_into_a_folder_that_cannot_be_made(seeded: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    png = tmp_path / "a-file" / "e.png"
    result = runner.invoke(app, ["emotions", "zoe", "--db", seeded, "--plot", str(png)])
    assert result.exit_code == 1, result.output
    assert "cannot write the chart" in result.output and "Traceback" not in result.output


def test_the_emotions_chart_shows_intensity_over_time_trend_and_triggers(
    vault: memvault.Vault,
) -> None:
    pytest.importorskip("matplotlib")  # the test extra has it; the check is on the data
    from memvault.cli.affect import patterns_figure

    u = vault.users.create("zoe")
    until = datetime(2024, 6, 15, tzinfo=UTC)
    day = timedelta(days=1)
    joy = {"emotion": "joy"}
    vault.emotions.record_many(u.id, [
        # Long ago, two on one day: one daily mean of 0.3.
        {**joy, "intensity": 0.2, "trigger": "music", "occurred_at": T0},
        {**joy, "intensity": 0.4, "trigger": "music", "occurred_at": T0 + timedelta(hours=2)},
        # The 4-day trend window [06-11, 06-15): earlier half 0.5, recent half 0.9.
        {**joy, "intensity": 0.5, "trigger": "friends", "occurred_at": until - 3.5 * day},
        {**joy, "intensity": 0.9, "trigger": "music", "occurred_at": until - 0.5 * day},
        {"emotion": "anxiety", "intensity": 0.7, "trigger": "exams", "occurred_at": T0 + day},
    ])  # fmt: skip
    report = vault.emotions.patterns(u.id, until=until, window_days=4)
    events = vault.emotions.list(u.id, newest_first=False)
    fig = patterns_figure(report, events, title="zoe")
    axes = {ax.get_gid(): ax for ax in fig.axes}
    assert {"timeline", "triggers", "counts", "hours"} <= set(axes)
    series = {a.get_gid(): a for a in axes["timeline"].get_children() if a.get_gid()}
    points = series["events:joy"].get_offsets()
    assert sorted(points[:, 1].tolist()) == pytest.approx([0.2, 0.4, 0.5, 0.9])
    assert series["mean:joy"].get_ydata().tolist() == pytest.approx([0.3, 0.5, 0.9])
    assert series["mean:anxiety"].get_ydata().tolist() == pytest.approx([0.7])
    # The trend the table reports: earlier half 0.5, recent half 0.9; a legend that says so.
    assert series["trend:joy"].get_ydata().tolist() == pytest.approx([0.5, 0.5, 0.9, 0.9])
    assert "trend:anxiety" not in series  # no event of it in the window: no trend drawn
    legend = [t.get_text() for t in axes["timeline"].get_legend().get_texts()]
    assert "joy  ↑ increasing (+0.40)" in legend
    assert any(t.startswith("anxiety  → stable") for t in legend)
    bars = [a for a in axes["triggers"].patches if a.get_gid() == "trigger-bars"]
    assert [b.get_width() for b in bars] == [3, 1, 1]
    labels = [t.get_text() for t in axes["triggers"].get_yticklabels()]
    assert labels == ["music  (joy)", "friends  (joy)", "exams  (anxiety)"]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_emotions_plot_without_matplotlib(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = runner.invoke(app, ["emotions", "zoe", "--db", seeded, "--plot",
                                 str(tmp_path / "x.png")])  # fmt: skip
    assert result.exit_code == 1 and "memvault[plot]" in result.output
    assert not (tmp_path / "x.png").exists()


def test_traits_and_history(seeded: str) -> None:
    data = json.loads(run("traits", "zoe", "--db", seeded, "--json", "--history"))
    assert data["personality"]["traits"] == {"humor": 0.9}
    assert [(c["old_value"], c["new_value"], c["reason"]) for c in data["history"]] == [
        (None, 0.7, "first"), (0.7, 0.9, "second"),
    ]  # fmt: skip
    assert "second" in run("traits", "zoe", "--db", seeded, "--history")


def test_patterns_layered(seeded: str) -> None:
    data = json.loads(run("patterns", "--intent", "greeting", "--user", "zoe", "--db", seeded,
                          "--json"))  # fmt: skip
    assert [p["response_text"] for p in data] == ["Hi Zoe!", "Hello!"]
    base = json.loads(run("patterns", "--intent", "greeting", "--db", seeded, "--json"))
    assert [p["response_text"] for p in base] == ["Hello!"]
    assert "Hi Zoe!" in run("patterns", "-i", "greeting", "-u", "zoe", "--db", seeded)


def test_actions_stats_route_tasks(seeded: str) -> None:
    stats = json.loads(run("actions", "stats", "--db", seeded, "--json"))
    bash = next(s for s in stats if s["tool_name"] == "Bash")
    assert (bash["count"], bash["median_ms"], bash["p95_ms"]) == (3, 20.0, 30.0)
    assert bash["success_rate"] == pytest.approx(2 / 3)
    assert "Bash" in run("actions", "stats", "--db", seeded)
    assert len(json.loads(run("actions", "list", "--db", seeded, "--json"))) == 4
    route = json.loads(run("route", "please run my tests", "--db", seeded, "--json"))
    assert route[0]["tool_name"] == "Bash" and route[0]["matched"] == ["run", "tests"]
    assert "Bash" in run("route", "run tests", "--db", seeded)
    tasks = json.loads(run("tasks", "--db", seeded, "--json"))
    assert tasks[0]["request"]["prompt"] == "build it" and tasks[0]["subtasks"] == {"pending": 1}
    assert "build it" in run("tasks", "--user", "zoe", "--db", seeded)


def test_prune_dry_run_then_real(seeded: str) -> None:
    dry = json.loads(run("prune", "--dry-run", "--db", seeded, "--json"))
    assert dry["dry_run"] is True and dry["removed"] == {"actions": 1}
    assert "would remove" in run("prune", "--dry-run", "--db", seeded)
    done = json.loads(run("prune", "--db", seeded, "--json"))
    assert done["removed"] == {"actions": 1} and done["total"] == 1
    assert json.loads(run("prune", "--db", seeded, "--json"))["total"] == 0
    run("retention", "set", "emotion_events", "--keep-last", "1", "--db", seeded)
    policies = json.loads(run("retention", "list", "--db", seeded, "--json"))
    assert {p["entity"] for p in policies} == {"actions", "emotion_events"}
    assert json.loads(run("prune", "--db", seeded, "--json"))["removed"]["emotion_events"] == 2
