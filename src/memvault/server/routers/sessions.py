"""Sessions and their messages (the hot path: `POST /api/sessions/{id}/messages`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from memvault.errors import NotFound
from memvault.records import ConversationContext, Message, Session, TrajectoryPoint
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
from memvault.server.routers.memories import Filters, json_filters
from memvault.server.schemas import (
    MAX_PAGE,
    Body,
    Deleted,
    JsonObject,
    Page,
    Pages,
    Text,
    UserParam,
    When,
)

router = APIRouter(tags=["sessions"], responses=COMMON)
SessionId = Annotated[Text, Path(description="A session id")]


class SessionIn(Body):
    feeds = "sessions.create"
    user_id: Text | None = None
    kind: Text = "chat"
    title: Text | None = None
    status: Text = "active"
    parent_id: Text | None = None
    project_id: Text | None = None
    metadata: JsonObject | None = None
    started_at: When | None = None
    key: Text | None = None  # the caller's name for it, unique per owner


class SessionPatch(Body):
    feeds = "sessions.update"
    title: Text | None = None
    status: Text | None = None
    metadata: JsonObject | None = None


class MessageIn(Body):
    feeds = "messages.append"
    role: Text
    content: Text
    emotion: Text | None = None
    metadata: JsonObject | None = None
    created_at: When | None = None


class MessagesIn(Body):
    feeds = "messages.append_many"
    messages: list[MessageIn] = Field(max_length=MAX_PAGE)


@router.get("/api/sessions", response_model=Page[Session])
def list_sessions(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    kind: Text | None = None,
    status: Text | None = None,
    project_id: Text | None = None,
    parent_id: Text | None = None,
    key_prefix: Annotated[
        Text | None, Query(description='Only keys starting with this ("": every keyed one)')
    ] = None,
    filters: Filters = None,
) -> Any:
    """Sessions, most recently updated first. `filters`: as for memories, on metadata and
    the columns (kind, status, title, key, message_count, started_at, …)."""
    return paging.page(vault.sessions.list(
        caller.read_owner(user_id), kind=kind, status=status, project_id=project_id,
        parent_id=parent_id, key_prefix=key_prefix, filters=json_filters(filters), **paging.args,
    ))  # fmt: skip


@router.post("/api/sessions", response_model=Session, status_code=201)
def create_session(body: SessionIn, vault: View, caller: Caller) -> Any:
    return vault.sessions.create(**body.fields(user_id=caller.write_owner(body.user_id)))


@router.get("/api/sessions/by-key/{key:path}", response_model=Session)
def get_session_by_key(
    key: Annotated[Text, Path(description="A session's key")],
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
) -> Any:
    """The session with this key (404 when none)."""
    found = vault.sessions.by_key(caller.read_owner(user_id), key)
    if found is None:
        raise NotFound("session", key)
    return found


ONE = "/api/sessions/{session_id}"
one(router, "GET", ONE, Session, "sessions.get", name="get_session", param=SessionId)
one(router, "PATCH", ONE, Session, SessionPatch, name="update_session", param=SessionId, sent=True)
one(router, "DELETE", ONE, Deleted, "sessions.delete", name="delete_session", param=SessionId,
    doc="Delete a session and its messages.")  # fmt: skip


@router.get("/api/sessions/{session_id}/messages", response_model=Page[Message])
def list_messages(
    session_id: SessionId,
    vault: View,
    paging: Pages,
    after_seq: Annotated[
        int, Query(ge=0, le=2**62, description="Only messages numbered after this one.")
    ] = 0,
) -> Any:
    """Messages of a session in order (oldest first), a page at a time."""
    return paging.page(vault.messages.list(session_id, after_seq=after_seq, **paging.args))


@router.post("/api/sessions/{session_id}/messages", response_model=Message, status_code=201)
def append_message(session_id: SessionId, body: MessageIn, request: Request, vault: View) -> Any:
    """Append a message (numbered within the session); subscribers of the session see it."""
    message = vault.messages.append(session_id, **body.fields())
    # The core accepted it for this caller: the fast path may take the next ones itself.
    request.app.state.session_owners.remember(session_id, message.user_id)
    return message


@router.post(
    "/api/sessions/{session_id}/messages/batch", response_model=list[Message], status_code=201
)
def append_messages(session_id: SessionId, body: MessagesIn, vault: View) -> Any:
    """Append several messages in one transaction, in order: all or none."""
    return vault.messages.append_many(session_id, [m.fields() for m in body.messages])


@router.delete("/api/sessions/{session_id}/messages")
def clear_messages(session_id: SessionId, vault: View) -> dict[str, int]:
    """Delete every message of the session (the session stays); how many went."""
    return {"removed": vault.messages.clear(session_id)}


one(router, "GET", "/api/messages/{message_id}", Message, "messages.get", name="get_message")


@router.get("/api/sessions/{session_id}/context", response_model=ConversationContext)
def context(
    session_id: SessionId,
    vault: View,
    last: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
    topics: Annotated[int, Query(ge=1, le=100)] = 5,
) -> Any:
    """The last messages, topics and current emotion of a session."""
    return vault.contexts.get(session_id, last=last, topics=topics)


one(router, "GET", ONE + "/trajectory", list[TrajectoryPoint], "emotions.trajectory",
    name="trajectory", param=SessionId,
    doc="The emotion trajectory of a session, in order.")  # fmt: skip
