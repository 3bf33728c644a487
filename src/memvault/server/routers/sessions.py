"""Sessions and their messages (the hot path: `POST /api/sessions/{id}/messages`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from memvault.records import ConversationContext, Message, Session, TrajectoryPoint
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
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
) -> Any:
    """Sessions, most recently updated first."""
    return paging.page(vault.sessions.list(
        caller.read_owner(user_id), kind=kind, status=status, project_id=project_id,
        parent_id=parent_id, **paging.args,
    ))  # fmt: skip


@router.post("/api/sessions", response_model=Session, status_code=201)
def create_session(body: SessionIn, vault: View, caller: Caller) -> Any:
    return vault.sessions.create(**body.fields(user_id=caller.write_owner(body.user_id)))


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
