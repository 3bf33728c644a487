"""What every engine offers through Store/Tx, spelled its own way: the same answers on each."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import memvault
from memvault import StoreError


def test_time_arithmetic_is_in_utc(vault: memvault.Vault) -> None:
    user = vault.users.create("dialect")
    start = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    end = datetime(2024, 3, 1, 1, 0, 30, tzinfo=UTC)
    with vault.store.write() as tx:
        tx.execute(
            "UPDATE users SET created_at = :start, updated_at = :end WHERE id = :id",
            {"start": tx.ts(start), "end": tx.ts(end), "id": user.id},
        )
        row = tx.returning(
            f"SELECT {tx.utc_hour('created_at')} AS hour, "
            f"{tx.utc_day('created_at')} = :day AS same_day, "
            f"{tx.utc_month('updated_at')} = :month AS same_month, "
            f"{tx.seconds_between('updated_at', 'created_at')} AS seconds "
            f"FROM users WHERE id = :id{tx.for_update}",
            {"id": user.id, "day": tx.day_value(date(2024, 2, 29)),
             "month": tx.day_value(date(2024, 3, 1))},
        )  # fmt: skip
    assert row["hour"] == 23 and bool(row["same_day"]) and bool(row["same_month"])
    assert float(row["seconds"]) == pytest.approx(5430.0)


def test_returning_names_a_statement_that_gave_no_row(vault: memvault.Vault) -> None:
    with vault.store.read() as tx, pytest.raises(StoreError, match="returned no row"):
        tx.returning("SELECT id FROM users WHERE handle = :h", {"h": "nobody"})


def test_stream_and_unprepared_reads_answer_as_all(vault: memvault.Vault) -> None:
    for handle in ("a", "b", "c"):
        vault.users.create(handle)
    sql, params = "SELECT handle FROM users WHERE handle <> :h ORDER BY handle", {"h": "b"}
    with vault.store.read() as tx:
        expected = [r["handle"] for r in tx.all(sql, params)]
        assert [r["handle"] for r in tx.stream(sql, params)] == expected == ["a", "c"]
        assert [r["handle"] for r in tx.all_unprepared(sql, params)] == expected
        assert tx.database == tx.database and tx.database


def test_file_is_the_sqlite_database_file(vault: memvault.Vault) -> None:
    file = vault.store.file
    if vault.engine == "sqlite":
        assert file is not None and file.is_file()
    else:
        assert file is None
    with memvault.open("sqlite:///:memory:") as memory:
        assert memory.store.file is None
