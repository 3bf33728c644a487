"""Dual-write for the transition period, as the DCM and AIT42 migrations planned it.

    legacy = JsonFileLegacy("data/memory/dualwrite.json")       # or your own LegacyStore
    dw = DualWrite(vault, legacy, user="default")                # stage "off"
    dw.advance()      # "dual-write": every write goes to both; reads from the legacy store
    dw.advance()      # "shadow-reads": reads come from legacy, memvault's answer is compared
    dw.advance()      # "primary": memvault is authoritative; legacy still written (rollback)
    dw.advance()      # "complete": memvault only
    dw.retreat()      # any step back, e.g. "primary" → "shadow-reads"

Stages, in order (each reversible with `retreat()`; `set_stage` moves one step at a time):

| stage        | writes                          | reads        | authoritative |
|--------------|---------------------------------|--------------|---------------|
| off          | legacy                          | legacy       | legacy        |
| dual-write   | legacy, then memvault           | legacy       | legacy        |
| shadow-reads | legacy, then memvault           | legacy (1)   | legacy        |
| primary      | memvault, then legacy           | memvault     | memvault      |
| complete     | memvault                        | memvault     | memvault      |

(1) memvault's answer is computed too and compared; mismatches are logged and kept in
`stats.mismatches`.

A write to the authoritative side must succeed (its error reaches the caller); a write to the
other side that fails is logged and counted in `stats` (`secondary_failures`), never raised,
so the application keeps running; `memvault verify --against` then lists the drift.
Leaving "complete" backwards is a rollback: the legacy store missed every write made while
complete, so `retreat()` from "complete" requires `backfilled=True`, which you pass after
writing the legacy files back with `memvault export --format workly|lilith`.

The legacy side is the `LegacyStore` protocol (messages of a conversation, memories);
`JsonFileLegacy` implements it over one JSON file in the style of Workly's and Lilith's
stores, but written atomically (temporary file + rename) instead of rewritten in place.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from memvault.errors import InvalidInput, MemvaultError
from memvault.vault import Vault

STAGES = ("off", "dual-write", "shadow-reads", "primary", "complete")
log = logging.getLogger("memvault.dualwrite")

__all__ = ["STAGES", "DualWrite", "JsonFileLegacy", "LegacyStore", "Mismatch", "StageError"]


class StageError(MemvaultError):
    """A stage change that is not allowed (not adjacent, or a rollback without backfill)."""


Message = tuple[str, str]  # (role, content)
MemoryItem = tuple[str, str]  # (kind, content)


class LegacyStore(Protocol):
    """What the adapter needs from the legacy store."""

    def append_message(self, conversation: str, role: str, content: str, at: datetime) -> None: ...

    def messages(self, conversation: str) -> list[Message]: ...

    def add_memory(self, kind: str, content: str, at: datetime) -> None: ...

    def memories(self) -> list[MemoryItem]: ...


class JsonFileLegacy:
    """A legacy-style JSON store: `{"conversations": {key: [msg…]}, "memories": [mem…]}`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"conversations": {}, "memories": []}
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def append_message(self, conversation: str, role: str, content: str, at: datetime) -> None:
        data = self._load()
        entry = {"role": role, "content": content, "timestamp": at.isoformat()}
        data["conversations"].setdefault(conversation, []).append(entry)
        self._save(data)

    def messages(self, conversation: str) -> list[Message]:
        rows = self._load()["conversations"].get(conversation, [])
        return [(m["role"], m["content"]) for m in rows]

    def add_memory(self, kind: str, content: str, at: datetime) -> None:
        data = self._load()
        data["memories"].append({"kind": kind, "content": content, "timestamp": at.isoformat()})
        self._save(data)

    def memories(self) -> list[MemoryItem]:
        return [(m["kind"], m["content"]) for m in self._load()["memories"]]


@dataclass(frozen=True)
class Mismatch:
    """A shadow read whose two answers differ."""

    what: str
    key: str
    legacy: Any
    memvault: Any


@dataclass
class DualWriteStats:
    writes: int = 0
    secondary_failures: int = 0
    shadow_reads: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)


