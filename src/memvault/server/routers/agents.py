"""Agent-to-agent messages and topic subscriptions (publish/subscribe between agents)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from memvault.records import AgentMessage, AgentSubscription
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import (
    Body,
    Int32,
    JsonValue,
    Limit,
    Offset,
    Page,
    Text,
    UserParam,
    When,
    page,
    window,
)

router = APIRouter(tags=["agents"], responses=COMMON)
Agent = Annotated[Text, Path(description="An agent name")]


class AgentMessageIn(Body):
    from_agent: Text
    to_agent: Text | None = None
    topic: Text | None = None
    payload: JsonValue = None
    message_type: Text = "info"
    priority: Int32 = 0
    user_id: Text | None = None
    project_id: Text | None = None
    expires_at: When | None = None


class SubscribeIn(Body):
    topic: Text
    user_id: Text | None = None


class ReadIn(Body):
    message_ids: Annotated[list[Text], Query(max_length=1000)]


class Marked(BaseModel):
    marked: int


class Unsubscribed(BaseModel):
    removed: bool


@router.post("/api/agent-messages", response_model=AgentMessage, status_code=201)
def send(body: AgentMessageIn, vault: View, caller: Caller) -> Any:
    """Send to an agent and/or a topic; `/ws` subscribers of `agent:<topic>` see it."""
    return vault.agents.send(
        body.from_agent, to_agent=body.to_agent, topic=body.topic, payload=body.payload,
        message_type=body.message_type, priority=body.priority,
        user_id=caller.write_owner(body.user_id), project_id=body.project_id,
        expires_at=body.expires_at,
    )  # fmt: skip


@router.get("/api/agent-messages/{message_id}", response_model=AgentMessage)
def get_message(message_id: Annotated[Text, Path()], vault: View) -> Any:
    return vault.agents.get(message_id)


@router.get("/api/agents/{agent_id}/inbox", response_model=Page[AgentMessage])
def inbox(
    agent_id: Agent, vault: View, caller: Caller, user_id: UserParam = None,
    unread_only: bool = True, include_expired: bool = False, limit: Limit = 100,
    offset: Offset = 0,
) -> Any:  # fmt: skip
    """Messages to the agent or its topics; highest priority first, then oldest."""
    items = vault.agents.inbox(agent_id, user_id=caller.read_owner(user_id),
                               unread_only=unread_only, include_expired=include_expired,
                               limit=limit, offset=offset)  # fmt: skip
    return page(items, limit, offset)


@router.post("/api/agents/{agent_id}/read", response_model=Marked)
def mark_read(agent_id: Agent, body: ReadIn, vault: View) -> Any:
    return {"marked": vault.agents.mark_read(agent_id, body.message_ids)}  # fmt: skip


@router.get("/api/agent-subscriptions", response_model=Page[AgentSubscription])
def subscriptions(
    vault: View, caller: Caller, user_id: UserParam = None, agent_id: Text | None = None,
    topic: Text | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Any:  # fmt: skip
    items = vault.agents.subscriptions(caller.read_owner(user_id), agent_id=agent_id, topic=topic)
    return window(items, limit, offset)


@router.post("/api/agents/{agent_id}/subscriptions", response_model=AgentSubscription,
             status_code=201)  # fmt: skip
def subscribe(agent_id: Agent, body: SubscribeIn, vault: View, caller: Caller) -> Any:
    return vault.agents.subscribe(agent_id, body.topic, user_id=caller.write_owner(body.user_id))


@router.delete("/api/agents/{agent_id}/subscriptions/{topic}", response_model=Unsubscribed)
def unsubscribe(
    agent_id: Agent, topic: Annotated[Text, Path()], vault: View, caller: Caller,
    user_id: UserParam = None,
) -> Any:  # fmt: skip
    return {
        "removed": vault.agents.unsubscribe(agent_id, topic, user_id=caller.write_owner(user_id))
    }
