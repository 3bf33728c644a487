"""Export: a store as JSON or NDJSON (streamed), and back to the Workly and Lilith layouts.

    export_store(vault, "dump.ndjson", format="ndjson", user="alice")
    export_workly(vault, "rollback/workly", user="default")    # data/memory/*.json
    export_lilith(vault, "rollback/lilith")                    # response_patterns.json, data/…
    export_dcm(vault, "rollback/dcm")                          # home/.claude/routing.db
    export_ait42(vault, "rollback/ait42")                      # home/.ait42/…, projects/…

NDJSON: a header line `{"format": "memvault.export", "version": 1, "schema": …, "user": …}`,
one line per row `{"table": …, "row": {…}}` (tables parents first; times ISO-8601, JSON
decoded, bytes base64, as `admin.row_to_json` renders them; derived search columns and API
key hashes left out), then `{"end": true, "counts": {table: rows}}`. JSON: one object with
the same header fields, `"tables": {table: [rows]}` and `"counts"`. Both are written row by
row from a server-side cursor, so memory stays flat whatever the store's size.

The legacy exporters are the rollback path: they write the files the legacy applications
(and memvault's own source readers) read, from what the importer stored, including rows
written in memvault after the cutover. Each file is written to a temporary name and renamed.
What the canonical model does not keep cannot come back: the `metadata` of Workly embeddings
(written as `{"type": "segment_summary"}`), and a Lilith record's unknown extra keys (which
would crash Lilith's loader anyway). Workly trait descriptions are kept in `traits.metadata`
(revision 0005) and written back; a trait without one gets "".
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from memvault.admin import owned, row_to_json
from memvault.errors import InvalidInput, NotFound
from memvault.migrate.loader import DUPLICATES_KEY, LEGACY_DIGEST_KEY, UPDATE_LOG_KEY
from memvault.paths import confine, inside
from memvault.store.base import Tx
from memvault.store.vocab import ENTITY_TABLES, OWNED_TABLES
from memvault.vault import Vault

FORMATS = ("json", "ndjson")
LEGACY_FORMATS = ("workly", "lilith", "dcm", "ait42")
WORKLY_MODEL = "all-MiniLM-L6-v2"
FACT_SECTIONS = {
    "fact": "entities",
    "preference": "preferences",
    "event": "events",
    "relation": "relationships",
}

__all__ = [
    "FORMATS", "LEGACY_FORMATS", "export_ait42", "export_dcm", "export_lilith", "export_store",
    "export_workly",
]  # fmt: skip


def _iter(tx: Tx, sql: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
    """Rows of `sql`, streamed (a server-side cursor on PostgreSQL)."""
    return tx.stream(sql, params)


def _user_id(vault: Vault, user: str) -> str:
    with vault.store.read() as tx:
        row = tx.one("SELECT id FROM users WHERE handle = :h", {"h": user})
        if row is None:
            try:
                row = tx.one("SELECT id FROM users WHERE id = :h", {"h": user})
            except Exception:
                row = None
    if row is None:
        raise NotFound("user", user)
    return str(row["id"])


def export_store(
    vault: Vault,
    out: str | os.PathLike[str] | IO[bytes],
    *,
    format: str = "ndjson",
    user: str | None = None,
) -> dict[str, int]:
    """Write the store (or one user's rows) to `out`; returns rows per table."""
    if format not in FORMATS:
        raise InvalidInput("format", format, f"expected one of {', '.join(FORMATS)}")
    uid = _user_id(vault, user) if user is not None else None
    if isinstance(out, str | os.PathLike):
        out = confine("out", out, vault.files_root, write=True)
        with open(out, "wb") as fh:
            return _export(vault, fh, format, uid)
    return _export(vault, out, format, uid)


def _export(vault: Vault, fh: IO[bytes], fmt: str, uid: str | None) -> dict[str, int]:
    head = {
        "format": "memvault.export",
        "version": 1,
        "schema": vault.schema_version,
        "engine": vault.engine,
        "user": uid,
        "exported_at": datetime.now(UTC).isoformat(),
    }
    counts: dict[str, int] = {}
    if uid is None:
        plan: list[tuple[str, str, dict[str, Any]]]
        plan = [(t, f"SELECT * FROM {t}", {}) for t in ENTITY_TABLES]
    else:
        plan = [("users", "SELECT * FROM users WHERE id = :u", {"u": uid})]
        plan += [
            (t, f"SELECT * FROM {t} WHERE {owned(t)}", {"u": uid}) for t in reversed(OWNED_TABLES)
        ]
    ndjson = fmt == "ndjson"
    if ndjson:
        fh.write(orjson.dumps(head) + b"\n")
    else:
        fh.write(orjson.dumps(head)[:-1] + b', "tables": {')
    with vault.store.read() as tx:
        for i, (table, sql, params) in enumerate(plan):
            n = 0
            if not ndjson:
                fh.write((b", " if i else b"") + orjson.dumps(table) + b": [")
            for row in _iter(tx, sql + " ORDER BY 1", params):
                data = row_to_json(tx, table, row)
                if ndjson:
                    fh.write(orjson.dumps({"table": table, "row": data}) + b"\n")
                else:
                    fh.write((b",\n" if n else b"\n") + orjson.dumps(data))
                n += 1
            if not ndjson:
                fh.write(b"]")
            counts[table] = n
    if ndjson:
        fh.write(orjson.dumps({"end": True, "counts": counts}) + b"\n")
    else:
        fh.write(b'}, "counts": ' + orjson.dumps(counts) + b"}\n")
    return counts


# --- legacy layouts -----------------------------------------------------------------------


def _write_json(path: Path, value: Any, *, ensure_ascii: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=ensure_ascii), encoding="utf-8")
    os.replace(tmp, path)


