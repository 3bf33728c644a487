"""memvault transfer: SQLite → PostgreSQL 15/18 → SQLite, values at the edges, refusals,
kill -9 and resume, and tampering caught by the checksums."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
import pytest
import sqlean

import memvault
from memvault.migrate.transfer import (
    DestinationNotEmpty,
    TransferError,
    VerificationFailed,
    checksum_store,
    transfer,
)
from memvault.store.sqlite import STAGE_MIN_ROWS
from tests._servers import drop_database, fresh_database, in_ci, postgres_urls

REPO = Path(__file__).resolve().parents[2]
MEMVAULT = [str(Path(sys.executable).parent / "memvault")]

EXTREME_FLOATS = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2, 1.0]


def pg_base(server: str) -> str:
    urls = postgres_urls()
    if server not in urls:
        if in_ci():
            pytest.fail(f"PostgreSQL server {server} is not available in CI")
        pytest.skip(f"PostgreSQL server {server} not available")
    return urls[server]


@pytest.fixture(params=["pg15", "pg18"])
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (no schema) on each server."""
    base = pg_base(str(request.param))
    name = f"mv_transfer_{request.param}_{os.getpid()}_{request.node.name[-40:]}"
    name = "".join(c if c.isalnum() else "_" for c in name)[:60].lower()
    url = fresh_database(base, name)
    try:
        yield url
    finally:
        drop_database(base, name)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def populate(url: str, *, messages: int = 30) -> dict[str, str]:
    """A store holding the values a transfer must keep exactly; returns a few ids."""
    with memvault.open(url) as vault:
        alice = vault.users.ensure("alice", "Alice Ünïcødé 😀")
        li = vault.users.ensure("李", "李小龍 🐉")
        root = vault.sessions.create(alice.id, title="voyage à Lyon 🚄", metadata={"k": [1, 2.5]})
        child = vault.sessions.create(alice.id, kind="instance", parent_id=root.id, title="sub")
        for i in range(messages):
            vault.messages.append(
                root.id if i % 3 else child.id,
                ("user", "assistant")[i % 2],
                f"message {i}: café ☕ naïve 東京 🎉 \t tab, newline\nand backslash \\ {i}",
                metadata={"i": i, "emoji": "👋", "nested": {"z": None, "a": [True, 1e-7]}},
            )
        mem = vault.memories.add(
            alice.id, "fact", "Aime le thé 🍵", confidence=EXTREME_FLOATS[0],
            embedding=np.arange(8, dtype=np.float32) / 7, embedding_model="test-8",
        )  # fmt: skip
        edge32 = np.array([1e-45, 3.4028235e38, -0.0, 1 / 3, 2**-126, 0.1, -1e-38, 7], "<f4")
        vault.memories.add(li.id, "preference", "喜欢喝茶", confidence=EXTREME_FLOATS[3],
                           embedding=edge32, embedding_model="test-8")  # fmt: skip
        vault.memories.add(None, "note", "base layer note", importance=EXTREME_FLOATS[1])
        for i in range(4):  # rolled up by triggers on both engines (derived, not copied)
            vault.emotions.record(alice.id, ("joy", "fun")[i % 2], 0.1 + i / 5, trigger="tea",
                                  occurred_at=datetime_edge(2 + i % 2))  # fmt: skip
        vault.traits.set(alice.id, "humor", 0.25, reason="init")
        vault.traits.set(alice.id, "humor", 0.75, reason="joke landed 😂")
    with memvault.open(url) as vault, vault.store.write() as tx:
        # Values the API would not produce but a store may hold: extremes and odd times.
        for i, value in enumerate([*EXTREME_FLOATS[2:], float("inf")]):
            tx.execute(
                "INSERT INTO actions (id, user_id, tool_name, tool_type, file_paths, duration_ms, "
                "metadata, created_at) VALUES (:id, :u, 'Bash', 'builtin', :fp, :d, :m, :t)",
                {"id": f"00000000-0000-7000-8000-00000000000{i}", "u": alice.id,
                 "fp": tx.json(["/tmp/ü", "/日本"]), "d": value,
                 "m": tx.json({"big": 2**62, "neg": -(2**62), "f": -1.5e-300, "s": "é"}),
                 "t": tx.ts(datetime_edge(i))},
            )  # fmt: skip
        tx.execute(
            "UPDATE sessions SET ended_at = :t WHERE id = :id",
            {"t": tx.ts(datetime_edge(0)), "id": child.id},
        )
        tx.execute(
            "UPDATE memories SET expires_at = :t WHERE id = :id",
            {"t": tx.ts(datetime_edge(1)), "id": mem.id},
        )
    return {"alice": alice.id, "root": root.id, "child": child.id, "memory": mem.id}


