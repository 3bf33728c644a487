"""Emotion events and their patterns; traits and their evolution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from memvault.records import EmotionalPatterns, EmotionEvent, Trait, TraitChange
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import (
    BaseParam,
    Body,
    JsonObject,
    Number,
    Page,
    Pages,
    Text,
    Unit,
    UserParam,
    When,
)

router = APIRouter(tags=["affect"], responses=COMMON)


class EmotionIn(Body):
    feeds = "emotions.record"
    user_id: Text | None = None
    emotion: Text
    intensity: Number
    scale: Annotated[float, Query(gt=0, le=1e6)] = 1.0
    trigger: Text | None = None
    context: Text | None = None
    session_id: Text | None = None
    occurred_at: When | None = None
    metadata: JsonObject | None = None


class TraitIn(Body):
    feeds = "traits.set"
    user_id: Text | None = None  # an admin key must name one, or send the query's base=true
    value: Unit
    agent: Text = "default"
    reason: Text | None = None


@router.get("/api/emotions", response_model=Page[EmotionEvent])
def list_emotions(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    since: When | None = None,
    until: When | None = None,
    emotion: Text | None = None,
    session_id: Text | None = None,
    newest_first: bool = True,
) -> Any:
    """Emotion events of a user in [since, until)."""
    return paging.page(vault.emotions.list(
        caller.user(user_id), since=since, until=until, emotion=emotion, session_id=session_id,
        newest_first=newest_first, **paging.args,
    ))  # fmt: skip


@router.post("/api/emotions", response_model=EmotionEvent, status_code=201)
def record_emotion(body: EmotionIn, vault: View, caller: Caller) -> Any:
    """Record an emotion event (intensity 0–1, or 0–`scale`)."""
    return vault.emotions.record(**body.fields(user_id=caller.user(body.user_id)))


@router.get("/api/emotions/patterns", response_model=EmotionalPatterns)
def emotion_patterns(
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    since: When | None = None,
    until: When | None = None,
    window_days: Annotated[float, Query(gt=0, le=36500)] = 7.0,
    top_triggers: Annotated[int, Query(ge=0, le=100)] = 3,
) -> Any:
    """Per-emotion frequency, intensity, triggers, hour-of-day profile and trend."""
    return vault.emotions.patterns(caller.user(user_id), since=since, until=until,
                                   window_days=window_days, top_triggers=top_triggers)  # fmt: skip


@router.get("/api/traits", response_model=Page[Trait])
def list_traits(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    agent: Text | None = None,
) -> Any:
    """The owner's traits (an admin key naming no user: the base layer's)."""
    return paging.window(vault.traits.list(caller.write_owner(user_id), agent=agent))


@router.put("/api/traits/{name}", response_model=Trait)
def set_trait(
    name: Annotated[Text, Path()], body: TraitIn, vault: View, caller: Caller,
    user_id: UserParam = None, base: BaseParam = False,
) -> Any:  # fmt: skip
    """Set a trait (0–1); its evolution is recorded in the same transaction. The owner is
    named by the query's or the body's `user_id`; an admin key must name one, or set the
    shared base layer's trait with `base=true`."""
    owner = caller.layer_owner(user_id, sent=body.user_id, base=base)
    return vault.traits.set(**body.fields(user_id=owner, name=name))


@router.get("/api/traits/history", response_model=Page[TraitChange])
def trait_history(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    name: Text | None = None,
    agent: Text | None = None,
) -> Any:
    """How the owner's traits evolved (old, new, reason, time), oldest first."""
    owner = caller.write_owner(user_id)
    return paging.page(vault.traits.history(owner, name, agent=agent, **paging.args))
