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

The legacy side is the `LegacyStore` protocol: sessions (AIT42's tasks, keyed by the legacy
id) with their numbered sub-agent instances, the messages of a conversation (a session's
key), memories. `JsonFileLegacy` implements it over one JSON file in the style of AIT42's,
Workly's and Lilith's stores, but written atomically (temporary file + rename) instead of
rewritten in place. On memvault's side a legacy key is the session's `key`, found through
its unique (user_id, key) index: one lookup whatever the number of sessions (the
first version scanned the 1,000 most recent and created a second session beyond them), and an
instance is a child session found by its parent and `instance_no`.

A rollout (`rollout="name"`, see `stage_rollout`) keeps its stage in the store's
`dualwrite_rollouts` table with the history of its changes: every adapter of the rollout
follows the stage (re-read at most every `refresh` seconds), and `memvault dualwrite
stage|status|advance|rollback` drives it from the command line.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from memvault.errors import Conflict, InvalidInput, MemvaultError, NotFound
from memvault.records import Session
from memvault.store.vocab import DUALWRITE_STAGES
from memvault.vault import Vault

STAGES = DUALWRITE_STAGES
log = logging.getLogger("memvault.dualwrite")

__all__ = [
    "STAGES",
    "Drift",
    "DualWrite",
    "JsonFileLegacy",
    "LegacyStore",
    "Mismatch",
    "Rollout",
    "StageError",
    "backfill_legacy",
    "compare",
    "get_rollout",
    "stage_rollout",
]  # fmt: skip


class StageError(MemvaultError):
    """A stage change that is not allowed (not adjacent, or a rollback without backfill)."""


Message = tuple[str, str]  # (role, content)
MemoryItem = tuple[str, str]  # (kind, content)
SessionItem = tuple[str, str, str | None, str]  # (key, kind, title, status)
InstanceItem = tuple[int, str | None, str]  # (instance number, agent name, status)


class LegacyStore(Protocol):
    """What the adapter needs from the legacy store."""

    def append_message(self, conversation: str, role: str, content: str, at: datetime) -> None: ...

    def messages(self, conversation: str) -> list[Message]: ...

    def conversations(self) -> list[str]: ...

    def add_memory(self, kind: str, content: str, at: datetime) -> None: ...

    def memories(self) -> list[MemoryItem]: ...

    def create_session(
        self, key: str, kind: str, title: str | None, status: str, at: datetime
    ) -> None: ...

    def update_session(
        self, key: str, title: str | None, status: str | None, at: datetime
    ) -> None: ...

    def sessions(self) -> list[SessionItem]: ...

    def add_instance(
        self, key: str, number: int, agent: str | None, status: str, at: datetime
    ) -> None: ...

    def update_instance(self, key: str, number: int, status: str, at: datetime) -> None: ...

    def instances(self, key: str) -> list[InstanceItem]: ...


