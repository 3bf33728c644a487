"""Requests, their task lists (waves) and subtasks, as DCM's agents track work."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from memvault.records import Request, RequestOverview, Subtask, TaskList
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
from memvault.server.schemas import (
    Body,
    JsonObject,
    JsonValue,
    Page,
    Pages,
    Paging,
    Text,
    UserParam,
    paged,
)

router = APIRouter(tags=["tasks"], responses=COMMON)


class RequestIn(Body):
    feeds = "tasks.create_request"
    prompt: Text
    user_id: Text | None = None
    project_id: Text | None = None
    session_id: Text | None = None
    prompt_type: Text | None = None
    metadata: JsonObject | None = None


class StatusIn(Body):
    feeds = "tasks.set_request_status"  # and tasks.set_wave_status, the same parameters
    status: Text


class WaveIn(Body):
    feeds = "tasks.add_wave"
    name: Text | None = None
    wave: Annotated[int, Query(ge=0, le=2**31 - 1)] | None = None


class SubtaskIn(Body):
    feeds = "tasks.add_subtask"
    description: Text
    agent_type: Text | None = None
    agent_id: Text | None = None


class SubtaskStatusIn(Body):
    feeds = "tasks.set_status"
    status: Text
    result: JsonValue = None
    agent_id: Text | None = None


class ClaimIn(Body):
    feeds = "tasks.claim"
    task_list_id: Text | None = None


@router.post("/api/requests", response_model=Request, status_code=201)
def create_request(body: RequestIn, vault: View, caller: Caller) -> Any:
    return vault.tasks.create_request(**body.fields(user_id=caller.write_owner(body.user_id)))


@router.get("/api/requests", response_model=Page[Request])
def list_requests(
    vault: View, paging: Annotated[Paging, Depends(paged(50))], caller: Caller,
    user_id: UserParam = None, status: Text | None = None, project_id: Text | None = None,
) -> Any:  # fmt: skip
    owner = caller.read_owner(user_id)
    return paging.page(vault.tasks.list_requests(owner, status=status, project_id=project_id,
                                                 **paging.args))  # fmt: skip


one(router, "GET", "/api/requests/{request_id}", Request, "tasks.get_request",
    name="get_request")  # fmt: skip
one(router, "PATCH", "/api/requests/{request_id}", Request, StatusIn, name="set_request_status")
one(router, "POST", "/api/requests/{request_id}/waves", TaskList, WaveIn, name="add_wave",
    status_code=201)  # fmt: skip


@router.get("/api/requests/{request_id}/waves", response_model=Page[TaskList])
def waves(request_id: Annotated[Text, Path()], vault: View, paging: Pages) -> Any:
    return paging.window(vault.tasks.waves(request_id))


one(router, "PATCH", "/api/waves/{task_list_id}", TaskList, "tasks.set_wave_status", body=StatusIn,
    name="set_wave_status")  # fmt: skip
one(router, "POST", "/api/waves/{task_list_id}/subtasks", Subtask, SubtaskIn, name="add_subtask",
    status_code=201)  # fmt: skip


@router.get("/api/subtasks", response_model=Page[Subtask])
def list_subtasks(
    vault: View, paging: Annotated[Paging, Depends(paged(200))], caller: Caller,
    user_id: UserParam = None, task_list_id: Text | None = None, request_id: Text | None = None,
    status: Text | None = None, agent_id: Text | None = None,
) -> Any:  # fmt: skip
    return paging.page(vault.tasks.subtasks(
        caller.read_owner(user_id), task_list_id=task_list_id, request_id=request_id,
        status=status, agent_id=agent_id, **paging.args,
    ))  # fmt: skip


one(router, "GET", "/api/subtasks/{subtask_id}", Subtask, "tasks.get_subtask", name="get_subtask")
one(router, "PATCH", "/api/subtasks/{subtask_id}", Subtask, SubtaskStatusIn,
    name="set_subtask_status")  # fmt: skip
one(router, "POST", "/api/agents/{agent_id}/claim", Subtask | None, ClaimIn, name="claim",
    doc="Atomically take the oldest pending subtask for `agent_id` (null when none).")  # fmt: skip


@router.get("/api/tasks/overview", response_model=Page[RequestOverview])
def overview(
    vault: View, paging: Annotated[Paging, Depends(paged(20))], caller: Caller,
    user_id: UserParam = None, status: Text | None = None,
) -> Any:  # fmt: skip
    """Recent requests with their waves and subtask counts per status."""
    owner = caller.read_owner(user_id)
    return paging.page(vault.tasks.overview(owner, status=status, **paging.args))
