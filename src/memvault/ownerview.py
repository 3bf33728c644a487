"""OwnerView: one user's side of a Vault, the only door the MCP server and the hook use.

Every call that `memvault mcp` and `memvault hook` make into the Vault goes through this
module, with the owner bound once at construction: no tool argument and no hook field can
name another user. Its domain calls go through `vault.scoped(user_id)`, the same view the
service gives every user key: another owner's ids answer NotFound in the core.

Kept free of heavy imports: the hook imports it on its start-up path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memvault.errors import NotFound
from memvault.ids import is_id

if TYPE_CHECKING:
    from memvault.records import (
        Action,
        Memory,
        MemoryChange,
        Message,
        Project,
        RoutingScore,
        Session,
        Suggestion,
    )
    from memvault.vault import Vault

# Sessions that mirror an agent's own session id, or a conversation an MCP client names.
AGENT_KEY = "agent:{agent}:{session_id}"
CONVERSATION_KEY = "mcp:{name}"


class OwnerView:
    """The Vault as one user sees it (`user_id` fixed for the life of the view)."""

    def __init__(self, vault: Vault, user_id: str) -> None:
        self.vault = vault
        self.user_id = user_id
        self._own: dict[str, Any] = {}  # the scoped view binds the owner of every call
        self._v = vault.scoped(user_id)

    @classmethod
    def for_handle(cls, vault: Vault, handle: str, *, create: bool = True) -> OwnerView:
        """The view of the user `handle` (an id or a handle), created when missing."""
        if is_id(handle) or not create:
            return cls(vault, vault.users.resolve(handle).id)
        return cls(vault, vault.users.ensure(handle).id)

    # -- memories ---------------------------------------------------------------------------

    def add_memory(self, kind: str, content: str, **fields: Any) -> Memory:
        """Store a memory of this user (same content and kind again: the stored one)."""
        return self._v.memories.add(kind=kind, content=content, **self._own, **fields)

    def search_memories(self, query: str, **options: Any) -> list[Any]:
        """Hybrid (or text/vector) search of this user's memories, best first, as Hits."""
        return self._v.memories.search(query=query, **self._own, **options)

    def list_memories(
        self, *, kinds: Iterable[str] | None = None, limit: int = 20, offset: int = 0,
        track_access: bool = True,
    ) -> list[Memory]:  # fmt: skip
        """This user's memories, newest first."""
        return self._v.memories.list(kinds=kinds, limit=limit, offset=offset,
                                     track_access=track_access, **self._own)  # fmt: skip

    def get_memory(self, memory_id: str, *, track_access: bool = True) -> Memory:
        """One of this user's memories (another user's id is NotFound)."""
        return self._v.memories.get(memory_id, track_access=track_access, **self._own)

    def update_memory(self, memory_id: str, **fields: Any) -> Memory:
        """Change one of this user's memories; the change and its reason go to its history."""
        return self._v.memories.update(memory_id, **self._own, **fields)

    def delete_memory(self, memory_id: str, *, reason: str | None = None) -> None:
        """Delete one of this user's memories (its history keeps a `delete` entry)."""
        self._v.memories.delete(memory_id, reason=reason, **self._own)

    def memory_history(self, memory_id: str) -> list[MemoryChange]:
        """The changes of one of this user's memories, oldest first."""
        return self._v.memories.history(memory_id, **self._own)

    def delete_all_memories(self) -> int:
        """Delete every memory of this user; returns how many."""
        deleted = 0
        while batch := self._v.memories.list(limit=500, include_expired=True,
                                             track_access=False, **self._own):  # fmt: skip
            for memory in batch:
                self._v.memories.delete(memory.id, **self._own)
                deleted += 1
        return deleted

    # -- conversations ----------------------------------------------------------------------

    def session_by_key(self, key: str) -> Session | None:
        """This user's session mirroring `key`, or None."""
        return self._v.sessions.by_key(key=key, **self._own)

    def session(self, session_id: str) -> Session:
        """One of this user's sessions by id."""
        return self._v.sessions.get(session_id, **self._own)

    def open_session(
        self, key: str, *, kind: str = "chat", title: str | None = None,
        project_id: str | None = None, metadata: dict[str, Any] | None = None,
        started_at: datetime | None = None,
    ) -> Session:  # fmt: skip
        """This user's session mirroring `key`, created when missing."""
        from memvault.errors import Conflict

        found = self.session_by_key(key)
        if found is not None:
            return found
        try:
            return self._v.sessions.create(
                kind=kind, title=title, project_id=project_id, metadata=metadata,
                started_at=started_at, key=key, **self._own,
            )  # fmt: skip
        except Conflict:  # a concurrent hook created it first
            found = self.session_by_key(key)
            if found is None:
                raise
            return found

    def retitle(self, session_id: str, title: str) -> Session:
        """Give one of this user's sessions a title."""
        return self._v.sessions.update(session_id, title=title, **self._own)

    def conversation(self, name: str, *, create: bool) -> Session | None:
        """The conversation an MCP client calls `name`: this user's session of that id, or
        the one keyed by the name (created when `create`)."""
        if is_id(name):
            try:
                return self.session(name)
            except NotFound:
                pass
        key = CONVERSATION_KEY.format(name=name)
        if create:
            return self.open_session(key, title=name)
        return self.session_by_key(key)

    def end_session(self, session_id: str, status: str = "completed") -> Session:
        """Mark one of this user's sessions finished."""
        session = self.session(session_id)
        return self._v.sessions.end(session.id, status)

    def log_message(self, session_id: str, role: str, content: str, **fields: Any) -> Message:
        """Append a message to one of this user's sessions."""
        session = self.session(session_id)  # another user's session is NotFound
        return self._v.messages.append(session.id, role, content, **fields)

    def recent_messages(self, session_id: str, n: int = 20) -> list[Message]:
        """The last `n` messages of one of this user's sessions, oldest first."""
        return self._v.messages.last(session_id, n, **self._own)

    # -- projects, tools and routing --------------------------------------------------------

    def project(self, path: str) -> Project:
        """This user's project at `path` (named by its path, as DCM's hook route does)."""
        return self._v.projects.ensure(path, path=path, **self._own)

    def record_action(self, tool_name: str, **fields: Any) -> Action:
        """Log one tool call of this user."""
        return self._v.actions.record(tool_name, **self._own, **fields)

    def actions_since(self, tool_name: str, since: datetime, limit: int = 100) -> list[Action]:
        """This user's calls of `tool_name` from `since` on, newest first."""
        return self._v.actions.list(tool_name=tool_name, since=since, limit=limit, **self._own)

    def learn_route(
        self, request: str | Sequence[str], tool_name: str, success: bool, *, tool_type: str
    ) -> list[RoutingScore]:
        """Teach this user's routing scores that `tool_name` followed `request`."""
        return self._v.routing.update(request, tool_name, success, tool_type=tool_type,
                                      **self._own)  # fmt: skip

    def suggest_tools(self, request: str, *, limit: int = 5) -> list[Suggestion]:
        """Tools ranked for `request` from this user's (and the global) routing scores."""
        return self._v.routing.suggest(request, limit=limit, **self._own)
