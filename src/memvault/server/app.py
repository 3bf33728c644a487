"""The app factory: `create_app(vault)` → a FastAPI app serving the API, `/ws` and the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, WebSocket

from memvault import __version__
from memvault.embed.batch import BatchingEmbedder
from memvault.embed.cache import CachedEmbedder
from memvault.keys import ApiKeys
from memvault.server import apidocs, errors
from memvault.server.auth import AuthCache, SessionOwners
from memvault.server.fastpath import FastAppend
from memvault.server.hub import Hub
from memvault.server.limits import DEFAULT_MAX_BODY, DEFAULT_MAX_WS_MESSAGE, BodyLimit
from memvault.server.pgrelay import PgRelay
from memvault.server.routers import (
    affect,
    agents,
    dashboard,
    imports,
    memories,
    patterns,
    projects,
    reading,
    sessions,
    system,
    tasks,
    tools,
    users,
)
from memvault.server.writer import AppendWriter
from memvault.vault import Vault

DESCRIPTION = """memvault over HTTP: every resource of the Vault, scoped by API key.

Send `Authorization: Bearer <key>` (create keys with `memvault keys create`). A user key sees
only its user's rows (another user's ids answer 404); an admin key may name any user with
`user_id`. An admin's write of a memory, pattern or trait names its user (`user_id`, query or
body) or asks for the shared base layer every user reads with `base=true`; naming nobody is
refused (422, field `user_id`). `/health`, `/openapi.json` and `/docs` alone are open. Every
list takes `limit` and `offset` and answers a page `{"items", "limit", "offset",
"next_offset"}`; continue with `offset=next_offset` until it is null. Searches rank instead:
they answer the best `limit` hits (`k` is an older alias). Errors are `{"error", "detail",
"field"?}`: 400 (the body is not JSON: line and column said), 401, 403, 404 (also for another
user's id, wherever it appears), 409, 413, 422 (the field named), 503. Live events: WebSocket
`/ws` (see the dashboard's app.js for a client).
"""


def batch_embeddings(vault: Vault) -> None:
    """Concurrent requests that embed share engine calls (`memvault.embed.batch`): the
    vault's embedder, if any, is put behind a BatchingEmbedder (once)."""
    emb = vault.search.embedder
    if emb is None:
        return
    inner = emb.inner if isinstance(emb, CachedEmbedder) else emb
    if not isinstance(inner, BatchingEmbedder):
        vault.search.embedder = BatchingEmbedder(inner)


def create_app(
    vault: Vault,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    max_ws_message_bytes: int = DEFAULT_MAX_WS_MESSAGE,
    relay: bool | None = None,
    dashboard_enabled: bool = True,
    auth_cache_seconds: float = 1.0,
    fast_append: bool = True,
    dcm_user: str | None = None,
) -> FastAPI:
    """An ASGI app over `vault` (which the caller keeps open and closes).

    `relay`: cross-process events through PostgreSQL LISTEN/NOTIFY (default: on for a
    PostgreSQL vault). Body and WebSocket-message limits are in bytes. `auth_cache_seconds`:
    how long a key, once checked, is trusted without a database read (0: never); a key
    revoked outside this process stops working within that time. `fast_append`: answer the
    append hot path without the framework and group-commit it (`server/fastpath.py`); off,
    the route answers every append (same answers, slower). `dcm_user` (a user id): DCM-
    compatible mode, in which DCM's hook and checks work without a key from loopback, as that
    user (`auth.dcm_principal`).
    """
    batch_embeddings(vault)
    keys = ApiKeys(vault)
    hub = Hub(vault, keys, max_ws_message_bytes)
    writer = AppendWriter(vault)
    use_relay = vault.engine == "postgresql" if relay is None else relay

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.attach(asyncio.get_running_loop())
        pg: PgRelay | None = None
        if use_relay:
            conninfo = vault.store.location.conninfo
            if not conninfo:
                raise RuntimeError("the event relay needs a PostgreSQL vault")
            pg = PgRelay(conninfo, hub.deliver_threadsafe)
            await asyncio.to_thread(pg.start)
            vault.events.relays.append(pg.relay)
        app.state.relay = pg
        try:
            yield
        finally:
            await asyncio.to_thread(writer.stop)  # queued appends are written (and relayed)
            if pg is not None:
                if pg.relay in vault.events.relays:
                    vault.events.relays.remove(pg.relay)
                await asyncio.to_thread(pg.stop)
            hub.detach()

    app = FastAPI(
        title="memvault",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads scripts from a CDN: no network here
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.vault = vault
    app.state.keys = keys
    app.state.auth_cache = AuthCache(auth_cache_seconds)
    app.state.session_owners = SessionOwners()
    app.state.hub = hub
    app.state.dcm_user = dcm_user
    app.state.writer = writer
    errors.install(app)
    for module in (system, users, sessions, memories, affect, patterns, tools, tasks, agents,
                   imports, reading, projects):  # fmt: skip
        app.include_router(module.router)
    apidocs.mount(app)
    if dashboard_enabled:
        dashboard.mount(app)

    @app.websocket("/ws")
    async def events(websocket: WebSocket) -> None:
        await hub.serve(websocket)

    if fast_append:
        app.add_middleware(FastAppend, writer=writer, auth_cache=app.state.auth_cache,
                           owners=app.state.session_owners)  # fmt: skip
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def uvicorn_options(max_ws_message_bytes: int = DEFAULT_MAX_WS_MESSAGE) -> dict[str, Any]:
    """uvicorn settings the service relies on (no access log: keys never, paths rarely)."""
    return {
        "ws": "websockets-sansio",
        "ws_max_size": max_ws_message_bytes,
        "access_log": False,
        "server_header": False,
        "log_level": "warning",
    }
