"""Tasks (DCM agent coordination): requests, task lists (waves) and subtasks with validated
status transitions. Messages between agents and topic subscriptions are in `agents`.

Every status change is one conditional `UPDATE … WHERE id = :id AND status = :from`, so two
agents racing on the same subtask cannot both win: the loser gets `Conflict`. An invalid
transition is a `Conflict` naming the from and to states and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.agents import agent_name
from memvault.domain import Domain, insert_sql
from memvault.errors import Conflict
from memvault.ids import new_id
from memvault.records import Request, RequestOverview, Subtask, TaskList
from memvault.scope import ANY, Owner
from memvault.store.rows import columns, row_decoder
from memvault.store.vocab import REQUEST_STATUSES, TASK_STATUSES
from memvault.tools import check_link

REQUEST_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"active", "cancelled", "failed"}),
    "active": frozenset({"completed", "failed", "cancelled"}),
    "completed": frozenset(),
    "failed": frozenset({"pending"}),  # retry
    "cancelled": frozenset(),
}
TASK_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"running", "blocked", "cancelled"}),
    "blocked": frozenset({"pending", "running", "cancelled"}),
    "running": frozenset({"completed", "failed", "blocked", "cancelled"}),
    "failed": frozenset({"pending"}),  # retry
    "completed": frozenset(),
    "cancelled": frozenset(),
}
FINAL_REQUEST = frozenset({"completed", "failed", "cancelled"})
FINAL_TASK = frozenset({"completed", "failed", "cancelled"})

REQUEST_COLUMNS = columns(Request)
TASK_LIST_COLUMNS = columns(TaskList)
SUBTASK_COLUMNS = columns(Subtask)


def check_transition(
    entity: str, key: str, old: str, new: str, table: Mapping[str, frozenset[str]]
) -> None:
    """Raise Conflict unless `old → new` is allowed."""
    if new not in table[old]:
        allowed = ", ".join(sorted(table[old])) or "none (final state)"
        raise Conflict(
            f"{entity} {key}: invalid status transition from {old!r} to {new!r} "
            f"(allowed from {old!r}: {allowed})"
        )


request_from_row = row_decoder(Request)
task_list_from_row = row_decoder(TaskList)
subtask_from_row = row_decoder(Subtask)


class Tasks(Domain):
    """`vault.tasks`: requests split into waves (task lists) of subtasks run by agents.

    Request statuses: pending → active → completed | failed | cancelled (pending may also be
    cancelled or fail; a failed request may go back to pending). Subtask and wave statuses:
    pending → running | blocked | cancelled; blocked → pending | running | cancelled;
    running → completed | failed | blocked | cancelled; failed → pending (retry);
    completed and cancelled are final. Anything else: `Conflict`.
    """

    # -- requests ---------------------------------------------------------------------------

    def create_request(
        self,
        prompt: str,
        *,
        user_id: str | None = None,
        project_id: str | None = None,
        session_id: str | None = None,
        prompt_type: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Request:
        """Open a request (status pending)."""
        user_id = v.optional_id("user_id", user_id)
        prompt = v.text("prompt", prompt)
        prompt_type = v.optional_text("prompt_type", prompt_type, max_len=200)
        project_id = v.optional_id("project_id", project_id)
        session_id = v.optional_id("session_id", session_id)
        meta = v.json_object("metadata", metadata)
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            check_link(tx, "projects", "project_id", project_id, user_id)
            check_link(tx, "sessions", "session_id", session_id, user_id)
            row = tx.returning(
                insert_sql("requests", REQUEST_COLUMNS, "*"),
                {
                    "id": new_id(), "user_id": user_id, "project_id": project_id,
                    "session_id": session_id, "prompt": prompt, "prompt_type": prompt_type,
                    "status": "pending", "metadata": tx.json(meta),
                    "created_at": tx.ts(self._now()), "completed_at": None,
                },
            )  # fmt: skip
            request = request_from_row(tx, row)
            self._emit(tx, "request.created", user_id, {"request_id": request.id})
            return request

    def get_request(self, request_id: str, *, user_id: Owner = ANY) -> Request:
        """A request by id, visible to `user_id`."""
        request_id = v.id_("request_id", request_id)
        with self._store.read() as tx:
            return request_from_row(tx, scope.row(tx, "requests", "request", request_id, user_id))

    def list_requests(
        self,
        user_id: Owner,
        *,
        status: str | None = None,
        project_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Request]:
        """Requests of an owner, newest first."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        sql = "SELECT * FROM requests WHERE 1 = 1"
        if status is not None:
            params["status"] = v.choice("status", status, REQUEST_STATUSES)
            sql += " AND status = :status"
        if project_id is not None:
            params["project_id"] = v.id_("project_id", project_id)
            sql += " AND project_id = :project_id"
        sql = scope.where(sql, user_id, params)
        with self._store.read() as tx:
            rows = tx.all(
                sql + " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset", params
            )
            return [request_from_row(tx, r) for r in rows]

    def set_request_status(self, request_id: str, status: str, *, user_id: Owner = ANY) -> Request:
        """Move a request to `status` (validated; completion time set on a final state)."""
        request_id = v.id_("request_id", request_id)
        status = v.choice("status", status, REQUEST_STATUSES)
        row = self._transition(
            "requests", "request", request_id, status, user_id, REQUEST_TRANSITIONS,
            {"completed_at": FINAL_REQUEST},
        )  # fmt: skip
        return row  # type: ignore[return-value]

    # -- waves ------------------------------------------------------------------------------

    def add_wave(
        self,
        request_id: str,
        *,
        user_id: Owner = ANY,
        name: str | None = None,
        wave: int | None = None,
    ) -> TaskList:
        """Add a task list to a request: wave `wave`, or the next number (1 for the first)."""
        request_id = v.id_("request_id", request_id)
        name = v.optional_text("name", name, allow_empty=True)
        if wave is not None:
            wave = v.integer("wave", wave, minimum=0, bits=32)
        with self._store.write() as tx:
            from memvault.tools import for_update

            req = scope.row(tx, "requests", "request", request_id, user_id,
                            columns="id, user_id", suffix=for_update(tx))  # fmt: skip
            if wave is None:
                wave = int(tx.scalar(
                    "SELECT COALESCE(MAX(wave), 0) + 1 FROM task_lists WHERE request_id = :id",
                    {"id": request_id},
                ))  # fmt: skip
            elif tx.one(
                "SELECT 1 FROM task_lists WHERE request_id = :id AND wave = :w",
                {"id": request_id, "w": wave},
            ):
                raise Conflict(f"request {request_id} already has wave {wave}")
            owner = tx.id_out(req["user_id"])
            row = tx.returning(
                insert_sql("task_lists", TASK_LIST_COLUMNS, "*"),
                {
                    "id": new_id(), "request_id": request_id, "user_id": owner, "wave": wave,
                    "name": name, "status": "pending", "created_at": tx.ts(self._now()),
                    "completed_at": None,
                },
            )  # fmt: skip
            task_list = task_list_from_row(tx, row)
            self._emit(tx, "task_list.created", owner,
                       {"request_id": request_id, "task_list_id": task_list.id})  # fmt: skip
            return task_list

    def waves(self, request_id: str, *, user_id: Owner = ANY) -> list[TaskList]:
        """A request's task lists in wave order."""
        params: dict[str, Any] = {"id": v.id_("request_id", request_id)}
        with self._store.read() as tx:
            scope.row(tx, "requests", "request", params["id"], user_id, columns="1")
            rows = tx.all("SELECT * FROM task_lists WHERE request_id = :id ORDER BY wave", params)
            return [task_list_from_row(tx, r) for r in rows]

    def set_wave_status(self, task_list_id: str, status: str, *, user_id: Owner = ANY) -> TaskList:
        """Move a task list (wave) to `status` (validated like subtasks)."""
        task_list_id = v.id_("task_list_id", task_list_id)
        status = v.choice("status", status, TASK_STATUSES)
        row = self._transition(
            "task_lists", "task list", task_list_id, status, user_id, TASK_TRANSITIONS,
            {"completed_at": FINAL_TASK},
        )  # fmt: skip
        return row  # type: ignore[return-value]

    # -- subtasks ---------------------------------------------------------------------------

    def add_subtask(
        self,
        task_list_id: str,
        description: str,
        *,
        user_id: Owner = ANY,
        agent_type: str | None = None,
        agent_id: str | None = None,
    ) -> Subtask:
        """Add a pending subtask to a wave."""
        task_list_id = v.id_("task_list_id", task_list_id)
        description = v.text("description", description)
        agent_type = v.optional_text("agent_type", agent_type, max_len=200)
        agent_id = v.optional_text("agent_id", agent_id, max_len=200)
        with self._store.write() as tx:
            tl = scope.row(tx, "task_lists", "task list", task_list_id, user_id,
                           columns="id, user_id")  # fmt: skip
            owner = tx.id_out(tl["user_id"])
            row = tx.returning(
                insert_sql("subtasks", SUBTASK_COLUMNS, "*"),
                {
                    "id": new_id(), "task_list_id": task_list_id, "user_id": owner,
                    "agent_type": agent_type, "agent_id": agent_id, "description": description,
                    "status": "pending", "result": None, "created_at": tx.ts(self._now()),
                    "started_at": None, "completed_at": None,
                },
            )  # fmt: skip
            subtask = subtask_from_row(tx, row)
            self._emit(tx, "subtask.created", owner,
                       {"task_list_id": task_list_id, "subtask_id": subtask.id})  # fmt: skip
            return subtask

    def get_subtask(self, subtask_id: str, *, user_id: Owner = ANY) -> Subtask:
        """A subtask by id, visible to `user_id`."""
        subtask_id = v.id_("subtask_id", subtask_id)
        with self._store.read() as tx:
            return subtask_from_row(tx, scope.row(tx, "subtasks", "subtask", subtask_id, user_id))

    def subtasks(
        self,
        user_id: Owner,
        *,
        task_list_id: str | None = None,
        request_id: str | None = None,
        status: str | None = None,
        agent_id: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Subtask]:
        """Subtasks of an owner, oldest first, filtered by wave, request, status or agent."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        sql = "SELECT s.* FROM subtasks s"
        if request_id is not None:
            params["rid"] = v.id_("request_id", request_id)
            sql += " JOIN task_lists t ON t.id = s.task_list_id AND t.request_id = :rid"
        sql += " WHERE 1 = 1"
        if task_list_id is not None:
            params["tl"] = v.id_("task_list_id", task_list_id)
            sql += " AND s.task_list_id = :tl"
        if status is not None:
            params["status"] = v.choice("status", status, TASK_STATUSES)
            sql += " AND s.status = :status"
        if agent_id is not None:
            params["agent"] = agent_name("agent_id", agent_id)
            sql += " AND s.agent_id = :agent"
        sql = scope.where(sql, user_id, params, "s.user_id")
        with self._store.read() as tx:
            rows = tx.all(sql + " ORDER BY s.created_at, s.id LIMIT :limit OFFSET :offset", params)
            return [subtask_from_row(tx, r) for r in rows]

    def set_status(
        self,
        subtask_id: str,
        status: str,
        *,
        user_id: Owner = ANY,
        result: Any = None,
        agent_id: str | None = None,
    ) -> Subtask:
        """Move a subtask to `status` (validated); entering running sets the start time (and
        the agent when given), a final state sets the completion time; `result` (JSON) is
        stored when given."""
        subtask_id = v.id_("subtask_id", subtask_id)
        status = v.choice("status", status, TASK_STATUSES)
        extra: dict[str, Any] = {}
        if result is not None:
            extra["result"] = v.json_value("result", result)
        if agent_id is not None:
            extra["agent_id"] = agent_name("agent_id", agent_id)
        row = self._transition(
            "subtasks", "subtask", subtask_id, status, user_id, TASK_TRANSITIONS,
            {"completed_at": FINAL_TASK, "started_at": frozenset({"running"})}, extra,
        )  # fmt: skip
        return row  # type: ignore[return-value]

    def claim(
        self, agent_id: str, *, user_id: Owner = ANY, task_list_id: str | None = None
    ) -> Subtask | None:
        """Atomically take the oldest pending subtask (of one wave when given) for
        `agent_id`: it becomes running. None when there is nothing to do. Safe when many
        agents claim at once (each subtask goes to exactly one)."""
        agent_id = agent_name("agent_id", agent_id)
        params: dict[str, Any] = {"agent": agent_id}
        sql = "SELECT id FROM subtasks WHERE status = 'pending'"
        if task_list_id is not None:
            params["tl"] = v.id_("task_list_id", task_list_id)
            sql += " AND task_list_id = :tl"
        sql = scope.where(sql, user_id, params)
        with self._store.write() as tx:
            skip = " FOR UPDATE SKIP LOCKED" if tx.engine == "postgresql" else ""
            params["now"] = tx.ts(self._now())
            row = tx.one(
                "UPDATE subtasks SET status = 'running', agent_id = :agent, started_at = :now "
                f"WHERE id = ({sql} ORDER BY created_at, id LIMIT 1{skip}) "
                "AND status = 'pending' RETURNING *",
                params,
            )
            if row is None:
                return None
            subtask = subtask_from_row(tx, row)
            self._emit(tx, "subtask.updated", subtask.user_id,
                       {"task_list_id": subtask.task_list_id, "subtask_id": subtask.id},
                       {"from": "pending", "to": "running", "agent_id": agent_id})  # fmt: skip
            return subtask

    def overview(
        self, user_id: Owner, *, status: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[RequestOverview]:
        """Recent requests with their number of waves and subtask counts per status."""
        requests = self.list_requests(user_id, status=status, limit=limit, offset=offset)
        if not requests:
            return []
        params: dict[str, Any] = {}
        with self._store.read() as tx:
            ids = tx.expand("r", [r.id for r in requests], params)
            waves = {
                str(r["request_id"]): int(r["n"])
                for r in tx.all(
                    "SELECT request_id, COUNT(*) AS n FROM task_lists "
                    f"WHERE request_id IN ({ids}) GROUP BY request_id",
                    params,
                )
            }
            counts: dict[str, dict[str, int]] = {}
            for r in tx.all(
                "SELECT t.request_id, s.status, COUNT(*) AS n FROM subtasks s "
                "JOIN task_lists t ON t.id = s.task_list_id "
                f"WHERE t.request_id IN ({ids}) GROUP BY t.request_id, s.status",
                params,
            ):
                counts.setdefault(str(r["request_id"]), {})[r["status"]] = int(r["n"])
        return [RequestOverview(r, waves.get(r.id, 0), counts.get(r.id, {})) for r in requests]

    # -- shared -----------------------------------------------------------------------------

    def _transition(
        self,
        table: str,
        entity: str,
        key: str,
        status: str,
        user_id: Owner,
        transitions: Mapping[str, frozenset[str]],
        stamps: Mapping[str, frozenset[str]],
        extra: Mapping[str, Any] | None = None,
    ) -> Request | TaskList | Subtask:
        with self._store.write() as tx:
            row = scope.row(tx, table, entity, key, user_id)
            old = row["status"]
            check_transition(entity, key, old, status, transitions)
            now = tx.ts(self._now())
            sets = ["status = :to"]
            values: dict[str, Any] = {"id": key, "from": old, "to": status, "now": now}
            for column, states in stamps.items():
                if status in states and (column != "started_at" or row[column] is None):
                    sets.append(f"{column} = :now")
            if status == "pending" and "completed_at" in stamps:  # a retry reopens it
                sets.append("completed_at = NULL")
            for column, value in (extra or {}).items():
                values[column] = tx.json(value) if column == "result" else value
                sets.append(f"{column} = :{column}")
            updated = tx.one(
                f"UPDATE {table} SET {', '.join(sets)} WHERE id = :id AND status = :from "
                "RETURNING *",
                values,
            )
            if updated is None:
                raise Conflict(f"{entity} {key} changed status concurrently; read it again")
            record: Request | TaskList | Subtask
            if table == "requests":
                record = request_from_row(tx, updated)
                ids = {"request_id": key}
            elif table == "task_lists":
                record = task_list_from_row(tx, updated)
                ids = {"request_id": record.request_id, "task_list_id": key}
            else:
                record = subtask_from_row(tx, updated)
                ids = {"task_list_id": record.task_list_id, "subtask_id": key}
            kind = {"requests": "request", "task_lists": "task_list"}.get(table, "subtask")
            self._emit(tx, f"{kind}.updated", record.user_id, ids, {"from": old, "to": status})
            return record
