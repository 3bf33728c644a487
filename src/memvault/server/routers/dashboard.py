"""The dashboard: static pages whose script reads the same authenticated API as any client.

The pages carry no data (they are served without a key); every number, chart and text is
fetched with the key the person enters and is put in the page as text, never as HTML. A strict
Content-Security-Policy (scripts from this origin only, no inline script) makes an injected
`<script>` inert even if a bug ever let one through.

Pages: `/` (users, recent conversations, search, live activity), `/users/{id}` (a user's
conversations, searches, charts and memories), `/sessions/{id}` (one conversation),
`/tasks` (requests, waves, subtasks and agent messages) and `/store` (engine, table counts,
import runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent.parent / "dashboard"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}  # fmt: skip


def _page(name: str) -> Any:
    return FileResponse(HERE / name, headers=HEADERS)


def mount(app: FastAPI) -> None:
    """Add the pages and `/static/…` to `app` (kept out of the OpenAPI schema)."""

    @app.get("/", include_in_schema=False)
    def index() -> Any:
        return _page("index.html")

    @app.get("/users/{user_id}", include_in_schema=False)
    def user_page(user_id: str) -> Any:
        return _page("user.html")

    @app.get("/sessions/{session_id}", include_in_schema=False)
    def session_page(session_id: str) -> Any:
        return _page("session.html")

    @app.get("/tasks", include_in_schema=False)
    def tasks_page() -> Any:
        return _page("tasks.html")

    @app.get("/store", include_in_schema=False)
    def store_page() -> Any:
        return _page("store.html")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