class DualWrite:
    """The adapter an application calls instead of its legacy store during the migration."""

    def __init__(self, vault: Vault, legacy: LegacyStore, *, user: str, stage: str = "off") -> None:
        if stage not in STAGES:
            raise InvalidInput("stage", stage, f"expected one of {', '.join(STAGES)}")
        self.vault = vault
        self.legacy = legacy
        self.user_id = vault.users.ensure(user).id
        self.stage = stage
        self.stats = DualWriteStats()
        self._sessions: dict[str, str] = {}

    # -- stages -----------------------------------------------------------------------------

    @property
    def authoritative(self) -> str:
        return "memvault" if STAGES.index(self.stage) >= STAGES.index("primary") else "legacy"

    def set_stage(self, stage: str, *, backfilled: bool = False) -> None:
        """Move to `stage`, one step forward or back (see the module docstring)."""
        if stage not in STAGES:
            raise InvalidInput("stage", stage, f"expected one of {', '.join(STAGES)}")
        here, there = STAGES.index(self.stage), STAGES.index(stage)
        if abs(here - there) > 1:
            raise StageError(f"move one stage at a time: {self.stage} → {stage} skips a stage")
        if self.stage == "complete" and there < here and not backfilled:
            raise StageError(
                "leaving 'complete' is a rollback: the legacy store missed the writes made "
                "since; export them back (memvault export --format workly|lilith), then "
                "pass backfilled=True"
            )
        log.info("dual-write stage %s → %s", self.stage, stage)
        self.stage = stage

    def advance(self) -> str:
        self.set_stage(STAGES[min(STAGES.index(self.stage) + 1, len(STAGES) - 1)])
        return self.stage

    def retreat(self, *, backfilled: bool = False) -> str:
        self.set_stage(STAGES[max(STAGES.index(self.stage) - 1, 0)], backfilled=backfilled)
        return self.stage

    # -- writes -----------------------------------------------------------------------------

    def _write(self, legacy_fn: Any, memvault_fn: Any) -> None:
        self.stats.writes += 1
        if self.stage == "off":
            legacy_fn()
            return
        if self.stage == "complete":
            memvault_fn()
            return
        first, second = (
            (legacy_fn, memvault_fn) if self.authoritative == "legacy" else (memvault_fn, legacy_fn)
        )
        first()
        try:
            second()
        except Exception as exc:
            self.stats.secondary_failures += 1
            other = "memvault" if self.authoritative == "legacy" else "legacy"
            log.warning("dual-write: the %s write failed (%s); drift until reconciled", other, exc)

    def _session(self, conversation: str) -> str:
        sid = self._sessions.get(conversation)
        if sid is None:
            for s in self.vault.sessions.list(user_id=self.user_id, limit=1000):
                if (s.metadata or {}).get("legacy_conversation") == conversation:
                    sid = s.id
                    break
            if sid is None:
                sid = self.vault.sessions.create(
                    self.user_id, metadata={"legacy_conversation": conversation}
                ).id
            self._sessions[conversation] = sid
        return sid

    def append_message(self, conversation: str, role: str, content: str) -> None:
        at = datetime.now(UTC)
        self._write(
            lambda: self.legacy.append_message(conversation, role, content, at),
            lambda: self.vault.messages.append(self._session(conversation), role, content),
        )

    def add_memory(self, kind: str, content: str) -> None:
        at = datetime.now(UTC)
        self._write(
            lambda: self.legacy.add_memory(kind, content, at),
            lambda: self.vault.memories.add(self.user_id, kind, content),
        )

    # -- reads ------------------------------------------------------------------------------

    def _memvault_messages(self, conversation: str) -> list[Message]:
        sid = self._session(conversation)
        out: list[Message] = []
        last = 0
        while True:
            page = self.vault.messages.list(sid, after_seq=last, limit=500)
            if not page:
                return out
            out += [(m.role, m.content) for m in page]
            last = page[-1].seq

    def _memvault_memories(self) -> list[MemoryItem]:
        return [(m.kind, m.content) for m in self.vault.memories.list(self.user_id, limit=1000)]

    def _read(self, what: str, key: str, legacy_fn: Any, memvault_fn: Any, ordered: bool) -> Any:
        if self.authoritative == "memvault":
            return memvault_fn()
        answer = legacy_fn()
        if self.stage == "shadow-reads":
            self.stats.shadow_reads += 1
            try:
                shadow = memvault_fn()
            except Exception as exc:
                shadow = f"<error: {exc}>"
            same = (
                shadow == answer
                if ordered
                else (isinstance(shadow, list) and sorted(shadow) == sorted(answer))
            )
            if not same:
                mismatch = Mismatch(what, key, answer, shadow)
                self.stats.mismatches.append(mismatch)
                log.warning(
                    "shadow read mismatch on %s %s: legacy %d items, memvault %s",
                    what,
                    key,
                    len(answer),
                    len(shadow) if isinstance(shadow, list) else shadow,
                )
        return answer

    def messages(self, conversation: str) -> list[Message]:
        return self._read(  # type: ignore[no-any-return]
            "messages",
            conversation,
            lambda: self.legacy.messages(conversation),
            lambda: self._memvault_messages(conversation),
            True,
        )

    def memories(self) -> list[MemoryItem]:
        return self._read(  # type: ignore[no-any-return]
            "memories",
            "*",
            self.legacy.memories,
            self._memvault_memories,
            False,
        )
