"""Reading back what an import quarantined: file, location, field, reason and raw bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memvault.vault import Vault


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One record (or whole file) an import could not load."""

    id: str
    run_id: str
    file: str
    location: str
    field: str | None
    reason: str
    raw: bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "file": self.file,
            "location": self.location,
            "field": self.field,
            "reason": self.reason,
            "raw": self.raw.decode("utf-8", "replace"),
        }


def entries(vault: Vault, run_id: str, *, limit: int | None = None) -> list[QuarantineEntry]:
    """The quarantine of run `run_id`, in file and location order."""
    sql = (
        "SELECT id, run_id, file, location, field, reason, raw FROM quarantine "
        "WHERE run_id = :r ORDER BY file, location, id"
    )
    params: dict[str, Any] = {"r": run_id}
    if limit is not None:
        sql += " LIMIT :n"
        params["n"] = limit
    with vault.store.read() as tx:
        rows = tx.all(sql, params)
        return [
            QuarantineEntry(
                id=str(tx.id_out(r["id"])),
                run_id=str(tx.id_out(r["run_id"])),
                file=r["file"],
                location=r["location"],
                field=r["field"],
                reason=r["reason"],
                raw=bytes(r["raw"] or b""),
            )
            for r in rows
        ]


def count(vault: Vault, run_id: str) -> int:
    """How many entries run `run_id` quarantined."""
    with vault.store.read() as tx:
        return int(tx.scalar("SELECT count(*) FROM quarantine WHERE run_id = :r", {"r": run_id}))


__all__ = ["QuarantineEntry", "count", "entries"]
