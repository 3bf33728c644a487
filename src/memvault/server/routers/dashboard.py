"""The dashboard: static pages whose script reads the same authenticated API as any client.

The pages carry no data (they are served without a key); every number, chart and text is
fetched with the key the person enters and is put in the page as text, never as HTML. A strict
Content-Security-Policy (scripts from this origin only, no inline script) makes an injected
`<script>` inert even if a bug ever let one through.
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


def mount(app: FastAPI) -> None:
    """Add `/`, `/users/{id}` and `/static/…` to `app` (kept out of the OpenAPI schema)."""

    @app.get("/", include_in_schema=False)
    def index() -> Any:
        return FileResponse(HERE / "index.html", headers=HEADERS)

    @app.get("/users/{user_id}", include_in_schema=False)
    def user_page(user_id: str) -> Any:
        return FileResponse(HERE / "user.html", headers=HEADERS)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
