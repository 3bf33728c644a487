"""Actions (tool calls) and routing; DCM's `POST/GET /api/actions` and `/api/routing/suggest`.

DCM's hook posts `{"tool_name", "tool_type", "session_id", "file_paths", "exit_code",
"duration_ms", "project_path"}`: `project_path` becomes the owner's project of that path,
`file_paths` may be a comma-separated string, an empty `exit_code` means unknown, and a
`session_id` that is not a memvault session of the owner (Claude Code's own id) is kept in the
action's metadata.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from memvault.errors import InvalidInput, NotFound
from memvault.ids import is_id
from memvault.records import Action, RoutingScore, Suggestion, ToolStats
from memvault.scope import ScopedVault
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
from memvault.server.schemas import (
    Body,
    Int32,
    JsonObject,
    Number,
    Page,
    Pages,
    Text,
    UserParam,
    When,
)
from memvault.vault import Vault

router = APIRouter(tags=["tools"], responses=COMMON)


class ActionIn(Body):
    feeds = "actions.record"
    derived = frozenset({"project_path"})  # becomes project_id
    tool_name: Text
    tool_type: Text = "builtin"
    user_id: Text | None = None
    input: Text | None = None
    file_paths: list[Text] | Text | None = None
    exit_code: Int32 | Text | None = None
    duration_ms: Number | None = None
    project_path: Text | None = None
    project_id: Text | None = None
    session_id: Text | None = None
    metadata: JsonObject | None = None
    created_at: When | None = None


class RoutingFeedback(Body):
    feeds = "routing.update"
    derived = frozenset({"query", "keywords"})  # become query_or_keywords
    query: Text | None = None
    keywords: list[Text] | None = None
    tool_name: Text
    success: bool
    tool_type: Text = "builtin"
    user_id: Text | None = None


class SuggestOut(BaseModel):
    query: str
    suggestions: list[Suggestion]


def _exit_code(value: int | str | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    if not text:
        return None  # bash's unset $TOOL_EXIT_CODE
    try:
        code = int(text)
    except ValueError as exc:
        raise InvalidInput("exit_code", value, "expected an integer") from exc
    if not -(2**31) <= code < 2**31:
        raise InvalidInput("exit_code", value, "out of range")
    return code


def _paths(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return value


def _session(vault: Vault | ScopedVault, owner: str | None, session_id: str | None,
             meta: dict[str, Any]) -> str | None:  # fmt: skip
    if session_id is None or not session_id.strip():
        return None
    if is_id(session_id):
        try:
            session = vault.sessions.get(session_id)
        except NotFound:
            session = None
        if session is not None and session.user_id == owner:
            return session.id
    meta.setdefault("external_session_id", session_id)
    return None


@router.post("/api/actions", response_model=Action, status_code=201)
def record_action(body: ActionIn, vault: View, caller: Caller) -> Any:
    """Log one tool call (DCM's hook body works unchanged)."""
    owner = caller.write_owner(body.user_id)
    meta = dict(body.metadata or {})
    project_id = body.project_id
    if project_id is None and body.project_path:
        project_id = vault.projects.ensure(body.project_path, user_id=owner,
                                           path=body.project_path).id  # fmt: skip
    return vault.actions.record(**body.fields(
        user_id=owner, file_paths=_paths(body.file_paths), exit_code=_exit_code(body.exit_code),
        project_id=project_id, session_id=_session(vault, owner, body.session_id, meta),
        metadata=meta,
    ))  # fmt: skip


@router.get("/api/actions", response_model=Page[Action])
def list_actions(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    tool_name: Text | None = None,
    project_id: Text | None = None,
    since: When | None = None,
    until: When | None = None,
) -> Any:
    """Tool calls, newest first."""
    return paging.page(vault.actions.list(
        caller.read_owner(user_id), tool_name=tool_name, project_id=project_id, since=since,
        until=until, **paging.args,
    ))  # fmt: skip


@router.get("/api/actions/stats", response_model=list[ToolStats])
def action_stats(
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    tool_name: Text | None = None,
    project_id: Text | None = None,
    since: When | None = None,
    until: When | None = None,
) -> Any:
    """Per tool: count, successes, failures, success rate, average/median/p95 duration."""
    return vault.actions.stats(caller.read_owner(user_id), tool_name=tool_name,
                               project_id=project_id, since=since, until=until)  # fmt: skip


one(router, "GET", "/api/actions/{action_id}", Action, "actions.get", name="get_action")


@router.get("/api/routing/suggest", response_model=SuggestOut)
def suggest(
    vault: View,
    caller: Caller,
    q: Annotated[Text, Query(description="The request to route")],
    user_id: UserParam = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
    layered: bool = True,
) -> Any:
    """Tools ranked for `q` from learned keyword scores (the owner's, then global)."""
    owner = caller.write_owner(user_id)
    return {"query": q, "suggestions": vault.routing.suggest(q, user_id=owner, limit=limit,
                                                             layered=layered)}  # fmt: skip


@router.post("/api/routing/feedback", response_model=list[RoutingScore])
def routing_feedback(body: RoutingFeedback, vault: View, caller: Caller) -> Any:
    """Learn from one outcome: the request's keywords gain (or lose) weight for the tool."""
    words: str | list[str] | None = body.keywords if body.keywords is not None else body.query
    if words is None:
        raise InvalidInput("query", None, "give query or keywords")
    owner = caller.write_owner(body.user_id)
    return vault.routing.update(**body.fields(query_or_keywords=words, user_id=owner))


@router.get("/api/routing/scores", response_model=Page[RoutingScore])
def routing_scores(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    keyword: Text | None = None,
    tool_name: Text | None = None,
) -> Any:
    """Stored scores of the owner (an admin key naming no user: the global ones)."""
    owner = caller.write_owner(user_id)
    return paging.page(vault.routing.scores(owner, keyword=keyword, tool_name=tool_name,
                                            **paging.args))  # fmt: skip