def _naive(tx: Tx, value: Any) -> str | None:
    """Workly's timestamps: naive UTC `isoformat()` (no fraction when it is zero)."""
    moment = tx.ts_out(value)
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def _meta(tx: Tx, value: Any) -> dict[str, Any]:
    data = tx.json_out(value)
    return data if isinstance(data, dict) else {}


def export_workly(vault: Vault, root: str | os.PathLike[str], *, user: str) -> dict[str, int]:
    """Write `root/data/memory/{conversations,facts,embeddings,emotion_history,personality}.json`
    for the memvault user `user` (a handle); returns entries written per file."""
    uid = _user_id(vault, user)
    folder = confine("out", root, vault.files_root, write=True) / "data" / "memory"
    counts: dict[str, int] = {}
    now = datetime.now(UTC).replace(tzinfo=None).isoformat()
    with vault.store.read() as tx:
        summaries: dict[str, Any] = {}
        for m in tx.all(
            "SELECT * FROM memories WHERE user_id = :u AND kind = 'summary' "
            "ORDER BY created_at, id",
            {"u": uid},
        ):
            if m["session_id"] is not None:
                summaries.setdefault(str(m["session_id"]), m)
        segments = []
        sessions = tx.all(
            "SELECT * FROM sessions WHERE user_id = :u AND kind = 'chat' ORDER BY started_at, id",
            {"u": uid},
        )
        for n, s in enumerate(sessions):
            meta = _meta(tx, s["metadata"])
            started = tx.ts_out(s["started_at"])
            seg_id = meta.get("segment_id") or (
                f"segment_{started:%Y%m%d_%H%M%S}_{n:03d}" if started else f"segment_{n:03d}"
            )
            msgs = [
                {
                    "role": r["role"],
                    "content": r["content"],
                    "timestamp": _naive(tx, r["created_at"]),
                }
                for r in tx.all(
                    "SELECT role, content, created_at FROM messages "
                    "WHERE session_id = :s ORDER BY seq",
                    {"s": s["id"]},
                )
            ]
            segment: dict[str, Any] = {"segment_id": seg_id, "messages": msgs}
            summary = summaries.get(str(s["id"]))
            if summary is None:  # no summary text: keep the segment's dates all the same
                segment["summary"] = {
                    "summary": "",
                    "message_count": len(msgs),
                    "timestamp": _naive(tx, s["updated_at"]),
                    "date_range": {
                        "start": _naive(tx, s["started_at"]),
                        "end": _naive(tx, s["ended_at"] or s["updated_at"]),
                    },
                    "keypoints": [],
                }
            else:
                extra = {
                    k: v
                    for k, v in _meta(tx, summary["metadata"]).items()
                    if k not in ("segment_id", "source_key")
                }
                body: dict[str, Any] = {"summary": summary["content"]}
                body["message_count"] = extra.pop("message_count", len(msgs))
                body["timestamp"] = _naive(tx, summary["created_at"])
                body.update(extra)
                segment["summary"] = body
            segment["created_at"] = _naive(tx, s["updated_at"])
            segment["message_count"] = meta.get("message_count", len(msgs))
            segments.append(segment)
        _write_json(folder / "conversations.json", {"segments": segments}, ensure_ascii=False)
        counts["segments"] = len(segments)

        facts: dict[str, list[Any]] = {s: [] for s in FACT_SECTIONS.values()}
        for m in tx.all(
            "SELECT * FROM memories WHERE user_id = :u AND kind IN ('fact', "
            "'preference', 'event', 'relation') ORDER BY created_at, id",
            {"u": uid},
        ):
            meta = _meta(tx, m["metadata"])
            section = meta.pop("section", None) or FACT_SECTIONS[m["kind"]]
            meta.pop("source_key", None)
            meta.pop(UPDATE_LOG_KEY, None)
            meta.pop(LEGACY_DIGEST_KEY, None)
            twins = meta.pop(DUPLICATES_KEY, None)
            if not meta:  # written in memvault: no Workly fields kept, rebuild the basics
                meta = {
                    "value": m["content"],
                    "confidence": m["confidence"],
                    "first_seen": _naive(tx, m["created_at"]),
                    "occurrences": 1,
                    "entity_type": "note",
                    "extracted_at": _naive(tx, m["created_at"]),
                }
            meta["context"] = m["context"]
            facts.setdefault(section, []).append(meta)
            for twin in twins if isinstance(twins, list) else []:
                if isinstance(twin, dict):  # a record Workly had twice, merged on import
                    twin = {k: v for k, v in twin.items() if k not in ("source_key", "section")}
                    facts.setdefault(section, []).append(twin)
        _write_json(folder / "facts.json", facts, ensure_ascii=False)
        counts["facts"] = sum(len(v) for v in facts.values())

        embeddings = []
        for e in tx.all(
            "SELECT e.dim, e.vector, e.created_at, m.content, m.metadata FROM "
            "embeddings e JOIN memories m ON m.id = e.memory_id WHERE m.user_id = :u "
            "AND m.kind = 'summary' AND e.model = :model ORDER BY e.created_at, e.id",
            {"u": uid, "model": WORKLY_MODEL},
        ):
            vector = list(struct.unpack(f"<{e['dim']}f", bytes(e["vector"])))
            embeddings.append(
                {
                    "text": e["content"][:200],
                    "embedding": vector,
                    "segment_id": _meta(tx, e["metadata"]).get("segment_id"),
                    "metadata": {"type": "segment_summary"},
                    "created_at": _naive(tx, e["created_at"]),
                }
            )
        _write_json(folder / "embeddings.json", {"embeddings": embeddings}, ensure_ascii=False)
        counts["embeddings"] = len(embeddings)

        entries = []
        for r in tx.all(
            "SELECT * FROM emotion_events WHERE user_id = :u ORDER BY occurred_at, id", {"u": uid}
        ):
            meta = _meta(tx, r["metadata"])
            found = meta.get("raw")
            raw: dict[str, Any] = found if isinstance(found, dict) else {}
            conf = meta.get("confidence")
            entry: dict[str, Any] = {
                "emotion": r["emotion"],
                "intensity": raw.get("intensity", round(float(r["intensity"]) * 100, 6)),
                "confidence": raw.get("confidence", None if conf is None else conf * 100),
                "source": meta.get("source", "user"),
                "message_preview": r["trigger"] or "",
                "timestamp": _naive(tx, r["occurred_at"]),
                "context": json.loads(r["context"]) if r["context"] else {},
            }
            entries.append(entry)
        _write_json(
            folder / "emotion_history.json",
            {"entries": entries, "last_modified": now, "total_entries": len(entries)},
            ensure_ascii=False,
        )
        counts["emotions"] = len(entries)

        traits: dict[str, Any] = {}
        for t in tx.all(
            "SELECT * FROM traits WHERE user_id = :u AND agent = 'workly' ORDER BY name", {"u": uid}
        ):
            history: list[dict[str, Any]] = []
            for c in tx.all(
                "SELECT * FROM trait_changes WHERE trait_id = :t ORDER BY changed_at, id",
                {"t": t["id"]},
            ):
                when = _naive(tx, c["changed_at"])
                if c["old_value"] is None:
                    history.append(
                        {"timestamp": when, "score": c["new_value"], "reason": c["reason"]}
                    )
                else:
                    history.append(
                        {
                            "timestamp": when,
                            "old_score": c["old_value"],
                            "new_score": c["new_value"],
                            "delta": c["new_value"] - c["old_value"],
                            "reason": c["reason"],
                        }
                    )
            traits[t["name"]] = {
                "name": t["name"],
                "score": t["value"],
                "description": _trait_description(tx, t["metadata"]),
                "last_updated": _naive(tx, t["updated_at"]),
                "evolution_history": history,
            }
        _write_json(
            folder / "personality.json",
            {"traits": traits, "last_modified": now},
            ensure_ascii=False,
        )
        counts["traits"] = len(traits)
    return counts


