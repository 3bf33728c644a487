"""Contexts: a session's conversation context (recent messages, topics, current emotion and
trajectory), derived from what is stored.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.conversations import message_from_row
from memvault.domain import Domain
from memvault.emotions import session_trajectory
from memvault.records import ConversationContext
from memvault.scope import ANY, Owner
from memvault.tools import keywords


class Contexts(Domain):
    """`vault.contexts`: EdgeSoul's conversation context, derived from what is stored."""

    def get(
        self, session_id: str, *, user_id: Owner = ANY, last: int = 10, topics: int = 5
    ) -> ConversationContext:
        """The last `last` messages (oldest first), the session's `topics` most frequent
        keywords in user messages among them, the current emotion (latest event, else latest
        labelled message) and the emotion trajectory."""
        session_id = v.id_("session_id", session_id)
        last = v.integer("last", last, minimum=1)
        topics = v.integer("topics", topics, minimum=0)
        params: dict[str, Any] = {"sid": session_id, "n": last}
        with self._store.read() as tx:
            session = scope.row(tx, "sessions", "session", session_id, user_id, columns="user_id")
            rows = tx.all(
                "SELECT * FROM messages WHERE session_id = :sid ORDER BY seq DESC LIMIT :n",
                params,
            )
            messages = [message_from_row(tx, r) for r in reversed(rows)]
            trajectory = session_trajectory(tx, params, user_id)
        counts: Counter[str] = Counter()
        for message in messages:
            if message.role == "user":
                counts.update(keywords(message.content))
        return ConversationContext(
            session_id=session_id,
            user_id=tx.id_out(session["user_id"]),
            messages=messages,
            topics=[word for word, _ in counts.most_common(topics)],
            current_emotion=trajectory[-1].emotion if trajectory else None,
            trajectory=trajectory,
        )
