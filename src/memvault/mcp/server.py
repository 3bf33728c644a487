"""The MCP server: memvault's tools for one configured user, over stdio or streamable HTTP.

    server = build_server(OwnerView.for_handle(vault, "me"))
    server.run()                                   # stdio, what coding agents launch

The user is fixed when the server is built (`memvault mcp --user`): no tool takes a user, so
a client can never read or change another user's data. A memvault error becomes a tool
error carrying memvault's message (the field and the value); anything else is the SDK's
generic tool failure, logged on the server, never a traceback sent to the client.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError

from memvault import validate as v
from memvault.errors import InvalidInput, MemvaultError, NotFound, StoreBusy
from memvault.ownerview import OwnerView
from memvault.records import to_json

P = ParamSpec("P")
R = TypeVar("R")

MemoryKind = Literal[
    "fact", "preference", "event", "relation", "pattern", "summary", "emotional",
    "conversation", "note",
]  # fmt: skip
Role = Literal["user", "assistant", "system", "tool"]
INSTRUCTIONS = (
    "memvault is this user's long-term memory. Search it before answering questions about "
    "the user or their projects; add a memory when you learn a durable fact or preference; "
    "update one (with a reason) when it changed rather than adding a contradicting one."
)
# A write that waited its `memvault mcp --busy-timeout` for another process's write lock.
BUSY = (
    "the store is busy: another process is writing to it, and nothing was written; try "
    "again in a few seconds ({})"
)
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DESTROY = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)


class MemvaultToolError(ToolError):
    """A memvault error as a tool error: its message reaches the client as it is, without
    the SDK's `Error executing tool X:` prefix, so it reads like an argument error."""


def memvault_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a memvault error into a tool error with memvault's own message."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except StoreBusy as exc:
            raise MemvaultToolError(BUSY.format(exc)) from exc
        except MemvaultError as exc:
            raise MemvaultToolError(str(exc)) from exc

    return wrapper


def argument_error(tool: str, exc: ValidationError) -> str:
    """A schema-level mistake in memvault's form: `invalid kind='gossip': …` per field."""
    lines = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or tool
        if err["type"] == "missing":
            lines.append(f"missing {field}: required")
        else:
            lines.append(str(InvalidInput(field, err.get("input"), err["msg"])))
    return "; ".join(lines)


