"""`MemvaultSaver`: LangGraph checkpoints, pending writes and channel blobs in memvault's
schema (revision 0008), on every engine memvault runs on.

    vault = memvault.open(url)
    graph = builder.compile(checkpointer=MemvaultSaver(vault))

Every sync method runs in one `Store.write()` / `Store.read()` transaction, so it works alike
on SQLite and PostgreSQL and joins an open `vault.transaction()`. The per-step calls (`put`,
`put_writes`, `get_tuple`, `list`) are written once as plans (`memvault.store.plan`); given a
`memvault.aio` vault on PostgreSQL, their async twins run them on psycopg's async pool, one
round trip each (`aget_tuple` of the checkpoint this saver just put included); otherwise the
async methods run on a small thread pool. The event loop never waits on the database.

    async with memvault.aio.open(url) as avault:
        graph = builder.compile(checkpointer=MemvaultSaver(avault))
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import json
import random
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from memvault import validate
from memvault.clock import utcnow
from memvault.errors import IntegrityViolation, InvalidInput, NotFound
from memvault.store import plan as plans
from memvault.store.base import Row, Tx
from memvault.store.plan import Final, Plan, Query, Values

if TYPE_CHECKING:
    from memvault.aio import AsyncVault
    from memvault.vault import Vault

P = ParamSpec("P")
T = TypeVar("T")

CHECKPOINTS = "graph_checkpoints"
BLOBS = "graph_checkpoint_blobs"
WRITES = "graph_checkpoint_writes"
# The configurable key that links a thread to a memvault user for one call (else `user_id`).
USER_KEY = "memvault_user_id"
# The configurable key (and the metadata key it is kept under) linking a thread's
# checkpoints to a memvault session.
SESSION_KEY = "memvault_session_id"
PRUNE_STRATEGIES = ("keep_latest", "delete")

INSERT_BLOBS = (
    f"INSERT INTO {BLOBS} (owner, thread_id, checkpoint_ns, channel, version, type, blob)"
    " VALUES {rows} ON CONFLICT DO NOTHING"
)
BLOB_ROW = ("o", "t", "ns", "ch", "v", "k", "b")
UPSERT_CHECKPOINT = (
    f"INSERT INTO {CHECKPOINTS} (owner, thread_id, checkpoint_ns, checkpoint_id,"
    " parent_checkpoint_id, run_id, user_id, type, checkpoint, metadata, created_at)"
    " VALUES (:o, :t, :ns, :id, :parent, :run, :u, :k, :b, :m, :at)"
    " ON CONFLICT (owner, thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET"
    " type = excluded.type, checkpoint = excluded.checkpoint,"
    " metadata = excluded.metadata, run_id = excluded.run_id"
)
INSERT_WRITES = (
    f"INSERT INTO {WRITES} (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx,"
    " task_path, channel, type, blob)"
    " VALUES {rows}"
    " ON CONFLICT (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx) "
)
WRITE_ROW = ("o", "t", "ns", "id", "task", "idx", "path", "ch", "k", "b")
ROWS_PER_INSERT = 500  # rows of one multi-row INSERT (SQLite allows 32,766 parameters)
REPLACE_WRITE = (
    "DO UPDATE SET task_path = excluded.task_path,"
    " channel = excluded.channel, type = excluded.type, blob = excluded.blob"
)
SELECT_WRITES = (
    f"SELECT checkpoint_id, task_id, channel, type, blob FROM {WRITES}"
    " WHERE owner = :o AND thread_id = :t AND checkpoint_ns = :ns"
)
WRITES_ORDER = " ORDER BY task_path, task_id, idx"
LATEST_HINTS = 4096  # threads whose latest checkpoint a saver remembers (see `_get_plan`)


class MemvaultSaver(BaseCheckpointSaver[str]):
    """A LangGraph checkpointer (`BaseCheckpointSaver`) storing into a memvault vault.

    `vault`: a `memvault.Vault`, or a `memvault.aio.AsyncVault` (see below).
    `user_id`: the memvault user whose threads this saver reads and writes (None: the
    threads with no owner); a call's `config["configurable"]["memvault_user_id"]` overrides
    it. Threads are per owner: the same `thread_id` of two users is two threads, and every
    method (`get_tuple`, `list`, `put`, `put_writes`, `delete_thread`, `copy_thread`,
    `prune`, `delete_for_runs`, `session_threads`) sees only its owner's. A thread with an
    owner is part of `vault.export_user` and goes with `vault.erase_user`. An unknown
    `user_id` is `NotFound` when the saver is made (a call's unknown `memvault_user_id`: at
    its `put`).
    `session_id`: the memvault session the threads belong to (a call's
    `configurable["memvault_session_id"]` overrides it); kept in each checkpoint's metadata
    under `memvault_session_id`, so `session_threads(session_id)` finds a session's threads.
    `serde`: LangGraph's serializer (its default, `JsonPlusSerializer`, when None).
    `max_workers`: threads the async methods run on when `vault` is a sync `Vault`.

    How the async methods (`aput`, `alist`, …, which LangGraph's async runs call) run:
    `put`, `put_writes`, `get_tuple` and `list` are plans (`memvault.store.plan`), written
    once; given an `AsyncVault` on PostgreSQL they run on psycopg's async pool, each step one
    pipelined round trip; otherwise (SQLite, or a sync `Vault`) on a bounded thread pool, one
    thread hop per call. The rarer `delete_thread`, `copy_thread`, `prune` and
    `delete_for_runs` always run on the thread pool. Either way the event loop never waits
    on the database."""

    def __init__(
        self,
        vault: Vault | AsyncVault,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        serde: SerializerProtocol | None = None,
        max_workers: int = 4,
    ) -> None:
        super().__init__(serde=serde)
        if user_id is not None:
            validate.id_("user_id", user_id)
        if session_id is not None:
            validate.id_("session_id", session_id)
        from memvault.aio import AsyncVault

        self.avault = vault if isinstance(vault, AsyncVault) else None
        self.vault: Vault = vault.sync if isinstance(vault, AsyncVault) else vault
        self.store = self.vault.store
        if user_id is not None:
            self.vault.users.get(user_id)  # NotFound now, not a foreign key error at first put
        self.user_id = user_id
        self.session_id = session_id
        self._owns_vault = False
        # (owner, thread, namespace) -> (checkpoint id, its channel versions) this saver last put.
        self._latest: dict[tuple[str, str, str], tuple[str, dict[str, str]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="memvault-lg")

    @classmethod
    def from_url(cls, url: str, *, user_id: str | None = None, **options: Any) -> MemvaultSaver:
        """A saver over `memvault.open(url, **options)`; `close()` closes that vault too."""
        from memvault.vault import Vault

        vault = Vault(url, **options)
        try:
            saver = cls(vault, user_id=user_id)
        except BaseException:
            vault.close()
            raise
        saver._owns_vault = True
        return saver

    def close(self) -> None:
        """Stop the async workers (and close the vault when `from_url` opened it)."""
        self._pool.shutdown(wait=True)
        if self._owns_vault:
            self.vault.close()

    def __enter__(self) -> MemvaultSaver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MemvaultSaver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    # --- writing ---------------------------------------------------------------------------
    # put, put_writes, get_tuple and list are plans (`memvault.store.plan`): written once, run
    # by the sync methods on a `Tx` and by the async ones natively on PostgreSQL.

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint and the channel values of `new_versions`; returns its config."""
        try:
            with self.store.write() as tx:
                return plans.run(tx, self._put_plan(tx, config, checkpoint, metadata, new_versions))
        except IntegrityViolation as e:
            raise self._unknown_owner(config, e) from e

    def _put_plan(
        self,
        values: Values,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Plan[RunnableConfig]:
        conf = config["configurable"]
        thread_id = str(conf["thread_id"])
        ns = str(conf.get("checkpoint_ns", ""))
        stored: dict[str, Any] = dict(checkpoint)
        channel_values: dict[str, Any] = stored.pop("channel_values", {})
        kind, data = self.serde.dumps_typed(stored)
        meta = _plain_json(get_serializable_checkpoint_metadata(config, metadata))
        blobs = []
        for channel, version in new_versions.items():
            vkind, vdata = (
                self.serde.dumps_typed(channel_values[channel])
                if channel in channel_values
                else ("empty", None)
            )
            blobs.append(
                {
                    "o": self._owner_key(config),
                    "t": thread_id,
                    "ns": ns,
                    "ch": channel,
                    "v": str(version),
                    "k": vkind,
                    "b": vdata,
                }
            )
        run_id = meta.get("run_id")
        owner = self._owner(config)
        session = conf.get(SESSION_KEY, self.session_id)
        if session is not None:
            meta[SESSION_KEY] = validate.id_(SESSION_KEY, session)
        step = Final(_inserts(INSERT_BLOBS, BLOB_ROW, blobs))
        step.append(
            Query(
                UPSERT_CHECKPOINT,
                {
                    "o": owner or "",
                    "t": thread_id,
                    "ns": ns,
                    "id": checkpoint["id"],
                    "parent": conf.get("checkpoint_id"),
                    "run": None if run_id is None else str(run_id),
                    "u": owner,
                    "k": kind,
                    "b": data,
                    "m": values.json(meta),
                    "at": values.ts(utcnow()),
                },
            )
        )
        if values.engine == "postgresql" and len(step) == 2:
            # One statement (a data-modifying WITH): atomic alone, one round trip, no pipeline.
            blobs_insert, upsert = step
            step = Final(
                [
                    Query(
                        f"WITH blobs AS ({blobs_insert.sql}) {upsert.sql}",
                        {**(blobs_insert.params or {}), **(upsert.params or {})},
                    )
                ]
            )
        yield step
        self._remember(
            owner or "", thread_id, ns, checkpoint["id"], checkpoint.get("channel_versions", {})
        )
        return _config(thread_id, ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes of a checkpoint. A regular write is kept once per
        (task, index): writing it again changes nothing; a special write (error, interrupt,
        scheduled, resume: LangGraph's `WRITES_IDX_MAP`) takes its fixed negative index and
        replaces the one stored, as LangGraph's own savers do."""
        with self.store.write() as tx:
            plans.run(tx, self._put_writes_plan(config, writes, task_id, task_path))

    def _put_writes_plan(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Plan[None]:
        conf = config["configurable"]
        owner = self._owner_key(config)
        keep: list[dict[str, Any]] = []
        replace: list[dict[str, Any]] = []
        for i, (channel, value) in enumerate(writes):
            kind, data = self.serde.dumps_typed(value)
            row = {
                "o": owner,
                "t": str(conf["thread_id"]),
                "ns": str(conf.get("checkpoint_ns", "")),
                "id": conf["checkpoint_id"],
                "task": task_id,
                "idx": WRITES_IDX_MAP.get(channel, i),
                "path": task_path,
                "ch": channel,
                "k": kind,
                "b": data,
            }
            (replace if channel in WRITES_IDX_MAP else keep).append(row)
        step = Final()
        if keep:
            step += _inserts(INSERT_WRITES + "DO NOTHING", WRITE_ROW, keep)
        if replace:
            step += _inserts(INSERT_WRITES + REPLACE_WRITE, WRITE_ROW, replace)
        if step:
            yield step

    # --- reading ---------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint `config` names (its `checkpoint_id`), else the thread's latest in
        its namespace; None when there is none."""
        with self.store.read() as tx:
            return plans.run(tx, self._get_plan(tx, config))

    def _get_plan(self, values: Values, config: RunnableConfig) -> Plan[CheckpointTuple | None]:
        # One step reads the checkpoint and its writes — and, when this saver put the
        # thread's latest checkpoint, the channel values that checkpoint named then; if the
        # row read back names the same versions (verified, never assumed), that is the whole
        # read: one round trip on PostgreSQL's async path. Otherwise a second step reads the
        # channel values the checkpoint names (only Python can decode it).
        conf = config["configurable"]
        thread_id, ns = str(conf["thread_id"]), str(conf.get("checkpoint_ns", ""))
        owner = self._owner_key(config)
        params: dict[str, Any] = {"o": owner, "t": thread_id, "ns": ns}
        sql = (
            f"SELECT * FROM {CHECKPOINTS}"
            " WHERE owner = :o AND thread_id = :t AND checkpoint_ns = :ns"
        )
        guess = self._latest.get((owner, thread_id, ns))
        if checkpoint_id := get_checkpoint_id(config):
            sql += " AND checkpoint_id = :id"
            params["id"] = checkpoint_id
            which = ":id"
            if guess is not None and guess[0] != checkpoint_id:
                guess = None
        else:
            sql += " ORDER BY checkpoint_id DESC LIMIT 1"
            which = (
                f"(SELECT max(checkpoint_id) FROM {CHECKPOINTS}"
                " WHERE owner = :o AND thread_id = :t AND checkpoint_ns = :ns)"
            )
        step = [
            Query(sql, params, fetch=True),
            Query(
                SELECT_WRITES + f" AND checkpoint_id = {which}" + WRITES_ORDER, params, fetch=True
            ),
        ]
        if guess is not None:
            step.append(self._blobs_query(owner, thread_id, ns, guess[1]))
        found, writes, *guessed = yield step
        if not found:
            return None
        row = found[0]
        if any(w["checkpoint_id"] != row["checkpoint_id"] for w in writes):
            # A checkpoint was put between the two reads (async path, no shared snapshot).
            return (yield from self._tuples_plan(values, found))[0]
        if guess is not None and guess[0] == row["checkpoint_id"]:
            stored = self.serde.loads_typed((row["type"], bytes(row["checkpoint"])))
            if _versions(stored.get("channel_versions", {})) == guess[1]:
                return self._tuple(values, row, stored, guessed[0], writes)
        return (yield from self._tuples_plan(values, found, [writes]))[0]

    def _remember(
        self, owner: str, thread_id: str, ns: str, checkpoint_id: str, versions: Any
    ) -> None:
        """Note the checkpoint this saver just put as its thread's latest (a hint for
        `_get_plan`, checked against what is read)."""
        if len(self._latest) >= LATEST_HINTS:
            self._latest.pop(next(iter(self._latest)))
        self._latest[(owner, thread_id, ns)] = (checkpoint_id, _versions(versions))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints, newest first: of `config`'s thread (and namespace and checkpoint, when
        it names them; every thread when None), whose metadata holds each `filter` key with
        that value, older than `before`'s checkpoint, at most `limit`."""
        # Read in full inside the transaction: a generator holding it open across the
        # caller's work would keep a snapshot (and on SQLite a WAL reader) alive.
        with self.store.read() as tx:
            found = plans.run(tx, self._list_plan(tx, config, filter, before, limit))
        return iter(found)

    def _list_plan(
        self,
        values: Values,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Plan[builtins.list[CheckpointTuple]]:
        where = ["owner = :o"]
        params: dict[str, Any] = {"o": self._owner_key(config)}
        if config is not None:
            conf = config["configurable"]
            where.append("thread_id = :t")
            params["t"] = str(conf["thread_id"])
            if conf.get("checkpoint_ns") is not None:
                where.append("checkpoint_ns = :ns")
                params["ns"] = str(conf["checkpoint_ns"])
            if checkpoint_id := get_checkpoint_id(config):
                where.append("checkpoint_id = :id")
                params["id"] = checkpoint_id
        if before is not None and (before_id := get_checkpoint_id(before)):
            where.append("checkpoint_id < :before")
            params["before"] = before_id
        for i, (key, value) in enumerate((filter or {}).items()):
            where.append(_metadata_equals(values, i, key, value, params))
        sql = f"SELECT * FROM {CHECKPOINTS} WHERE " + " AND ".join(where)
        sql += " ORDER BY checkpoint_id DESC, thread_id, checkpoint_ns"
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = max(int(limit), 0)
        (rows,) = yield [Query(sql, params, fetch=True)]
        return (yield from self._tuples_plan(values, rows))

    def _tuples_plan(
        self,
        values: Values,
        rows: builtins.list[Row],
        writes: builtins.list[builtins.list[Row]] | None = None,
    ) -> Plan[builtins.list[CheckpointTuple]]:
        """The tuples of checkpoint `rows`: one step reads every row's channel values (and
        writes, unless given)."""
        checkpoints = [
            self.serde.loads_typed((row["type"], bytes(row["checkpoint"]))) for row in rows
        ]
        step = [
            self._blobs_query(
                r["owner"], r["thread_id"], r["checkpoint_ns"], c.get("channel_versions", {})
            )
            for r, c in zip(rows, checkpoints, strict=True)
        ]
        if writes is None:
            step += [
                Query(
                    SELECT_WRITES + " AND checkpoint_id = :id" + WRITES_ORDER,
                    {
                        "o": r["owner"],
                        "t": r["thread_id"],
                        "ns": r["checkpoint_ns"],
                        "id": r["checkpoint_id"],
                    },
                    fetch=True,
                )
                for r in rows
            ]
        results = (yield step) if step else []
        blobs, writes = results[: len(rows)], writes or results[len(rows) :]
        return [
            self._tuple(values, row, stored, blob_rows, write_rows)
            for row, stored, blob_rows, write_rows in zip(
                rows, checkpoints, blobs, writes, strict=True
            )
        ]

    def _blobs_query(
        self, owner: str, thread_id: str, ns: str, versions: Mapping[str, Any]
    ) -> Query:
        params: dict[str, Any] = {"o": owner, "t": thread_id, "ns": ns}
        pairs = []
        for i, (channel, version) in enumerate(versions.items()):
            params[f"c{i}"], params[f"v{i}"] = channel, str(version)
            pairs.append(f"(channel = :c{i} AND version = :v{i})")
        return Query(
            f"SELECT channel, type, blob FROM {BLOBS} WHERE owner = :o AND thread_id = :t"
            f" AND checkpoint_ns = :ns AND ({' OR '.join(pairs) or 'FALSE'})",
            params,
            fetch=True,
        )

    def _tuple(
        self,
        values: Values,
        row: Row,
        stored: dict[str, Any],
        blobs: builtins.list[Row],
        writes: builtins.list[Row],
    ) -> CheckpointTuple:
        thread_id, ns, checkpoint_id = row["thread_id"], row["checkpoint_ns"], row["checkpoint_id"]
        stored["channel_values"] = {
            b["channel"]: self.serde.loads_typed((b["type"], bytes(b["blob"])))
            for b in blobs
            if b["type"] != "empty"
        }
        parent = row["parent_checkpoint_id"]
        return CheckpointTuple(
            config=_config(thread_id, ns, checkpoint_id),
            checkpoint=stored,  # type: ignore[arg-type]  # a Checkpoint, read back
            metadata=values.json_out(row["metadata"]),
            parent_config=_config(thread_id, ns, parent) if parent else None,
            pending_writes=[
                (w["task_id"], w["channel"], self.serde.loads_typed((w["type"], bytes(w["blob"]))))
                for w in writes
            ],
        )

    # --- deleting and copying ------------------------------------------------------------
    # Each sees only this saver's owner's threads (`user_id`; '' for a saver without one).

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, write and blob of this owner's thread `thread_id`."""
        params = {"o": self._owner_key(None), "t": str(thread_id)}
        with self.store.write() as tx:
            for table in (WRITES, BLOBS, CHECKPOINTS):
                tx.execute(f"DELETE FROM {table} WHERE owner = :o AND thread_id = :t", params)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete this owner's checkpoints the runs `run_ids` made (by their metadata's
        `run_id`), with their writes and the blobs no remaining checkpoint sees."""
        if not run_ids:
            return
        owner = self._owner_key(None)
        with self.store.write() as tx:
            params: dict[str, Any] = {"o": owner}
            runs = tx.expand("r", [str(r) for r in run_ids], params)
            rows = tx.all(
                f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM {CHECKPOINTS}"
                f" WHERE owner = :o AND run_id IN ({runs})",
                params,
            )
            keys = [
                {
                    "o": owner,
                    "t": r["thread_id"],
                    "ns": r["checkpoint_ns"],
                    "id": r["checkpoint_id"],
                }
                for r in rows
            ]
            if not keys:
                return
            for table in (WRITES, CHECKPOINTS):
                tx.executemany(
                    f"DELETE FROM {table} WHERE owner = :o AND thread_id = :t"
                    " AND checkpoint_ns = :ns AND checkpoint_id = :id",
                    keys,
                )
            self._drop_unseen_blobs(tx, owner, {k["t"] for k in keys})

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, write and blob of this owner's thread into another of its
        threads."""
        params = {"o": self._owner_key(None), "src": str(source_thread_id)}
        params["dst"] = str(target_thread_id)
        columns = {
            CHECKPOINTS: "checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id, user_id,"
            " type, checkpoint, metadata, created_at",
            BLOBS: "checkpoint_ns, channel, version, type, blob",
            WRITES: "checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, type, blob",
        }
        with self.store.write() as tx:
            for table, cols in columns.items():
                tx.execute(
                    f"INSERT INTO {table} (owner, thread_id, {cols})"
                    f" SELECT owner, :dst, {cols} FROM {table}"
                    " WHERE owner = :o AND thread_id = :src ON CONFLICT DO NOTHING",
                    params,
                )

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Of this owner's `thread_ids`: `keep_latest`: keep only each namespace's latest
        checkpoint (with its writes and the blobs it sees); `delete`: delete the threads."""
        if strategy not in PRUNE_STRATEGIES:
            raise InvalidInput("strategy", strategy, f"one of {', '.join(PRUNE_STRATEGIES)}")
        threads = [str(t) for t in thread_ids]
        if not threads:
            return
        owner = self._owner_key(None)
        with self.store.write() as tx:
            if strategy == "delete":
                for thread_id in threads:
                    self.delete_thread(thread_id)
                return
            params: dict[str, Any] = {"o": owner}
            listed = tx.expand("t", threads, params)
            tx.execute(
                f"DELETE FROM {CHECKPOINTS} WHERE owner = :o AND thread_id IN ({listed})"
                f" AND checkpoint_id < (SELECT max(c.checkpoint_id) FROM {CHECKPOINTS} c"
                f" WHERE c.owner = {CHECKPOINTS}.owner AND c.thread_id = {CHECKPOINTS}.thread_id"
                f" AND c.checkpoint_ns = {CHECKPOINTS}.checkpoint_ns)",
                params,
            )
            tx.execute(
                f"DELETE FROM {WRITES} WHERE owner = :o AND thread_id IN ({listed})"
                f" AND NOT EXISTS (SELECT 1 FROM {CHECKPOINTS} c WHERE c.owner = {WRITES}.owner"
                f" AND c.thread_id = {WRITES}.thread_id"
                f" AND c.checkpoint_ns = {WRITES}.checkpoint_ns"
                f" AND c.checkpoint_id = {WRITES}.checkpoint_id)",
                params,
            )
            self._drop_unseen_blobs(tx, owner, set(threads))

    def _drop_unseen_blobs(self, tx: Tx, owner: str, threads: set[str]) -> None:
        """Delete the blobs of `owner`'s `threads` that no remaining checkpoint's versions
        name."""
        for thread_id in sorted(threads):
            key = {"o": owner, "t": thread_id}
            seen: set[tuple[str, str, str]] = set()
            rows = tx.all(
                f"SELECT checkpoint_ns, type, checkpoint FROM {CHECKPOINTS}"
                " WHERE owner = :o AND thread_id = :t",
                key,
            )
            for r in rows:
                stored = self.serde.loads_typed((r["type"], bytes(r["checkpoint"])))
                for channel, version in stored.get("channel_versions", {}).items():
                    seen.add((r["checkpoint_ns"], channel, str(version)))
            stale = [
                {**key, "ns": b["checkpoint_ns"], "ch": b["channel"], "v": b["version"]}
                for b in tx.all(
                    f"SELECT checkpoint_ns, channel, version FROM {BLOBS}"
                    " WHERE owner = :o AND thread_id = :t",
                    key,
                )
                if (b["checkpoint_ns"], b["channel"], b["version"]) not in seen
            ]
            if stale:
                tx.executemany(
                    f"DELETE FROM {BLOBS} WHERE owner = :o AND thread_id = :t"
                    " AND checkpoint_ns = :ns AND channel = :ch AND version = :v",
                    stale,
                )

    def _owner(self, config: RunnableConfig | None) -> str | None:
        """The memvault user a call's threads belong to: its `configurable`'s
        `memvault_user_id`, else this saver's `user_id` (None: no owner)."""
        conf = (config or {}).get("configurable", {})
        owner = conf.get(USER_KEY, self.user_id)
        return None if owner is None else validate.id_(USER_KEY, owner)

    def _unknown_owner(self, config: RunnableConfig, error: IntegrityViolation) -> Exception:
        """What a put's foreign key failure means: the owner is no memvault user (the only
        foreign key a checkpoint has; a call's `memvault_user_id`, or a user erased since
        this saver was made)."""
        owner = self._owner(config)
        return error if owner is None else NotFound("user", owner)

    def _owner_key(self, config: RunnableConfig | None) -> str:
        """The `owner` column of a call's rows: its user id, '' for none (revision 0011)."""
        return self._owner(config) or ""

    def get_next_version(self, current: str | None, channel: None) -> str:
        """The version after `current`: an increasing counter with a random tail, as
        LangGraph's own savers make them (text order is version order)."""
        if current is None:
            number = 0
        elif isinstance(current, int):
            number = current
        else:
            number = int(str(current).split(".")[0])
        return f"{number + 1:032}.{random.random():016}"

    def session_threads(self, session_id: str) -> builtins.list[str]:
        """This owner's threads with a checkpoint linked to the memvault session
        `session_id`."""
        with self.store.read() as tx:
            params: dict[str, Any] = {}
            linked = _metadata_equals(tx, 0, SESSION_KEY, session_id, params)
            params["o"] = self._owner_key(None)
            rows = tx.all(
                f"SELECT DISTINCT thread_id FROM {CHECKPOINTS} WHERE owner = :o AND {linked}"
                " ORDER BY thread_id",
                params,
            )
        return [str(r["thread_id"]) for r in rows]

    # --- async -----------------------------------------------------------------------------

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def _plan(self, make: Callable[[Values], Plan[T]], *, write: bool) -> T:
        """A plan natively async on PostgreSQL (given an AsyncVault), else on the threads."""
        if self.avault is not None:
            return await self.avault.run_plan(make, write=write)
        return await self._run(functools.partial(plans.run_in, self.store, make, write=write))

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """`get_tuple`, awaited."""
        return await self._plan(lambda v: self._get_plan(v, config), write=False)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """`list`, awaited."""
        found = await self._plan(
            lambda v: self._list_plan(v, config, filter, before, limit), write=False
        )
        for item in found:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """`put`, awaited."""
        try:
            return await self._plan(
                lambda v: self._put_plan(v, config, checkpoint, metadata, new_versions),
                write=True,
            )
        except IntegrityViolation as e:
            raise self._unknown_owner(config, e) from e

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """`put_writes`, awaited."""
        await self._plan(
            lambda v: self._put_writes_plan(config, writes, task_id, task_path), write=True
        )

    async def adelete_thread(self, thread_id: str) -> None:
        """`delete_thread`, off the event loop."""
        await self._run(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """`delete_for_runs`, off the event loop."""
        await self._run(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """`copy_thread`, off the event loop."""
        await self._run(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """`prune`, off the event loop."""
        await self._run(self.prune, thread_ids, strategy=strategy)


def _config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def _inserts(sql: str, names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[Query]:
    """`rows` as multi-row INSERTs (`sql` with `{rows}` for the VALUES list): one statement,
    not one per row as `executemany` sends them (psycopg syncs its pipeline after each)."""
    queries = []
    for start in range(0, len(rows), ROWS_PER_INSERT):
        params: dict[str, Any] = {}
        tuples = []
        for i, row in enumerate(rows[start : start + ROWS_PER_INSERT]):
            params.update({f"{n}{i}": row[n] for n in names})
            tuples.append("(" + ", ".join(f":{n}{i}" for n in names) + ")")
        queries.append(Query(sql.format(rows=", ".join(tuples)), params))
    return queries


def _versions(versions: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in versions.items()}


def _plain_json(metadata: CheckpointMetadata) -> dict[str, Any]:
    """Metadata as JSON holds it (tuples become lists; a value JSON cannot hold, its text)."""
    plain: dict[str, Any] = json.loads(json.dumps(metadata, default=str))
    return plain


def _metadata_equals(tx: Values, i: int, key: str, value: Any, params: dict[str, Any]) -> str:
    """SQL: the metadata's `key` holds `value` (as JSON compares them: 1 and 1.0 alike)."""
    params[f"fk{i}"] = key
    if tx.engine == "sqlite":
        params[f"fv{i}"] = json.dumps(value, default=str)
        return (
            f"EXISTS (SELECT 1 FROM json_each({CHECKPOINTS}.metadata) j WHERE j.key = :fk{i}"
            f" AND j.value IS json_extract(:fv{i}, '$') AND (j.type = json_type(:fv{i})"
            f" OR (j.type IN ('integer', 'real') AND json_type(:fv{i}) IN ('integer', 'real'))))"
        )
    params[f"fv{i}"] = tx.json(_plain_json({"v": value})["v"])  # type: ignore[typeddict-unknown-key]
    return f"{CHECKPOINTS}.metadata -> CAST(:fk{i} AS text) = CAST(:fv{i} AS jsonb)"
