"""Health (open), stats, the caller's identity and API key management."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from memvault.keys import ApiKey, ApiKeys
from memvault.server.auth import Caller, VaultDep, view_of
from memvault.server.routers import COMMON
from memvault.server.schemas import Body, Page, Pages, Text, UserParam
from memvault.vault import Vault

router = APIRouter(responses=COMMON)


class Health(BaseModel):
    status: str
    engine: str
    schema_version: str


class StatsOut(BaseModel):
    engine: str
    schema_version: str
    scope: str  # "all" for an admin key, else "user"
    size_bytes: int | None
    url: str | None
    counts: dict[str, int]


class WhoAmI(BaseModel):
    key_id: str
    user_id: str | None
    admin: bool


class KeyIn(Body):
    feeds = "keys.create"  # ApiKeys(vault).create
    user_id: Text | None = None
    admin: bool = False
    name: Text | None = None


class KeyCreated(BaseModel):
    key: str  # shown once
    record: ApiKey


@router.get("/health", response_model=Health, tags=["system"], responses={})
def health(vault: VaultDep) -> Any:
    """Liveness and readiness: the store answers. The one endpoint without a key."""
    with vault.store.read() as tx:
        tx.scalar("SELECT 1")
    return {"status": "healthy", "engine": vault.engine, "schema_version": vault.schema_version}


@router.get("/stats", response_model=StatsOut, tags=["system"])
@router.get("/api/stats", response_model=StatsOut, tags=["system"])
def stats(vault: VaultDep, caller: Caller) -> Any:
    """Row counts, database size and schema version (a user key: that user's counts)."""
    if caller.admin:
        s = vault.stats()
        return {"engine": s.engine, "schema_version": s.schema_version, "scope": "all",
                "size_bytes": s.size_bytes, "url": s.url, "counts": s.counts}  # fmt: skip
    view = view_of(vault, caller)
    usage = view.profiles.usage(caller.user())
    counts = {
        "sessions": usage.conversations,
        "messages": usage.messages,
        "memories": view.memories.count(),
    }
    return {"engine": vault.engine, "schema_version": vault.schema_version, "scope": "user",
            "size_bytes": None, "url": None, "counts": counts}  # fmt: skip


@router.get("/api/whoami", response_model=WhoAmI, tags=["system"])
def whoami(caller: Caller) -> Any:
    """The key's id, its user and whether it is an admin key."""
    return {"key_id": caller.key_id, "user_id": caller.user_id, "admin": caller.admin}


@router.get("/api/keys", response_model=Page[ApiKey], tags=["keys"])
def list_keys(vault: VaultDep, paging: Pages, caller: Caller, user_id: UserParam = None) -> Any:
    """Key records (never the keys): a user's own, or for an admin every key."""
    return paging.window(vault_keys(vault).list(user_id=caller.read_owner(user_id)))


@router.post("/api/keys", response_model=KeyCreated, status_code=201, tags=["keys"])
def create_key(body: KeyIn, vault: VaultDep, caller: Caller) -> Any:
    """Create a key (admin only); the clear key is in this answer and nowhere else."""
    caller.require_admin()
    record, clear = vault_keys(vault).create(**body.fields())
    return {"key": clear, "record": record}


@router.delete("/api/keys/{key_id}", response_model=ApiKey, tags=["keys"])
def revoke_key(
    key_id: Annotated[Text, Path()], request: Request, vault: VaultDep, caller: Caller
) -> Any:
    """Revoke a key: one's own (a user key), any (an admin key)."""
    record = vault_keys(vault).revoke(key_id, user_id=caller.read_owner())
    request.app.state.auth_cache.drop(record.id)
    return record


def vault_keys(vault: Vault) -> ApiKeys:
    return ApiKeys(vault)
