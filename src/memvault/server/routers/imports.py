"""Import runs and their reports, read-only (admin keys: runs belong to no single user).

The queries live in the core (`memvault.migrate.runs`); this router only checks the key.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from memvault.migrate import runs
from memvault.server.auth import Caller, VaultDep
from memvault.server.routers import COMMON
from memvault.server.schemas import Page, Paging, Text, paged

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


@router.get("", response_model=Page[ImportRun])
def list_runs(
    vault: VaultDep, paging: Annotated[Paging, Depends(paged(50))], caller: Caller
) -> Any:
    """Import runs, newest first, with their reports."""
    caller.require_admin()
    return paging.page([asdict(r) for r in runs.list_runs(vault, **paging.args)])


@router.get("/{run_id}", response_model=ImportRun)
def get_run(run_id: Annotated[Text, Path()], vault: VaultDep, caller: Caller) -> Any:
    """One import run with its report."""
    caller.require_admin()
    return asdict(runs.get_run(vault, run_id))
