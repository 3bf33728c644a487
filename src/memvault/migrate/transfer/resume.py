"""An unfinished transfer and where it stopped: its `import_runs` row (format
`memvault.transfer`, source identity, the indexes and foreign keys it dropped) and one
checkpoint per table (the last primary key copied), written through `runs` in the same
transaction as the rows they cover, so a killed transfer resumes without duplicating a row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from memvault.migrate import runs
from memvault.migrate.transfer.errors import DestinationNotEmpty
from memvault.migrate.transfer.source import FORMAT
from memvault.store.base import Tx


def find(tx: Tx, source: str, destination_url: str) -> tuple[str, dict[str, Any]] | None:
    """(run id, options) of the destination's unfinished transfer from `source`, or None;
    DestinationNotEmpty when it holds one from another source."""
    for run_id, from_, opts in runs.unfinished_runs(
        tx, FORMAT, statuses=("running", "mismatch", "failed")
    ):
        if from_ != source:
            raise DestinationNotEmpty(
                f"{destination_url} holds an unfinished transfer from {from_}, "
                f"not from {source}; finish that one or use an empty destination"
            )
        return run_id, opts
    return None


def start(tx: Tx, run_id: str, source: str, options: dict[str, Any]) -> None:
    """Record a new transfer run."""
    runs.start_run(tx, run_id, source, FORMAT, options, datetime.now(UTC))


def reopen(tx: Tx, run_id: str) -> None:
    """Mark an interrupted transfer running again."""
    runs.set_status(tx, run_id, "running")


def positions(tx: Tx, run_id: str) -> dict[str, dict[str, Any]]:
    """Per table: `{"last": primary key, "rows": n, "done": bool}` of the run so far."""
    return {table: cp.state for table, cp in runs.load_checkpoints(tx, run_id).items()}


def save(tx: Tx, run_id: str, table: str, rows: int, state: dict[str, Any]) -> None:
    """Move the table's checkpoint; commit it with the rows it covers."""
    runs.save_checkpoint(tx, run_id, table, rows, rows, state)


def close(tx: Tx, run_id: str, ok: bool) -> None:
    """A verified transfer leaves no bookkeeping behind; a mismatch keeps its run row."""
    if ok:
        runs.delete_run(tx, run_id)
    else:
        runs.set_status(tx, run_id, "mismatch")
