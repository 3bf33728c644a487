"""`MemvaultChatMessageHistory`: a LangChain chat history in a memvault session.

For code that still uses `RunnableWithMessageHistory` (deprecated upstream in favour of
LangGraph's persistence, which `memvault.langgraph.MemvaultSaver` provides):

    chain = RunnableWithMessageHistory(
        model, lambda session_id: MemvaultChatMessageHistory(vault, session_id, user_id=uid))

The LangChain session id is the memvault session's key (`vault.sessions.by_key(uid, id)`),
created on the first write. Each LangChain message is one memvault message: its role
(`human` → user, `ai` → assistant, `system`, `tool`, `function`), its text (full-text
searchable, `vault.messages.search`), and in its metadata under `"langchain"` the message as
LangChain serialises it (`message_to_dict`), from which it is read back — so tool calls, ids,
content blocks and every other field round-trip exactly. `add_messages` is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from memvault import validate
from memvault.errors import InvalidInput
from memvault.records import Message

if TYPE_CHECKING:
    from memvault.vault import Vault

META_KEY = "langchain"  # the serialised LangChain message, in the memvault message's metadata
ROLE_OF = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool",
           "function": "function"}  # fmt: skip
PAGE = 1000


def role_of(message: BaseMessage) -> str:
    """The memvault role of a LangChain message (a `ChatMessage` keeps its role when memvault
    knows it, else is stored as `user`; its own role is in the serialised message)."""
    kind = message.type.removesuffix("MessageChunk").lower()
    if kind in ROLE_OF:
        return ROLE_OF[kind]
    role = getattr(message, "role", None)
    return role if isinstance(role, str) and role in ROLE_OF.values() else "user"


def to_memvault(message: BaseMessage) -> dict[str, Any]:
    """The `messages.append_many` item of a LangChain message."""
    return {
        "role": role_of(message),
        "content": message.text,
        "metadata": {META_KEY: message_to_dict(message)},
    }


def from_memvault(message: Message) -> BaseMessage:
    """The LangChain message a memvault message holds (a message written by memvault itself,
    without the serialised form, comes back as the LangChain message of its role)."""
    stored = message.metadata.get(META_KEY)
    if isinstance(stored, dict):
        return messages_from_dict([stored])[0]
    kind = {v: k for k, v in ROLE_OF.items()}.get(message.role, "human")
    data: dict[str, Any] = {"content": message.content, "id": message.id}
    if kind == "tool":
        data["tool_call_id"] = message.metadata.get("tool_call_id", "")
    if kind == "function":
        data["name"] = message.metadata.get("name", "")
    return messages_from_dict([{"type": kind, "data": data}])[0]


def _check_messages(messages: Sequence[Any]) -> None:
    """Refuse anything that is not a LangChain message before anything is written."""
    for i, message in enumerate(messages):
        if not isinstance(message, BaseMessage):
            raise InvalidInput(
                f"messages[{i}]",
                message,
                f"expected a LangChain message (BaseMessage), not {type(message).__name__}",
            )


class MemvaultChatMessageHistory(BaseChatMessageHistory):
    """The messages of one conversation, kept in the memvault session keyed `session_id`
    of `user_id` (None: the base layer). See the module doc. `vault`: a sync
    `memvault.Vault` (a `memvault.aio` vault is refused: pass its `.sync`)."""

    def __init__(self, vault: Vault, session_id: str, *, user_id: str | None = None) -> None:
        self.vault = validate.sync_vault("MemvaultChatMessageHistory", vault)
        self.session_id = session_id
        self.user_id = user_id

    def _session_id(self) -> str | None:
        found = self.vault.sessions.by_key(self.user_id, self.session_id)
        return None if found is None else found.id

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every message of the conversation, oldest first ([] before the first write)."""
        sid = self._session_id()
        if sid is None:
            return []
        out: list[BaseMessage] = []
        after = 0
        while True:
            page = self.vault.messages.list(sid, after_seq=after, limit=PAGE, user_id=self.user_id)
            out += [from_memvault(m) for m in page]
            if len(page) < PAGE:
                return out
            after = page[-1].seq

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages in one transaction (the session is created with the first)."""
        _check_messages(messages)
        items = [to_memvault(m) for m in messages]
        if not items:
            return
        with self.vault.transaction():
            session = self.vault.sessions.put(self.user_id, self.session_id)
            self.vault.messages.append_many(session.id, items, user_id=self.user_id)

    def clear(self) -> None:
        """Delete the conversation's messages (the session stays, empty)."""
        sid = self._session_id()
        if sid is not None:
            self.vault.messages.clear(sid, user_id=self.user_id)
