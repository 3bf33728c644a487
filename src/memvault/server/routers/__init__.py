"""One router module per resource; each maps HTTP onto the Vault API and nothing else.

What the routers share: the error answers (`COMMON`) and `one`, the shape of every route on
one row named in its path — read it, delete it, or hand it a body — written once.
"""

from __future__ import annotations

import inspect
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path

from memvault.scope import ScopedVault
from memvault.server.auth import View
from memvault.server.schemas import Body, Deleted, ErrorBody, Text
from memvault.vault import Vault

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
Id = Annotated[Text, Path()]


def core(view: Vault | ScopedVault, feeds: str) -> Any:
    """The core method named "domain.method" (`Body.feeds`) on the caller's view."""
    domain, method = feeds.split(".")
    return getattr(getattr(view, domain), method)


def one(
    router: APIRouter,
    method: str,
    path: str,
    response_model: Any,
    feeds: str | type[Body],
    *,
    name: str,
    doc: str | None = None,
    body: type[Body] | None = None,
    sent: bool = False,
    param: Any = Id,
    status_code: int | None = None,
    **fixed: Any,
) -> None:
    """Add the route `method path` → `feeds(<the id in path>, **fixed)`, answering
    `response_model` (`Deleted`: the id, for a delete). With a body model as `feeds`, the
    route takes that body and calls `body.feeds(<id>, **body.fields(sent=sent), **fixed)`;
    `body` gives a route a body model that another route's `feeds` names (the same fields).

    `name` and `doc` are the handler's name and docstring (the OpenAPI operation id, summary
    and description); `param` is the type of the path's one parameter."""
    (key,) = re.findall(r"{(\w+)}", path)
    deleted = response_model is Deleted
    call = feeds.feeds if isinstance(feeds, type) else feeds
    body = feeds if isinstance(feeds, type) else body

    def endpoint(vault: View, **args: Any) -> Any:
        given = args["body"].fields(sent=sent) if body is not None else {}
        answer = core(vault, call)(args[key], **given, **fixed)
        return {"id": args[key]} if deleted else answer

    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter(key, keyword, annotation=param)]
    if body is not None:
        params.append(inspect.Parameter("body", keyword, annotation=body))
    params.append(inspect.Parameter("vault", keyword, annotation=View))
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = doc
    router.add_api_route(path, endpoint, methods=[method], response_model=response_model,
                         name=name, status_code=status_code)  # fmt: skip
