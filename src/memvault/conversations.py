"""Conversations: sessions (with sub-agent instances) and their messages."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql, key_prefix_sql
from memvault.errors import Conflict, IntegrityViolation, InvalidInput, NotFound
from memvault.filters import compile_filters
from memvault.ids import new_id
from memvault.records import Message, Session
from memvault.scope import ANY, Owner
from memvault.store.base import Tx
from memvault.store.rows import columns, row_decoder
from memvault.store.vocab import ROLES, SESSION_KINDS, SESSION_STATUSES

MESSAGE_COLUMNS = columns(Message, without=("edited_at",))
SESSION_COLUMNS = columns(Session, without=("message_count", "instance_count"))
BUMP_SESSION = (
    "UPDATE sessions SET message_count = message_count + 1, last_seq = last_seq + 1, "
    "updated_at = :now WHERE id = :sid{owner} RETURNING last_seq, user_id"
)
_BUMP_ANY = BUMP_SESSION.format(owner="")
INSERT_MESSAGE = insert_sql("messages", MESSAGE_COLUMNS)
# PostgreSQL: the bump and the insert in one statement (a data-modifying CTE), sent alone
# (`Store.write_one`): one round trip per append instead of four (BEGIN, UPDATE, INSERT,
# COMMIT). No session (or another owner's): no row.
APPEND_ONE = (
    "WITH bumped AS ({bump}) INSERT INTO messages "
    "(id, session_id, user_id, seq, role, content, emotion, metadata, created_at) "
    "SELECT :id, :sid, user_id, last_seq, :role, :content, :emotion, :metadata, :created_at "
    "FROM bumped RETURNING seq AS last_seq, user_id"
)


_KEY_CLASH = re.compile(r"sessions\.key|sessions_(user_id|base)_key")
MESSAGE_FIELDS = frozenset({"role", "content", "emotion", "metadata", "created_at"})

session_from_row = row_decoder(Session)
message_from_row = row_decoder(Message)


class Sessions(Domain):
    """`vault.sessions`: conversations, tasks and agent runs; children are sub-agent instances."""

    def create(
        self,
        user_id: str | None = None,
        *,
        kind: str = "chat",
        title: str | None = None,
        status: str = "active",
        parent_id: str | None = None,
        project_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        started_at: datetime | None = None,
        instance_no: int | None = None,
        key: str | None = None,
    ) -> Session:
        """Open a session for `user_id` (None: an unowned, base-layer session).

        A child session (`parent_id`) is an instance with a number unique within its parent:
        `instance_no`, or the parent's next free number (0, 1, …); a number already taken is
        `Conflict`. `key` is the caller's name for the session (the legacy record an import
        or the dual-write mirrors, an adapter's thread id, …): unique per owner (the base
        layer is one owner), found again with `by_key`; a key already taken is `Conflict`."""
        if instance_no is not None:
            instance_no = v.integer("instance_no", instance_no, minimum=0, bits=32)
            if parent_id is None:
                raise InvalidInput("instance_no", instance_no, "only a child session has one")
        key = v.optional_key("key", key)
        user_id = v.optional_id("user_id", user_id)
        kind = v.choice("kind", kind, SESSION_KINDS)
        status = v.choice("status", status, SESSION_STATUSES)
        title = v.optional_text("title", title, allow_empty=True)
        parent_id = v.optional_id("parent_id", parent_id)
        project_id = v.optional_id("project_id", project_id)
        meta = v.json_object("metadata", metadata)
        started = v.optional_when("started_at", started_at) or self._now()
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            if parent_id is not None:
                # PostgreSQL: lock the parent, so that concurrent instances of one parent are
                # numbered one after the other (SQLite's writer is already alone).
                lock = tx.for_update
                parent = tx.one(
                    f"SELECT user_id FROM sessions WHERE id = :p{lock}", {"p": parent_id}
                )
                # Another owner's id answers as an unknown one: telling them apart would
                # confirm that the id exists.
                if parent is None or tx.id_out(parent["user_id"]) != user_id:
                    raise NotFound("session", parent_id)
                if instance_no is None:
                    instance_no = int(
                        tx.scalar(
                            "SELECT coalesce(max(instance_no) + 1, 0) FROM sessions "
                            "WHERE parent_id = :p AND instance_no IS NOT NULL",
                            {"p": parent_id},
                        )
                    )
            if project_id is not None:
                project = tx.one("SELECT user_id FROM projects WHERE id = :p", {"p": project_id})
                if project is None or tx.id_out(project["user_id"]) not in (user_id, None):
                    raise NotFound("project", project_id)
            values = {
                "id": new_id(),
                "user_id": user_id,
                "project_id": project_id,
                "parent_id": parent_id,
                "kind": kind,
                "title": title,
                "status": status,
                "metadata": tx.json(meta),
                "started_at": tx.ts(started),
                "updated_at": tx.ts(started),
                "ended_at": None,
                "instance_no": instance_no,
                "key": key,
            }
            try:
                row = tx.returning(insert_sql("sessions", SESSION_COLUMNS, "*"), values)
            except IntegrityViolation as exc:
                if instance_no is not None and "instance_no" in str(exc):
                    raise Conflict(
                        f"session {parent_id} already has an instance {instance_no}"
                    ) from exc
                if key is not None and _KEY_CLASH.search(str(exc)):
                    raise Conflict(f"this owner already has a session with key {key!r}") from exc
                raise
            session = session_from_row(tx, row)
            self._emit(tx, "session.created", user_id, {"session_id": session.id})
            return session

    def get(self, session_id: str, *, user_id: Owner = ANY) -> Session:
        """A session by id (scoped to `user_id` when given)."""
        session_id = v.id_("session_id", session_id)
        with self._store.read() as tx:
            return session_from_row(tx, scope.row(tx, "sessions", "session", session_id, user_id))

    def by_key(self, user_id: Owner, key: str) -> Session | None:
        """The session of `user_id` (None: the base layer) with key `key`, or None (one
        lookup in the unique (user_id, key) index). With `ANY`, the first by id of any owner."""
        params: dict[str, Any] = {"k": v.key("key", key)}
        sql = scope.where("SELECT * FROM sessions WHERE key = :k", user_id, params)
        with self._store.read() as tx:
            row = tx.one(sql + " ORDER BY id LIMIT 1", params)
            return None if row is None else session_from_row(tx, row)

    def put(
        self,
        user_id: str | None,
        key: str,
        *,
        kind: str = "chat",
        title: str | None = None,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
        project_id: str | None = None,
    ) -> Session:
        """The session of `user_id` with key `key`, created when missing (with `kind`,
        `title`, `status` or "active", `metadata`, `project_id`); an existing one gets the
        `title`, `status` and `metadata` given (metadata replaced exactly, not merged), the
        rest left as it is. `put(user_id, key)` alone is get-or-create."""
        key = v.key("key", key)
        user_id = v.optional_id("user_id", user_id)
        for _ in range(3):  # a concurrent create of the same key: read it again
            found = self.by_key(user_id, key)
            if found is None:
                try:
                    return self.create(
                        user_id, kind=kind, title=title, status=status or "active",
                        metadata=metadata, project_id=project_id, key=key,
                    )  # fmt: skip
                except Conflict:
                    continue
            if title is None and status is None and metadata is None:
                return found
            return self._replace(found, title, status, metadata)
        raise Conflict(f"session key {key!r} kept changing; retry")

    def _replace(
        self,
        found: Session,
        title: str | None,
        status: str | None,
        metadata: dict[str, Any] | None,
    ) -> Session:
        sets = ["updated_at = :now"]
        params: dict[str, Any] = {"id": found.id}
        if title is not None:
            params["title"] = v.text("title", title, allow_empty=True)
            sets.append("title = :title")
        if status is not None:
            params["status"] = v.choice("status", status, SESSION_STATUSES)
            sets.append("status = :status")
        meta = None if metadata is None else v.json_object("metadata", metadata)
        with self._store.write() as tx:
            params["now"] = tx.ts(self._now())
            if meta is not None:
                params["metadata"] = tx.json(meta)
                sets.append("metadata = :metadata")
            row = tx.one(
                f"UPDATE sessions SET {', '.join(sets)} WHERE id = :id RETURNING *", params
            )
            if row is None:
                raise NotFound("session", found.id)
            session = session_from_row(tx, row)
            self._emit(tx, "session.updated", session.user_id, {"session_id": session.id})
            return session

    def instance(self, parent_id: str, instance_no: int, *, user_id: Owner = ANY) -> Session | None:
        """The child session numbered `instance_no` of `parent_id`, or None."""
        params: dict[str, Any] = {
            "p": v.id_("parent_id", parent_id),
            "n": v.integer("instance_no", instance_no, minimum=0, bits=32),
        }
        sql = scope.where(
            "SELECT * FROM sessions WHERE parent_id = :p AND instance_no = :n", user_id, params
        )
        with self._store.read() as tx:
            row = tx.one(sql, params)
            return None if row is None else session_from_row(tx, row)

    def search(self, user_id: str | None, query: str, *, k: int = 10) -> builtins.list[Any]:
        """Full-text search of `user_id`'s sessions by title (None: base-layer sessions), best
        first, as `Hit`s (see `memvault.search.query.Search.sessions`)."""
        return self._vault.search.sessions(user_id, query, k=k)

    def list(
        self,
        user_id: Owner = ANY,
        *,
        project_id: str | None = None,
        parent_id: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        key_prefix: str | None = None,
        filters: Any = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Session]:
        """Sessions, most recently updated first.

        `key_prefix`: only the sessions whose key starts with it, matched literally (`""`:
        every session that has a key). `filters`: the filter language of
        `memvault.filters` on `metadata.<key>` and the columns kind, status, title,
        key, project_id, parent_id, message_count, started_at, updated_at, ended_at, with
        eq/ne/gt/gte/lt/lte/in/contains (or `$eq`, `$ne`, …), e.g.
        `{"metadata.topic": "food", "message_count": {"$gte": 2}}`."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [scope.clause(user_id, params)]
        if project_id is not None:
            params["project_id"] = v.id_("project_id", project_id)
            where.append("project_id = :project_id")
        if parent_id is not None:
            params["parent_id"] = v.id_("parent_id", parent_id)
            where.append("parent_id = :parent_id")
        if kind is not None:
            params["kind"] = v.choice("kind", kind, SESSION_KINDS)
            where.append("kind = :kind")
        if status is not None:
            params["status"] = v.choice("status", status, SESSION_STATUSES)
            where.append("status = :status")
        if key_prefix is not None:
            where.append(key_prefix_sql(v.key_prefix("key_prefix", key_prefix), params))
        with self._store.read() as tx:
            where.append(compile_filters(tx, "sessions", filters, params, alias="sessions"))
            clause = " AND ".join(w for w in where if w)
            rows = tx.all(
                "SELECT * FROM sessions"
                + (f" WHERE {clause}" if clause else "")
                + " ORDER BY updated_at DESC, id DESC LIMIT :limit OFFSET :offset",
                params,
            )
            return [session_from_row(tx, r) for r in rows]

    def update(
        self,
        session_id: str,
        *,
        title: str | None = None,
        status: str | None = None,
        metadata: dict[str, Any] | None = None,
        ended_at: datetime | None = None,
        user_id: Owner = ANY,
    ) -> Session:
        """Change a session's title, status, metadata (merged) or end time."""
        session_id = v.id_("session_id", session_id)
        sets = ["updated_at = :now"]
        params: dict[str, Any] = {"id": session_id}
        if title is not None:
            params["title"] = v.text("title", title, allow_empty=True)
            sets.append("title = :title")
        if status is not None:
            params["status"] = v.choice("status", status, SESSION_STATUSES)
            sets.append("status = :status")
        patch = None if metadata is None else v.json_object("metadata", metadata)
        end = v.optional_when("ended_at", ended_at)
        with self._store.write() as tx:
            params["now"] = tx.ts(self._now())
            where = scope.where("WHERE id = :id", user_id, params)
            if patch is not None:
                current = tx.one(f"SELECT metadata FROM sessions {where}", params)
                if current is None:
                    raise NotFound("session", session_id)
                params["metadata"] = tx.json({**(tx.json_out(current["metadata"]) or {}), **patch})
                sets.append("metadata = :metadata")
            if end is not None:
                params["ended_at"] = tx.ts(end)
                sets.append("ended_at = :ended_at")
            row = tx.one(f"UPDATE sessions SET {', '.join(sets)} {where} RETURNING *", params)
            if row is None:
                raise NotFound("session", session_id)
            session = session_from_row(tx, row)
            self._emit(tx, "session.updated", session.user_id, {"session_id": session_id})
            return session

    def end(self, session_id: str, status: str = "completed", *, user_id: Owner = ANY) -> Session:
        """Mark a session finished now."""
        return self.update(session_id, status=status, ended_at=self._now(), user_id=user_id)

    def delete(self, session_id: str, *, user_id: Owner = ANY) -> None:
        """Delete a session, its messages and its sub-sessions."""
        session_id = v.id_("session_id", session_id)
        params: dict[str, Any] = {"id": session_id}
        sql = scope.where("DELETE FROM sessions WHERE id = :id", user_id, params)
        with self._store.write() as tx:
            row = tx.one(sql + " RETURNING user_id", params)
            if row is None:
                raise NotFound("session", session_id)
            self._emit(tx, "session.deleted", tx.id_out(row["user_id"]), {"session_id": session_id})


