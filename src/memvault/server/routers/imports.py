"""Import runs and their reports, read-only (admin keys: runs belong to no single user).

The core has no import-run reader yet (the migrate pipeline will own one); until it does, the
two read queries live here, read-only and parameter-bound.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from memvault.errors import NotFound
from memvault.ids import is_id
from memvault.server.auth import Caller, VaultDep
from memvault.server.routers import COMMON
from memvault.server.schemas import Limit, Offset, Page, Text, page
from memvault.store.base import Row, Tx

router = APIRouter(prefix="/api/imports", tags=["imports"], responses=COMMON)


class ImportRun(BaseModel):
    id: str
    source: str
    format: str
    status: str
    options: dict[str, Any]
    report: dict[str, Any] | list[Any] | None
    started_at: datetime | None
    finished_at: datetime | None
    quarantined: int


def _run(tx: Tx, row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "source": row["source"], "format": row["format"],
        "status": row["status"], "options": tx.json_out(row["options"]) or {},
        "report": tx.json_out(row["report"]), "started_at": tx.ts_out(row["started_at"]),
        "finished_at": tx.ts_out(row["finished_at"]), "quarantined": int(row["quarantined"]),
    }  # fmt: skip


RUNS = (
    "SELECT r.*, (SELECT COUNT(*) FROM quarantine q WHERE q.run_id = r.id) AS quarantined "
    "FROM import_runs r"
)


@router.get("", response_model=Page[ImportRun])
def list_runs(vault: VaultDep, caller: Caller, limit: Limit = 50, offset: Offset = 0) -> Any:
    """Import runs, newest first, with their reports."""
    caller.require_admin()
    with vault.store.read() as tx:
        rows = tx.all(RUNS + " ORDER BY r.started_at DESC, r.id DESC LIMIT :l OFFSET :o",
                      {"l": limit, "o": offset})  # fmt: skip
        return page([_run(tx, r) for r in rows], limit, offset)


@router.get("/{run_id}", response_model=ImportRun)
def get_run(run_id: Annotated[Text, Path()], vault: VaultDep, caller: Caller) -> Any:
    caller.require_admin()
    if not is_id(run_id):
        raise NotFound("import run", run_id)
    with vault.store.read() as tx:
        row = tx.one(RUNS + " WHERE r.id = :id", {"id": run_id})
        if row is None:
            raise NotFound("import run", run_id)
        return _run(tx, row)
