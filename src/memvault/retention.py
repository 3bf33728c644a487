"""Retention: per-entity policies (`retention_policies`) and `prune`, with a dry run.

A policy names an entity and one or two limits: `max_age_days` (rows older than that go) and
`keep_last` (only the newest N rows of each owner stay — of each trait for trait changes, of
each LangGraph thread and namespace for `graph_checkpoints`).
With both, a row goes when it breaks either limit. `prune` applies every policy in one write
transaction and reports the rows removed per entity; `dry_run` counts without deleting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import PruneReport, RetentionPolicy
from memvault.store.base import Tx
from memvault.store.rows import columns, row_decoder

# entity → (time column, keep_last partition columns)
ENTITIES: dict[str, tuple[str, str]] = {
    "actions": ("created_at", "user_id"),
    "emotion_events": ("occurred_at", "user_id"),
    "agent_messages": ("created_at", "user_id"),
    "requests": ("created_at", "user_id"),  # with their task lists and subtasks
    "trait_changes": ("changed_at", "trait_id"),
    # LangGraph checkpoints (memvault.langgraph), with their pending writes; see `_after`.
    "graph_checkpoints": ("created_at", "owner, thread_id, checkpoint_ns"),
    # a memory's history, deleted memories' included (it outlives them since revision 0009)
    "memory_history": ("changed_at", "memory_id"),
}
# The key of an entity's rows, where it is not `id`.
KEYS: dict[str, str] = {"graph_checkpoints": "owner, thread_id, checkpoint_ns, checkpoint_id"}
POLICY_COLUMNS = columns(RetentionPolicy)


policy_from_row = row_decoder(RetentionPolicy)


def doomed_sql(policy: RetentionPolicy, params: dict[str, Any], tx: Tx, now: datetime) -> str:
    """A SELECT of the ids `policy` removes."""
    table = policy.entity
    column, partition = ENTITIES[table]
    key = KEYS.get(table, "id")
    last = key.rsplit(", ", 1)[-1]
    parts = []
    if policy.max_age_days is not None:
        params[f"{table}_cutoff"] = tx.ts(now - timedelta(days=policy.max_age_days))
        parts.append(f"SELECT {key} FROM {table} WHERE {column} < :{table}_cutoff")
    if policy.keep_last is not None:
        params[f"{table}_keep"] = policy.keep_last
        parts.append(
            f"SELECT {key} FROM (SELECT {key}, ROW_NUMBER() OVER (PARTITION BY {partition} "
            f"ORDER BY {column} DESC, {last} DESC) AS rn FROM {table}) AS ranked "
            f"WHERE rn > :{table}_keep"
        )
    return " UNION ".join(parts)


def _after(tx: Tx, entity: str) -> None:
    """What goes with an entity's pruned rows, where no foreign key cascades: a checkpoint's
    pending writes, and the channel values of a thread with no checkpoint left. (A thread
    that keeps checkpoints keeps its channel values: which ones the survivors still name is
    written inside them, in LangGraph's encoding; `MemvaultSaver.prune` reclaims those.)"""
    if entity != "graph_checkpoints":
        return
    same_checkpoint = "AND c.checkpoint_id = graph_checkpoint_writes.checkpoint_id"
    for table, also in (
        ("graph_checkpoint_writes", same_checkpoint),
        ("graph_checkpoint_blobs", ""),
    ):
        tx.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM graph_checkpoints c"
            f" WHERE c.owner = {table}.owner AND c.thread_id = {table}.thread_id"
            f" AND c.checkpoint_ns = {table}.checkpoint_ns"
            f" {also})"
        )


class Retention(Domain):
    """`vault.retention`: how long each kind of record is kept, and pruning."""

    def set(
        self, entity: str, *, max_age_days: int | None = None, keep_last: int | None = None
    ) -> RetentionPolicy:
        """Create or replace the policy of `entity` (one of ENTITIES)."""
        entity = v.choice("entity", entity, ENTITIES)
        if max_age_days is not None:
            max_age_days = v.integer("max_age_days", max_age_days, minimum=1)
        if keep_last is not None:
            keep_last = v.integer("keep_last", keep_last, minimum=0)
        if max_age_days is None and keep_last is None:
            raise InvalidInput("max_age_days", None, "give max_age_days, keep_last or both")
        with self._store.write() as tx:
            row = tx.returning(
                insert_sql("retention_policies", POLICY_COLUMNS)
                + " ON CONFLICT (entity) DO UPDATE SET max_age_days = excluded.max_age_days, "
                "keep_last = excluded.keep_last RETURNING *",
                {"id": new_id(), "entity": entity, "max_age_days": max_age_days,
                 "keep_last": keep_last, "created_at": tx.ts(self._now())},
            )  # fmt: skip
            policy = policy_from_row(tx, row)
            self._emit(
                tx,
                "retention.policy_set",
                None,
                {"policy_id": policy.id},
                {"entity": entity, "max_age_days": max_age_days, "keep_last": keep_last},
            )
            return policy

    def get(self, entity: str) -> RetentionPolicy:
        entity = v.choice("entity", entity, ENTITIES)
        with self._store.read() as tx:
            row = tx.one("SELECT * FROM retention_policies WHERE entity = :e", {"e": entity})
            if row is None:
                raise NotFound("retention policy", entity)
            return policy_from_row(tx, row)

    def list(self) -> list[RetentionPolicy]:
        with self._store.read() as tx:
            rows = tx.all("SELECT * FROM retention_policies ORDER BY entity")
            return [policy_from_row(tx, r) for r in rows]

    def remove(self, entity: str) -> None:
        """Delete the policy of `entity` (its rows are then kept forever)."""
        entity = v.choice("entity", entity, ENTITIES)
        with self._store.write() as tx:
            row = tx.one(
                "DELETE FROM retention_policies WHERE entity = :e RETURNING id", {"e": entity}
            )
            if row is None:
                raise NotFound("retention policy", entity)
            self._emit(tx, "retention.policy_removed", None, {"policy_id": str(row["id"])})

    def prune(self, *, dry_run: bool = False, now: datetime | None = None) -> PruneReport:
        """Apply every policy; returns the rows removed per entity (with `dry_run`, the rows
        that would be, nothing deleted). One transaction: all policies or none."""
        at = v.optional_when("now", now) or self._now()
        removed: dict[str, int] = {}
        ctx = self._store.read() if dry_run else self._store.write()
        with ctx as tx:
            policies = [
                policy_from_row(tx, r)
                for r in tx.all("SELECT * FROM retention_policies ORDER BY entity")
            ]
            for policy in policies:
                params: dict[str, Any] = {}
                doomed = doomed_sql(policy, params, tx, at)
                if dry_run:
                    removed[policy.entity] = int(
                        tx.scalar(f"SELECT COUNT(*) FROM ({doomed}) AS doomed", params)
                    )
                else:
                    key = KEYS.get(policy.entity, "id")
                    cur = tx.execute(
                        f"DELETE FROM {policy.entity} WHERE ({key}) IN ({doomed})", params
                    )
                    removed[policy.entity] = int(cur.rowcount)
                    _after(tx, policy.entity)
            if not dry_run and any(removed.values()):
                self._emit(tx, "retention.pruned", None, {}, {"removed": dict(removed)})
        return PruneReport(dry_run, at, removed, policies)
