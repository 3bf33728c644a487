"""One router module per resource; each maps HTTP onto the Vault API and nothing else."""

from __future__ import annotations

from typing import Any

from memvault.server.schemas import ErrorBody

COMMON: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not valid JSON (line and column said)"},
    401: {"model": ErrorBody, "description": "Missing, malformed or revoked API key"},
    403: {"model": ErrorBody, "description": "Not allowed for this key"},
    404: {"model": ErrorBody, "description": "Not found (or owned by another user)"},
    409: {"model": ErrorBody, "description": "Conflict"},
    413: {"model": ErrorBody, "description": "Request body too large"},
    422: {"model": ErrorBody, "description": "Invalid input; `field` names it"},
    503: {"model": ErrorBody, "description": "Store busy or unavailable"},
}