def _trait_description(tx: Tx, value: Any) -> str:
    """The Workly description the importer kept in the trait's metadata, else ""."""
    description = _meta(tx, value).get("description")
    return description if isinstance(description, str) else ""


def _lilith_file(tenant: str) -> Path:
    if tenant == "base":
        return Path("data/base/patterns.json")
    if tenant.startswith("server:"):
        return Path("data/servers") / tenant[7:] / "patterns.json"
    if tenant.startswith("user:"):
        return Path("data/users") / tenant[5:] / "response_patterns.json"
    return Path("response_patterns.json")


def export_lilith(
    vault: Vault,
    root: str | os.PathLike[str],
    *,
    default_user: str = "default",
    empty_users: bool = True,
) -> dict[str, int]:
    """Write Lilith's JSON-era files under `root`: one pattern file per tenant (base layer →
    `data/base/patterns.json`, user handle `server:<g>` → `data/servers/<g>/patterns.json`
    plus its `settings.json`, `default_user` → `response_patterns.json`, other users →
    `data/users/<handle>/response_patterns.json`; with `empty_users`, users without patterns
    get an empty file, as Lilith gives every user one). Returns patterns written per file."""
    files: dict[Path, list[dict[str, Any]]] = {}
    settings: dict[Path, Any] = {}
    with vault.store.read() as tx:
        handles = {
            str(r["id"]): (r["handle"], _meta(tx, r["profile"]))
            for r in tx.all("SELECT id, handle, profile FROM users")
        }
        for p in _iter(tx, "SELECT * FROM response_patterns ORDER BY created_at, id"):
            meta = _meta(tx, p["metadata"])
            owner = None if p["user_id"] is None else handles[str(p["user_id"])][0]
            tenant = meta.get("tenant")
            if not isinstance(tenant, str):
                tenant = (
                    "base"
                    if owner is None
                    else "default"
                    if owner == default_user
                    else owner
                    if owner.startswith("server:")
                    else f"user:{owner}"
                )
            rel = Path(meta["file"]) if isinstance(meta.get("file"), str) else _lilith_file(tenant)
            pattern_list = files.setdefault(rel, [])
            emb = meta.get("embedding")
            vector = None
            if isinstance(emb, dict) and isinstance(emb.get("vector"), str):
                raw = base64.b64decode(emb["vector"])
                vector = _float32_shortest(struct.unpack(f"<{len(raw) // 4}f", raw))
            pattern_list.append(
                {
                    "fragment_id": meta.get("fragment_id")
                    or f"pattern_{p['intent']}_{len(pattern_list)}",
                    "trigger_context": p["trigger_context"],
                    "response_text": p["response_text"],
                    "success_score": meta.get("success_score_raw", p["success_score"]),
                    "intent": p["intent"],
                    "usage_count": p["usage_count"],
                    "embedding_cache": vector,
                }
            )
        owners = {
            str(r["user_id"])
            for r in tx.all(
                "SELECT DISTINCT user_id FROM response_patterns WHERE user_id IS NOT NULL"
            )
        }
        for uid, (handle, profile) in handles.items():
            if handle.startswith("server:") and isinstance(profile.get("discord_settings"), dict):
                path = Path("data/servers") / handle[7:] / "settings.json"
                settings[path] = profile["discord_settings"]
            elif (
                empty_users
                and uid not in owners
                and handle != default_user
                and not handle.startswith("server:")
            ):
                files.setdefault(_lilith_file(f"user:{handle}"), [])
    out = confine("out", root, vault.files_root, write=True)
    counts = {}
    for rel, patterns in files.items():
        # Lilith's json.dump(indent=2) with the default ensure_ascii=True, no final newline.
        # `rel` may come from stored metadata: it must not lead out of the export folder.
        _write_json(inside(out, rel, "metadata.file"), patterns, ensure_ascii=True)
        counts[rel.as_posix()] = len(patterns)
    for rel, value in settings.items():
        _write_json(inside(out, rel, "settings path"), value, ensure_ascii=True)
    return counts


