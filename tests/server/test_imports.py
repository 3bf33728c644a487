"""Import runs are readable over HTTP (admin keys only), with their reports and quarantine."""

from __future__ import annotations

from pathlib import Path

from memvault.migrate import import_source, quarantine
from tests.migrate.legacy_data import write_langchain
from tests.server.conftest import Served


def test_import_runs_with_reports(served_sqlite: Served, tmp_path: Path) -> None:
    root = write_langchain(tmp_path / "legacy")
    result = import_source(served_sqlite.vault, root, format="langchain", backup=False)
    with served_sqlite.client(served_sqlite.admin_key) as admin:
        runs = admin.get("/api/imports").json()
        assert [r["id"] for r in runs["items"]] == [result.run_id]
        run = admin.get(f"/api/imports/{result.run_id}").json()
        assert run["format"] == "langchain"
        assert run["status"] == result.status
        assert run["report"]["formats"]["langchain"]["entities"]["messages"] > 0
        assert run["quarantined"] == quarantine.count(served_sqlite.vault, result.run_id)
        assert admin.get("/api/imports/00000000-0000-7000-8000-000000000000").status_code == 404
    with served_sqlite.client(served_sqlite.alice_key) as alice:
        assert alice.get(f"/api/imports/{result.run_id}").status_code == 403
