"""`Tx.insert_new`: the bulk insert every engine offers (SQLite stages it in a TEMP table)."""

from __future__ import annotations

from typing import Any

import pytest

import memvault
from memvault.clock import utcnow
from memvault.errors import IntegrityViolation
from memvault.store.sqlite import STAGE_MIN_ROWS, STAGE_STATEMENT_ROWS

COLUMNS = ("id", "handle", "display_name", "profile", "created_at", "updated_at")


def _users(vault: memvault.Vault, n: int, start: int = 0) -> list[dict[str, Any]]:
    with vault.store.read() as tx:
        now = tx.ts(utcnow())
        profile = tx.json({"n": 1, "é": "🚀", "big": 2**63 - 1})
    return [
        {"id": f"00000000-0000-7000-8000-{i:012d}", "handle": f"0{i:03d}",
         "display_name": None if i % 3 == 0 else f"User {i} ✨", "profile": profile,
         "created_at": now, "updated_at": now}
        for i in range(start, start + n)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "n", [STAGE_MIN_ROWS - 1, STAGE_MIN_ROWS * 20, STAGE_STATEMENT_ROWS * 2 + 7]
)
def test_insert_new_skips_conflicts_and_keeps_values_and_order(
    vault: memvault.Vault, n: int
) -> None:
    first = _users(vault, n)
    with vault.store.write() as tx:
        tx.insert_new("users", COLUMNS, first)
    # Half of these are stored already (same id, different name): they must be left alone.
    again = _users(vault, n, start=n // 2)
    for row in again:
        row["display_name"] = "changed"
    with vault.store.write() as tx:
        tx.insert_new("users", COLUMNS, again)
    with vault.store.read() as tx:
        rows = tx.all(
            "SELECT id, handle, display_name, profile FROM users "
            + ("ORDER BY rowid" if tx.engine == "sqlite" else "ORDER BY created_at, id")
        )
        stored = [(tx.id_out(r["id"]), r["handle"], r["display_name"], tx.json_out(r["profile"]))
                  for r in rows]  # fmt: skip
    expected = [(r["id"], r["handle"], r["display_name"], {"n": 1, "é": "🚀", "big": 2**63 - 1})
                for r in first + again[n - n // 2:]]  # fmt: skip
    assert sorted(stored, key=lambda r: str(r[0])) == sorted(expected, key=lambda r: str(r[0]))
    # Text that looks like a number stays text ("0007", not 7).
    assert all(isinstance(s[1], str) and s[1].startswith("0") for s in stored)
    if vault.store.location.engine == "sqlite":
        assert stored == expected  # in the order given: rowids follow the input


def test_insert_new_in_a_failed_transaction_leaves_nothing(sqlite_vault: memvault.Vault) -> None:
    rows = _users(sqlite_vault, STAGE_MIN_ROWS * 2)
    rows[-1]["handle"] = None  # NOT NULL: the whole statement fails
    with pytest.raises(IntegrityViolation), sqlite_vault.store.write() as tx:
        tx.insert_new("users", COLUMNS, rows)
    with sqlite_vault.store.read() as tx:
        assert tx.scalar("SELECT count(*) FROM users") == 0
    rows[-1]["handle"] = "fixed"
    with sqlite_vault.store.write() as tx:  # the staging table is usable again
        tx.insert_new("users", COLUMNS, rows)
    with sqlite_vault.store.read() as tx:
        assert tx.scalar("SELECT count(*) FROM users") == len(rows)