# --- DCM: ~/.claude/routing.db -------------------------------------------------------------

DCM_DB = Path("home/.claude/routing.db")
DCM_SCHEMA = """
CREATE TABLE tool_usage (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT,
  tool_name TEXT, tool_type TEXT, file_paths TEXT, exit_code INTEGER, duration_ms INTEGER,
  project_path TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE keyword_tool_scores (id INTEGER PRIMARY KEY AUTOINCREMENT, keyword TEXT,
  tool_name TEXT, tool_type TEXT, score REAL DEFAULT 1.0, usage_count INTEGER DEFAULT 0,
  success_count INTEGER DEFAULT 0, last_used DATETIME);
"""


def _dcm_time(tx: Tx, value: Any) -> str | None:
    """SQLite's `datetime('now')` form, UTC: `YYYY-MM-DD HH:MM:SS`."""
    moment = tx.ts_out(value)
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _legacy_row_id(meta: dict[str, Any], taken: set[int]) -> int | None:
    row_id = meta.get("legacy_row_id")
    if isinstance(row_id, int) and not isinstance(row_id, bool) and row_id not in taken:
        return row_id
    return None


def _numbered(
    pending: list[tuple[dict[str, Any], list[Any]]], taken: set[int]
) -> list[tuple[Any, ...]]:
    """Rows with their legacy row id, or the next free one; in row id order."""
    next_id = max(taken, default=0)
    rows = []
    for slot, row in pending:
        if slot["id"] is None:
            next_id += 1
            slot["id"] = next_id
        row[0] = slot["id"]
        rows.append(tuple(row))
    return sorted(rows, key=lambda r: int(r[0]))


