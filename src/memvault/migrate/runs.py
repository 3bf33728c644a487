"""Import runs as the API reads them: status, options, report and how much was quarantined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
