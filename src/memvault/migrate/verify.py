"""`memvault verify --against SOURCE`: reconcile a store with where its data came from.

SOURCE is either another store URL (`sqlite:///…`, `postgresql://…`, or a memvault SQLite
file) or a legacy tree (a folder `memvault import` reads). The result lists drift per entity:
counts on both sides and the records that are missing from the store, extra in it, or changed.

* Store against store: per table, counts and the transfer's content checksums; for a table
  whose checksum differs, every row's digest is compared by primary key, which names the
  missing, extra and changed rows.
* Store against a legacy tree: every record the source readers yield is looked up where the
  importer puts it (its id is derived from its source key; users by handle; rows the
  importer merges by natural key, such as repeated memories, by that key) and its main
  fields are compared. Rows of the store that carry a `source_key` of the same format but
  match no record of the tree are extra (typically written only by memvault after the
  cutover, which is drift a rollback would lose).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from memvault.ids import derived_id
from memvault.memories import content_hash
from memvault.migrate import sources
from memvault.migrate.rowdigest import RowDigest
from memvault.migrate.sources._base import ScanOptions
from memvault.migrate.sources.records import (
    ActionRec,
    EmbeddingRec,
    EmotionPatternRec,
    EmotionRec,
    MemoryRec,
    MessageRec,
    ProjectRec,
    Record,
    ResponsePatternRec,
    RoutingScoreRec,
    SessionRec,
    TraitChangeRec,
    TraitRec,
    UserRec,
)
from memvault.migrate.transfer import checksum_store, table_specs
from memvault.migrate.transfer.source import stream
from memvault.store.base import Tx
from memvault.store.engine import open_store, parse_url

LIST_LIMIT = 50  # ids listed per kind of drift and table (the counts are always complete)

__all__ = ["Drift", "VerifyReport", "verify_against"]


@dataclass
class Drift:
    """One entity (table): counts on each side and the records that differ.

    `source_count` = matched + missing (records of SOURCE); `store_count` = the stored rows
    they matched + extra (rows of the store from this source's formats that no record of it
    matches); `changed` counts matched records whose stored values differ."""

    entity: str
    source_count: int = 0
    store_count: int = 0
    matched: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    missing_total: int = 0
    extra_total: int = 0
    changed_total: int = 0

    @property
    def ok(self) -> bool:
        # Counts alone may differ: records the importer merges (the same memory twice in
        # the source) are one row of the store.
        return not (self.missing_total or self.extra_total or self.changed_total)

    def note(self, kind: str, ident: str, count: int = 1) -> None:
        """Count `count` records of `kind` (missing, extra, changed), listed as `ident`."""
        setattr(self, f"{kind}_total", getattr(self, f"{kind}_total") + count)
        listed: list[str] = getattr(self, kind)
        if len(listed) < LIST_LIMIT:
            listed.append(ident)


@dataclass
class VerifyReport:
    store: str
    against: str
    kind: str  # "store" or the legacy format(s)
    entities: dict[str, Drift] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.entities.values())

    @property
    def drift(self) -> list[Drift]:
        return [d for d in self.entities.values() if not d.ok]

    def entity(self, name: str) -> Drift:
        if name not in self.entities:
            self.entities[name] = Drift(name)
        return self.entities[name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "against": self.against,
            "kind": self.kind,
            "ok": self.ok,
            "entities": {
                name: {
                    "source": d.source_count,
                    "store": d.store_count,
                    "matched": d.matched,
                    "missing": d.missing_total,
                    "extra": d.extra_total,
                    "changed": d.changed_total,
                    "missing_ids": d.missing,
                    "extra_ids": d.extra,
                    "changed_ids": d.changed,
                }
                for name, d in self.entities.items()
            },
        }


def _is_store(source: str) -> bool:
    if "://" in source:
        return True
    path = Path(source)
    if path.is_file():
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    return False


def verify_against(store_url: str, source: str, *, user: str | None = None) -> VerifyReport:
    """Reconcile the store at `store_url` with `source` (a store URL or a legacy tree).
    `user`: the handle legacy data without users was imported for (import --user)."""
    if _is_store(source):
        return _against_store(store_url, source)
    return _against_tree(store_url, Path(source), user)


# --- store against store ------------------------------------------------------------------


def _row_digests(url: str, table: str) -> dict[str, bytes]:
    spec = next(s for s in table_specs() if s.name == table)
    store = open_store(parse_url(url), create=False)
    digest = RowDigest(spec)
    idx = spec.pk_index()
    out: dict[str, bytes] = {}
    try:
        with store.snapshot() as tx:
            for chunk in stream(tx, spec):
                for row in chunk:
                    key = "/".join(str(row[i]).lower() for i in idx)
                    out[key] = digest.digest_of(row)
    finally:
        store.close()
    return out


def _against_store(store_url: str, source: str) -> VerifyReport:
    if "://" not in source:
        source = f"sqlite:///{source}"
    report = VerifyReport(parse_url(store_url).safe_url, parse_url(source).safe_url, "store")
    ours = checksum_store(store_url)
    theirs = checksum_store(source)
    for table, (n_src, sum_src) in theirs.items():
        n_dst, sum_dst = ours.get(table, (0, ""))
        drift = report.entity(table)
        drift.source_count, drift.store_count = n_src, n_dst
        if sum_src == sum_dst and n_src == n_dst:
            continue
        a, b = _row_digests(source, table), _row_digests(store_url, table)
        for key, digest in a.items():
            if key not in b:
                drift.note("missing", key)
            elif b[key] != digest:
                drift.note("changed", key)
        for key in b.keys() - a.keys():
            drift.note("extra", key)
        if not (drift.missing_total or drift.extra_total or drift.changed_total):
            drift.note("changed", "(content differs, rows not attributable)")
    return report


# --- store against a legacy tree ----------------------------------------------------------

# record type → (table, fields compared: record attribute → column)
_FIELDS: dict[type, tuple[str, dict[str, str]]] = {
    SessionRec: ("sessions", {"kind": "kind", "status": "status", "title": "title"}),
    MessageRec: ("messages", {"seq": "seq", "role": "role", "content": "content"}),
    MemoryRec: (
        "memories",
        {"kind": "kind", "content": "content", "confidence": "confidence"},
    ),
    EmotionRec: ("emotion_events", {"emotion": "emotion", "intensity": "intensity"}),
    TraitRec: ("traits", {"name": "name", "value": "value"}),
    TraitChangeRec: ("trait_changes", {"old_value": "old_value", "new_value": "new_value"}),
    ResponsePatternRec: (
        "response_patterns",
        {
            "trigger_context": "trigger_context",
            "response_text": "response_text",
            "success_score": "success_score",
            "usage_count": "usage_count",
        },
    ),
    ActionRec: ("actions", {"tool_name": "tool_name", "exit_code": "exit_code"}),
    EmbeddingRec: ("embeddings", {"model": "model", "dim": "dim"}),
}

# Routing scores: looked up by their natural key (the importer merges on it and a score's id
# follows its last use); these fields are compared.
_SCORE_FIELDS = ("tool_type", "weight", "usage_count", "success_count")


def _created(rec: Record) -> Any:
    return getattr(rec, "created_at", None)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-9
    return bool(a == b)


def _records(root: Path, user: str | None) -> Iterator[tuple[str, Record]]:
    options = ScanOptions(default_user=user) if user else None
    for scan in sources.scan_tree(root, options):
        for rec in scan.records():
            yield scan.format, rec


def _against_tree(store_url: str, root: Path, user: str | None) -> VerifyReport:
    loc = parse_url(store_url)
    store = open_store(loc, create=False)
    formats: set[str] = set()
    report = VerifyReport(loc.safe_url, str(root), "legacy")
    expected: dict[str, set[str]] = {}
    try:
        with store.snapshot() as tx:
            _compare_tree(tx, root, user, report, formats, expected)
    finally:
        store.close()
    report.kind = "+".join(sorted(formats)) or "legacy"
    return report


def _one(tx: Tx, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The first row as a tuple of values (in the SELECT's order), or None."""
    for chunk in tx.scan(sql, params, batch=1):
        return chunk[0]
    return None