class Server(MCPServer[Any]):
    """MCPServer whose argument and memvault errors read alike, and which refuses arguments
    a tool does not take (`user_id` above all: the user is fixed by the server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parameters: dict[str, set[str]] = {}

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        known = self.parameters.get(name)
        if known is not None:
            extra = sorted(set(arguments) - known)
            if extra:
                if "user_id" in extra or "user" in extra:
                    why = "the user is fixed by the server (memvault mcp --user); no tool takes one"
                else:
                    why = f"not an argument of {name}; it takes {', '.join(sorted(known))}"
                raise ToolError(str(InvalidInput(extra[0], arguments[extra[0]], why)))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(argument_error(name, exc.__cause__)) from exc.__cause__
            if isinstance(exc.__cause__, MemvaultToolError):  # the SDK prefixed its message
                raise exc.__cause__ from exc.__cause__.__cause__
            raise


def memory_out(memory: Any) -> dict[str, Any]:
    """A memory as the tools return it (no content hash, no owner: it is always the user)."""
    data: dict[str, Any] = to_json(memory)
    for key in ("content_hash", "user_id"):
        data.pop(key, None)
    return data


def message_out(message: Any) -> dict[str, Any]:
    data: dict[str, Any] = to_json(message)
    data.pop("user_id", None)
    return data


def build_server(view: OwnerView, *, allow_delete_all: bool = False) -> MCPServer[Any]:
    """An MCPServer whose tools act on `view`'s user only; `allow_delete_all` adds the
    `delete_all_memories` tool (absent otherwise, so no client can call it)."""
    from importlib.metadata import version

    server = Server(
        "memvault", instructions=INSTRUCTIONS, version=version("memvault"), log_level="WARNING"
    )

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[P, R]], Callable[P, R]]:
        def register(fn: Callable[P, R]) -> Callable[P, R]:
            wrapped = memvault_errors(fn)
            description = " ".join((fn.__doc__ or "").split())  # no docstring line breaks
            server.add_tool(wrapped, name=fn.__name__, description=description,
                            annotations=annotations)  # fmt: skip
            server.parameters[fn.__name__] = set(inspect.signature(fn).parameters)
            return wrapped

        return register

    @tool(WRITE)
    def add_memory(
        content: Annotated[str, Field(description="What to remember, one self-contained fact.")],
        kind: Annotated[MemoryKind, Field(description="What sort of memory it is.")] = "fact",
        context: Annotated[
            str | None, Field(description="Where or why it was learned (optional).")
        ] = None,
        importance: Annotated[float, Field(ge=0, le=1, description="0 (trivia) to 1.")] = 0.5,
        confidence: Annotated[float, Field(ge=0, le=1, description="0 (guess) to 1.")] = 1.0,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Free JSON attributes, filterable later.")
        ] = None,
    ) -> dict[str, Any]:
        """Remember something about the user. Adding the same content and kind again returns
        the memory already stored instead of a duplicate."""
        return memory_out(view.add_memory(kind, content, context=context, importance=importance,
                                          confidence=confidence, metadata=metadata))  # fmt: skip

    @tool(READ)
    def search_memories(
        query: Annotated[str, Field(description="What to look for, in natural language.")],
        k: Annotated[int, Field(ge=1, le=100, description="How many results at most.")] = 10,
        mode: Annotated[
            Literal["hybrid", "text", "vector"],
            Field(description="hybrid fuses full-text and vector ranks (best default)."),
        ] = "hybrid",
        kinds: Annotated[
            list[MemoryKind] | None, Field(description="Only memories of these kinds.")
        ] = None,
        filters: Annotated[
            dict[str, Any] | None,
            Field(
                description='Field filters, e.g. {"metadata.topic": "food", "importance": '
                '{"gte": 0.7}}; operators eq ne lt lte gt gte in contains; and/or lists.'
            ),
        ] = None,
        min_confidence: Annotated[float | None, Field(ge=0, le=1)] = None,
        since: Annotated[
            datetime | None, Field(description="Only memories created at or after this time.")
        ] = None,
    ) -> dict[str, Any]:
        """Search the user's memories, best first, with each result's score and which
        signals (text, vector) found it."""
        hits = view.search_memories(query, k=k, mode=mode, kinds=kinds, filters=filters,
                                    min_confidence=min_confidence, since=since)  # fmt: skip
        results = [
            {**memory_out(h.item), "score": h.score, "matched": list(h.matched)} for h in hits
        ]
        return {"results": results, "notes": list(getattr(hits, "notes", []))}

    @tool(READ)
    def list_memories(
        kinds: Annotated[
            list[MemoryKind] | None, Field(description="Only memories of these kinds.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 20,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> dict[str, Any]:
        """The user's memories, newest first, `limit` at a time."""
        memories = view.list_memories(kinds=kinds, limit=limit, offset=offset)
        return {"memories": [memory_out(m) for m in memories]}

    @tool(WRITE)
    def update_memory(
        memory_id: Annotated[str, Field(description="The id of the memory to change.")],
        reason: Annotated[str, Field(description="Why it changed; kept in its history.")],
        content: Annotated[str | None, Field(description="The new text.")] = None,
        context: Annotated[str | None, Field(description="The new context.")] = None,
        importance: Annotated[float | None, Field(ge=0, le=1)] = None,
        confidence: Annotated[float | None, Field(ge=0, le=1)] = None,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Keys to set in its metadata.")
        ] = None,
    ) -> dict[str, Any]:
        """Change a memory that is no longer right; the old and new values and the reason
        are kept in the memory's history."""
        memory_id = v.id_("memory_id", memory_id)
        reason = v.text("reason", reason)
        fields: dict[str, Any] = {"content": content, "importance": importance,
                                  "confidence": confidence, "metadata": metadata}  # fmt: skip
        if context is not None:
            fields["context"] = context
        given = {name: value for name, value in fields.items() if value is not None}
        if not given:
            raise InvalidInput("content", None, "nothing to change: give content, context, "
                               "importance, confidence or metadata")  # fmt: skip
        # An update to the values the memory already holds is refused rather than recorded
        # as a change (the README's promise); the memory is read without touching it.
        current = view.get_memory(memory_id, track_access=False)
        if all(getattr(current, name) == value for name, value in given.items()):
            name = next(iter(given))
            raise InvalidInput(name, given[name], "nothing to change: the memory already "
                               "holds these values, and nothing was written")  # fmt: skip
        return memory_out(view.update_memory(memory_id, reason=reason, **fields))

    @tool(DESTROY)
    def delete_memory(
        memory_id: Annotated[str, Field(description="The id of the memory to delete.")],
        reason: Annotated[
            str | None, Field(description="Why it is forgotten; kept in its history.")
        ] = None,
    ) -> dict[str, Any]:
        """Forget one memory of the user; its history stays and ends with the deletion
        (memory_history still answers for it)."""
        if reason is not None:
            reason = v.text("reason", reason)
        view.delete_memory(memory_id, reason=reason)
        return {"deleted": memory_id}

    @tool(READ)
    def memory_history(
        memory_id: Annotated[str, Field(description="The id of the memory.")],
    ) -> dict[str, Any]:
        """Every change of a memory, oldest first: operation, old and new text, the other
        changed fields, the reason and the time."""
        return {"memory_id": memory_id, "history": to_json(view.memory_history(memory_id))}

    @tool(WRITE)
    def log_message(
        conversation: Annotated[
            str, Field(description="A name for the conversation (created on first use).")
        ],
        content: Annotated[str, Field(description="The message text.")],
        role: Annotated[Role, Field(description="Who said it.")] = "user",
    ) -> dict[str, Any]:
        """Append a message to one of the user's conversations."""
        conversation = v.text("conversation", conversation)
        content = v.text("content", content)
        session = view.conversation(conversation, create=True)
        assert session is not None
        return message_out(view.log_message(session.id, role, content))

    @tool(READ)
    def recent_messages(
        conversation: Annotated[str, Field(description="The conversation's name.")],
        limit: Annotated[int, Field(ge=1, le=500, description="How many, newest last.")] = 20,
    ) -> dict[str, Any]:
        """The last messages of one of the user's conversations, oldest first."""
        session = view.conversation(conversation, create=False)
        if session is None:
            raise NotFound("conversation", conversation)
        messages = view.recent_messages(session.id, limit)
        return {"conversation": conversation, "session_id": session.id,
                "messages": [message_out(m) for m in messages]}  # fmt: skip

    @tool(READ)
    def suggest_tools(
        request: Annotated[str, Field(description="The user's request, as they wrote it.")],
        limit: Annotated[int, Field(ge=1, le=50)] = 5,
    ) -> dict[str, Any]:
        """Tools ranked for a request by the routing scores learned from which tools
        followed the user's past requests (and whether they succeeded)."""
        request = v.text("request", request)
        return {"request": request,
                "suggestions": to_json(view.suggest_tools(request, limit=limit))}  # fmt: skip

    if allow_delete_all:

        @tool(DESTROY)
        def delete_all_memories(
            confirm: Annotated[
                Literal["delete all my memories"],
                Field(description="Type exactly: delete all my memories"),
            ],
        ) -> dict[str, Any]:
            """Forget every memory of the user. Cannot be undone."""
            return {"deleted": view.delete_all_memories()}

    return server


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def run(
    view: OwnerView, *, http: bool = False, host: str = "127.0.0.1", port: int = 8765,
    path: str = "/mcp", allow_delete_all: bool = False,
    announce: Callable[[str], None] | None = None,
) -> None:  # fmt: skip
    """Serve until stdin closes (stdio) or the process is stopped (HTTP on loopback: the
    server has no authentication, so it never listens beyond this machine). Over HTTP,
    `announce` gets the URL once the port is bound (a busy port fails before it)."""
    if http and host not in LOOPBACK:
        raise InvalidInput("host", host, "the MCP server listens on loopback only")
    server = build_server(view, allow_delete_all=allow_delete_all)
    if not http:
        server.run()
        return
    import socket

    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput("port", port, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    bound_port = sock.getsockname()[1]
    app = server.streamable_http_app(streamable_http_path=path, host=host)
    config = uvicorn.Config(app, log_level="warning")
    url_host = f"[{host}]" if ":" in host else host
    if announce is not None:
        announce(f"http://{url_host}:{bound_port}{path}")
    uvicorn.Server(config).run(sockets=[sock])
