"""The transfer from start to end: open both stores, start or resume the run, copy every
table, rebuild the destination's indexes and foreign keys, verify, close the run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack

from memvault.ids import new_id
from memvault.migrate.rowdigest import RowDigest
from memvault.migrate.transfer import destination as ends
from memvault.migrate.transfer import resume
from memvault.migrate.transfer import source as reading
from memvault.migrate.transfer.copying import Copier
from memvault.migrate.transfer.errors import TransferError, VerificationFailed
from memvault.migrate.transfer.result import Progress, TableResult, TransferResult
from memvault.migrate.transfer.tables import TableSpec, table_specs
from memvault.migrate.transfer.verification import DestinationChecks
from memvault.store.base import Store, Tx
from memvault.store.engine import open_store, parse_url


def transfer(
    source: str,
    destination: str,
    *,
    batch: int = reading.BATCH_ROWS,
    progress: Progress | None = None,
    sqlite_sync_off: bool = False,
) -> TransferResult:
    """Copy every memvault table of `source` into `destination` (store URLs) and verify it.

    Raises DestinationNotEmpty, TransferError (a value the destination cannot hold, named by
    table, primary key and column) or VerificationFailed (with `.result`). Running it again
    after a crash resumes the unfinished transfer. `sqlite_sync_off` skips fsyncs on a
    SQLite destination while loading (safe to resume, since checkpoints commit with rows,
    but a power loss may corrupt the file)."""
    started = time.perf_counter()
    src_loc, dst_loc = parse_url(source), parse_url(destination)
    ident = reading.identity(src_loc)
    if ident == reading.identity(dst_loc):
        raise TransferError("source and destination are the same store")
    batch = max(1, batch)
    specs = table_specs()
    with ExitStack() as stack:
        # The source is only read: a missing SQLite file is an error, never created.
        src_store = open_store(src_loc, create=False)
        stack.callback(src_store.close)
        reading.check_revision(src_store)
        dst = ends.open_destination(dst_loc, sync_off=sqlite_sync_off)
        stack.callback(dst.close)
        # One consistent view of the source for the whole run, read by every copying thread.
        src = stack.enter_context(src_store.snapshot())
        return _run(src, src_loc.safe_url, dst, ident, specs, batch, progress, started, stack)
    raise AssertionError("unreachable")  # pragma: no cover  (mypy: ExitStack may swallow)


def _run(
    src: Tx,
    src_url: str,
    dst: Store,
    ident: str,
    specs: Sequence[TableSpec],
    batch: int,
    progress: Progress | None,
    started: float,
    stack: ExitStack,
) -> TransferResult:
    dst_url = dst.location.safe_url
    reading.check_not_a_destination(src, src_url)
    with dst.read() as tx:
        found = resume.find(tx, ident, dst_url)
    if found is None:
        run_id = new_id()
        with dst.write() as tx:
            ends.check_empty(tx, specs, dst_url)
            indexes = ends.plain_indexes(tx, specs)
            fks = ends.foreign_keys(tx, specs)
            opts = {
                "destination": dst_url,
                "dropped_indexes": [list(i) for i in indexes],
                "dropped_foreign_keys": [list(f) for f in fks],
                "batch": batch,
            }
            ends.strip(tx, indexes, fks)
            resume.start(tx, run_id, ident, opts)
        resumed = False
    else:
        run_id, opts = found
        resumed = True
        with dst.write() as tx:
            resume.reopen(tx, run_id)
    with dst.read() as tx:
        pg_vectors = dst.engine == "postgresql" and bool(
            tx.scalar(
                "SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'embeddings' AND column_name = 'vec'"
            )
        )
        points = resume.positions(tx, run_id)
    copier = Copier(src, dst, run_id, batch, progress, pg_vectors, src_url)
    result = TransferResult(src_url, dst_url, run_id, resumed)
    digests: dict[str, RowDigest] = {}
    tables: dict[str, TableResult] = {}
    checks = DestinationChecks(dst, run_id, batch)
    stack.callback(checks.close)
    totals = reading.count_rows(src, specs)

    def copy(part: Sequence[TableSpec]) -> None:
        for spec in part:
            t0 = time.perf_counter()
            table_result = TableResult(spec.name)
            digest = RowDigest(spec)
            copier.copy_table(spec, points.get(spec.name, {}), digest, table_result,
                              totals[spec.name])  # fmt: skip
            table_result.seconds = time.perf_counter() - t0
            digests[spec.name] = digest
            tables[spec.name] = table_result
            checks.submit(spec)  # runs while the next table copies

    largest = copier.beside(specs, totals)
    if largest is None:
        copy(specs)
    else:
        copier.copy_beside(copy, specs, largest)
    result.tables = [tables[spec.name] for spec in specs]
    result.indexes_rebuilt = ends.finish(dst, opts, specs)
    result.copy_seconds = time.perf_counter() - started
    t1 = time.perf_counter()
    for table_result, spec in zip(result.tables, specs, strict=True):
        src_digest = digests[spec.name]
        dst_digest = checks.result(spec)
        table_result.source_rows = src_digest.count
        table_result.source_checksum = src_digest.hexdigest
        table_result.dest_rows = dst_digest.count
        table_result.dest_checksum = dst_digest.hexdigest
    result.verify_seconds = time.perf_counter() - t1
    with dst.write() as tx:
        resume.close(tx, run_id, result.ok)
    result.seconds = time.perf_counter() - started
    if not result.ok:
        bad = ", ".join(
            f"{t.table} ({t.source_rows} → {t.dest_rows} rows"
            + (", content differs" if t.source_rows == t.dest_rows else "")
            + ")"
            for t in result.mismatches
        )
        raise VerificationFailed(f"verification failed: {bad}", result)
    return result
