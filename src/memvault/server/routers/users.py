"""Users: list, create (admin), read, update, profile, usage, personality and export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from memvault.records import Personality, Profile, UsageStats, User
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON
from memvault.server.schemas import Body, JsonObject, Page, Pages, Text

router = APIRouter(prefix="/api/users", tags=["users"], responses=COMMON)
UserId = Annotated[Text, Path(description="A user id")]


class UserIn(Body):
    feeds = "users.create"
    handle: Text
    display_name: Text | None = None
    profile: JsonObject | None = None


class UserPatch(Body):
    feeds = "users.update"
    display_name: Text | None = None
    profile: JsonObject | None = None
    merge_profile: bool = True


@router.get("", response_model=Page[User])
def list_users(vault: View, paging: Pages, caller: Caller) -> Any:
    """Every user (admin key), or the key's own user."""
    if caller.admin:
        return paging.page(vault.users.list(**paging.args))
    return paging.window([vault.users.get(caller.user())])


@router.post("", response_model=User, status_code=201)
def create_user(body: UserIn, vault: View, caller: Caller) -> Any:
    """Create a user (admin key); the handle must be unique."""
    caller.require_admin()
    return vault.users.create(**body.fields())


@router.get("/{user_id}", response_model=User)
def get_user(user_id: UserId, vault: View, caller: Caller) -> Any:
    return vault.users.get(caller.user(user_id))


@router.patch("/{user_id}", response_model=User)
def update_user(user_id: UserId, body: UserPatch, vault: View, caller: Caller) -> Any:
    """Change the display name and/or the profile (merged by default)."""
    return vault.users.update(caller.user(user_id), **body.fields(sent=True))


@router.get("/{user_id}/profile", response_model=Profile)
def profile(user_id: UserId, vault: View, caller: Caller) -> Any:
    """Personality levels, voice preferences, interests, dislikes and usage statistics."""
    return vault.profiles.get(caller.user(user_id))


@router.get("/{user_id}/usage", response_model=UsageStats)
def usage(user_id: UserId, vault: View, caller: Caller) -> Any:
    return vault.profiles.usage(caller.user(user_id))


@router.get("/{user_id}/personality", response_model=Personality)
def personality(user_id: UserId, vault: View, caller: Caller, agent: Text = "default") -> Any:
    """The user's traits over the base layer's."""
    return vault.traits.personality(caller.user(user_id), agent=agent)


@router.get("/{user_id}/export", response_model=dict[str, Any])
def export(user_id: UserId, vault: View, caller: Caller) -> Any:
    """Everything the user owns, as JSON (never another user's rows)."""
    return vault.export_user(caller.user(user_id))
