"""Memories, their history, and search (text, vector, hybrid) over memories and messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from memvault.errors import InvalidInput, NotFound
from memvault.records import Memory, MemoryChange, Message
from memvault.scope import ANY, ScopedVault
from memvault.server.auth import Caller, View
from memvault.server.routers import COMMON, one
from memvault.server.schemas import (
    BaseParam,
    Body,
    Deleted,
    JsonObject,
    Page,
    Pages,
    Text,
    Unit,
    UserParam,
    When,
)
from memvault.vault import Vault

router = APIRouter(tags=["memories"], responses=COMMON)
MemoryId = Annotated[Text, Path(description="A memory id")]
MAX_QUERY = 2000  # characters: a query, not a document (embedding cost grows with length)
Mode = Literal["hybrid", "text", "vector"]
TopN = Annotated[
    int | None, Query(ge=1, le=1000, description="How many hits, best first (default 10).")
]
K = Annotated[int | None, Query(ge=1, le=1000, deprecated=True, description="Alias of `limit`.")]


def _top(limit: int | None, k: int | None) -> int:
    """The number of hits asked for: `limit`, else its older alias `k`, else 10."""
    return limit if limit is not None else k if k is not None else 10


Filters = Annotated[
    Text | None,
    Query(description='JSON object of allow-listed filters, e.g. {"metadata.topic": "kids"}'),
]


class MemoryIn(Body):
    feeds = "memories.add"
    derived = frozenset({"embed"})
    user_id: Text | None = None  # an admin key must name one, or send the query's base=true
    kind: Text
    content: Text
    context: Text | None = None
    confidence: Unit = 1.0
    importance: Unit = 0.5
    session_id: Text | None = None
    message_id: Text | None = None
    metadata: JsonObject | None = None
    expires_at: When | None = None
    embed: bool = True  # embed the content with the server's model (for vector search)
    key: Text | None = None  # the caller's name for it, unique per owner
    dedupe: bool | Literal["raise"] = True  # "raise": 409 when the content is already stored
    ttl: timedelta | None = None  # sliding expiry: seconds or an ISO 8601 duration


class MemoryPut(Body):
    """The memory named by the path's key, written whole (PUT semantics)."""

    feeds = "memories.put"
    derived = frozenset({"embed"})
    user_id: Text | None = None  # an admin key must name one, or send the query's base=true
    kind: Text
    content: Text
    context: Text | None = None
    confidence: Unit = 1.0
    importance: Unit = 0.5
    session_id: Text | None = None
    message_id: Text | None = None
    metadata: JsonObject | None = None
    expires_at: When | None = None
    ttl: timedelta | None = None
    reason: Text | None = None
    embed: bool = True


class MemoryPatch(Body):
    feeds = "memories.update"
    content: Text | None = None
    context: Text | None = None
    confidence: Unit | None = None
    importance: Unit | None = None
    metadata: JsonObject | None = None
    reason: Text | None = None


class MemoryHit(BaseModel):
    memory: Memory
    score: float
    matched: list[str]
    text_score: float | None = None
    vector_score: float | None = None


class MessageHit(BaseModel):
    message: Message
    score: float
    matched: list[str]


