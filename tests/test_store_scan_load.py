"""`Tx.scan`, `Tx.load_rows` and `Store.snapshot`: the bulk paths a whole-table copy
(`memvault transfer`, `verify`) uses, on every engine."""

from __future__ import annotations

import threading

import pytest

import memvault
from memvault.store.base import RowRefused, UnreadableTime
from memvault.store.sqlite import STAGE_MIN_ROWS

COLUMNS = ("id", "handle", "profile", "created_at", "updated_at")
NOW = "2026-01-02T03:04:05.000006Z"


def _rows(n: int, start: int = 0) -> list[tuple[str, str, str, str, str]]:
    return [
        (f"00000000-0000-7000-8000-{i:012d}", f"u{i:04d}", '{"n": 1.50, "é": "☕"}', NOW, NOW)
        for i in range(start, start + n)
    ]


@pytest.mark.parametrize("n", [3, STAGE_MIN_ROWS * 10])
def test_load_rows_then_scan_gives_them_back_in_batches(vault: memvault.Vault, n: int) -> None:
    rows = _rows(n)
    with vault.store.write() as tx:
        tx.load_rows("users", COLUMNS, rows)
    with vault.store.snapshot() as tx:
        chunks = list(tx.scan("SELECT id, handle, profile FROM users ORDER BY handle", batch=7))
    assert all(len(c) <= 7 for c in chunks)
    got = [row for chunk in chunks for row in chunk]
    assert [r[:2] for r in got] == [r[:2] for r in rows]
    assert all(type(r) is tuple and isinstance(r[0], str) for r in got)  # ids as text
    assert all(isinstance(r[2], str) for r in got)  # JSON as text, not parsed


def test_a_refused_row_is_named_and_nothing_stays(vault: memvault.Vault) -> None:
    rows = _rows(STAGE_MIN_ROWS * 3)
    bad = len(rows) - 5
    rows[bad] = (rows[bad][0], rows[0][1], *rows[bad][2:])  # a duplicate handle
    with pytest.raises(RowRefused) as caught, vault.store.write() as tx:
        tx.load_rows("users", COLUMNS, rows)
    assert caught.value.index == bad
    with vault.store.read() as tx:
        assert tx.scalar("SELECT count(*) AS n FROM users") == 0


def test_meanwhile_runs_once(vault: memvault.Vault) -> None:
    calls: list[int] = []
    with vault.store.write() as tx:
        tx.load_rows("users", COLUMNS, _rows(40), meanwhile=lambda: calls.append(1))
    assert calls == [1]


def test_a_snapshot_does_not_see_later_commits_even_from_another_thread(
    vault: memvault.Vault,
) -> None:
    with vault.store.write() as tx:
        tx.load_rows("users", COLUMNS, _rows(2))
    with vault.store.snapshot() as snap:
        assert snap.scalar("SELECT count(*) AS n FROM users") == 2
        writer = threading.Thread(target=lambda: vault.users.create("later"))
        writer.start()
        writer.join()
        seen: list[int] = []
        reader = threading.Thread(
            target=lambda: seen.append(
                len([r for c in snap.scan("SELECT id FROM users") for r in c])
            )
        )
        reader.start()
        reader.join()
        assert seen == [2]
    assert len(vault.users.list()) == 3


def test_postgresql_times_python_cannot_hold_come_as_text(vault: memvault.Vault) -> None:
    if vault.engine != "postgresql":
        pytest.skip("SQLite stores times as text: scan returns that text")
    with vault.store.read() as tx:
        rows = [
            r
            for c in tx.scan(
                "SELECT CAST('infinity' AS timestamptz) AS a, "
                "CAST('2025-06-01 12:00:00.5+02' AS timestamptz) AS b"
            )
            for r in c
        ]
    inf, normal = rows[0]
    assert inf == UnreadableTime("infinity")
    assert normal.utcoffset().total_seconds() == 0 and normal.hour == 10