def datetime_edge(i: int) -> datetime:
    return [
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, 1, tzinfo=UTC),
    ][i]


def rollups(url: str) -> list[tuple[object, ...]]:
    """The trigger-kept emotion rollups, engine-neutral."""
    with memvault.open(url) as vault, vault.store.read() as tx:
        rows = tx.all("SELECT emotion, n, total, peak FROM emotion_rollups ORDER BY emotion")
        trig = tx.all("SELECT emotion, n FROM emotion_trigger_rollups ORDER BY emotion")
    return [(r["emotion"], r["n"], round(r["total"], 9), r["peak"]) for r in rows] + [
        (r["emotion"], r["n"]) for r in trig
    ]


def table_counts(url: str) -> dict[str, int]:
    return {t: n for t, (n, _) in checksum_store(url).items() if n}


def test_sqlite_to_postgres_and_back(tmp_path: Path, pg_url: str) -> None:
    src = sqlite_url(tmp_path / "src.db")
    ids = populate(src)
    result = transfer(src, pg_url, batch=7)
    assert result.ok and not result.resumed
    assert result.rows == sum(table_counts(src).values()) > 40
    assert checksum_store(src) == checksum_store(pg_url)
    assert rollups(pg_url) == rollups(src) == [("fun", 2, 1.0, 0.7), ("joy", 2, 0.6, 0.5),
                                               ("fun", 2), ("joy", 2)]  # fmt: skip

    with memvault.open(pg_url) as vault:
        # Types kept: uuid, timestamptz, json (record metadata, revision 0012) and jsonb,
        # double precision, bytea.
        with vault.store.read() as tx:
            types = {
                (r["table_name"], r["column_name"]): r["data_type"]
                for r in tx.all(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema()"
                )
            }
            dur = sorted(r["duration_ms"] for r in tx.all("SELECT duration_ms FROM actions"))
            conf = tx.scalar("SELECT confidence FROM memories WHERE id = :i", {"i": ids["memory"]})
            parent = tx.scalar("SELECT parent_id FROM sessions WHERE id = :i", {"i": ids["child"]})
            fks = tx.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
            clock = tx.scalar("SELECT count(*) FROM vector_clock")
        assert types[("messages", "created_at")] == "timestamp with time zone"
        assert types[("messages", "metadata")] == "json"
        assert types[("users", "profile")] == "jsonb"
        assert types[("memories", "confidence")] == "double precision"
        assert types[("embeddings", "vector")] == "bytea"
        if ("embeddings", "vec") in types:  # pgvector: the same float32 values, bit for bit
            with vault.store.read() as tx:
                pairs = tx.all("SELECT vector, vec::text AS vec FROM embeddings")
            assert pairs
            for pair in pairs:
                want = np.frombuffer(bytes(pair["vector"]), dtype="<f4")
                got = np.array(pair["vec"].strip("[]").split(","), dtype="<f4")
                assert got.tobytes() == want.tobytes()
        assert types[("users", "id")] == "uuid"
        assert dur == sorted([*EXTREME_FLOATS[2:], float("inf")])
        assert conf == EXTREME_FLOATS[0]
        assert str(parent) == ids["root"]
        # One per (owner, model) with vectors: two owners' test-8 vectors, and the base
        # note's, embedded on write by the default model.
        assert fks > 20 and clock == 3
        assert vault.check() == []
        # Derived indexes work: full-text search on the transferred rows.
        hits = vault.messages.search(ids["alice"], "naïve")
        assert len(hits) > 0
        assert vault.sessions.get(ids["child"]).ended_at is not None

    back = sqlite_url(tmp_path / "back.db")
    again = transfer(pg_url, back, batch=5)
    assert again.ok
    assert checksum_store(back) == checksum_store(src)
    assert rollups(back) == rollups(src)
    with memvault.open(back) as vault:
        assert vault.check() == []
        assert len(vault.messages.search(ids["alice"], "tokyo OR 東京")) > 0
        with vault.store.read() as tx:
            blob = tx.scalar("SELECT vector FROM embeddings")
        assert struct.unpack("<8f", blob) == tuple(np.arange(8, dtype=np.float32) / 7)


def test_sqlite_to_sqlite(tmp_path: Path) -> None:
    src = sqlite_url(tmp_path / "a.db")
    populate(src)
    dst = sqlite_url(tmp_path / "b.db")
    result = transfer(src, dst, batch=3)
    assert result.ok
    assert checksum_store(dst) == checksum_store(src)
    with pytest.raises(DestinationNotEmpty):
        transfer(src, dst)


