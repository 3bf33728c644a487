"""Read-only views that the dashboard needs and no resource router answers: recent agent
messages across agents (the inbox of `agents.py` is per agent and filters read ones)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from memvault.records import AgentMessage
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import Limit, Offset, Page, Text, UserParam, page

router = APIRouter(tags=["agents"], responses=COMMON)


@router.get("/api/agent-messages", response_model=Page[AgentMessage])
def recent_agent_messages(
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    agent_id: Text | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Agent messages, newest first (with `agent_id`: those it sent or was sent); reading
    them here marks nothing read."""
    items = vault.agents.recent(caller.read_owner(user_id), agent_id=agent_id, limit=limit,
                                offset=offset)  # fmt: skip
    return page(items, limit, offset)
