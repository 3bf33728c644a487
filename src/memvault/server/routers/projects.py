"""Projects (a workspace path or name; DCM's `GET /api/projects`), scoped to the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from memvault.records import Project
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import Limit, Offset, Page, Text, UserParam, page

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=COMMON)


@router.get("", response_model=Page[Project])
def list_projects(
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """The caller's projects by name (an admin key: every user's, or the one named)."""
    items = vault.projects.list(user_id=caller.read_owner(user_id), limit=limit, offset=offset)
    return page(items, limit, offset)


@router.get("/{project_id}", response_model=Project)
def get_project(project_id: Annotated[Text, Path()], vault: View) -> Any:
    return vault.projects.get(project_id)