def test_sqlite_destination_in_staged_batches(tmp_path: Path) -> None:
    """Batches of at least STAGE_MIN_ROWS go through the staging table on a SQLite
    destination: the same rows, an FTS5 index equal to a rebuild, and a refused row named."""
    src = sqlite_url(tmp_path / "a.db")
    ids = populate(src, messages=300)
    dst = sqlite_url(tmp_path / "b.db")
    assert transfer(src, dst, batch=STAGE_MIN_ROWS * 4).ok
    assert checksum_store(dst) == checksum_store(src)
    with memvault.open(dst) as vault:
        before = [h.item.id for h in vault.messages.search(ids["alice"], "naïve", k=50)]
        assert before
        with vault.store.write() as tx:
            tx.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
            tx.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
        assert [h.item.id for h in vault.messages.search(ids["alice"], "naïve", k=50)] == before

    # A row the destination refuses (a CHECK the source was told to ignore) is named.
    conn = sqlean.connect(str(tmp_path / "a.db"))
    bad = conn.execute("SELECT id FROM messages ORDER BY id LIMIT 1 OFFSET 40").fetchone()[0]
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("UPDATE messages SET seq = -1 WHERE id = ?", (bad,))
    conn.commit()
    conn.close()
    with pytest.raises(TransferError) as err:
        transfer(src, sqlite_url(tmp_path / "c.db"), batch=STAGE_MIN_ROWS * 4)
    assert "messages" in str(err.value) and bad in str(err.value)


def test_nul_byte_refused_with_row_named_then_resumable(tmp_path: Path, pg_url: str) -> None:
    src = sqlite_url(tmp_path / "src.db")
    ids = populate(src, messages=12)
    conn = sqlean.connect(str(tmp_path / "src.db"))
    bad = conn.execute("SELECT id FROM messages ORDER BY id LIMIT 1 OFFSET 7").fetchone()[0]
    conn.execute("UPDATE messages SET content = ? WHERE id = ?", ("before\x00after", bad))
    conn.commit()
    with pytest.raises(TransferError) as err:
        transfer(src, pg_url, batch=2)
    text = str(err.value)
    assert "table messages" in text and bad in text and "column content" in text
    assert "NUL" in text
    # Rows before the bad one are committed; after fixing the source row, the same
    # command resumes and finishes without duplicates.
    with psycopg.connect(pg_url) as pg:
        assert 0 < pg.execute("SELECT count(*) FROM messages").fetchone()[0] < 12  # type: ignore[index]
    conn.execute("UPDATE messages SET content = 'before after' WHERE id = ?", (bad,))
    conn.commit()
    conn.close()
    result = transfer(src, pg_url, batch=2)
    assert result.ok and result.resumed
    assert checksum_store(src) == checksum_store(pg_url)
    del ids


def test_cli_nul_refusal_exit_code(tmp_path: Path, pg_url: str) -> None:
    src = tmp_path / "src.db"
    populate(sqlite_url(src), messages=3)
    conn = sqlean.connect(str(src))
    conn.execute("UPDATE users SET display_name = ? WHERE handle = 'alice'", ("nul\x00",))
    conn.commit()
    conn.close()
    proc = run_cli("transfer", sqlite_url(src), pg_url, "--quiet")
    assert proc.returncode == 1
    assert "table users" in proc.stderr and "display_name" in proc.stderr


def test_odd_timestamps(tmp_path: Path, pg_url: str) -> None:
    src = sqlite_url(tmp_path / "src.db")
    ids = populate(src, messages=2)
    conn = sqlean.connect(str(tmp_path / "src.db"))
    # Other ISO-8601 spellings are converted to UTC; verification compares the instants.
    conn.execute("UPDATE sessions SET updated_at = '2025-06-01T12:00:00+02:00' WHERE id = ?",
                 (ids["root"],))  # fmt: skip
    conn.execute("UPDATE sessions SET ended_at = '2025-06-01 08:30:00' WHERE id = ?",
                 (ids["root"],))  # fmt: skip
    conn.commit()
    result = transfer(src, pg_url)
    assert result.ok
    with psycopg.connect(pg_url) as pg:
        row = pg.execute(
            "SELECT updated_at AT TIME ZONE 'UTC', ended_at AT TIME ZONE 'UTC' FROM sessions "
            "WHERE id = %s", (ids["root"],)).fetchone()  # fmt: skip
    assert row is not None and str(row[0]) == "2025-06-01 10:00:00"
    assert str(row[1]) == "2025-06-01 08:30:00"
    # Text that is not a time at all is refused, naming the row and the column.
    conn.execute("UPDATE memories SET updated_at = 'yesterday' WHERE id = ?", (ids["memory"],))
    conn.commit()
    conn.close()
    other = sqlite_url(tmp_path / "other.db")
    with pytest.raises(
        TransferError, match=rf"memories, row id='{ids['memory']}', column updated_at"
    ):
        transfer(src, other)


