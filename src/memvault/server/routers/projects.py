"""Projects (a workspace path or name; DCM's `GET /api/projects`), scoped to the caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from memvault.records import Project
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
from memvault.server.schemas import Page, Pages, UserParam

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=COMMON)


@router.get("", response_model=Page[Project])
def list_projects(vault: View, paging: Pages, caller: Caller, user_id: UserParam = None) -> Any:
    """The caller's projects by name (an admin key: every user's, or the one named)."""
    return paging.page(vault.projects.list(caller.read_owner(user_id), **paging.args))


one(router, "GET", "/{project_id}", Project, "projects.get", name="get_project")