def _compare_tree(
    tx: Tx,
    root: Path,
    user: str | None,
    report: VerifyReport,
    formats: set[str],
    expected: dict[str, set[str]],
) -> None:
    seen: dict[str, set[str]] = {}  # ids of the stored rows matched, per table
    for fmt, rec in _records(root, user):
        formats.add(fmt)
        if isinstance(rec, UserRec):
            drift = report.entity("users")
            drift.source_count += 1
            row = _one(
                tx, "SELECT id, display_name FROM users WHERE handle = :h", {"h": rec.handle}
            )
            if row is None:
                drift.note("missing", rec.handle)
                continue
            drift.store_count += 1
            drift.matched += 1
            if rec.display_name is not None and rec.display_name != row[1]:
                drift.note(
                    "changed",
                    f"{rec.handle}: display name {rec.display_name!r} in the source, "
                    f"{row[1]!r} in the store",
                )
            continue
        if isinstance(rec, RoutingScoreRec | ProjectRec | EmotionPatternRec):
            _natural(tx, report, rec, expected)
            continue
        if isinstance(rec, EmbeddingRec) and rec.target_kind != "memory":
            continue  # a response pattern's vector lives in the pattern's metadata
        if type(rec) not in _FIELDS:
            continue
        table, fields = _FIELDS[type(rec)]
        drift = report.entity(table)
        drift.source_count += 1
        at = None if isinstance(rec, TraitRec) else _created(rec)
        rid = derived_id(rec.source_key, at)
        cols = ", ".join(fields.values())
        row = _one(tx, f"SELECT {cols}, id FROM {table} WHERE id = :id", {"id": rid})
        if row is None and isinstance(rec, MemoryRec):  # merged with an equal memory
            row = _one(
                tx,
                f"SELECT {cols}, id FROM memories WHERE kind = :k AND content_hash = :h",
                {"k": rec.kind, "h": content_hash(rec.content)},
            )
        if row is None and isinstance(rec, TraitRec):  # merged by (agent, name)
            row = _one(
                tx,
                f"SELECT {cols}, t.id FROM traits t JOIN users u ON u.id = t.user_id "
                "WHERE u.handle = :h AND t.agent = :a AND t.name = :n",
                {"h": rec.owner_handle, "a": rec.agent, "n": rec.name},
            )
        if row is None:
            drift.note("missing", _named(fmt, rec))
            continue
        drift.matched += 1
        stored_id = str(row[-1]).lower()
        if stored_id in seen.setdefault(table, set()):
            continue  # one stored row for several records (merged): one row in the store
        seen[table].add(stored_id)
        drift.store_count += 1
        expected.setdefault(table, set()).add(rec.source_key)
        for (attr, _), stored in zip(fields.items(), tuple(row)[:-1], strict=True):
            if not _same(getattr(rec, attr), stored):
                drift.note(
                    "changed",
                    f"{_named(fmt, rec)}: {attr} {_short(getattr(rec, attr))} in the "
                    f"source, {_short(stored)} in the store",
                )
                break
    # Rows imported from these formats that the tree no longer holds.
    for table, keys in expected.items():
        if table not in (
            "sessions",
            "messages",
            "memories",
            "emotion_events",
            "response_patterns",
            "actions",
            "routing_scores",
        ):
            continue
        drift = report.entity(table)
        matched = seen.get(table, set())
        for chunk in tx.scan(f"SELECT id, metadata FROM {table}"):
            for stored_id, meta in chunk:
                data = orjson.loads(meta) if isinstance(meta, str | bytes) else meta
                key = data.get("source_key") if isinstance(data, dict) else None
                if table == "emotion_events" and isinstance(data, dict):
                    key = data.get("baseline_of", key)  # one legacy pattern, many events
                if (
                    isinstance(key, str)
                    and key.split(":", 1)[0] in formats
                    and key not in keys
                    and str(stored_id).lower() not in matched
                ):
                    drift.note("extra", f"{key} (memvault id {stored_id})")
                    drift.store_count += 1


