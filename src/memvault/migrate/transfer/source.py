"""Reading the source: its identity across runs, its schema revision, and each table in
primary-key order (keyset: `WHERE pk > last`) from one snapshot (`Store.snapshot`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from memvault.migrate import runs
from memvault.migrate.transfer.errors import TransferError
from memvault.migrate.transfer.tables import TableSpec
from memvault.store import migrator
from memvault.store.base import Location, Store, Tx

BATCH_ROWS = 20_000
FORMAT = "memvault.transfer"  # the `import_runs.format` of a transfer's run


def identity(location: Location) -> str:
    """What names a source across runs: its absolute file path, or its safe URL."""
    if location.engine == "sqlite":
        path = location.path or ":memory:"
        return "sqlite:///" + (path if path == ":memory:" else str(Path(path).resolve()))
    return location.safe_url


def check_revision(store: Store) -> None:
    """The source must hold memvault's schema at the newest revision."""
    url = store.location.safe_url
    rev = migrator.current(store)
    if rev is None:
        raise TransferError(f"{url} is not a memvault store (no schema)")
    if rev != migrator.head():
        raise TransferError(
            f"{url} is at schema revision {rev}; this memvault writes "
            f"{migrator.head()}: run `memvault upgrade --db SOURCE` first"
        )


def check_not_a_destination(tx: Tx, url: str) -> None:
    """A store that is itself receiving a transfer is not a source yet."""
    if runs.unfinished_runs(tx, FORMAT):
        raise TransferError(
            f"{url} is itself the destination of an unfinished transfer; "
            "finish that transfer before copying this store"
        )


def keyset_select(
    spec: TableSpec, after: Sequence[Any] | None, upto: Sequence[Any] | None, where: str = ""
) -> tuple[str, dict[str, Any]]:
    """SELECT of `spec`'s columns in primary-key order, after `after` and up to `upto`."""
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    pk = ", ".join(f'"{p}"' for p in spec.pk)
    conds: list[str] = [where] if where else []
    params: dict[str, Any] = {}
    for label, bound, op in (("a", after, ">"), ("u", upto, "<=")):
        if bound is not None:
            marks = ", ".join(f":{label}{i}" for i in range(len(spec.pk)))
            conds.append(f"({pk}) {op} ({marks})")
            params.update({f"{label}{i}": v for i, v in enumerate(bound)})
    sql = f"SELECT {cols} FROM {spec.name}"
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    return sql + f" ORDER BY {pk}", params


def stream(
    tx: Tx,
    spec: TableSpec,
    after: Sequence[Any] | None = None,
    upto: Sequence[Any] | None = None,
    batch: int = BATCH_ROWS,
    where: str = "",
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `spec` as stored (`Tx.scan`), in primary-key order, `batch` at a time."""
    sql, params = keyset_select(spec, after, upto, where)
    return tx.scan(sql, params, batch=batch)


def count_rows(tx: Tx, specs: Sequence[TableSpec]) -> dict[str, int]:
    """Rows per table."""
    return {s.name: int(tx.scalar(f"SELECT count(*) AS n FROM {s.name}")) for s in specs}
