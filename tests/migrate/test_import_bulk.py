"""The bulk paths of an import give what the row-by-row paths gave.

- NDJSON lines are parsed by orjson when it gives exactly json.loads's value, else by json.
- Messages written in batches by the loader leave the full-text index FTS5 would rebuild from
  the rows.
- Each batch is checkpointed as it commits, so the WAL stays about one batch long.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.migrate.pipeline import import_source
from memvault.migrate.sources import generic
from memvault.migrate.sources._base import clean_json
from tests.migrate.conftest import collect

MAPPING = {"files": ["*.ndjson"], "id": "id", "content": "text", "role": "role",
           "session": "thread", "created_at": "ts"}  # fmt: skip

# Lines where orjson and json disagree or where orjson refuses what json accepts.
TRICKY = [
    '{"id": "big", "text": "x", "n": 123456789012345678901234567890}',
    '{"id": "u64", "text": "x", "n": 18446744073709551616, "m": -9223372036854775809}',
    '{"id": "nan", "text": "x", "n": NaN, "m": -Infinity, "o": 1e400}',
    '{"id": "sur", "text": "lone \\ud800 and pair \\ud83d\\ude80", "k": "\\udfff"}',
    '{"id": "dup", "text": "first", "text": "second"}',
    '{"id": "deep", "text": "x", "d": ' + "[" * 300 + "]" * 300 + "}",
    '{"id": "esc", "text": "tab\\t nul\\u0000 é \\u00e9 🚀", "f": 0.1, "g": -0.0, "h": 1.5e-7}',
]


def _messages(root: Path, name: str, text: str) -> list[Any]:
    (root / name).write_text(text, "utf-8")
    scan = generic.scan(root, generic.GenericMapping.from_dict(MAPPING))
    return collect(scan)["MessageRec"]


def test_ndjson_values_are_json_loads_values(tmp_path: Path) -> None:
    records = _messages(tmp_path, "a.ndjson", "\ufeff" + "\n".join(TRICKY) + "\n")
    assert [r.source_key for r in records] == [
        f"generic:id:{json.loads(line)['id']}" for line in TRICKY
    ]
    for line, rec in zip(TRICKY, records, strict=True):
        # The record is kept less its content field, whose value is the row's content.
        expected = clean_json(json.loads(line))
        assert rec.content == expected.pop("text")
        stored = rec.metadata["record"]
        assert json.dumps(stored, sort_keys=True) == json.dumps(expected, sort_keys=True)
    big = records[0].metadata["record"]["n"]
    assert isinstance(big, int) and big == 123456789012345678901234567890
    assert records[3].content.startswith("lone \ufffd") and records[3].content.endswith("pair 🚀")


def test_ndjson_and_json_array_give_the_same_records(tmp_path: Path) -> None:
    (tmp_path / "nd").mkdir()
    (tmp_path / "arr").mkdir()
    lines = [*TRICKY, '{"id": "q", "text": 5}', "[1]", "{bad"]
    from_lines = _messages(tmp_path / "nd", "a.ndjson", "\n".join(lines[:-3]) + "\n")
    mapping = {**MAPPING, "files": ["*.json"]}
    (tmp_path / "arr" / "a.json").write_text("[" + ",\n".join(TRICKY) + "]", "utf-8")
    scan = generic.scan(tmp_path / "arr", generic.GenericMapping.from_dict(mapping))
    from_array = collect(scan)["MessageRec"]
    strip = [(r.source_key, r.seq, r.role, r.content, r.created_at) for r in from_lines]
    assert strip == [(r.source_key, r.seq, r.role, r.content, r.created_at) for r in from_array]
    for a, b in zip(from_lines, from_array, strict=True):
        assert repr(a.metadata["record"]) == repr(b.metadata["record"])


def test_bad_lines_are_quarantined_with_their_text(tmp_path: Path) -> None:
    text = '\ufeff{"id": "a", "text": 1}\n{bad\n\n[1, 2]\n{"id": "b", "text": "ok"}\n'
    (tmp_path / "a.ndjson").write_bytes(text.encode() + b'{"id": "c", "text": "\xff"}\n')
    got = collect(generic.scan(tmp_path, generic.GenericMapping.from_dict(MAPPING)))
    bad = [(q.line, q.field, q.reason, q.raw) for q in got["Quarantined"]]
    assert bad == [
        (1, "text", "content must be a string", b'{"id": "a", "text": 1}'),
        (2, "", "line is not valid JSON", b"{bad"),
        (4, "", "record is not an object", b"[1, 2]"),
        (6, "", "line is not valid JSON", '{"id": "c", "text": "\ufffd"}'.encode()),
    ]
    assert [m.content for m in got["MessageRec"]] == ["ok"]


WORDS = ("déjà", "vu", "café", "naïve", "réunion", "Lyon", "🚀", "merge", "branch", "test",
         "failing", "fix", "kabane", "kabaret", "Straße", "ÉCOLE", "l'été", "don't", "co-op",
         "x", "y", "z")  # fmt: skip


def _fts(vault: memvault.Vault, query: str) -> list[int]:
    with vault.store.read() as tx:
        rows = tx.all(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q ORDER BY rowid",
            {"q": query},
        )
    return [int(r["rowid"]) for r in rows]


@pytest.mark.parametrize("batch_rows", [7, 5000])
def test_bulk_fulltext_index_is_the_rebuilt_index(tmp_path: Path, batch_rows: int) -> None:
    root = tmp_path / "src"
    root.mkdir()
    lines = []
    for i in range(600):
        text = " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(1 + i % 9))
        lines.append(
            json.dumps({"id": f"m{i}", "thread": f"t{i % 11}", "text": text,
                        "role": "user" if i % 2 else "assistant", "ts": 1_700_000_000 + i})
        )  # fmt: skip
    (root / "chats.ndjson").write_text("\n".join(lines) + "\n", "utf-8")
    vault = memvault.open(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        result = import_source(
            vault, root, format="generic", mapping=MAPPING, backup=False, batch_rows=batch_rows
        )
        assert result.exit_code == 0 and result.tables["messages"].new == 600
        with vault.store.read() as tx:
            sid = str(tx.scalar("SELECT session_id FROM messages ORDER BY rowid LIMIT 1"))
        scope = "u* AND s" + sid.replace("-", "")
        queries = ["cafe", "CAFÉ", "reunion", "kaba*", "ka*", "ecole", "strasse", "straße", "🚀",
                   '"deja vu"', "merge NOT fix", "t*", scope]  # fmt: skip
        before = {q: _fts(vault, q) for q in queries}
        assert all(before[q] for q in ("cafe", "kaba*", "ecole", scope))
        with vault.store.write() as tx:
            tx.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
            tx.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
        assert {q: _fts(vault, q) for q in queries} == before
    finally:
        vault.close()


def test_import_keeps_the_wal_to_about_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are checkpointed as they commit (`Store.settle`). The background checkpointer
    is made inert here, so without that the WAL would hold every page the import wrote."""
    from memvault.store.sqlite import Checkpointer

    monkeypatch.setattr(Checkpointer, "INTERVAL", 3600.0)
    monkeypatch.setattr(Checkpointer, "EVERY", 10**9)
    root = tmp_path / "src"
    root.mkdir()
    lines = [
        json.dumps({"id": f"m{i}", "thread": f"t{i % 50}", "ts": 1_700_000_000 + i,
                    "text": " ".join(WORDS[(i * 5 + k) % len(WORDS)] for k in range(30))})
        for i in range(20_000)
    ]  # fmt: skip
    (root / "chats.ndjson").write_text("\n".join(lines) + "\n", "utf-8")
    db = tmp_path / "v.db"
    vault = memvault.open(f"sqlite:///{db}")
    try:
        result = import_source(
            vault, root, format="generic", mapping=MAPPING, backup=False, batch_rows=1000
        )
        assert result.exit_code == 0 and result.tables["messages"].new == 20_000
        wal = Path(f"{db}-wal").stat().st_size
        assert wal < db.stat().st_size / 2, (wal, db.stat().st_size)
    finally:
        vault.close()
