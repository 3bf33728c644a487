"""The HTTP/WebSocket service over a Vault: `create_app(vault)` returns an ASGI app.

Needs the `server` extra (FastAPI, uvicorn). The core never imports this package.
"""

from memvault.server.app import create_app

__all__ = ["create_app"]
