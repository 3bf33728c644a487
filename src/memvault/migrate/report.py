"""The result of an import and its JSON report (LEGACY_FORMATS.md §9 plus run metadata).

```
{"formats": {"<format>": {"entities": …, "bad_records": …, "bad_records_total": N,
                          "duplicates": …, "warnings": …, "corrupt_files": […]}},
 "run": {"id", "status", "exit_code", "source", "format", "dry_run", "resumed", "started_at",
         "finished_at", "elapsed_s", "records", "records_per_s", "quarantined",
         "quarantined_before" (of them, already quarantined by an earlier import),
         "no_longer_in_source": {"<table>": N} (stored rows the source dropped, kept),
         "users": {"<handle>": "new" | "existing"}, "default_user",
         "quarantine": [{"format", "file", "location", "field", "reason"}, … (first 1,000)],
         "quarantine_not_listed", "files_read", "error", "note", "source_changed",
         "backup": {…}, "verification": {"ok", "problems"},
         "store": {"<table>": {"expected", "new", "already_present", "updated", "unchanged",
                               "merged", "verified", "missing", "different"}},
         "plan": {…} (dry runs)}}
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from memvault.migrate.loader import TableCounts
from memvault.migrate.sources.records import Quarantined
from memvault.migrate.sources.report import FormatReport

EXIT_CLEAN = 0
EXIT_FAILED = 1
EXIT_QUARANTINED = 2
EXIT_MISMATCH = 3
QUARANTINE_LISTED = 1000

STATUS_EXIT = {"completed": EXIT_CLEAN, "quarantined": EXIT_QUARANTINED,
               "mismatch": EXIT_MISMATCH, "failed": EXIT_FAILED}  # fmt: skip


@dataclass(slots=True, kw_only=True)
class ImportResult:
    """What an import did; `exit_code` is the CLI's exit status for it."""

    run_id: str
    source: str
    format: str
    status: str
    dry_run: bool
    resumed: bool = False
    started_at: datetime
    finished_at: datetime | None = None
    formats: dict[str, FormatReport] = field(default_factory=dict)
    tables: dict[str, TableCounts] = field(default_factory=dict)
    records: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    source_changed: list[str] = field(default_factory=list)
    backup: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] | None = None
    # Records of the source that carry data (not the placeholder owner, not quarantine).
    source_records: int = 0
    files_read: list[str] = field(default_factory=list)
    # The first QUARANTINE_LISTED quarantined records: where and why (all are in the table).
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None
    # Of `quarantined`: records an earlier import of the same source had quarantined.
    quarantined_before: int = 0
    # The users written into: handle → "new" or "existing" (in the store before this run),
    # and the handle that data naming no user went to.
    users: dict[str, str] = field(default_factory=dict)
    default_user: str = "default"
    reimport: bool = False  # this source was imported before
    # Per table: rows imported from this source before that it no longer holds (kept).
    gone: dict[str, int] = field(default_factory=dict)

    def note_quarantine(self, rec: Quarantined, file: str) -> None:
        """Keep where and why `rec` was quarantined for the report and the summary."""
        if len(self.quarantine) >= QUARANTINE_LISTED:
            return
        if rec.whole_file:
            location = "whole file"
        else:
            parts = []
            if rec.record_index is not None:
                parts.append(f"record {rec.record_index}")
            if rec.line is not None:
                parts.append(f"line {rec.line}")
            location = ", ".join(parts) or "?"
        self.quarantine.append(
            {
                "format": rec.format,
                "file": file,
                "location": location,
                "field": rec.field or None,
                "reason": rec.reason,
            }
        )

    @property
    def exit_code(self) -> int:
        """0 clean, 2 completed with quarantined records, 3 verification mismatch, 1 failed."""
        return STATUS_EXIT[self.status]

    @property
    def elapsed(self) -> float:
        end = self.finished_at or self.started_at
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def bad_records(self) -> int:
        return sum(r.bad_records_total + len(r.corrupt_files) for r in self.formats.values())

    def rows(self, table: str) -> TableCounts:
        return self.tables.get(table) or TableCounts()

    def as_dict(self) -> dict[str, Any]:
        """The JSON report."""
        elapsed = self.elapsed
        run: dict[str, Any] = {
            "id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "source": self.source,
            "format": self.format,
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "elapsed_s": round(elapsed, 3),
            "records": self.records,
            "records_per_s": round(self.records / elapsed, 1) if elapsed > 0 else None,
            "quarantined": self.quarantined,
            "quarantined_before": self.quarantined_before,
            "no_longer_in_source": dict(self.gone),
            "users": dict(self.users),
            "default_user": self.default_user,
            "quarantine": list(self.quarantine),
            "quarantine_not_listed": max(0, self.quarantined - len(self.quarantine)),
            "files_read": list(self.files_read),
            "error": self.error,
            "note": self.note,
            "source_changed": list(self.source_changed),
            "backup": dict(self.backup),
            "verification": {
                "ok": not self.problems and not self.dry_run and self.status != "failed",
                "problems": list(self.problems),
            },
            "store": {t: c.as_dict() for t, c in self.tables.items() if c.expected or c.new},
        }
        if self.plan is not None:
            run["plan"] = self.plan
        return {
            "formats": {fmt: rep.as_dict() for fmt, rep in self.formats.items()},
            "run": run,
        }

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the JSON report to `path` (atomically: a temporary file, then a rename)."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, target)


__all__ = [
    "EXIT_CLEAN",
    "EXIT_FAILED",
    "EXIT_MISMATCH",
    "EXIT_QUARANTINED",
    "ImportResult",
]