def _named(fmt: str, rec: Record) -> str:
    """A record as its legacy side knows it: its file and place when the reader said
    (`source_key` otherwise)."""
    where = getattr(rec, "metadata", {}) or {}
    file = where.get("file") if isinstance(where, dict) else None
    return f"{rec.source_key} ({file})" if isinstance(file, str) else rec.source_key


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _natural(tx: Tx, report: VerifyReport, rec: Record, expected: dict[str, set[str]]) -> None:
    """Compare a record the importer stores by natural key rather than by derived id."""
    if isinstance(rec, RoutingScoreRec):
        drift = report.entity("routing_scores")
        drift.source_count += 1
        owner = (
            "r.user_id IS NULL"
            if rec.owner_handle is None
            else ("r.user_id = (SELECT id FROM users WHERE handle = :h)")
        )
        args: dict[str, Any] = {"k": rec.keyword, "t": rec.tool_name, "h": rec.owner_handle}
        cols = ", ".join(f"r.{c}" for c in _SCORE_FIELDS)
        row = _one(
            tx,
            f"SELECT {cols} FROM routing_scores r WHERE {owner} AND r.keyword = :k "
            "AND r.tool_name = :t",
            args,
        )
        ident = f"{rec.keyword}/{rec.tool_name}"
        if row is None:
            drift.note("missing", ident)
            return
        drift.store_count += 1
        drift.matched += 1
        expected.setdefault("routing_scores", set()).add(rec.source_key)
        for name, stored in zip(_SCORE_FIELDS, tuple(row), strict=True):
            if not _same(getattr(rec, name), stored):
                drift.note("changed", f"{ident}: {name} {getattr(rec, name)!r} -> {stored!r}")
                return
        return
    if isinstance(rec, ProjectRec):
        drift = report.entity("projects")
        drift.source_count += 1
        row = _one(
            tx,
            "SELECT path FROM projects WHERE id = :id OR name = :n",
            {"id": derived_id(rec.source_key), "n": rec.name},
        )
        if row is None:
            drift.note("missing", rec.source_key)
        else:
            drift.store_count += 1
            drift.matched += 1
        return
    assert isinstance(rec, EmotionPatternRec)
    drift = report.entity("emotion_events")
    drift.source_count += rec.frequency
    ids = [derived_id(f"{rec.source_key}#{i}") for i in range(rec.frequency)]
    found = 0
    for start in range(0, len(ids), 500):
        params: dict[str, Any] = {}
        marks = tx.expand("id", ids[start : start + 500], params)
        for emotion, intensity in [
            r
            for chunk in tx.scan(
                f"SELECT emotion, intensity FROM emotion_events WHERE id IN ({marks})", params
            )
            for r in chunk
        ]:
            found += 1
            if emotion != rec.emotion or not _same(float(intensity), rec.avg_intensity):
                drift.note("changed", rec.source_key)
    drift.store_count += found
    drift.matched += found
    if found < rec.frequency:
        lost = rec.frequency - found
        drift.note("missing", f"{rec.source_key} ({lost} baseline events)", lost)
    expected.setdefault("emotion_events", set()).add(rec.source_key)
