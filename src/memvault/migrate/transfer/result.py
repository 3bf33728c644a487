"""What a transfer reports: per table, rows and checksums on both sides, rows copied by this
run, and timings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TableResult:
    table: str
    source_rows: int = 0
    dest_rows: int = 0
    source_checksum: str = ""
    dest_checksum: str = ""
    copied: int = 0  # rows written by this run (the rest came from an earlier, resumed run)
    resumed_after: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.source_rows == self.dest_rows and self.source_checksum == self.dest_checksum


@dataclass
class TransferResult:
    source: str
    destination: str
    run_id: str
    resumed: bool
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    copy_seconds: float = 0.0
    verify_seconds: float = 0.0
    indexes_rebuilt: int = 0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def rows_copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def mismatches(self) -> list[TableResult]:
        return [t for t in self.tables if not t.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "run_id": self.run_id,
            "resumed": self.resumed,
            "ok": self.ok,
            "rows": self.rows,
            "rows_copied": self.rows_copied,
            "seconds": round(self.seconds, 3),
            "copy_seconds": round(self.copy_seconds, 3),
            "verify_seconds": round(self.verify_seconds, 3),
            "rows_per_second": round(self.rows / self.seconds) if self.seconds else None,
            "indexes_rebuilt": self.indexes_rebuilt,
            "tables": {
                t.table: {
                    "source_rows": t.source_rows,
                    "dest_rows": t.dest_rows,
                    "copied": t.copied,
                    "resumed_after": t.resumed_after,
                    "source_checksum": t.source_checksum,
                    "dest_checksum": t.dest_checksum,
                    "ok": t.ok,
                }
                for t in self.tables
            },
        }


Progress = Callable[[str, int, int], None]  # (table, rows done, rows total)
