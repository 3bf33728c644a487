"""Import runs and their checkpoints: the one module that reads and writes `import_runs` and
`import_checkpoints`.

The importer (`pipeline`) and the store-to-store transfer (`transfer`) both record a run row
(source, format, status, options) and, per stream or table, a checkpoint committed in the
same transaction as the rows it covers, so that a killed run resumes where it stopped. The
API reads runs back with `list_runs` / `get_run`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from memvault import validate as v
from memvault.errors import NotFound
from memvault.ids import is_id
from memvault.store.base import Row, Tx

if TYPE_CHECKING:
    from memvault.vault import Vault

RUNS = (
    "SELECT r.*, (SELECT count(*) FROM quarantine q WHERE q.run_id = r.id) AS quarantined "
    "FROM import_runs r"
)


@dataclass(frozen=True, slots=True)
class ImportRun:
    id: str
    source: str
    format: str
    status: str
    options: dict[str, Any]
    report: Any
    started_at: datetime | None
    finished_at: datetime | None
    quarantined: int


def _run(tx: Tx, row: Row) -> ImportRun:
    return ImportRun(
        id=str(row["id"]),
        source=row["source"],
        format=row["format"],
        status=row["status"],
        options=tx.json_out(row["options"]) or {},
        report=tx.json_out(row["report"]),
        started_at=tx.ts_out(row["started_at"]),
        finished_at=tx.ts_out(row["finished_at"]),
        quarantined=int(row["quarantined"]),
    )


def list_runs(vault: Vault, *, limit: int = 50, offset: int = 0) -> list[ImportRun]:
    """Import runs, newest first."""
    params = {
        "l": v.integer("limit", limit, minimum=1),
        "o": v.integer("offset", offset, minimum=0),
    }
    with vault.store.read() as tx:
        rows = tx.all(RUNS + " ORDER BY r.started_at DESC, r.id DESC LIMIT :l OFFSET :o", params)
        return [_run(tx, r) for r in rows]


def get_run(vault: Vault, run_id: str) -> ImportRun:
    """One import run by id."""
    if not is_id(run_id):
        raise NotFound("import run", run_id)
    with vault.store.read() as tx:
        row = tx.one(RUNS + " WHERE r.id = :id", {"id": run_id})
        if row is None:
            raise NotFound("import run", run_id)
        return _run(tx, row)


# --- writing runs and checkpoints (inside the caller's transaction) -----------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a run got in one stream (an importer's source stream, a transfer's table)."""

    position: int
    records: int
    state: dict[str, Any]


def start_run(
    tx: Tx, run_id: str, source: str, format: str, options: dict[str, Any], started_at: datetime
) -> None:
    """Record a new run, status `running`."""
    tx.execute(
        "INSERT INTO import_runs (id, source, format, status, options, started_at) "
        "VALUES (:id, :s, :f, 'running', :o, :t)",
        {"id": run_id, "s": source, "f": format, "o": tx.json(options), "t": tx.ts(started_at)},
    )


def resume_run(tx: Tx, run_id: str) -> datetime | None:
    """Mark an interrupted run `running` again; returns when it first started."""
    tx.execute(
        "UPDATE import_runs SET status = 'running', finished_at = NULL WHERE id = :id",
        {"id": run_id},
    )
    return tx.ts_out(tx.scalar("SELECT started_at FROM import_runs WHERE id = :id", {"id": run_id}))


def finish_run(tx: Tx, run_id: str, status: str, report: Any, finished_at: datetime | None) -> None:
    """Close a run: its final status, its report and its end time."""
    tx.execute(
        "UPDATE import_runs SET status = :st, report = :rep, finished_at = :t WHERE id = :id",
        {"st": status, "rep": tx.json(report), "t": tx.ts(finished_at), "id": run_id},
    )


def set_status(tx: Tx, run_id: str, status: str) -> None:
    """Set a run's status alone (`running` again on a resume, `mismatch`, ...)."""
    tx.execute("UPDATE import_runs SET status = :st WHERE id = :id", {"st": status, "id": run_id})


def delete_run(tx: Tx, run_id: str) -> None:
    """Delete a run with its checkpoints and quarantined records (explicitly: a bulk loader
    may run with foreign keys, and so cascades, switched off)."""
    for table in ("import_checkpoints", "quarantine"):
        tx.execute(f"DELETE FROM {table} WHERE run_id = :id", {"id": run_id})
    tx.execute("DELETE FROM import_runs WHERE id = :id", {"id": run_id})


def unfinished_runs(
    tx: Tx,
    format: str,
    *,
    source: str | None = None,
    statuses: Iterable[str] | None = None,
) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, source, options) of the runs of `format` not `completed` (or in `statuses`),
    optionally from `source` only, newest first."""
    params: dict[str, Any] = {"f": format}
    where = ["format = :f"]
    if statuses is None:
        where.append("status <> 'completed'")
    else:
        where.append(f"status IN ({tx.expand('st', list(statuses), params)})")
    if source is not None:
        where.append("source = :s")
        params["s"] = source
    rows = tx.all(
        "SELECT id, source, options FROM import_runs WHERE "
        + " AND ".join(where)
        + " ORDER BY started_at DESC, id DESC",
        params,
    )
    return [(str(tx.id_out(r["id"])), r["source"], tx.json_out(r["options"]) or {}) for r in rows]


def imported_before(tx: Tx, source: str, run_id: str) -> bool:
    """Whether a run other than `run_id` imported `source` to the end (completed, with
    quarantined records, or with a verification mismatch)."""
    row = tx.one(
        "SELECT id FROM import_runs WHERE source = :s AND id <> :r "
        "AND status IN ('completed', 'quarantined', 'mismatch') LIMIT 1",
        {"s": source, "r": run_id},
    )
    return row is not None


def latest_running(tx: Tx) -> tuple[str, str, datetime | None] | None:
    """(id, source, started_at) of the newest run marked `running`, if any."""
    row = tx.one(
        "SELECT id, source, started_at FROM import_runs WHERE status = 'running' "
        "ORDER BY started_at DESC LIMIT 1"
    )
    if row is None:
        return None
    return str(tx.id_out(row["id"])), row["source"], tx.ts_out(row["started_at"])


def load_checkpoints(tx: Tx, run_id: str) -> dict[str, Checkpoint]:
    """The checkpoints of a run, by stream."""
    rows = tx.all(
        "SELECT stream, position, records, state FROM import_checkpoints WHERE run_id = :r",
        {"r": run_id},
    )
    return {
        r["stream"]: Checkpoint(
            int(r["position"]), int(r["records"]), tx.json_out(r["state"]) or {}
        )
        for r in rows
    }


def save_checkpoint(
    tx: Tx, run_id: str, stream: str, position: int, records: int, state: dict[str, Any]
) -> None:
    """Record (or move) a run's checkpoint for `stream`; commit it with the rows it covers."""
    tx.execute(
        "INSERT INTO import_checkpoints (run_id, stream, position, records, state, updated_at) "
        "VALUES (:r, :s, :p, :n, :st, :t) ON CONFLICT (run_id, stream) DO UPDATE "
        "SET position = excluded.position, records = excluded.records, "
        "state = excluded.state, updated_at = excluded.updated_at",
        {
            "r": run_id,
            "s": stream,
            "p": position,
            "n": records,
            "st": tx.json(state),
            "t": tx.ts(datetime.now(UTC)),
        },
    )
