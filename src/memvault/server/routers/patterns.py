"""Learned response patterns: the user's layer first, then the shared base (admin writes it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from memvault.records import ResponsePattern
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import (
    BaseParam,
    Body,
    Deleted,
    JsonObject,
    Page,
    Paging,
    Text,
    Unit,
    UserParam,
    When,
    paged,
)

router = APIRouter(prefix="/api/patterns", tags=["patterns"], responses=COMMON)
PatternId = Annotated[Text, Path(description="A response pattern id")]


class PatternIn(Body):
    feeds = "patterns.add"
    user_id: Text | None = None  # an admin key must name one, or send the query's base=true
    intent: Text
    trigger_context: Text
    response_text: Text
    success_score: Unit = 0.5
    metadata: JsonObject | None = None
    created_at: When | None = None


class PatternPatch(Body):
    feeds = "patterns.update"
    intent: Text | None = None
    trigger_context: Text | None = None
    response_text: Text | None = None
    metadata: JsonObject | None = None


class Outcome(Body):
    feeds = "patterns.record_use"
    outcome: Unit  # 1 success, 0 failure, or a graded score


@router.get("", response_model=Page[ResponsePattern])
def find_patterns(
    vault: View,
    paging: Annotated[Paging, Depends(paged(10))],
    caller: Caller,
    user_id: UserParam = None,
    intent: Text | None = None,
    text: Text | None = None,
    layered: bool = True,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> Any:
    """Patterns for the owner, best first; with `layered`, then the base layer's."""
    return paging.page(vault.patterns.find(
        caller.write_owner(user_id), intent=intent, text=text, layered=layered,
        min_score=min_score, **paging.args,
    ))  # fmt: skip


@router.post("", response_model=ResponsePattern, status_code=201)
def add_pattern(
    body: PatternIn, vault: View, caller: Caller, user_id: UserParam = None, base: BaseParam = False
) -> Any:
    """Store a response pattern for the user named by the query's or the body's `user_id`;
    an admin key must name one, or teach the shared base layer with `base=true`."""
    owner = caller.layer_owner(user_id, sent=body.user_id, base=base)
    return vault.patterns.add(**body.fields(user_id=owner, teacher=caller.admin))


@router.get("/{pattern_id}", response_model=ResponsePattern)
def get_pattern(
    pattern_id: PatternId, vault: View, caller: Caller, user_id: UserParam = None
) -> Any:
    return vault.patterns.get(pattern_id, user_id=caller.write_owner(user_id))


@router.patch("/{pattern_id}", response_model=ResponsePattern)
def update_pattern(
    pattern_id: PatternId, body: PatternPatch, vault: View, caller: Caller,
    user_id: UserParam = None,
) -> Any:  # fmt: skip
    fields = body.fields(sent=True, user_id=caller.write_owner(user_id))
    if caller.admin:
        fields["teacher"] = True
    return vault.patterns.update(pattern_id, **fields)


@router.post("/{pattern_id}/use", response_model=ResponsePattern)
def record_use(
    pattern_id: PatternId, body: Outcome, vault: View, caller: Caller,
    user_id: UserParam = None,
) -> Any:  # fmt: skip
    """Count one use and fold its outcome into the success score."""
    owner = caller.write_owner(user_id)
    return vault.patterns.record_use(pattern_id, **body.fields(user_id=owner, teacher=caller.admin))


@router.delete("/{pattern_id}", response_model=Deleted)
def delete_pattern(
    pattern_id: PatternId, vault: View, caller: Caller, user_id: UserParam = None
) -> Any:
    vault.patterns.delete(pattern_id, user_id=caller.write_owner(user_id), teacher=caller.admin)
    return {"id": pattern_id}
