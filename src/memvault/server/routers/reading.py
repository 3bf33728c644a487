"""Read-only views that the dashboard needs and no resource router answers: recent agent
messages across agents (the inbox of `agents.py` is per agent and filters read ones)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from memvault.records import AgentMessage
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import Page, Paging, Text, UserParam, paged

router = APIRouter(tags=["agents"], responses=COMMON)


@router.get("/api/agent-messages", response_model=Page[AgentMessage])
def recent_agent_messages(
    vault: View,
    paging: Annotated[Paging, Depends(paged(50))],
    caller: Caller,
    user_id: UserParam = None,
    agent_id: Text | None = None,
) -> Any:
    """Agent messages, newest first (with `agent_id`: those it sent or was sent); reading
    them here marks nothing read."""
    owner = caller.read_owner(user_id)
    return paging.page(vault.agents.recent(owner, agent_id=agent_id, **paging.args))
