"""Traits: an agent's personality per user (or the agent's base defaults), each value 0–1,
and the history of every change.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import Personality, Trait, TraitChange
from memvault.scope import Owner
from memvault.store.base import Tx
from memvault.store.rows import columns, row_decoder
from memvault.tools import for_update

TRAIT_COLUMNS = columns(Trait, without=("metadata",))
CHANGE_COLUMNS = columns(TraitChange, without=("agent", "name"))

trait_from_row = row_decoder(Trait)
trait_change_from_row = row_decoder(TraitChange)


def _agent(value: Any) -> str:
    return v.text("agent", value, max_len=200)


def _trait_scope(user_id: Owner, params: dict[str, Any], column: str = "user_id") -> str:
    """Traits are read per owner (a user id, or None for the agent's base defaults)."""
    if scope.is_any(user_id):
        raise InvalidInput("user_id", user_id, "traits are read per owner (a user id or None)")
    return scope.clause(user_id, params, column)


class Traits(Domain):
    """`vault.traits`: an agent's personality per user (None: the agent's base defaults),
    each value 0–1; every change is kept in `trait_changes`."""

    def get(self, user_id: str | None, name: str, *, agent: str = "default") -> Trait:
        """One trait (NotFound when never set)."""
        params: dict[str, Any] = {"agent": _agent(agent), "name": v.text("name", name)}
        where = _trait_scope(user_id, params)
        with self._store.read() as tx:
            row = tx.one(
                f"SELECT * FROM traits WHERE {where} AND agent = :agent AND name = :name",
                params,
            )
            if row is None:
                raise NotFound("trait", f"{agent}/{name}")
            return trait_from_row(tx, row)

    def list(self, user_id: str | None, *, agent: str | None = None) -> list[Trait]:
        """Traits of an owner, by agent and name."""
        params: dict[str, Any] = {}
        where = [_trait_scope(user_id, params)]
        if agent is not None:
            params["agent"] = _agent(agent)
            where.append("agent = :agent")
        with self._store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM traits WHERE {' AND '.join(where)} ORDER BY agent, name",
                params,
            )
            return [trait_from_row(tx, r) for r in rows]

    def set(
        self,
        user_id: str | None,
        name: str,
        value: float,
        *,
        agent: str = "default",
        reason: str | None = None,
    ) -> Trait:
        """Set a trait to `value` (0–1); the change (old, new, reason, time) is recorded in
        the same transaction. Setting the value it already has records nothing."""
        value = v.unit("value", value)
        return self._change(user_id, name, agent, reason, lambda old: value)

    def adjust(
        self,
        user_id: str | None,
        name: str,
        delta: float,
        *,
        agent: str = "default",
        reason: str | None = None,
        initial: float = 0.5,
    ) -> Trait:
        """Move a trait by `delta`, clamped to 0–1 (a trait never set starts at `initial`);
        read and write happen in one locked transaction, so concurrent adjustments add up."""
        delta = v.number_("delta", delta)
        initial = v.unit("initial", initial)
        return self._change(
            user_id,
            name,
            agent,
            reason,
            lambda old: round(min(1.0, max(0.0, (initial if old is None else old) + delta)), 12),
        )

    def _change(
        self,
        user_id: str | None,
        name: str,
        agent: str,
        reason: str | None,
        compute: Callable[[float | None], float],
    ) -> Trait:
        user_id = v.optional_id("user_id", user_id)
        name = v.text("name", name, max_len=200)
        agent = _agent(agent)
        reason = v.optional_text("reason", reason, allow_empty=True)
        params: dict[str, Any] = {"agent": agent, "name": name}
        where = scope.clause(user_id, params)
        now = self._now()
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            params["now"] = tx.ts(now)
            row = tx.one(
                f"SELECT * FROM traits WHERE {where} AND agent = :agent AND name = :name"
                + for_update(tx),
                params,
            )
            if row is None:
                new = compute(None)
                row = tx.one(
                    insert_sql("traits", TRAIT_COLUMNS, "*", conflict=True),
                    {"id": new_id(), "user_id": user_id, "agent": agent, "name": name,
                     "value": new, "updated_at": params["now"]},
                )  # fmt: skip
                if row is None:  # created concurrently (PostgreSQL): lock and go on
                    row = tx.one(
                        f"SELECT * FROM traits WHERE {where} AND agent = :agent "
                        "AND name = :name" + for_update(tx),
                        params,
                    )
                    assert row is not None
                else:
                    trait = trait_from_row(tx, row)
                    self._record(tx, trait, None, reason)
                    return trait
            old = float(row["value"])
            new = compute(old)
            if new == old:
                return trait_from_row(tx, row)
            row = tx.returning(
                "UPDATE traits SET value = :value, updated_at = :now WHERE id = :id RETURNING *",
                {"value": new, "now": params["now"], "id": row["id"]},
            )
            trait = trait_from_row(tx, row)
            self._record(tx, trait, old, reason)
            return trait

    def _record(self, tx: Tx, trait: Trait, old: float | None, reason: str | None) -> None:
        tx.execute(
            insert_sql("trait_changes", CHANGE_COLUMNS),
            {
                "id": new_id(),
                "trait_id": trait.id,
                "user_id": trait.user_id,
                "old_value": old,
                "new_value": trait.value,
                "reason": reason,
                "changed_at": tx.ts(trait.updated_at),
            },
        )
        self._emit(
            tx,
            "trait.changed",
            trait.user_id,
            {"trait_id": trait.id},
            {"agent": trait.agent, "name": trait.name, "old": old, "new": trait.value},
        )

    def history(
        self,
        user_id: str | None,
        name: str | None = None,
        *,
        agent: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[TraitChange]:
        """Changes of the owner's traits (one trait when `name` is given), oldest first."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [_trait_scope(user_id, params, "t.user_id")]
        if name is not None:
            params["name"] = v.text("name", name)
            where.append("t.name = :name")
        if agent is not None:
            params["agent"] = _agent(agent)
            where.append("t.agent = :agent")
        with self._store.read() as tx:
            rows = tx.all(
                "SELECT c.*, t.agent, t.name FROM trait_changes c "
                "JOIN traits t ON t.id = c.trait_id "
                f"WHERE {' AND '.join(where)} ORDER BY c.changed_at, c.id "
                "LIMIT :limit OFFSET :offset",
                params,
            )
            return [trait_change_from_row(tx, r) for r in rows]

    def personality(
        self, user_id: str | None, *, agent: str = "default", layered: bool = True
    ) -> Personality:
        """The agent's current personality for the user as one object: with `layered`, the
        base defaults (user None) overridden by the user's own values."""
        agent = _agent(agent)
        traits: dict[str, float] = {}
        updated: datetime | None = None
        owners: list[str | None] = [user_id]
        if user_id is not None and layered:
            owners = [None, user_id]
        for owner in owners:
            for trait in self.list(owner, agent=agent):
                traits[trait.name] = trait.value
                updated = trait.updated_at if updated is None else max(updated, trait.updated_at)
        return Personality(user_id, agent, dict(sorted(traits.items())), updated)