def export_dcm(
    vault: Vault, root: str | os.PathLike[str], *, user: str | None = None
) -> dict[str, int]:
    """Write `root/home/.claude/routing.db`, the SQLite file DCM's old hook and
    `migrate-sqlite.ts` read: `tool_usage` from the actions (all, or `user`'s) and
    `keyword_tool_scores` from the global routing scores (and `user`'s). Imported rows keep
    their legacy row ids and raw values (an empty exit code, comma-separated file paths, an
    ISO `last_used`), so a re-import gives the same ids; rows written in memvault after the
    cutover get the next ids. Returns rows written per table."""
    import sqlite3

    uid = _user_id(vault, user) if user is not None else None
    out = confine("out", root, vault.files_root, write=True)
    target = out / DCM_DB
    target.parent.mkdir(parents=True, exist_ok=True)
    usage: list[tuple[Any, ...]] = []
    scores: list[tuple[Any, ...]] = []
    with vault.store.read() as tx:
        sessions = {
            str(r["id"]): _meta(tx, r["metadata"]).get("claude_session_id") or str(r["id"])
            for r in tx.all("SELECT id, metadata FROM sessions WHERE kind = 'agent'")
        }
        projects = {str(r["id"]): r["path"] or r["name"]
                    for r in tx.all("SELECT id, name, path FROM projects")}  # fmt: skip
        params: dict[str, Any] = {}
        where = "1 = 1"
        if uid is not None:
            params["u"] = uid
            where = "user_id = :u"
        taken: set[int] = set()
        pending: list[tuple[dict[str, Any], list[Any]]] = []
        for a in _iter(tx, f"SELECT * FROM actions WHERE {where} ORDER BY created_at, id", params):
            meta = _meta(tx, a["metadata"])
            paths = tx.json_out(a["file_paths"]) or []
            file_paths = meta.get("file_paths_raw")
            if not isinstance(file_paths, str):
                file_paths = json.dumps(paths, ensure_ascii=False) if paths else None
            exit_code = meta.get("exit_code_raw", a["exit_code"])
            session = sessions.get(str(a["session_id"])) if a["session_id"] else None
            project = projects.get(str(a["project_id"])) if a["project_id"] else None
            duration = a["duration_ms"]
            if isinstance(duration, float) and duration.is_integer():
                duration = int(duration)
            when = _dcm_time(tx, a["created_at"])
            tool_type = meta.get("tool_type_raw", a["tool_type"])
            row = [None, session, a["tool_name"], tool_type, file_paths, exit_code, duration,
                   project, when]  # fmt: skip
            row_id = _legacy_row_id(meta, taken)
            if row_id is not None:
                taken.add(row_id)
            pending.append(({"id": row_id}, row))
        usage = _numbered(pending, taken)
        owner = "user_id IS NULL" + (" OR user_id = :u" if uid is not None else "")
        taken = set()
        pending = []
        for s in _iter(tx, f"SELECT * FROM routing_scores WHERE {owner} "
                           "ORDER BY keyword, tool_name", params):  # fmt: skip
            meta = _meta(tx, s["metadata"])
            last_used = meta.get("last_used_raw") or _dcm_time(tx, s["last_used_at"])
            row = [None, s["keyword"], s["tool_name"], meta.get("tool_type_raw", s["tool_type"]),
                   s["weight"], s["usage_count"], meta.get("success_count_raw", s["success_count"]),
                   last_used]  # fmt: skip
            row_id = _legacy_row_id(meta, taken)
            if row_id is not None:
                taken.add(row_id)
            pending.append(({"id": row_id}, row))
        scores = _numbered(pending, taken)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(DCM_SCHEMA)
        conn.executemany(f"INSERT INTO tool_usage VALUES ({', '.join('?' * 9)})", usage)
        conn.executemany(f"INSERT INTO keyword_tool_scores VALUES ({', '.join('?' * 8)})", scores)
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, target)
    return {"tool_usage": len(usage), "keyword_tool_scores": len(scores)}


