"""`memvault backup` on PostgreSQL: a `pg_dump -Fc` archive that pg_restore brings back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import memvault
from memvault.store.postgres import client_program
from tests._servers import drop_database, fresh_database, in_ci, libpq_url

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


@pytest.mark.parametrize("server", ["pg15", "pg18"])
def test_backup_of_a_postgresql_store_restores(
    server: str, pg_servers: dict[str, str], tmp_path: Path
) -> None:
    if server not in pg_servers:
        if in_ci():
            pytest.fail(f"PostgreSQL server {server} is not available in CI")
        pytest.skip(f"PostgreSQL server {server} not available")
    base = pg_servers[server]
    src_name, dst_name = f"mv_cli_backup_src_{server}", f"mv_cli_backup_dst_{server}"
    src, dst = fresh_database(base, src_name), fresh_database(base, dst_name)
    try:
        with memvault.open(src) as vault:
            ann = vault.users.create("ann")
            session = vault.sessions.create(ann.id, title="Déjà vu")
            vault.messages.append(session.id, "user", "Rendez-vous au café")
            vault.memories.add(ann.id, "fact", "Ann likes tea")
        dump = tmp_path / "store.dump"
        env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
        result = subprocess.run(
            [MEMVAULT, "backup", str(dump), "--db", src], capture_output=True, text=True,
            env=env, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "backup written" in result.stdout and dump.stat().st_size > 0
        again = subprocess.run(
            [MEMVAULT, "backup", str(dump), "--db", src], capture_output=True, text=True,
            env=env, timeout=300,
        )  # fmt: skip
        assert again.returncode != 0 and "--force" in again.stderr
        with memvault.open(src) as vault, vault.store.read() as tx:
            major = int(str(tx.scalar("SHOW server_version_num"))) // 10000
            pid = int(tx.scalar("SELECT pg_backend_pid()"))
            # while the backend runs: its /proc entry shows where the server's programs are
            pg_restore = client_program("pg_restore", major, pid)
        restore = subprocess.run(
            [pg_restore, "--exit-on-error", "--no-owner", "-d", libpq_url(dst), str(dump)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert restore.returncode == 0, restore.stderr
        with memvault.open(dst, create=False, auto_upgrade=False) as restored:
            counts = restored.stats().counts
            assert (counts["users"], counts["messages"], counts["memories"]) == (1, 1, 1)
            assert [m.content for m in restored.messages.list(session.id)] == [
                "Rendez-vous au café"
            ]
    finally:
        drop_database(base, src_name)
        drop_database(base, dst_name)
