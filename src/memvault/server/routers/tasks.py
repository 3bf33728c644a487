"""Requests, their task lists (waves) and subtasks, as DCM's agents track work."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from memvault.records import Request, RequestOverview, Subtask, TaskList
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import (
    Body,
    JsonObject,
    JsonValue,
    Limit,
    Offset,
    Page,
    Text,
    UserParam,
    page,
    window,
)

router = APIRouter(tags=["tasks"], responses=COMMON)
Id = Annotated[Text, Path()]


class RequestIn(Body):
    prompt: Text
    user_id: Text | None = None
    project_id: Text | None = None
    session_id: Text | None = None
    prompt_type: Text | None = None
    metadata: JsonObject | None = None


class StatusIn(Body):
    status: Text


class WaveIn(Body):
    name: Text | None = None
    wave: Annotated[int, Query(ge=0, le=2**31 - 1)] | None = None


class SubtaskIn(Body):
    description: Text
    agent_type: Text | None = None
    agent_id: Text | None = None


class SubtaskStatusIn(Body):
    status: Text
    result: JsonValue = None
    agent_id: Text | None = None


class ClaimIn(Body):
    task_list_id: Text | None = None


@router.post("/api/requests", response_model=Request, status_code=201)
def create_request(body: RequestIn, vault: View, caller: Caller) -> Any:
    return vault.tasks.create_request(
        body.prompt, user_id=caller.write_owner(body.user_id), project_id=body.project_id,
        session_id=body.session_id, prompt_type=body.prompt_type, metadata=body.metadata,
    )  # fmt: skip


@router.get("/api/requests", response_model=Page[Request])
def list_requests(
    vault: View, caller: Caller, user_id: UserParam = None, status: Text | None = None,
    project_id: Text | None = None, limit: Limit = 50, offset: Offset = 0,
) -> Any:  # fmt: skip
    items = vault.tasks.list_requests(
        caller.read_owner(user_id), status=status, project_id=project_id, limit=limit, offset=offset
    )
    return page(items, limit, offset)


@router.get("/api/requests/{request_id}", response_model=Request)
def get_request(request_id: Id, vault: View) -> Any:
    return vault.tasks.get_request(request_id)


@router.patch("/api/requests/{request_id}", response_model=Request)
def set_request_status(request_id: Id, body: StatusIn, vault: View) -> Any:
    return vault.tasks.set_request_status(request_id, body.status)


@router.post("/api/requests/{request_id}/waves", response_model=TaskList, status_code=201)
def add_wave(request_id: Id, body: WaveIn, vault: View) -> Any:
    return vault.tasks.add_wave(request_id, name=body.name,
                                wave=body.wave)  # fmt: skip


@router.get("/api/requests/{request_id}/waves", response_model=Page[TaskList])
def waves(request_id: Id, vault: View, limit: Limit = 100, offset: Offset = 0) -> Any:
    return window(vault.tasks.waves(request_id), limit, offset)


@router.patch("/api/waves/{task_list_id}", response_model=TaskList)
def set_wave_status(task_list_id: Id, body: StatusIn, vault: View) -> Any:
    return vault.tasks.set_wave_status(task_list_id, body.status)


@router.post("/api/waves/{task_list_id}/subtasks", response_model=Subtask, status_code=201)
def add_subtask(task_list_id: Id, body: SubtaskIn, vault: View) -> Any:
    return vault.tasks.add_subtask(
        task_list_id,
        body.description,
        agent_type=body.agent_type,
        agent_id=body.agent_id,
    )


@router.get("/api/subtasks", response_model=Page[Subtask])
def list_subtasks(
    vault: View, caller: Caller, user_id: UserParam = None,
    task_list_id: Text | None = None, request_id: Text | None = None,
    status: Text | None = None, agent_id: Text | None = None, limit: Limit = 200,
    offset: Offset = 0,
) -> Any:  # fmt: skip
    items = vault.tasks.subtasks(caller.read_owner(user_id), task_list_id=task_list_id,
                                 request_id=request_id, status=status, agent_id=agent_id,
                                 limit=limit, offset=offset)  # fmt: skip
    return page(items, limit, offset)


@router.get("/api/subtasks/{subtask_id}", response_model=Subtask)
def get_subtask(subtask_id: Id, vault: View) -> Any:
    return vault.tasks.get_subtask(subtask_id)


@router.patch("/api/subtasks/{subtask_id}", response_model=Subtask)
def set_subtask_status(subtask_id: Id, body: SubtaskStatusIn, vault: View) -> Any:
    return vault.tasks.set_status(subtask_id, body.status, result=body.result,
                                  agent_id=body.agent_id)  # fmt: skip


@router.post("/api/agents/{agent_id}/claim", response_model=Subtask | None)
def claim(agent_id: Id, body: ClaimIn, vault: View) -> Any:
    """Atomically take the oldest pending subtask for `agent_id` (null when none)."""
    return vault.tasks.claim(agent_id, task_list_id=body.task_list_id)


@router.get("/api/tasks/overview", response_model=Page[RequestOverview])
def overview(
    vault: View, caller: Caller, user_id: UserParam = None, status: Text | None = None,
    limit: Limit = 20, offset: Offset = 0,
) -> Any:  # fmt: skip
    """Recent requests with their waves and subtask counts per status."""
    items = vault.tasks.overview(caller.read_owner(user_id), status=status, limit=limit,
                                 offset=offset)  # fmt: skip
    return page(items, limit, offset)