# --- AIT42: ~/.ait42/sessions/<hash16>.json, ~/.ait42/sessions.json, <project>/.ait42/ -----

AIT42_SESSION_ORDER = (
    "id", "type", "task", "status", "createdAt", "updatedAt", "completedAt", "instances",
    "chatHistory", "model", "timeoutSeconds", "preserveWorktrees", "winnerId", "runtimeMix",
    "totalDuration", "totalFilesChanged", "totalLinesAdded", "totalLinesDeleted",
)  # fmt: skip
AIT42_INSTANCE_ORDER = (
    "instanceId", "worktreePath", "branch", "agentName", "status", "tmuxSessionId", "output",
    "startTime", "endTime", "filesChanged", "linesAdded", "linesDeleted", "runtime", "model",
    "runtimeLabel",
)  # fmt: skip
AIT42_KINDS = ("competition", "ensemble", "debate")
# What the importer adds to a session's or an instance's metadata (not AIT42 fields).
_AIT42_OWN = frozenset({"source_key", "legacy_id", "file", "layout", "workspace_hash",
                        "started_at_inferred", "import_updates", "updated_at_text"})  # fmt: skip


def _js_time(tx: Tx, value: Any) -> str | None:
    """JavaScript `toISOString()`: `2025-11-10T12:31:04.047Z`."""
    moment = tx.ts_out(value)
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _rfc3339(tx: Tx, value: Any) -> str | None:
    """chrono's `to_rfc3339()` as AIT42's Rust side writes `updatedAt`."""
    moment = tx.ts_out(value)
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _kept_text(tx: Tx, text: Any, value: Any) -> str | None:
    """The legacy text of a time as it was written (`.047+00:00` stays so) while the
    stored time is still that moment; else the time as AIT42 writes it."""
    from memvault.migrate.sources._time import parse_iso

    moment = tx.ts_out(value)
    if isinstance(text, str) and moment is not None and parse_iso(text) == moment:
        return text
    return _rfc3339(tx, value)


def _float32_shortest(values: tuple[float, ...]) -> list[float]:
    """float32 values as the shortest decimals that are the same float32 (0.4122 is stored
    as 0.41220000386…; the legacy file said 0.4122)."""
    import numpy as np

    return [float(str(np.float32(v))) for v in values]


