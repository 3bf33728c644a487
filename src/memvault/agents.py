"""Agents (DCM agent coordination): messages between agents, to one agent or to a topic, with
read receipts; topic subscriptions. Requests and their subtasks are in `tasks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import AgentMessage, AgentSubscription
from memvault.scope import ANY, Owner
from memvault.store.rows import columns, row_decoder
from memvault.tools import check_link

MESSAGE_COLUMNS = columns(AgentMessage)
SUBSCRIPTION_COLUMNS = columns(AgentSubscription)

message_from_row = row_decoder(AgentMessage)
subscription_from_row = row_decoder(AgentSubscription)


def agent_name(field: str, value: Any) -> str:
    """An agent's name (text, at most 200 characters)."""
    return v.text(field, value, max_len=200)


class Agents(Domain):
    """`vault.agents`: messages between agents (to one agent or to a topic), read receipts,
    and subscriptions (agent ↔ topic). An owner scope (a user id or None) separates tenants."""

    def send(
        self,
        from_agent: str,
        *,
        to_agent: str | None = None,
        topic: str | None = None,
        payload: Any = None,
        message_type: str = "info",
        priority: int = 0,
        user_id: str | None = None,
        project_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> AgentMessage:
        """Send a message to an agent and/or a topic (at least one)."""
        from_agent = agent_name("from_agent", from_agent)
        to_agent = None if to_agent is None else agent_name("to_agent", to_agent)
        topic = None if topic is None else agent_name("topic", topic)
        if to_agent is None and topic is None:
            raise InvalidInput("to_agent", None, "a message needs a to_agent or a topic")
        payload = v.json_value("payload", {} if payload is None else payload)
        message_type = v.text("message_type", message_type, max_len=100)
        priority = v.integer("priority", priority, bits=32)
        user_id = v.optional_id("user_id", user_id)
        project_id = v.optional_id("project_id", project_id)
        expires = v.optional_when("expires_at", expires_at)
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            check_link(tx, "projects", "project_id", project_id, user_id)
            row = tx.returning(
                insert_sql("agent_messages", MESSAGE_COLUMNS, "*"),
                {
                    "id": new_id(), "user_id": user_id, "project_id": project_id,
                    "from_agent": from_agent, "to_agent": to_agent, "topic": topic,
                    "message_type": message_type, "payload": tx.json(payload),
                    "priority": priority, "created_at": tx.ts(self._now()),
                    "expires_at": tx.ts(expires),
                },
            )  # fmt: skip
            message = message_from_row(tx, row)
            self._emit(
                tx, "agent_message.sent", user_id, {"message_id": message.id},
                {"from": from_agent, "to": to_agent, "topic": topic},
            )  # fmt: skip
            return message

    def get(self, message_id: str, *, user_id: Owner = ANY) -> AgentMessage:
        """An agent message by id, visible to `user_id`."""
        message_id = v.id_("message_id", message_id)
        with self._store.read() as tx:
            row = scope.row(tx, "agent_messages", "agent message", message_id, user_id)
            return message_from_row(tx, row)

    def recent(
        self, user_id: Owner, *, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AgentMessage]:
        """Messages of an owner, newest first; with `agent_id`, those it sent or was sent
        (read-only: nothing is marked read, unlike an inbox)."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        sql = "SELECT * FROM agent_messages WHERE 1 = 1"
        if agent_id is not None:
            params["a"] = agent_name("agent_id", agent_id)
            sql += " AND (from_agent = :a OR to_agent = :a)"
        sql = scope.where(sql, user_id, params)
        with self._store.read() as tx:
            rows = tx.all(sql + " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset",
                          params)  # fmt: skip
            return [message_from_row(tx, r) for r in rows]

    def subscribe(self, agent_id: str, topic: str, *, user_id: str | None = None
                  ) -> AgentSubscription:  # fmt: skip
        """Subscribe an agent to a topic (idempotent)."""
        agent_id = agent_name("agent_id", agent_id)
        topic = agent_name("topic", topic)
        user_id = v.optional_id("user_id", user_id)
        params: dict[str, Any] = {"a": agent_id, "t": topic}
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            row = tx.one(
                insert_sql("subscriptions", SUBSCRIPTION_COLUMNS, "*", conflict=True),
                {"id": new_id(), "user_id": user_id, "agent_id": agent_id, "topic": topic,
                 "created_at": tx.ts(self._now())},
            )  # fmt: skip
            if row is not None:
                self._emit(tx, "subscription.created", user_id, {"subscription_id": str(row["id"])},
                           {"agent_id": agent_id, "topic": topic})  # fmt: skip
                return subscription_from_row(tx, row)
            row = tx.one(
                scope.where("SELECT * FROM subscriptions WHERE agent_id = :a AND topic = :t",
                        user_id, params),
                params,
            )  # fmt: skip
            assert row is not None
            return subscription_from_row(tx, row)

    def unsubscribe(self, agent_id: str, topic: str, *, user_id: str | None = None) -> bool:
        """Remove a subscription; False when there was none."""
        params: dict[str, Any] = {
            "a": agent_name("agent_id", agent_id), "t": agent_name("topic", topic)
        }  # fmt: skip
        user_id = v.optional_id("user_id", user_id)
        with self._store.write() as tx:
            row = tx.one(
                scope.where("DELETE FROM subscriptions WHERE agent_id = :a AND topic = :t",
                        user_id, params) + " RETURNING id",
                params,
            )  # fmt: skip
            if row is None:
                return False
            self._emit(tx, "subscription.deleted", user_id, {"subscription_id": str(row["id"])})
            return True

    def subscriptions(
        self, user_id: Owner, *, agent_id: str | None = None, topic: str | None = None
    ) -> list[AgentSubscription]:
        """Subscriptions of an owner, by agent or by topic."""
        params: dict[str, Any] = {}
        sql = "SELECT * FROM subscriptions WHERE 1 = 1"
        if agent_id is not None:
            params["a"] = agent_name("agent_id", agent_id)
            sql += " AND agent_id = :a"
        if topic is not None:
            params["t"] = agent_name("topic", topic)
            sql += " AND topic = :t"
        sql = scope.where(sql, user_id, params)
        with self._store.read() as tx:
            rows = tx.all(sql + " ORDER BY agent_id, topic", params)
            return [subscription_from_row(tx, r) for r in rows]

    def inbox(
        self,
        agent_id: str,
        *,
        user_id: Owner = ANY,
        unread_only: bool = True,
        include_expired: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AgentMessage]:
        """Messages for `agent_id`: sent to it, or to a topic it subscribes to (in the same
        owner scope), not sent by itself; with `unread_only`, those it has not marked read.
        Highest priority first, then oldest first."""
        agent_id = agent_name("agent_id", agent_id)
        params: dict[str, Any] = {
            "a": agent_id,
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        owner = scope.clause(user_id, params, "m.user_id")
        sub_owner = scope.clause(user_id, params, "s.user_id")
        where = [
            "(m.to_agent = :a OR m.topic IN (SELECT s.topic FROM subscriptions s "
            "WHERE s.agent_id = :a" + (f" AND {sub_owner}" if sub_owner else "") + "))",
            "m.from_agent <> :a",
        ]
        if owner:
            where.append(owner)
        if unread_only:
            where.append(
                "NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = m.id "
                "AND r.agent_id = :a)"
            )
        with self._store.read() as tx:
            if not include_expired:
                params["now"] = tx.ts(self._now())
                where.append("(m.expires_at IS NULL OR m.expires_at > :now)")
            rows = tx.all(
                f"SELECT m.* FROM agent_messages m WHERE {' AND '.join(where)} "
                "ORDER BY m.priority DESC, m.created_at, m.id LIMIT :limit OFFSET :offset",
                params,
            )
            return [message_from_row(tx, r) for r in rows]

    def unread(
        self, agent_id: str, *, user_id: Owner = ANY, limit: int = 100
    ) -> list[AgentMessage]:
        """Unread, unexpired messages for `agent_id` (see `inbox`)."""
        return self.inbox(agent_id, user_id=user_id, unread_only=True, limit=limit)

    def mark_read(self, agent_id: str, message_ids: Iterable[str], *, user_id: Owner = ANY) -> int:
        """Record that `agent_id` read these messages; returns how many were newly marked.
        A message outside the owner scope is NotFound."""
        agent_id = agent_name("agent_id", agent_id)
        ids = sorted({v.id_("message_ids", m) for m in message_ids})
        if not ids:
            return 0
        params: dict[str, Any] = {}
        with self._store.write() as tx:
            in_list = tx.expand("m", ids, params)
            found = {
                str(r["id"])
                for r in tx.all(
                    scope.where(f"SELECT id FROM agent_messages WHERE id IN ({in_list})",
                            user_id, params),
                    params,
                )
            }  # fmt: skip
            missing = [m for m in ids if m not in found]
            if missing:
                raise NotFound("agent message", missing[0])
            now = tx.ts(self._now())
            marked = 0
            for message_id in ids:
                row = tx.one(
                    "INSERT INTO message_reads (message_id, agent_id, read_at) "
                    "VALUES (:m, :a, :now) ON CONFLICT DO NOTHING RETURNING message_id",
                    {"m": message_id, "a": agent_id, "now": now},
                )
                marked += row is not None
            if marked:
                owner = user_id if isinstance(user_id, str) else None
                self._emit(tx, "agent_message.read", owner, {"agent_id": agent_id},
                           {"message_ids": ids, "marked": marked})  # fmt: skip
            return marked
