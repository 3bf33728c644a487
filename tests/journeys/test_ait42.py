"""An AIT42 user moves its session history to memvault in phases with `memvault dualwrite`
(stage → status → advance → rollback), finds its tasks by title, and downgrades then upgrades
the populated store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from memvault.store.migrator import REVISIONS
from tests.journeys.conftest import Cli

LEGACY = {
    "sessions": {
        "3f2b8c1e": {
            "type": "competition", "task": "ログイン画面のバグを修正 — fix the login bug 🐛",
            "status": "running", "createdAt": "2025-11-10T12:31:04+00:00",
            "instances": [
                {"instanceId": 0, "agentName": "🏆 claude #0", "status": "completed"},
                {"instanceId": 1, "agentName": "🤖 codex #1", "status": "running"},
            ],
        },
        "9a8b7c6d": {
            "type": "ensemble", "task": "Écrire la documentation de l'API ✍️",
            "status": "paused", "createdAt": "2025-11-10T12:50:00+00:00", "instances": [],
        },
    },
    "conversations": {
        "3f2b8c1e": [
            {"role": "user", "content": "Fix the login bug 🐛",
             "timestamp": "2025-11-10T12:31:04Z"},
            {"role": "assistant", "content": "On it — instance 0 is running.",
             "timestamp": "2025-11-10T12:31:05Z"},
        ],
    },
    "memories": [{"kind": "preference", "content": "prefers small commits",
                  "timestamp": "2025-11-10T12:00:00Z"}],
}  # fmt: skip

# What the editor runs during the rollout: its writes go through the adapter of the rollout.
APP = """
import sys, memvault
from memvault.migrate.dualwrite import open_rollout
with memvault.open() as vault:
    dw = open_rollout(vault, "default")
    dw.append_message("3f2b8c1e", "user", sys.argv[1])
    dw.add_instance("3f2b8c1e", int(sys.argv[2]), agent="gemini", status="running")
    print(dw.stage)
"""


def _app(cli: Cli, text: str, instance: int) -> str:
    done = subprocess.run([sys.executable, "-c", APP, text, str(instance)], cwd=cli.cwd,
                          env=cli.env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_phased_rollout_then_search_and_downgrade(cli: Cli) -> None:
    legacy = cli.cwd / "sessions.json"
    legacy.write_text(json.dumps(LEGACY, ensure_ascii=False, indent=2), encoding="utf-8")

    refused = cli("dualwrite", "stage", str(legacy), "--user", "yuki")  # no store yet
    assert refused.returncode == 1 and "memvault init" in refused.stderr
    assert not (cli.cwd / "memvault.db").exists()
    cli.ok("init")
    staged = cli.json("dualwrite", "stage", str(legacy), "--user", "yuki")
    assert staged["copied"] == {"sessions": 2, "instances": 2, "messages": 2, "memories": 1}
    assert staged["stage"] == "off" and staged["in_sync"]
    status = cli.json("dualwrite", "status")
    assert status["counts"]["legacy"] == status["counts"]["memvault"]

    assert cli.json("dualwrite", "advance")["stage"] == "dual-write"
    assert _app(cli, "written to both", 2) == "dual-write"
    assert cli.json("dualwrite", "advance")["stage"] == "shadow-reads"

    # The legacy editor, still running somewhere, writes behind the adapter's back: drift.
    data = json.loads(legacy.read_text(encoding="utf-8"))
    data["memories"].append({"kind": "fact", "content": "works at night", "timestamp": "x"})
    legacy.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    status = cli.json("dualwrite", "status")
    assert not status["in_sync"] and status["drift"]["different"] == ["memories"]
    refused = cli("dualwrite", "advance")
    assert refused.returncode == 1 and "differs" in refused.stderr, refused.stderr
    assert cli.json("dualwrite", "stage", str(legacy), "--user", "yuki")["in_sync"]
    assert cli.json("dualwrite", "advance")["stage"] == "primary"
    assert cli.json("dualwrite", "advance")["stage"] == "complete"

    # memvault only, now: the legacy file misses this write until the rollback backfills it.
    assert _app(cli, "memvault only", 3) == "complete"
    assert "memvault only" not in legacy.read_text(encoding="utf-8")
    back = cli.json("dualwrite", "rollback")
    assert back["from"] == "complete" and back["stage"] == "primary"
    assert back["backfilled"]["messages"] == 1 and back["backfilled"]["instances"] == 1
    assert back["in_sync"]
    assert "memvault only" in legacy.read_text(encoding="utf-8")
    shown = cli.ok("dualwrite", "status").stdout
    assert "stage primary" in shown and "complete → primary" in shown, shown

    # Tasks by title, as AIT42 searches them.
    hits = cli.json("search", "login", "--user", "yuki", "--sessions")
    assert [h["item"]["title"] for h in hits] == [LEGACY["sessions"]["3f2b8c1e"]["task"]]
    assert hits[0]["item"]["instance_count"] == 4
    assert cli.json("search", "ecrire", "--user", "yuki", "--sessions")[0]["item"]["kind"] == (
        "ensemble"
    )

    # Downgrade a populated store (refused without --yes), then upgrade it again.
    before = cli.json("stats")["counts"]
    refused = cli("downgrade", "0006")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    head = REVISIONS[-1]  # AIT42's 0007 and whatever came after it go down and up again
    assert f"current: {head}" in cli.ok("current").stdout
    assert f"{head} → 0006" in cli.ok("downgrade", "0006", "--yes").stdout
    assert "current: 0006" in cli.ok("current").stdout
    assert f"0006 → {head}" in cli.ok("upgrade").stdout
    after = cli.json("stats")["counts"]
    assert after["sessions"] == before["sessions"] and after["messages"] == before["messages"]
    assert after["dualwrite_rollouts"] == 0  # the rollout went with revision 0007's table
    assert (
        cli.json("search", "login", "--user", "yuki", "--sessions")[0]["item"]["instance_count"]
        == 4
    )
    assert cli.ok("check").returncode == 0
    assert Path(cli.cwd / "memvault.db").exists()