def test_postgres_time_out_of_range_refused(tmp_path: Path, pg_url: str) -> None:
    src = sqlite_url(tmp_path / "src.db")
    ids = populate(src, messages=2)
    assert transfer(src, pg_url).ok
    with psycopg.connect(pg_url) as pg:
        pg.execute("UPDATE sessions SET ended_at = 'infinity' WHERE id = %s", (ids["root"],))
    with pytest.raises(TransferError, match=r"sessions.*column ended_at.*infinity"):
        transfer(pg_url, sqlite_url(tmp_path / "back.db"))


def test_destination_not_empty(tmp_path: Path, pg_url: str) -> None:
    src = sqlite_url(tmp_path / "src.db")
    populate(src, messages=2)
    with memvault.open(pg_url) as vault:
        vault.users.ensure("someone")
    with pytest.raises(DestinationNotEmpty):
        transfer(src, pg_url)
    proc = run_cli("transfer", src, pg_url, "--quiet")
    assert proc.returncode == 1 and "not empty" in proc.stderr


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEMVAULT, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )  # fmt: skip


def big_source(path: Path, messages: int) -> str:
    url = sqlite_url(path)
    populate(url, messages=5)
    conn = sqlean.connect(str(path))
    sid, uid = conn.execute("SELECT id, user_id FROM sessions WHERE parent_id IS NULL").fetchone()
    from memvault.ids import new_id

    conn.execute("BEGIN")
    start = conn.execute("SELECT last_seq FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
    conn.executemany(
        "INSERT INTO messages (id, session_id, user_id, seq, role, content, created_at) "
        "VALUES (?, ?, ?, ?, 'user', ?, '2025-01-01T00:00:00.000000Z')",
        [(new_id(), sid, uid, start + i + 1, f"bulk {i} ✓") for i in range(messages)],
    )
    conn.execute("UPDATE sessions SET last_seq = last_seq + ?, message_count = message_count + ? "
                 "WHERE id = ?", (messages, messages, sid))  # fmt: skip
    conn.execute("COMMIT")
    conn.close()
    return url


def kill_midway(src: str, dst: str, probe: str) -> None:
    """Start the CLI transfer, kill -9 it once some message batches are committed."""
    proc = subprocess.Popen(
        [*MEMVAULT, "transfer", src, dst, "--batch", "50", "--quiet"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail("the transfer finished before it could be killed")
            try:
                if probe_count(dst, probe) >= 500:
                    break
            except Exception:
                pass
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def probe_count(url: str, sql: str) -> int:
    if url.startswith("sqlite"):
        conn = sqlean.connect(url.removeprefix("sqlite:///"), timeout=10)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    with psycopg.connect(url) as pg:
        return int(pg.execute(sql).fetchone()[0])  # type: ignore[index]


@pytest.mark.parametrize("direction", ["to_pg", "to_sqlite"])
def test_kill_9_then_resume(tmp_path: Path, pg_url: str, direction: str) -> None:
    n = 6000
    src = big_source(tmp_path / "src.db", n)
    if direction == "to_sqlite":
        assert transfer(src, pg_url).ok
        src, dst = pg_url, sqlite_url(tmp_path / "dst.db")
    else:
        dst = pg_url
    kill_midway(src, dst, "SELECT count(*) FROM messages")
    partial = probe_count(dst, "SELECT count(*) FROM messages")
    assert 0 < partial < n
    proc = run_cli("transfer", src, dst, "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"resumed": true' in proc.stdout
    total = probe_count(src, "SELECT count(*) FROM messages")
    assert probe_count(dst, "SELECT count(*) FROM messages") == total == n + 5
    assert probe_count(dst, "SELECT count(DISTINCT id) FROM messages") == total
    assert probe_count(dst, "SELECT count(*) FROM import_runs") == 0  # bookkeeping removed
    assert checksum_store(src) == checksum_store(dst)


def test_tampered_destination_row_fails_verification(tmp_path: Path, pg_url: str) -> None:
    src = big_source(tmp_path / "src.db", 3000)
    kill_midway(src, pg_url, "SELECT count(*) FROM messages")
    with psycopg.connect(pg_url) as pg:  # change a row the first run already copied
        pg.execute("UPDATE messages SET content = content || ' (edited)' "
                   "WHERE id = (SELECT id FROM messages ORDER BY id LIMIT 1)")  # fmt: skip
    proc = run_cli("transfer", src, pg_url, "--json")
    assert proc.returncode == 3
    assert "verification failed" in proc.stderr and "messages" in proc.stderr
    assert '"ok": false' in proc.stdout
    with pytest.raises(VerificationFailed) as err:  # still reported on every re-run
        transfer(src, pg_url)
    assert err.value.result is not None
    assert [t.table for t in err.value.result.mismatches] == ["messages"]
