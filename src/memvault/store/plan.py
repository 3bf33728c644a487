"""Plans: database work written once, run by a sync `Tx` or an async one (sans-IO).

A plan is a generator that yields *steps* — lists of `Query` that do not depend on each
other's results — and receives each step's results (the rows of every `fetch` query, `[]`
for the others) before it yields the next one; its return value is the plan's result.

    def count_plan(values: Values, user_id: str) -> Plan[int]:
        (rows,) = yield [Query("SELECT count(*) AS n FROM memories WHERE user_id = :u",
                               {"u": user_id}, fetch=True)]
        return int(rows[0]["n"])

`run(tx, plan)` drives it on a sync `Tx` (one query after another, inside the caller's
transaction); `memvault.store.apostgres.AsyncPostgresStore` drives the same generator on
psycopg's async connection, sending each step's queries in one pipeline (one round trip).
The logic — SQL, parameters, decoding — exists once; only the two small drivers know I/O.

A write plan whose first step is its only one says so by yielding `Final([...])`: the
async driver then sends it as one pipeline that PostgreSQL runs as one implicit
transaction (all or nothing), without a BEGIN and a COMMIT round trip of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from memvault.store.base import Params, Row, Store, Tx

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Query:
    """One statement of a step: `params` for one execution, or `many` for `executemany`;
    `fetch` returns its rows."""

    sql: str
    params: Params | None = None
    many: Sequence[Params] | None = None
    fetch: bool = False


Step = list[Query]


class Final(list[Query]):
    """A step after which the plan yields no other: it may run as one atomic pipeline."""


Results = list[list[Row]]
Plan = Generator[Step, Results, T]


class Values(Protocol):
    """What a plan needs of the engine to build parameters: a sync `Tx` or an async one."""

    engine: str

    def ts(self, value: datetime | None) -> Any: ...

    def json(self, value: Any) -> Any: ...

    @staticmethod
    def json_out(value: Any) -> Any: ...


def run(tx: Tx, plan: Plan[T]) -> T:
    """Drive `plan` on the sync transaction `tx` (queries run in order)."""
    try:
        step = next(plan)
        while True:
            step = plan.send([_execute(tx, q) for q in step])
    except StopIteration as done:
        result: T = done.value
        return result


def run_in(store: Store, make: Callable[[Values], Plan[T]], *, write: bool) -> T:
    """Run the plan `make(tx)` in a `store.write()` or `store.read()` transaction (joining
    one open on this thread)."""
    with store.write() if write else store.read() as tx:
        return run(tx, make(tx))


def _execute(tx: Tx, query: Query) -> list[Row]:
    if query.many is not None:
        if query.many:
            tx.executemany(query.sql, query.many)
        return []
    if query.fetch:
        return tx.all(query.sql, query.params)
    tx.execute(query.sql, query.params)
    return []
