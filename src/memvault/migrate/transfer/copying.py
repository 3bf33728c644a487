"""Copying tables: each in primary-key order from the source snapshot, the next batch read
and converted on a thread (`prefetch`) while the current one is written (`Tx.load_rows`:
COPY on PostgreSQL, a staging table on SQLite), every batch committed with its checkpoint.
Into PostgreSQL from SQLite, the largest table copies on a second connection of the
destination's pool beside the others (`copy_beside`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from memvault.migrate import copyorder
from memvault.migrate.prefetch import Prefetch
from memvault.migrate.rowdigest import RowDigest
from memvault.migrate.transfer import resume, source
from memvault.migrate.transfer.errors import TransferError
from memvault.migrate.transfer.result import Progress, TableResult
from memvault.migrate.transfer.tables import TableSpec
from memvault.migrate.transfer.values import convert, converters
from memvault.store.base import RowRefused, Store, Tx


@dataclass
class Copier:
    """Copies tables from one source snapshot into one destination store, for one run."""

    source: Tx  # the snapshot, shared by every thread that reads
    destination: Store
    run_id: str
    batch: int
    progress: Progress | None = None
    pg_vectors: bool = False  # the destination has pgvector's `embeddings.vec`
    source_url: str = ""
    deps: dict[str, frozenset[str]] = field(default_factory=dict)

    def row_error(self, spec: TableSpec, row: Sequence[Any], column: str, reason: str) -> None:
        pk = {p: row[i] for p, i in zip(spec.pk, spec.pk_index(), strict=True)}
        shown = ", ".join(f"{k}={v!r}" for k, v in pk.items())
        raise TransferError(
            f"{self.source_url}: table {spec.name}, row {shown}, column {column}: {reason}"
        )

    def write(self, tx: Tx, spec: TableSpec, rows: list[tuple[Any, ...]], vec: bool,
              meanwhile: Callable[[], None]) -> None:  # fmt: skip
        """Load `rows`; a refused row is named by table, primary key and column."""
        cols = list(spec.column_names) + (["vec"] if vec else [])
        try:
            tx.load_rows(spec.name, cols, rows, meanwhile=meanwhile)
        except RowRefused as exc:
            pg = tx.engine == "postgresql"
            if exc.index is not None:
                label = "PostgreSQL refused the value" if pg else "SQLite refused the row"
                self.row_error(spec, rows[exc.index], exc.column or "?", f"{label}: {exc.reason}")
            how = f"COPY into {spec.name} failed: {exc.reason} {exc.context}" if pg else (
                f"INSERT into {spec.name} failed: {exc.reason}")  # fmt: skip
            raise TransferError(f"{self.destination.location.safe_url}: {how}") from exc

    def copy_table(self, spec: TableSpec, state: dict[str, Any], digest: RowDigest,
                   result: TableResult, total: int) -> None:  # fmt: skip
        """Copy what is left of `spec` after its checkpoint `state`; `digest` gets every source
        row, those an earlier run copied included."""
        src, dst = self.source, self.destination
        last = state.get("last")
        done = int(state.get("rows", 0))
        result.resumed_after = done
        if last is not None:  # rows copied by an earlier run: checksum them again, from now
            for chunk in source.stream(src, spec, upto=last, batch=self.batch):
                digest.add_many(chunk)
        if state.get("done"):
            return
        vec = spec.name == "embeddings" and dst.engine == "postgresql" and self.pg_vectors
        convs = converters(spec, src.engine, dst.engine)
        pk_idx = spec.pk_index()
        refused = partial(self.row_error, spec)
        # The next chunk is read and converted on a thread while this one is written.
        converted = (
            (chunk, convert(spec, chunk, convs, vec, refused))
            for chunk in source.stream(src, spec, after=last, batch=self.batch)
        )
        with Prefetch(converted) as ahead:
            for chunk, rows in ahead:
                with dst.write() as tx:
                    self.write(tx, spec, rows, vec, partial(digest.add_many, chunk))
                    last = [chunk[-1][i] for i in pk_idx]
                    done += len(chunk)
                    result.copied += len(chunk)
                    resume.save(tx, self.run_id, spec.name, done, {"last": last, "rows": done})
                if self.progress:
                    self.progress(spec.name, done, total)
        with dst.write() as tx:
            resume.save(
                tx, self.run_id, spec.name, done, {"last": last, "rows": done, "done": True}
            )

    def beside(self, specs: Sequence[TableSpec], totals: dict[str, int]) -> TableSpec | None:
        """The table to copy on a connection of its own beside the others, or None.

        On PostgreSQL the destination's CPU is the bottleneck (the generated `fts` columns),
        and foreign keys are dropped while the copy runs, so the largest table (`messages`)
        goes on a second connection, a second server process, while the other tables copy
        on the first. Each table keeps its own checkpoints, so a resume is unchanged. Only
        from a SQLite source: one snapshot transaction on one connection is read by both.
        Derived tables keep their foreign keys, so each table still waits for the tables it
        depends on (`copyorder`); when that order cannot hold on two connections, None.
        """
        if self.source.engine != "sqlite" or self.destination.engine != "postgresql":
            return None
        if len(specs) < 2:
            return None
        spec = max(specs, key=lambda s: totals[s.name])
        if totals[spec.name] == 0:
            return None
        self.deps = self.dependencies(specs)
        return spec if copyorder.in_order([s.name for s in specs], self.deps) else None

    def dependencies(self, specs: Sequence[TableSpec]) -> dict[str, frozenset[str]]:
        """Per copied table, the copied tables to commit before it (see `copyorder`)."""
        from memvault.store.schema import metadata

        parents = {
            t.name: {fk.column.table.name for fk in t.foreign_keys}
            for t in metadata.tables.values()
        }
        names = [s.name for s in specs]
        derived = set(metadata.tables) - set(names)
        with self.destination.read() as tx:

            def rows(sql: str) -> list[tuple[Any, ...]]:
                return [row for chunk in tx.scan(sql) for row in chunk]

            writes = copyorder.trigger_writes(tx.engine, rows, derived)
        return copyorder.dependencies(names, parents, writes)

    def copy_beside(self, copy: Callable[[Sequence[TableSpec]], None],
                    specs: Sequence[TableSpec], largest: TableSpec) -> None:  # fmt: skip
        """Copy `largest` on a second thread (and so a second connection of the destination's
        pool) while `copy` does the rest here, each table once its dependencies are committed
        (`copyorder.Gate`); both finish (or fail) before this returns, the first real failure
        is raised."""
        rest = [s for s in specs if s is not largest]
        gate = copyorder.Gate(self.deps)

        def copy_all(part: Sequence[TableSpec]) -> None:
            try:
                for spec in part:
                    gate.wait(spec.name)
                    copy([spec])
                    gate.done(spec.name)
            except BaseException:
                gate.fail()  # the other connection stops at its next table
                raise

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="memvault-copy") as pool:
            other = pool.submit(copy_all, [largest])
            try:
                copy_all(rest)
            except copyorder.Gate.Aborted:
                pass  # the other connection failed: its error is raised below
            finally:
                failed = other.exception()  # waits for it, whatever happened here
            if failed is not None and not isinstance(failed, copyorder.Gate.Aborted):
                raise failed