def json_filters(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("filters", raw, "not JSON") from exc
    if not isinstance(value, dict):
        raise InvalidInput("filters", raw, "expected a JSON object")
    return value


def _embedding(vault: Vault | ScopedVault, wanted: bool) -> bool | None:
    if not wanted:
        return False
    return True if vault.search.embedder is not None else None


@router.get("/api/memories", response_model=Page[Memory])
def list_memories(
    vault: View,
    paging: Pages,
    caller: Caller,
    user_id: UserParam = None,
    kind: Annotated[list[Text] | None, Query(description="Kinds (repeatable)")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    since: When | None = None,
    until: When | None = None,
    session_id: Text | None = None,
    layered: bool = False,
    base: Annotated[bool, Query(description="Admin: the base layer")] = False,
    key_prefix: Annotated[
        Text | None, Query(description='Only keys starting with this ("": every keyed one)')
    ] = None,
    key: Annotated[list[Text] | None, Query(description="Only these keys (repeatable)")] = None,
    filters: Filters = None,
) -> Any:
    """Memories, newest first; `layered` adds the shared base layer after the user's.
    `filters`: metadata and column conditions with eq/ne/gt/gte/lt/lte/in/contains (also
    `$eq`, …), e.g. `{"metadata.topic": "food", "metadata.n": {"$gte": 2}}`."""
    owner = None if base and caller.admin else caller.read_owner(user_id)
    return paging.page(vault.memories.list(
        owner, kinds=kind, min_confidence=min_confidence, since=since, until=until,
        session_id=session_id, layered=layered, track_access=False, key_prefix=key_prefix,
        keys=key, filters=json_filters(filters), **paging.args,
    ))  # fmt: skip


@router.post("/api/memories", response_model=Memory, status_code=201)
def add_memory(
    body: MemoryIn, vault: View, caller: Caller, user_id: UserParam = None, base: BaseParam = False
) -> Any:
    """Store a memory (the same content twice for one owner and kind returns the first). The
    owner is named by the query's or the body's `user_id`; an admin key must name one, or
    write the shared base layer with `base=true`."""
    owner = caller.layer_owner(user_id, sent=body.user_id, base=base)
    return vault.memories.add(**body.fields(user_id=owner, embedding=_embedding(vault, body.embed)))


BY_KEY = "/api/memories/by-key/{key:path}"  # before ONE: a key may hold "/" or "history"
MemoryKey = Annotated[Text, Path(description="A memory's key (its owner's name for it)")]


@router.get(BY_KEY, response_model=Memory)
def get_memory_by_key(
    key: MemoryKey,
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    base: Annotated[bool, Query(description="The base layer's memory")] = False,
    refresh_ttl: Annotated[bool, Query(description="Push a sliding expiry back")] = False,
) -> Any:
    """The memory with this key (404 when none, or expired)."""
    owner = None if base else caller.read_owner(user_id)
    found = vault.memories.by_key(owner, key, refresh_ttl=refresh_ttl)
    if found is None:
        raise NotFound("memory", key)
    return found


@router.put(BY_KEY, response_model=Memory)
def put_memory(
    key: MemoryKey,
    body: MemoryPut,
    vault: View,
    caller: Caller,
    user_id: UserParam = None,
    base: BaseParam = False,
) -> Any:
    """Create or replace the memory with this key (every field; history records the change;
    never de-duplicated by content). The owner is named as for the GET of this path (query
    `user_id`, or `base=true`) or by the body's `user_id`; an admin key must name one."""
    owner = caller.layer_owner(user_id, sent=body.user_id, base=base)
    return vault.memories.put(
        **body.fields(user_id=owner, key=key, embedding=_embedding(vault, body.embed))
    )


ONE = "/api/memories/{memory_id}"
one(router, "GET", ONE, Memory, "memories.get", name="get_memory", param=MemoryId, layered=True,
    doc="One memory (a user key also reads the shared base layer).")  # fmt: skip
one(router, "PATCH", ONE, Memory, MemoryPatch, name="update_memory", param=MemoryId, sent=True,
    doc="Change a memory; the change is kept in its history.")  # fmt: skip
one(router, "DELETE", ONE, Deleted, "memories.delete", name="delete_memory", param=MemoryId)
one(router, "GET", ONE + "/history", list[MemoryChange], "memories.history",
    name="memory_history", param=MemoryId,
    doc="What changed, old and new text, why and when; oldest first.")  # fmt: skip


NOTE_HEADER = "X-Memvault-Note"  # e.g. the vector leg had no vector to search


def _notes(response: Response, notes: list[str]) -> None:
    """The search's notes (see `Hits.notes`) as response headers: the body stays a list."""
    for note in notes:
        response.headers.append(NOTE_HEADER, note)


@router.get("/api/search/memories", response_model=list[MemoryHit], tags=["search"])
def search_memories(
    vault: View,
    caller: Caller,
    response: Response,
    q: Annotated[Text, Query(max_length=MAX_QUERY, description='Words, "phrases", OR, -not')],
    user_id: UserParam = None,
    mode: Mode = "hybrid",
    limit: TopN = None,
    k: K = None,
    kind: Annotated[list[Text] | None, Query()] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    since: When | None = None,
    until: When | None = None,
    session_id: Text | None = None,
    base: Annotated[bool, Query(description="Include the shared base layer")] = False,
    filters: Filters = None,
) -> Any:
    """The `limit` memories matching `q` best, best first (hybrid: full-text and vector, fused
    by rank). A ranking, not a paged list: ask for a larger `limit` to see more. An
    `X-Memvault-Note` header says when the vector leg had no vector to search."""
    owner = caller.write_owner(user_id)
    hits = vault.search.memories(owner, q, k=_top(limit, k), mode=mode, kinds=kind,
                                 min_confidence=min_confidence, since=since, until=until,
                                 base=base, filters=json_filters(filters),
                                 session_id=session_id)  # fmt: skip
    _notes(response, hits.notes)
    return [{"memory": h.item, "score": h.score, "matched": list(h.matched),
             "text_score": h.text_score, "vector_score": h.vector_score} for h in hits]  # fmt: skip


@router.get("/api/search/messages", response_model=list[MessageHit], tags=["search"])
def search_messages(
    vault: View,
    caller: Caller,
    response: Response,
    q: Annotated[Text, Query(max_length=MAX_QUERY)],
    user_id: UserParam = None,
    mode: Mode = "hybrid",
    limit: TopN = None,
    k: K = None,
    session_id: Text | None = None,
    role: Annotated[list[Text] | None, Query()] = None,
    since: When | None = None,
    until: When | None = None,
) -> Any:
    """The `limit` messages matching `q` best, best first, optionally within one session (a
    ranking, not a paged list; `X-Memvault-Note`: as for memories)."""
    owner = caller.read_owner(user_id)
    if owner is ANY and mode != "text" and session_id is None:
        raise InvalidInput("user_id", None, "an admin key must name the user for this mode")
    hits = vault.search.messages(owner, q, k=_top(limit, k), mode=mode, session_id=session_id,
                                 roles=role, since=since, until=until)  # fmt: skip
    _notes(response, hits.notes)
    return [{"message": h.item, "score": h.score, "matched": list(h.matched)} for h in hits]
