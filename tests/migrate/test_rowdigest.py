"""Row checksums: the Python rendering and the PostgreSQL SQL rendering agree byte for byte
(so the destination can be checked server-side), and a changed value changes the sum."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from memvault.migrate.rowdigest import RowDigest, jsonb_text, pg_checksum_sql
from memvault.store.base import Store
from memvault.store.engine import open_store, parse_url
from tests._servers import drop_database, fresh_database, postgres_urls

JSON_DOCS = [
    "{}",
    "[]",
    '"a string"',
    "12",
    "-0",
    "-0.0",
    "null",
    "true",
    '{"b": 1, "a": 2, "aa": 3, "é": 4, "z": 5}',
    '{"a": 1, "a": 2}',
    "[1e-7, 1.50, 2E2, 1.5e3, -1.5e-30, 0.1, 123456789012345678901234567890]",
    '{"big": 4611686018427387904, "neg": -4611686018427387904, "f": -1.5e-300}',
    '{"s": "tab\\t nl\\n cr\\r bs\\\\ q\\" ctl\\u0001 \\u00e9 😀 \\ud83d\\ude00 /"}',
    '{"nested": {"z": null, "a": [true, false, {"k": []}]}, "": 0}',
    '  {"spaces" :  [ 1 , 2 ] }  ',
]


@dataclass(frozen=True)
class Col:
    name: str
    kind: str


@dataclass(frozen=True)
class Spec:
    name: str
    columns: tuple[Col, ...]


SPEC = Spec(
    "digest_probe",
    (
        Col("id", "id"),
        Col("t", "text"),
        Col("u", "text"),
        Col("n", "int"),
        Col("f", "float"),
        Col("at", "time"),
        Col("doc", "json"),
        Col("raw", "blob"),
    ),
)
DDL = (
    "CREATE TABLE digest_probe (id uuid PRIMARY KEY, t text, u text, n bigint, "
    "f double precision, at timestamptz, doc jsonb, raw bytea)"
)
FLOATS = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2, 1.0, -0.0,
          0.0, float("inf"), float("-inf"), -2.5, 1e15, 1e16]  # fmt: skip
TIMES = ["0001-01-01 00:00:00+00", "1000-01-01 00:00:00+00", "2025-06-01 12:00:00.5+02",
         "9999-12-31 23:59:59.999999+00", "1970-01-01 00:00:00+00"]  # fmt: skip


@pytest.fixture
def pg() -> Iterator[Store]:
    """The values come as the transfer reads them: `Tx.scan` of the store interface."""
    urls = postgres_urls()
    if "pg18" not in urls:
        pytest.skip("PostgreSQL server pg18 not available")
    base = urls["pg18"]
    name = f"mv_rowdigest_{os.getpid()}"
    url = fresh_database(base, name)
    store = open_store(parse_url(url))
    try:
        yield store
    finally:
        store.close()
        drop_database(base, name)


def test_jsonb_text_matches_postgresql(pg: Store) -> None:
    for doc in JSON_DOCS:
        with pg.read() as tx:
            want = tx.scalar("SELECT CAST(:doc AS jsonb)::text AS t", {"doc": doc})
        assert jsonb_text(doc) == want, doc
    with pytest.raises(ValueError):
        jsonb_text("NaN")
    with pytest.raises(ValueError):
        jsonb_text("{nope")


def fill(store: Store) -> None:
    rows: list[tuple[object, ...]] = []
    for i in range(max(len(FLOATS), len(TIMES), len(JSON_DOCS))):
        rows.append((
            f"0190a000-0000-7000-8000-{i:012x}",
            f"café ☕ \t\n\\ {i}" if i % 4 else None,
            "" if i % 3 else "😀" * i,
            (-(2**63)) if i == 0 else i * 10**12 if i % 2 else None,
            FLOATS[i % len(FLOATS)],
            TIMES[i % len(TIMES)] if i % 7 != 3 else None,
            JSON_DOCS[i % len(JSON_DOCS)] if i % 6 else None,
            bytes(range(i % 7)) if i % 2 else None,
        ))  # fmt: skip
    with store.write() as tx:
        tx.execute(DDL)
        tx.executemany(
            "INSERT INTO digest_probe VALUES (:c0, :c1, :c2, :c3, :c4, :c5, :c6, :c7)",
            [{f"c{i}": v for i, v in enumerate(row)} for row in rows],
        )


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.read() as tx:
        return [row for chunk in tx.scan(sql) for row in chunk]


def sql_digest(store: Store, where: str = "") -> RowDigest:
    digest = RowDigest(SPEC)
    count, *lanes = _rows(store, pg_checksum_sql(SPEC, where))[0]
    digest.add_sums(count, lanes)
    return digest


def python_digest(store: Store) -> RowDigest:
    digest = RowDigest(SPEC)
    digest.add_many(_rows(store, "SELECT id, t, u, n, f, at, doc, raw FROM digest_probe"))
    return digest


def test_sql_checksum_equals_python_checksum(pg: Store) -> None:
    fill(pg)
    ours, theirs = python_digest(pg), sql_digest(pg)
    assert ours.count == theirs.count == len(JSON_DOCS)
    assert ours.hexdigest == theirs.hexdigest
    assert sql_digest(pg, "false").count == 0


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE digest_probe SET t = t || ' ' WHERE t IS NOT NULL AND n IS NOT NULL",
        "UPDATE digest_probe SET f = f + 1e-9 WHERE f = 1",
        "UPDATE digest_probe SET f = -f WHERE f = 'infinity'",
        "UPDATE digest_probe SET at = at + interval '1 microsecond' WHERE at IS NOT NULL",
        'UPDATE digest_probe SET doc = \'{"a": 2, "b": 1, "aa": 3.0, "é": 4, "z": 5}\' '
        "WHERE doc::text LIKE '%\"aa\"%'",
        "UPDATE digest_probe SET raw = raw || '\\x00'::bytea WHERE raw IS NOT NULL",
        "UPDATE digest_probe SET u = NULL WHERE u = ''",
        # The same characters moved from one column to the next must not collide.
        "UPDATE digest_probe SET u = t, t = '' WHERE u = '' AND t IS NOT NULL",
        "UPDATE digest_probe SET at = 'infinity' WHERE at IS NULL",
        "UPDATE digest_probe SET at = at - interval '2 days' WHERE at < '0002-01-01'",  # BC
    ],
)
def test_changed_value_changes_checksum(pg: Store, change: str) -> None:
    fill(pg)
    before = sql_digest(pg).hexdigest
    with pg.write() as tx:
        assert tx.execute(change).rowcount >= 1
    after_sql, after_py = sql_digest(pg), python_digest(pg)
    assert after_sql.hexdigest != before
    assert after_py.hexdigest == after_sql.hexdigest
