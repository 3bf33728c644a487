"""Which tables a transfer must finish before it copies another one on a second connection.

A transfer drops the destination's foreign keys while it loads, but not those of the
derived tables that triggers fill as rows arrive: inserting an `emotion_events` row makes
its trigger upsert an `emotion_rollups` row, whose foreign key to `users` stays in force.
Copied one table after the other in foreign-key order, the users are always there first;
copied on two connections at once, the events could arrive before their users were
committed, and PostgreSQL refused them (the issue: 5 failed transfers of 5 when the events
were the largest table). So each table gets its dependencies: the tables its foreign keys
name, and the tables named by the foreign keys of every derived table its triggers write
(following triggers of those derived tables too). A table may be copied on a connection
only once every dependency is committed, whichever connection copies it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# (table, trigger code) pairs of the destination's triggers, and the SQL that lists them.
TriggerRows = Callable[[str], Sequence[tuple[Any, ...]]]
PG_TRIGGERS = (
    "SELECT c.relname, p.prosrc FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal "
    "AND c.relnamespace = current_schema()::regnamespace"
)
SQLITE_TRIGGERS = "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"


def trigger_writes(engine: str, rows: TriggerRows, derived: Iterable[str]) -> dict[str, set[str]]:
    """{table: the derived tables its triggers mention}, read from the destination's own
    triggers (so a new trigger is seen without a list to keep up to date here)."""
    names = sorted(derived)
    found: dict[str, set[str]] = {}
    for table, code in rows(PG_TRIGGERS if engine == "postgresql" else SQLITE_TRIGGERS):
        for name in names:
            if name != table and re.search(rf"\b{re.escape(name)}\b", str(code or "")):
                found.setdefault(str(table), set()).add(name)
    return found


def dependencies(
    tables: Sequence[str],
    parents: Mapping[str, Iterable[str]],
    writes: Mapping[str, Iterable[str]],
) -> dict[str, frozenset[str]]:
    """For each of `tables` (the copied ones), the copied tables that must be committed
    before it: its foreign-key `parents`, and the parents of every derived table its
    triggers write (`writes`, followed transitively). A table never depends on itself."""
    copied = set(tables)
    deps: dict[str, frozenset[str]] = {}
    for table in tables:
        need = set(parents.get(table, ()))
        seen: set[str] = set()
        todo = list(writes.get(table, ()))
        while todo:
            derived = todo.pop()
            if derived in seen:
                continue
            seen.add(derived)
            need.update(parents.get(derived, ()))
            todo.extend(writes.get(derived, ()))
        deps[table] = frozenset(need & copied - {table})
    return deps


def in_order(order: Sequence[str], deps: Mapping[str, frozenset[str]]) -> bool:
    """True when every table's dependencies come before it in `order`. Then one connection
    copying `order` and another copying any one table of it, each waiting for dependencies,
    can never wait for each other."""
    position = {name: i for i, name in enumerate(order)}
    return all(position.get(d, len(order)) < position[t] for t in order for d in deps.get(t, ()))


class Gate:
    """Committed tables, shared by the connections copying them: `wait(table)` returns once
    its dependencies are committed, or raises `Aborted` when another connection failed."""

    class Aborted(Exception):
        """Another connection failed: stop copying."""

    def __init__(self, deps: Mapping[str, frozenset[str]]) -> None:
        self.deps = deps
        self._done: set[str] = set()
        self._failed = False
        self._changed = threading.Condition()

    def wait(self, table: str) -> None:
        with self._changed:
            self._changed.wait_for(
                lambda: self._failed or self.deps.get(table, frozenset()) <= self._done
            )
            if self._failed:
                raise Gate.Aborted(table)

    def done(self, table: str) -> None:
        with self._changed:
            self._done.add(table)
            self._changed.notify_all()

    def fail(self) -> None:
        with self._changed:
            self._failed = True
            self._changed.notify_all()