def _ordered(fields: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """The serde struct's field order, then any other key (never dropped)."""
    out = {k: fields[k] for k in order if k in fields}
    out.update((k, v) for k, v in fields.items() if k not in out)
    return out


def _instance_index(meta: dict[str, Any]) -> int:
    key = meta.get("source_key")
    tail = key.rsplit(":", 1)[-1] if isinstance(key, str) else ""
    return int(tail) if tail.isdigit() else 1 << 30


def export_ait42(
    vault: Vault, root: str | os.PathLike[str], *, user: str | None = None
) -> dict[str, int]:
    """Write AIT42's session files under `root` (its `home/` and `projects/` folders): each
    competition/ensemble/debate session (all, or `user`'s) goes back to the file it came from
    (v3 `home/.ait42/sessions/<hash16>.json`, v2 `home/.ait42/sessions.json`, v1
    `projects/<name>/.ait42/sessions.json`); a session written in memvault goes to its
    project's v3 file (hash of the project path) or, without a project, to the v2 file.
    Instances and chat messages are nested back; `workspace_mapping.json` maps the hashes of
    projects with a known path. serde's layout: camelCase in struct order, 2-space indent,
    raw UTF-8, no final newline. Returns sessions written per file. Quarantined and
    duplicate sessions are not in the store and do not come back."""
    from memvault.migrate.sources.ait42 import workspace_hash

    uid = _user_id(vault, user) if user is not None else None
    files: dict[Path, list[dict[str, Any]]] = {}
    mapping: dict[str, str] = {}
    with vault.store.read() as tx:
        projects = {
            str(r["id"]): (r["path"], _meta(tx, r["metadata"]).get("workspace_hash"))
            for r in tx.all("SELECT id, path, metadata FROM projects")
        }
        params: dict[str, Any] = {}
        marks = tx.expand("k", list(AIT42_KINDS), params)
        where = f"kind IN ({marks}) AND parent_id IS NULL"
        if uid is not None:
            params["u"] = uid
            where += " AND user_id = :u"
        tops = tx.all(f"SELECT * FROM sessions WHERE {where} ORDER BY started_at, id", params)
        for s in tops:
            sid = str(s["id"])
            meta = _meta(tx, s["metadata"])
            path, hash16 = projects.get(str(s["project_id"]), (None, None))
            if isinstance(meta.get("workspace_hash"), str):
                hash16 = meta["workspace_hash"]
            if path and not hash16:
                hash16 = workspace_hash(path)
            if path and isinstance(hash16, str) and meta.get("layout") != "v1":
                mapping[hash16] = path
            rel = meta.get("file")
            if not isinstance(rel, str):
                rel = (f"home/.ait42/sessions/{hash16}.json" if isinstance(hash16, str)
                       else "home/.ait42/sessions.json")  # fmt: skip
            instances = []
            for inst in tx.all(
                "SELECT * FROM sessions WHERE parent_id = :p AND kind = 'instance'", {"p": sid}
            ):
                imeta = _meta(tx, inst["metadata"])
                fields = {k: v for k, v in imeta.items() if k not in _AIT42_OWN}
                inferred = "started_at_inferred" in imeta
                fields.update(
                    agentName=inst["title"] or "",
                    status=inst["status"],
                    startTime=None if inferred else _js_time(tx, inst["started_at"]),
                    endTime=_js_time(tx, inst["ended_at"]),
                )
                instances.append((_instance_index(imeta), _ordered(fields, AIT42_INSTANCE_ORDER)))
            instances.sort(key=lambda pair: pair[0])
            history = []
            for m in _iter(tx, "SELECT role, content, metadata, created_at FROM messages "
                               "WHERE session_id = :s ORDER BY seq", {"s": sid}):  # fmt: skip
                mmeta = _meta(tx, m["metadata"])
                history.append({
                    "id": mmeta.get("legacy_id") or f"msg-{m['created_at']}",
                    "role": m["role"],
                    "content": m["content"],
                    "timestamp": _js_time(tx, m["created_at"]),
                    "instanceId": mmeta.get("instance_id"),
                })  # fmt: skip
            fields = {k: v for k, v in meta.items() if k not in _AIT42_OWN}
            fields.update(
                id=meta.get("legacy_id") or sid,
                type=s["kind"],
                task=s["title"] or "",
                status=s["status"],
                createdAt=_js_time(tx, s["started_at"]),
                updatedAt=_kept_text(tx, meta.get("updated_at_text"), s["updated_at"]),
                completedAt=_js_time(tx, s["ended_at"]),
                instances=[i for _, i in instances],
                chatHistory=history,
            )
            files.setdefault(Path(rel), []).append(_ordered(fields, AIT42_SESSION_ORDER))
    out = confine("out", root, vault.files_root, write=True)
    counts: dict[str, int] = {}
    for rel_path, sessions in files.items():
        _write_json(inside(out, rel_path, "metadata.file"), sessions, ensure_ascii=False)
        counts[rel_path.as_posix()] = len(sessions)
    if mapping:
        _write_json(out / "home/.ait42/workspace_mapping.json", mapping, ensure_ascii=False)
    return counts
