"""PostgreSQL through psycopg's async driver (`AsyncConnectionPool`), for `memvault.aio`.

It runs plans (`memvault.store.plan`), the same generators the sync `Tx` runs: each step's
queries go to the server in one pipeline, so a step costs one round trip however many
statements it holds, and a write transaction's BEGIN and COMMIT ride with its steps.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from memvault.errors import StoreBusy, StoreError
from memvault.store.base import Location, Row
from memvault.store.plan import Final, Plan, Query, Results, Step
from memvault.store.postgres import PostgresValues, to_pyformat, translate

T = TypeVar("T")


class AsyncPostgresTx(PostgresValues):
    """One connection of the async pool, inside a write transaction or (reads) autocommit."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], writable: bool) -> None:
        self.conn = conn
        self.writable = writable

    async def run(self, plan: Plan[T], step: Step | None = None) -> T:
        """Drive `plan` (whose first step is `step` when already taken): each step in one
        pipeline (one round trip)."""
        try:
            step = next(plan) if step is None else step
            while True:
                results = await self._step(step)
                step = plan.send(results)
        except StopIteration as done:
            result: T = done.value
            return result

    async def _step(self, step: Step, *, pipeline: bool = False) -> Results:
        if len(step) == 1 and step[0].many is None and not pipeline:
            return [await self._one(step[0])]
        try:
            async with self.conn.pipeline():
                cursors = [await self._send(q) for q in step]
            # Leaving the pipeline synced it: every result is here.
            return [
                (await cur.fetchall()) if cur is not None and q.fetch else []
                for cur, q in zip(cursors, step, strict=True)
            ]
        except psycopg.Error as exc:
            raise translate(exc, step[0].sql) from exc

    async def _send(self, query: Query) -> psycopg.AsyncCursor[Any] | None:
        cur = self.conn.cursor()
        if query.many is not None:
            if query.many:
                await cur.executemany(to_pyformat(query.sql), query.many)
            return None
        await cur.execute(to_pyformat(query.sql), query.params or {})
        return cur

    async def _one(self, query: Query) -> list[Row]:
        try:
            cur = await self.conn.execute(to_pyformat(query.sql), query.params or {})
            rows: list[Row] = await cur.fetchall() if query.fetch else []
            return rows
        except psycopg.Error as exc:
            raise translate(exc, query.sql) from exc


class AsyncPostgresStore:
    """A PostgreSQL database served by psycopg's `AsyncConnectionPool` (bound to the event
    loop that `open`s it)."""

    engine = "postgresql"

    def __init__(self, location: Location, *, max_size: int = 10, timeout: float = 10.0) -> None:
        self.location = location
        self.values = PostgresValues()  # what plans build their parameters with
        self._pid = os.getpid()
        self.pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            location.conninfo or "",
            min_size=1,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=False,
            name="memvault-aio",
        )

    async def open(self) -> None:
        """Open the pool (and its first connection) on the running loop."""
        await self.pool.open(wait=True)

    async def close(self) -> None:
        """Close every connection."""
        await self.pool.close()

    async def run_write(self, plan: Plan[T]) -> T:
        """Run a write plan atomically: a `Final` first step as one pipeline (PostgreSQL runs
        the statements before a pipeline's sync as one implicit transaction: one round
        trip), any other plan in a transaction (each step one pipelined round trip)."""
        step = next(plan)
        async with self._connection() as conn:
            tx = AsyncPostgresTx(conn, writable=True)
            if isinstance(step, Final):
                # One statement is atomic as it is; several go as one pipeline.
                results = await tx._step(step, pipeline=len(step) > 1)
                try:
                    plan.send(results)
                except StopIteration as done:
                    result: T = done.value
                    return result
                raise StoreError("a plan yielded a step after its Final one")
            try:
                async with conn.transaction():
                    return await tx.run(plan, step)
            except psycopg.Error as exc:
                raise translate(exc) from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncPostgresTx]:
        """A connection for reads, in autocommit: each statement sees the latest commits (a
        plan whose steps must share one snapshot should run in `write`)."""
        async with self._connection() as conn:
            yield AsyncPostgresTx(conn, writable=False)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if os.getpid() != self._pid:
            raise StoreError(
                f"this vault was opened in process {self._pid} and is used in process "
                f"{os.getpid()} after fork(); open a new one in the child process"
            )
        try:
            async with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreBusy(f"no PostgreSQL connection free in time: {exc}") from exc
