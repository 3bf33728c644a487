"""Sessions and their messages (the hot path: `POST /api/sessions/{id}/messages`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from memvault.records import ConversationContext, Message, Session, TrajectoryPoint
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import (
    MAX_PAGE,
    Body,
    Deleted,
    JsonObject,
    Limit,
    Offset,
    Page,
    Text,
    UserParam,
    When,
    page,
)

router = APIRouter(tags=["sessions"], responses=COMMON)
SessionId = Annotated[Text, Path(description="A session id")]


class SessionIn(Body):
    user_id: Text | None = None
    kind: Text = "chat"
    title: Text | None = None
    status: Text = "active"
    parent_id: Text | None = None
    project_id: Text | None = None
    metadata: JsonObject | None = None
    started_at: When | None = None


class SessionPatch(Body):
    title: Text | None = None
    status: Text | None = None
    metadata: JsonObject | None = None


class MessageIn(Body):
    role: Text
    content: Text
    emotion: Text | None = None
    metadata: JsonObject | None = None
    created_at: When | None = None


@router.get("/api/sessions", response_model=Page[Session])
def list_sessions(
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    kind: Text | None = None,
    status: Text | None = None,
    project_id: Text | None = None,
    parent_id: Text | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Sessions, most recently updated first."""
    items = vault.sessions.list(user_id=caller.read_owner(user_id), kind=kind, status=status,
                                project_id=project_id, parent_id=parent_id, limit=limit,
                                offset=offset)  # fmt: skip
    return page(items, limit, offset)


@router.post("/api/sessions", response_model=Session, status_code=201)
def create_session(body: SessionIn, vault: View, caller: Caller) -> Any:
    return vault.sessions.create(
        caller.write_owner(body.user_id), kind=body.kind, title=body.title, status=body.status,
        parent_id=body.parent_id, project_id=body.project_id, metadata=body.metadata,
        started_at=body.started_at,
    )  # fmt: skip


@router.get("/api/sessions/{session_id}", response_model=Session)
def get_session(session_id: SessionId, vault: View) -> Any:
    return vault.sessions.get(session_id)


@router.patch("/api/sessions/{session_id}", response_model=Session)
def update_session(session_id: SessionId, body: SessionPatch, vault: View) -> Any:
    return vault.sessions.update(session_id, title=body.title, status=body.status,
                                 metadata=body.metadata)  # fmt: skip


@router.delete("/api/sessions/{session_id}", response_model=Deleted)
def delete_session(session_id: SessionId, vault: View) -> Any:
    """Delete a session and its messages."""
    vault.sessions.delete(session_id)
    return {"id": session_id}


@router.get("/api/sessions/{session_id}/messages", response_model=Page[Message])
def list_messages(
    session_id: SessionId,
    vault: View,
    after_seq: Annotated[
        int, Query(ge=0, le=2**62, description="Only messages numbered after this one.")
    ] = 0,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Messages of a session in order (oldest first), a page at a time."""
    items = vault.messages.list(session_id, after_seq=after_seq, limit=limit, offset=offset)
    return page(items, limit, offset)


@router.post("/api/sessions/{session_id}/messages", response_model=Message, status_code=201)
def append_message(session_id: SessionId, body: MessageIn, request: Request, vault: View) -> Any:
    """Append a message (numbered within the session); subscribers of the session see it."""
    message = vault.messages.append(session_id, body.role, body.content, emotion=body.emotion,
                                    metadata=body.metadata, created_at=body.created_at)  # fmt: skip
    # The core accepted it for this caller: the fast path may take the next ones itself.
    request.app.state.session_owners.remember(session_id, message.user_id)
    return message


@router.get("/api/messages/{message_id}", response_model=Message)
def get_message(message_id: Annotated[Text, Path()], vault: View) -> Any:
    return vault.messages.get(message_id)


@router.get("/api/sessions/{session_id}/context", response_model=ConversationContext)
def context(
    session_id: SessionId,
    vault: View,
    last: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
    topics: Annotated[int, Query(ge=1, le=100)] = 5,
) -> Any:
    """The last messages, topics and current emotion of a session."""
    return vault.contexts.get(session_id, last=last, topics=topics)


@router.get("/api/sessions/{session_id}/trajectory", response_model=list[TrajectoryPoint])
def trajectory(session_id: SessionId, vault: View) -> Any:
    """The emotion trajectory of a session, in order."""
    return vault.emotions.trajectory(session_id)
