"""Agent-to-agent messages and topic subscriptions (publish/subscribe between agents)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from memvault.records import AgentMessage, AgentSubscription
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
from memvault.server.schemas import Body, Int32, JsonValue, Page, Pages, Text, UserParam, When

router = APIRouter(tags=["agents"], responses=COMMON)
Agent = Annotated[Text, Path(description="An agent name")]


class AgentMessageIn(Body):
    feeds = "agents.send"
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
    feeds = "agents.subscribe"
    topic: Text
    user_id: Text | None = None


class ReadIn(Body):
    feeds = "agents.mark_read"
    message_ids: Annotated[list[Text], Query(max_length=1000)]


class Marked(BaseModel):
    marked: int


class Unsubscribed(BaseModel):
    removed: bool


@router.post("/api/agent-messages", response_model=AgentMessage, status_code=201)
def send(body: AgentMessageIn, vault: View, caller: Caller) -> Any:
    """Send to an agent and/or a topic; `/ws` subscribers of `agent:<topic>` see it."""
    return vault.agents.send(**body.fields(user_id=caller.write_owner(body.user_id)))


one(router, "GET", "/api/agent-messages/{message_id}", AgentMessage, "agents.get",
    name="get_message")  # fmt: skip


@router.get("/api/agents/{agent_id}/inbox", response_model=Page[AgentMessage])
def inbox(
    agent_id: Agent, vault: View, paging: Pages, caller: Caller, user_id: UserParam = None,
    unread_only: bool = True, include_expired: bool = False,
) -> Any:  # fmt: skip
    """Messages to the agent or its topics; highest priority first, then oldest."""
    return paging.page(vault.agents.inbox(
        agent_id, user_id=caller.read_owner(user_id), unread_only=unread_only,
        include_expired=include_expired, **paging.args,
    ))  # fmt: skip


@router.post("/api/agents/{agent_id}/read", response_model=Marked)
def mark_read(agent_id: Agent, body: ReadIn, vault: View) -> Any:
    return {"marked": vault.agents.mark_read(agent_id, **body.fields())}


@router.get("/api/agent-subscriptions", response_model=Page[AgentSubscription])
def subscriptions(
    vault: View, paging: Pages, caller: Caller, user_id: UserParam = None,
    agent_id: Text | None = None, topic: Text | None = None,
) -> Any:  # fmt: skip
    owner = caller.read_owner(user_id)
    return paging.window(vault.agents.subscriptions(owner, agent_id=agent_id, topic=topic))


@router.post("/api/agents/{agent_id}/subscriptions", response_model=AgentSubscription,
             status_code=201)  # fmt: skip
def subscribe(agent_id: Agent, body: SubscribeIn, vault: View, caller: Caller) -> Any:
    return vault.agents.subscribe(agent_id, **body.fields(user_id=caller.write_owner(body.user_id)))


@router.delete("/api/agents/{agent_id}/subscriptions/{topic}", response_model=Unsubscribed)
def unsubscribe(
    agent_id: Agent, topic: Annotated[Text, Path()], vault: View, caller: Caller,
    user_id: UserParam = None,
) -> Any:  # fmt: skip
    return {
        "removed": vault.agents.unsubscribe(agent_id, topic, user_id=caller.write_owner(user_id))
    }
