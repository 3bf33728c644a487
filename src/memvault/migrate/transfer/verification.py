"""Verification: per table, the row count and order-independent content checksum
(`rowdigest`) of the source snapshot and of what the destination holds. PostgreSQL computes
its own in SQL (no row leaves the server); SQLite's rows are digested in Python."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from memvault.migrate import runs
from memvault.migrate.rowdigest import RowDigest, pg_checksum_sql
from memvault.migrate.transfer import source
from memvault.migrate.transfer.source import BATCH_ROWS, FORMAT
from memvault.migrate.transfer.tables import TableSpec, table_specs
from memvault.store.base import Store, Tx
from memvault.store.engine import open_store, parse_url


def table_digest(tx: Tx, spec: TableSpec, where: str = "", batch: int = BATCH_ROWS) -> RowDigest:
    """The rows' checksum: computed by PostgreSQL itself, or in Python from SQLite's rows."""
    digest = RowDigest(spec)
    if tx.engine == "postgresql":
        # `scan` renders times in UTC, ISO, as the checksum's definition wants.
        rows = [row for chunk in tx.scan(pg_checksum_sql(spec, where)) for row in chunk]
        count, *lanes = rows[0]
        digest.add_sums(int(count), [int(x) for x in lanes])
        return digest
    for chunk in source.stream(tx, spec, batch=batch, where=where):
        digest.add_many(chunk)
    return digest


def own_rows(spec: TableSpec, run_ids: list[str]) -> str:
    """A condition leaving out a transfer's own bookkeeping rows, which are not content."""
    if not run_ids or spec.name not in ("import_runs", "import_checkpoints"):
        return ""
    col = "id" if spec.name == "import_runs" else "run_id"
    return f"{col} NOT IN ({', '.join(repr(r) for r in run_ids)})"


class DestinationChecks:
    """The destination's checksums. PostgreSQL computes them on a connection of its own,
    driven from a thread, while the main thread copies the next table and rebuilds the
    indexes (checksums read committed rows only; they take no lock that index builds or
    foreign-key validation wait for). A SQLite destination is checksummed at the end."""

    def __init__(self, store: Store, run_id: str, batch: int) -> None:
        self.store = store
        self.run_id = run_id
        self.batch = batch
        self.pending: dict[str, Future[RowDigest]] = {}
        self.pool: ThreadPoolExecutor | None = None
        if store.engine == "postgresql":
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memvault-verify")

    def digest(self, spec: TableSpec) -> RowDigest:
        with self.store.read() as tx:
            return table_digest(tx, spec, own_rows(spec, [self.run_id]), self.batch)

    def submit(self, spec: TableSpec) -> None:
        """Start on `spec` now if the engine can work beside the copy."""
        if self.pool is not None:
            self.pending[spec.name] = self.pool.submit(self.digest, spec)

    def result(self, spec: TableSpec) -> RowDigest:
        if spec.name in self.pending:
            return self.pending.pop(spec.name).result()
        return self.digest(spec)

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def checksum_store(url: str, *, batch: int = BATCH_ROWS) -> dict[str, tuple[int, str]]:
    """(row count, content checksum) per table of the store at `url`, as the transfer
    computes them; comparable across engines. Unfinished transfer bookkeeping is skipped."""
    store = open_store(parse_url(url), create=False)
    try:
        with store.snapshot() as tx:
            run_ids = [r[0] for r in runs.unfinished_runs(tx, FORMAT)]
            out: dict[str, tuple[int, str]] = {}
            for spec in table_specs():
                digest = table_digest(tx, spec, own_rows(spec, run_ids), batch)
                out[spec.name] = (digest.count, digest.hexdigest)
            return out
    finally:
        store.close()
