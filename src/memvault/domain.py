"""What every domain API shares: its Vault, SQL building for inserts, events (the owner rule
is `memvault.scope`; `ANY` and `Owner` are re-exported here for older imports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from memvault.errors import NotFound
from memvault.records import Event
from memvault.scope import ANY, Owner, _AnyOwner
from memvault.store.base import Store, Tx

if TYPE_CHECKING:
    from memvault.vault import Vault


@lru_cache(maxsize=512)
def insert_sql(
    table: str, columns: tuple[str, ...], returning: str = "", *, conflict: bool = False
) -> str:
    """`INSERT INTO table (cols) VALUES (:cols)`; `conflict` adds ON CONFLICT DO NOTHING."""
    cols = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    tail = " ON CONFLICT DO NOTHING" if conflict else ""
    tail += f" RETURNING {returning}" if returning else ""
    return f"INSERT INTO {table} ({cols}) VALUES ({values}){tail}"


def key_prefix_sql(prefix: str, params: dict[str, Any], column: str = "key") -> str:
    """Rows whose `column` starts with `prefix`, matched literally ("": every row with a
    key). `substr` rather than LIKE: no wildcard to escape, and case-sensitive on both
    engines (SQLite's LIKE folds ASCII case)."""
    if not prefix:
        return f"{column} IS NOT NULL"
    params["key_prefix"] = prefix
    params["key_prefix_len"] = len(prefix)
    return f"substr({column}, 1, CAST(:key_prefix_len AS INTEGER)) = :key_prefix"


__all__ = ["ANY", "Domain", "Owner", "_AnyOwner", "insert_sql", "key_prefix_sql"]


class Domain:
    """Base of the domain APIs hung on a Vault (`vault.users`, `vault.memories`, …)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    @property
    def _store(self) -> Store:
        return self._vault.store

    def _now(self) -> datetime:
        return self._vault.clock()

    def _insert(self, tx: Tx, table: str, values: Mapping[str, Any], returning: str = "") -> Any:
        return tx.execute(insert_sql(table, tuple(values), returning), values)

    def _require_user(self, tx: Tx, user_id: str | None) -> None:
        """Refuse a write naming a user that does not exist (clear error, not an FK failure)."""
        if (
            user_id is not None
            and tx.one("SELECT 1 FROM users WHERE id = :u", {"u": user_id}) is None
        ):
            raise NotFound("user", user_id)

    def _emit(
        self,
        tx: Tx,
        kind: str,
        user_id: str | None,
        ids: dict[str, str],
        data: dict[str, Any] | None = None,
    ) -> None:
        event = Event(kind, user_id, ids, self._now(), data or {})
        tx.after_commit(lambda: self._vault.events.publish(event))