class JsonFileLegacy:
    """A legacy-style JSON store: `{"conversations": {key: [msg…]}, "memories": [mem…]}`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
        data.setdefault("conversations", {})
        data.setdefault("memories", [])
        data.setdefault("sessions", {})
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

    def conversations(self) -> list[str]:
        return sorted(self._load()["conversations"])

    def create_session(
        self, key: str, kind: str, title: str | None, status: str, at: datetime
    ) -> None:
        data = self._load()
        entry = data["sessions"].setdefault(key, {"instances": [], "createdAt": at.isoformat()})
        entry.update(type=kind, task=title, status=status, updatedAt=at.isoformat())
        self._save(data)

    def update_session(self, key: str, title: str | None, status: str | None, at: datetime) -> None:
        data = self._load()
        entry = data["sessions"].get(key)
        if entry is None:
            raise NotFound("legacy session", key)
        if title is not None:
            entry["task"] = title
        if status is not None:
            entry["status"] = status
        entry["updatedAt"] = at.isoformat()
        self._save(data)

    def sessions(self) -> list[SessionItem]:
        return [(k, e.get("type", "task"), e.get("task"), e.get("status", "running"))
                for k, e in sorted(self._load()["sessions"].items())]  # fmt: skip

    def add_instance(
        self, key: str, number: int, agent: str | None, status: str, at: datetime
    ) -> None:
        data = self._load()
        entry = data["sessions"].get(key)
        if entry is None:
            raise NotFound("legacy session", key)
        if any(i["instanceId"] == number for i in entry["instances"]):
            raise Conflict(f"legacy session {key} already has an instance {number}")
        entry["instances"].append(
            {"instanceId": number, "agentName": agent, "status": status,
             "startTime": at.isoformat()}
        )  # fmt: skip
        self._save(data)

    def update_instance(self, key: str, number: int, status: str, at: datetime) -> None:
        data = self._load()
        entry = data["sessions"].get(key) or {"instances": []}
        found = [i for i in entry["instances"] if i["instanceId"] == number]
        if not found:
            raise NotFound("legacy instance", f"{key}#{number}")
        found[0]["status"] = status
        self._save(data)

    def instances(self, key: str) -> list[InstanceItem]:
        entry = self._load()["sessions"].get(key) or {"instances": []}
        return sorted((i["instanceId"], i.get("agentName"), i["status"])
                      for i in entry["instances"])  # fmt: skip


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

    def __init__(
        self,
        vault: Vault,
        legacy: LegacyStore,
        *,
        user: str,
        stage: str = "off",
        rollout: str | None = None,
        refresh: float = 1.0,
    ) -> None:
        if stage not in STAGES:
            raise InvalidInput("stage", stage, f"expected one of {', '.join(STAGES)}")
        self.vault = vault
        self.legacy = legacy
        self.user_id = vault.users.ensure(user).id
        self.rollout = rollout
        self.refresh = refresh
        self._stage = stage
        self._read_at = 0.0
        if rollout is not None:
            found = get_rollout(vault, rollout)
            if found.user_id != self.user_id:
                raise InvalidInput("user", user, f"rollout {rollout!r} is another user's")
            self._stage, self._read_at = found.stage, time.monotonic()
        self.stats = DualWriteStats()
        self._sessions: dict[str, str] = {}

    # -- stages -----------------------------------------------------------------------------

    @property
    def stage(self) -> str:
        """The current stage (a rollout's, re-read from the store every `refresh` seconds)."""
        if self.rollout is not None and time.monotonic() - self._read_at >= self.refresh:
            self._stage = get_rollout(self.vault, self.rollout).stage
            self._read_at = time.monotonic()
        return self._stage

    @property
    def authoritative(self) -> str:
        return "memvault" if STAGES.index(self.stage) >= STAGES.index("primary") else "legacy"

    def set_stage(self, stage: str, *, backfilled: bool = False, reason: str = "") -> None:
        """Move to `stage`, one step forward or back (see the module docstring); a rollout's
        stage changes in the store (only if no one changed it meanwhile), with its history."""
        if stage not in STAGES:
            raise InvalidInput("stage", stage, f"expected one of {', '.join(STAGES)}")
        self._read_at = 0.0
        current = self.stage
        here, there = STAGES.index(current), STAGES.index(stage)
        if abs(here - there) > 1:
            raise StageError(f"move one stage at a time: {current} → {stage} skips a stage")
        if current == "complete" and there < here and not backfilled:
            raise StageError(
                "leaving 'complete' is a rollback: the legacy store missed the writes made "
                "since; export them back (memvault export --format workly|lilith, or "
                "`memvault dualwrite rollback` for a JSON legacy file), then pass backfilled=True"
            )
        if self.rollout is not None and here != there:
            _store_stage(self.vault, self.rollout, current, stage, reason)
        log.info("dual-write stage %s → %s", current, stage)
        self._stage, self._read_at = stage, time.monotonic()

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

    def _find(self, key: str) -> Session | None:
        return self.vault.sessions.by_key(self.user_id, key)

    def _session(self, conversation: str, **create: Any) -> str:
        """memvault's session for a legacy key: an index lookup, else a new session (another
        process creating it at the same moment loses the unique index and reads it back)."""
        sid = self._sessions.get(conversation)
        if sid is None:
            found = self._find(conversation)
            if found is None:
                create.setdefault("metadata", {"legacy_conversation": conversation})
                try:
                    found = self.vault.sessions.create(self.user_id, key=conversation, **create)
                except Conflict:
                    found = self._find(conversation)
                    if found is None:
                        raise
            sid = found.id
            self._sessions[conversation] = sid
        return sid

    def _mv_create_session(self, key: str, kind: str, title: str | None, status: str) -> None:
        # A session created by `create_session` (not only by a conversation's first message)
        # is flagged, so that the comparison lists it with the legacy store's sessions.
        flag = {"legacy_conversation": key, "legacy_session": True}
        if self._find(key) is None:
            self._session(key, kind=kind, title=title, status=status, metadata=flag)
        else:
            self.vault.sessions.update(self._session(key), title=title, status=status,
                                       metadata=flag)  # fmt: skip

    def _mv_instance(self, key: str, number: int) -> Session:
        found = self.vault.sessions.instance(self._session(key), number)
        if found is None:
            raise NotFound("instance", f"{key}#{number}")
        return found

    def create_session(
        self, key: str, *, kind: str = "task", title: str | None = None, status: str = "running"
    ) -> None:
        """A legacy session (an AIT42 task) keyed `key`; its messages are conversation `key`."""
        at = datetime.now(UTC)
        self._write(
            lambda: self.legacy.create_session(key, kind, title, status, at),
            lambda: self._mv_create_session(key, kind, title, status),
        )

    def update_session(
        self, key: str, *, title: str | None = None, status: str | None = None
    ) -> None:
        at = datetime.now(UTC)
        self._write(
            lambda: self.legacy.update_session(key, title, status, at),
            lambda: self.vault.sessions.update(self._session(key), title=title, status=status),
        )

    def add_instance(
        self, key: str, number: int, *, agent: str | None = None, status: str = "running"
    ) -> None:
        """Sub-agent instance `number` of session `key` (unique within it: `Conflict`)."""
        at = datetime.now(UTC)
        self._write(
            lambda: self.legacy.add_instance(key, number, agent, status, at),
            lambda: self.vault.sessions.create(
                self.user_id,
                kind="instance",
                parent_id=self._session(key),
                instance_no=number,
                title=agent,
                status=status,
            ),
        )

    def update_instance(self, key: str, number: int, *, status: str) -> None:
        at = datetime.now(UTC)
        self._write(
            lambda: self.legacy.update_instance(key, number, status, at),
            lambda: self.vault.sessions.update(self._mv_instance(key, number).id, status=status),
        )

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
        out: list[MemoryItem] = []
        while True:  # every memory, not the first 1,000
            page = self.vault.memories.list(self.user_id, limit=1000, offset=len(out))
            out += [(m.kind, m.content) for m in page]
            if len(page) < 1000:
                return out

    def _memvault_sessions(self, *, conversations: bool = False) -> list[SessionItem]:
        """Sessions made by `create_session` (with `conversations`, also those made by a
        conversation's first message)."""
        out: list[SessionItem] = []
        seen = 0
        while True:
            page = self.vault.sessions.list(
                user_id=self.user_id, key_prefix="", limit=1000, offset=seen
            )
            seen += len(page)
            out += [(s.key or "", s.kind, s.title, s.status) for s in page
                    if conversations or s.metadata.get("legacy_session")]  # fmt: skip
            if len(page) < 1000:
                return sorted(out)

    def _memvault_instances(self, key: str) -> list[InstanceItem]:
        found = self._find(key)
        if found is None:
            return []
        kids = self.vault.sessions.list(user_id=self.user_id, parent_id=found.id, limit=10_000)
        return sorted((s.instance_no or 0, s.title, s.status) for s in kids)

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

    def sessions(self) -> list[SessionItem]:
        """(key, kind, title, status) of every legacy session, by key."""
        return self._read(  # type: ignore[no-any-return]
            "sessions", "*", self.legacy.sessions, self._memvault_sessions, True
        )

    def instances(self, key: str) -> list[InstanceItem]:
        """(number, agent, status) of session `key`'s instances, by number."""
        return self._read(  # type: ignore[no-any-return]
            "instances",
            key,
            lambda: self.legacy.instances(key),
            lambda: self._memvault_instances(key),
            True,
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """Sessions, instances, messages and memories on each side (for `dualwrite status`)."""
        legacy_sessions = self.legacy.sessions()
        mine = self._memvault_sessions()
        conversations = self._memvault_sessions(conversations=True)
        return {
            "legacy": {
                "sessions": len(legacy_sessions),
                "instances": sum(len(self.legacy.instances(k)) for k, *_ in legacy_sessions),
                "messages": sum(len(self.legacy.messages(c)) for c in self.legacy.conversations()),
                "memories": len(self.legacy.memories()),
            },
            "memvault": {
                "sessions": len(mine),
                "instances": sum(len(self._memvault_instances(k)) for k, *_ in mine),
                "messages": sum(len(self._memvault_messages(k)) for k, *_ in conversations),
                "memories": len(self._memvault_memories()),
            },
        }


# -- rollouts: a stage shared through the store, driven by `memvault dualwrite` ------------


@dataclass(frozen=True)
class Rollout:
    name: str
    user_id: str
    legacy: str
    stage: str
    history: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


def _rollout_from_row(tx: Any, row: Any) -> Rollout:
    return Rollout(
        name=row["name"],
        user_id=str(row["user_id"]),
        legacy=row["legacy"],
        stage=row["stage"],
        history=tx.json_out(row["history"]) or [],
        created_at=tx.ts_out(row["created_at"]),
        updated_at=tx.ts_out(row["updated_at"]),
    )


def get_rollout(vault: Vault, name: str) -> Rollout:
    with vault.store.read() as tx:
        row = tx.one("SELECT * FROM dualwrite_rollouts WHERE name = :n", {"n": name})
        if row is None:
            raise NotFound("dual-write rollout", name)
        return _rollout_from_row(tx, row)


def _store_stage(vault: Vault, name: str, old: str, new: str, reason: str) -> None:
    """Compare-and-set: two operators moving one rollout at once cannot skip a stage."""
    with vault.store.write() as tx:
        row = tx.one("SELECT * FROM dualwrite_rollouts WHERE name = :n", {"n": name})
        if row is None:
            raise NotFound("dual-write rollout", name)
        if row["stage"] != old:
            raise StageError(f"rollout {name!r} is at {row['stage']} now, not {old}; retry")
        now = datetime.now(UTC)
        history = [*(tx.json_out(row["history"]) or []),
                   {"from": old, "to": new, "at": now.isoformat(), "reason": reason}]  # fmt: skip
        tx.execute(
            "UPDATE dualwrite_rollouts SET stage = :to, history = :h, updated_at = :now "
            "WHERE name = :n",
            {"to": new, "h": tx.json(history), "now": tx.ts(now), "n": name},
        )


def stage_rollout(vault: Vault, name: str, legacy: str | os.PathLike[str], user: str) -> Rollout:
    """Register rollout `name` (at stage "off") for `user` and the legacy JSON file `legacy`;
    staging again with the same file and user returns it unchanged (another is `Conflict`)."""
    path = str(Path(legacy).resolve())
    user_id = vault.users.ensure(user).id
    now = datetime.now(UTC)
    with vault.store.write() as tx:
        row = tx.one("SELECT * FROM dualwrite_rollouts WHERE name = :n", {"n": name})
        if row is None:
            tx.execute(
                "INSERT INTO dualwrite_rollouts (name, user_id, legacy, stage, history, "
                "created_at, updated_at) VALUES (:n, :u, :l, 'off', :h, :now, :now)",
                {"n": name, "u": user_id, "l": path, "h": tx.json([]), "now": tx.ts(now)},
            )
            row = tx.one("SELECT * FROM dualwrite_rollouts WHERE name = :n", {"n": name})
        found = _rollout_from_row(tx, row)
    if (found.legacy, found.user_id) != (path, user_id):
        raise Conflict(f"rollout {name!r} already mirrors {found.legacy} for another user or file")
    return found


def open_rollout(vault: Vault, name: str) -> DualWrite:
    """The adapter of a rollout staged with a JSON legacy file."""
    found = get_rollout(vault, name)
    handle = vault.users.get(found.user_id).handle
    return DualWrite(vault, JsonFileLegacy(found.legacy), user=handle, rollout=name)


@dataclass
class Drift:
    """Where the two sides differ: what is only in legacy, only in memvault, or different."""

    only_legacy: list[str] = field(default_factory=list)
    only_memvault: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.only_legacy or self.only_memvault or self.different)


def _sides(dw: DualWrite) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = set(dw.legacy.conversations()) | {k for k, *_ in dw.legacy.sessions()}
    keys |= {k for k, *_ in dw._memvault_sessions(conversations=True)}
    legacy: dict[str, Any] = {}
    mine: dict[str, Any] = {}
    for key, kind, title, status in dw.legacy.sessions():
        legacy[f"session {key}"] = (kind, title, status)
        legacy[f"instances {key}"] = dw.legacy.instances(key)
    for key, kind, title, status in dw._memvault_sessions():
        mine[f"session {key}"] = (kind, title, status)
        mine[f"instances {key}"] = dw._memvault_instances(key)
    for key in sorted(keys):
        msgs = dw.legacy.messages(key)
        if msgs:
            legacy[f"messages {key}"] = msgs
        if dw._find(key) is not None:
            theirs = dw._memvault_messages(key)
            if theirs:
                mine[f"messages {key}"] = theirs
    legacy["memories"] = sorted(dw.legacy.memories())
    mine["memories"] = sorted(dw._memvault_memories())
    return legacy, mine


def compare(dw: DualWrite) -> Drift:
    """Compare every session, instance list, conversation and the memories on both sides."""
    legacy, mine = _sides(dw)
    drift = Drift()
    for what in sorted(set(legacy) | set(mine)):
        if what not in mine:
            drift.only_legacy.append(what)
        elif what not in legacy:
            drift.only_memvault.append(what)
        elif legacy[what] != mine[what]:
            drift.different.append(what)
    return drift


def copy_legacy(dw: DualWrite) -> dict[str, int]:
    """Stage the legacy data into memvault: what memvault lacks (sessions, instances, the
    messages after those it has when they are a prefix of legacy's, memories). Idempotent."""
    copied = {"sessions": 0, "instances": 0, "messages": 0, "memories": 0}
    for key, kind, title, status in dw.legacy.sessions():
        if dw._find(key) is None:
            copied["sessions"] += 1
        dw._mv_create_session(key, kind, title, status)
        have = {n for n, *_ in dw._memvault_instances(key)}
        for number, agent, istatus in dw.legacy.instances(key):
            if number not in have:
                parent = dw._session(key)
                dw.vault.sessions.create(
                    dw.user_id, kind="instance", parent_id=parent, instance_no=number,
                    title=agent, status=istatus,
                )  # fmt: skip
                copied["instances"] += 1
    for key in dw.legacy.conversations():
        theirs = dw.legacy.messages(key)
        mine = dw._memvault_messages(key) if dw._find(key) is not None else []
        if theirs[: len(mine)] != mine:
            continue  # not a prefix: left for `compare` to report
        for role, content in theirs[len(mine) :]:
            dw.vault.messages.append(dw._session(key), role, content)
            copied["messages"] += 1
    have_memories = set(dw._memvault_memories())
    for kind, content in dw.legacy.memories():
        if (kind, content) not in have_memories:
            dw.vault.memories.add(dw.user_id, kind, content)
            have_memories.add((kind, content))
            copied["memories"] += 1
    return copied


def backfill_legacy(dw: DualWrite) -> dict[str, int]:
    """The rollback's backfill: write into the legacy store what memvault holds and it lacks
    (sessions, instances, messages after a common prefix, memories). Idempotent."""
    copied = {"sessions": 0, "instances": 0, "messages": 0, "memories": 0}
    now = datetime.now(UTC)
    theirs_sessions = {k: (kd, t, st) for k, kd, t, st in dw.legacy.sessions()}
    for key, kind, title, status in dw._memvault_sessions():
        if key not in theirs_sessions:
            copied["sessions"] += 1
        if theirs_sessions.get(key) != (kind, title, status):
            dw.legacy.create_session(key, kind, title, status, now)
        have = {n for n, *_ in dw.legacy.instances(key)}
        for number, agent, istatus in dw._memvault_instances(key):
            if number not in have:
                dw.legacy.add_instance(key, number, agent, istatus, now)
                copied["instances"] += 1
    for key, *_ in dw._memvault_sessions(conversations=True):
        mine = dw._memvault_messages(key)
        theirs = dw.legacy.messages(key)
        if mine[: len(theirs)] == theirs:
            for role, content in mine[len(theirs) :]:
                dw.legacy.append_message(key, role, content, now)
                copied["messages"] += 1
    have_memories = set(dw.legacy.memories())
    for kind, content in dw._memvault_memories():
        if (kind, content) not in have_memories:
            dw.legacy.add_memory(kind, content, now)
            copied["memories"] += 1
    return copied