class Messages(Domain):
    """`vault.messages`: the turns of a session, numbered 1, 2, 3… within it."""

    def append(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        emotion: str | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | None = None,
        user_id: Owner = ANY,
    ) -> Message:
        """Append a message: one short write transaction (bump the session, insert the row)."""
        session_id = v.id_("session_id", session_id)
        params: dict[str, Any] = {"sid": session_id}
        owner = scope.clause(user_id, params)
        bump = _BUMP_ANY if not owner else BUMP_SESSION.format(owner=f" AND {owner}")
        if role not in ROLES:
            raise InvalidInput("role", role, f"expected one of {', '.join(ROLES)}")
        content = v.text("content", content, allow_empty=True)
        emotion = v.optional_text("emotion", emotion, max_len=100)
        meta = v.json_object("metadata", metadata) if metadata else {}
        now = self._now()
        created = now if created_at is None else v.when("created_at", created_at)
        message_id = new_id()
        one = self._store.engine == "postgresql"
        with self._store.write_one() if one else self._store.write() as tx:
            params["now"] = tx.ts(now)
            row = {
                "id": message_id,
                "session_id": session_id,
                "role": role,
                "content": content,
                "emotion": emotion,
                "metadata": tx.json(meta),
                "created_at": tx.ts(created),
            }
            if one:
                got = tx.one(APPEND_ONE.format(bump=bump), {**params, **row})
            else:
                got = tx.one(bump, params)
            if got is None:
                raise NotFound("session", session_id)
            seq = int(got["last_seq"])
            owner_id = tx.id_out(got["user_id"])
            if not one:
                tx.execute(INSERT_MESSAGE, {**row, "user_id": owner_id, "seq": seq})
            self._emit(
                tx,
                "message.appended",
                owner_id,
                {"session_id": session_id, "message_id": message_id},
                {"seq": seq, "role": role},
            )
        return Message(message_id, session_id, owner_id, seq, role, content, emotion, meta,
                       created, None)  # fmt: skip

    def append_many(
        self,
        session_id: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        user_id: Owner = ANY,
    ) -> builtins.list[Message]:
        """Append several messages in one write transaction, in order: all or none.

        Each item is a mapping with `role` and `content`, and optionally `emotion`,
        `metadata` and `created_at` (as `append` takes them); anything else is
        `InvalidInput` naming the item (`messages[3].colour`)."""
        session_id = v.id_("session_id", session_id)
        rows = [_message_values(i, item) for i, item in enumerate(messages)]
        if not rows:
            _ = self._vault.sessions.get(session_id, user_id=user_id)
            return []
        params: dict[str, Any] = {"sid": session_id}
        owner = scope.clause(user_id, params)
        where = f" AND {owner}" if owner else ""
        now = self._now()
        out: builtins.list[Message] = []
        with self._store.write() as tx:
            params["now"] = tx.ts(now)
            params["n"] = len(rows)
            row = tx.one(
                "UPDATE sessions SET message_count = message_count + :n, "
                f"last_seq = last_seq + :n, updated_at = :now WHERE id = :sid{where} "
                "RETURNING last_seq, user_id",
                params,
            )
            if row is None:
                raise NotFound("session", session_id)
            first = int(row["last_seq"]) - len(rows) + 1
            owner_id = tx.id_out(row["user_id"])
            for offset, (role, content, emotion, meta, created) in enumerate(rows):
                message = Message(new_id(), session_id, owner_id, first + offset, role, content,
                                  emotion, meta, created or now, None)  # fmt: skip
                tx.execute(
                    INSERT_MESSAGE,
                    {
                        "id": message.id,
                        "session_id": session_id,
                        "user_id": owner_id,
                        "seq": message.seq,
                        "role": role,
                        "content": content,
                        "emotion": emotion,
                        "metadata": tx.json(meta),
                        "created_at": tx.ts(message.created_at),
                    },
                )
                out.append(message)
                self._emit(
                    tx,
                    "message.appended",
                    owner_id,
                    {"session_id": session_id, "message_id": message.id},
                    {"seq": message.seq, "role": role},
                )
        return out

    def clear(self, session_id: str, *, user_id: Owner = ANY) -> int:
        """Delete every message of a session in one transaction; returns how many went. The
        session stays (message_count 0); sequence numbers go on from where they were."""
        session_id = v.id_("session_id", session_id)
        params: dict[str, Any] = {"sid": session_id}
        owner = scope.clause(user_id, params)
        where = f" AND {owner}" if owner else ""
        with self._store.write() as tx:
            params["now"] = tx.ts(self._now())
            row = tx.one(
                "UPDATE sessions SET message_count = 0, updated_at = :now "
                f"WHERE id = :sid{where} RETURNING user_id",
                params,
            )
            if row is None:
                raise NotFound("session", session_id)
            removed = int(
                tx.execute(
                    "DELETE FROM messages WHERE session_id = :sid", {"sid": session_id}
                ).rowcount
            )
            self._emit(
                tx,
                "session.cleared",
                tx.id_out(row["user_id"]),
                {"session_id": session_id},
                {"removed": removed},
            )
            return removed

    def get(self, message_id: str, *, user_id: Owner = ANY) -> Message:
        """A message by id (scoped to `user_id` when given)."""
        message_id = v.id_("message_id", message_id)
        with self._store.read() as tx:
            return message_from_row(tx, scope.row(tx, "messages", "message", message_id, user_id))

    def list(
        self,
        session_id: str,
        *,
        after_seq: int = 0,
        limit: int = 100,
        offset: int = 0,
        user_id: Owner = ANY,
    ) -> builtins.list[Message]:
        """A session's messages in order, `limit` at a time after sequence number `after_seq`,
        skipping the first `offset` of those (another owner's session: NotFound)."""
        session_id = v.id_("session_id", session_id)
        params: dict[str, Any] = {
            "sid": session_id,
            "after": v.integer("after_seq", after_seq, minimum=0),
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        sql = scope.where(
            "SELECT * FROM messages WHERE session_id = :sid AND seq > :after", user_id, params
        )
        with self._store.read() as tx:
            rows = tx.all(sql + " ORDER BY seq LIMIT :limit OFFSET :offset", params)
            if not rows:
                _require_session(tx, session_id, user_id)
            return [message_from_row(tx, r) for r in rows]

    def last(self, session_id: str, n: int = 50, *, user_id: Owner = ANY) -> builtins.list[Message]:
        """The last `n` messages of a session, oldest first (another owner's session:
        NotFound)."""
        session_id = v.id_("session_id", session_id)
        params: dict[str, Any] = {"sid": session_id, "n": v.integer("n", n, minimum=1)}
        sql = scope.where("SELECT * FROM messages WHERE session_id = :sid", user_id, params)
        with self._store.read() as tx:
            rows = tx.all(sql + " ORDER BY seq DESC LIMIT :n", params)
            if not rows:
                _require_session(tx, session_id, user_id)
            return [message_from_row(tx, r) for r in reversed(rows)]

    def edit(
        self,
        message_id: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
        user_id: Owner = ANY,
    ) -> Message:
        """Replace a message's content (and merge metadata); records the edit time."""
        message_id = v.id_("message_id", message_id)
        content = v.text("content", content, allow_empty=True)
        patch = v.json_object("metadata", metadata)
        params: dict[str, Any] = {"id": message_id}
        sql = scope.where("SELECT content, metadata FROM messages WHERE id = :id", user_id, params)
        with self._store.write() as tx:
            row = tx.one(sql, params)
            if row is None:
                raise NotFound("message", message_id)
            if row["content"] != content:
                # A vector embeds the text it was computed from: the old one goes with the
                # old text (`search.missing` counts the message again, `memvault embed`
                # re-embeds it).
                tx.execute("DELETE FROM embeddings WHERE message_id = :id", {"id": message_id})
            merged = {**(tx.json_out(row["metadata"]) or {}), **patch}
            row = tx.returning(
                "UPDATE messages SET content = :c, metadata = :m, edited_at = :now "
                "WHERE id = :id RETURNING *",
                {"id": message_id, "c": content, "m": tx.json(merged), "now": tx.ts(self._now())},
            )
            message = message_from_row(tx, row)
            self._emit(
                tx,
                "message.edited",
                message.user_id,
                {"session_id": message.session_id, "message_id": message_id},
            )
            return message

    def search(self, user_id: Owner, query: str, **options: Any) -> builtins.list[Any]:
        """Full-text, vector or hybrid search of messages, by user and/or `session_id=`
        (see `memvault.search.query.Search.messages`)."""
        return self._vault.search.messages(user_id, query, **options)

    def delete(self, message_id: str, *, user_id: Owner = ANY) -> None:
        """Delete one message; the session's count follows in the same transaction."""
        message_id = v.id_("message_id", message_id)
        params: dict[str, Any] = {"id": message_id}
        sql = scope.where("DELETE FROM messages WHERE id = :id", user_id, params)
        with self._store.write() as tx:
            row = tx.one(sql + " RETURNING session_id, user_id", params)
            if row is None:
                raise NotFound("message", message_id)
            session_id = str(row["session_id"])
            tx.execute(
                "UPDATE sessions SET message_count = message_count - 1, updated_at = :now "
                "WHERE id = :sid",
                {"sid": session_id, "now": tx.ts(self._now())},
            )
            self._emit(
                tx,
                "message.deleted",
                tx.id_out(row["user_id"]),
                {"session_id": session_id, "message_id": message_id},
            )


def _require_session(tx: Tx, session_id: str, user_id: Owner) -> None:
    """NotFound unless the session exists and `user_id` sees it (an empty page of messages
    must not look like an unknown session, nor another owner's like an empty one)."""
    scope.row(tx, "sessions", "session", session_id, user_id, columns="1")


def _message_values(
    i: int, item: Mapping[str, Any]
) -> tuple[str, str, str | None, dict[str, Any], datetime | None]:
    """One item of `append_many`, validated: (role, content, emotion, metadata, created_at)."""
    name = f"messages[{i}]"
    if not isinstance(item, Mapping):
        raise InvalidInput(name, item, "expected a mapping with role and content")
    unknown = set(item) - MESSAGE_FIELDS
    if unknown:
        field = sorted(map(str, unknown))[0]
        raise InvalidInput(
            f"{name}.{field}", item[field], f"allowed: {', '.join(sorted(MESSAGE_FIELDS))}"
        )
    role = item.get("role")
    if role not in ROLES:
        raise InvalidInput(f"{name}.role", role, f"expected one of {', '.join(ROLES)}")
    content = v.text(f"{name}.content", item.get("content"), allow_empty=True)
    emotion = v.optional_text(f"{name}.emotion", item.get("emotion"), max_len=100)
    meta = v.json_object(f"{name}.metadata", item.get("metadata"))
    created = v.optional_when(f"{name}.created_at", item.get("created_at"))
    return str(role), content, emotion, meta, created
