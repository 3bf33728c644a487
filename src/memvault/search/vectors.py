"""Vector storage and exact search at memory bandwidth.

Vectors live in `embeddings` (float32 bytes, model, dimension), written in the caller's
transaction. Search runs on an in-memory float32 matrix per (owner, model, target kind), held by
each open Vault and refreshed incrementally: revision 0003 keeps a counter per (owner, model)
that every embedding write bumps and stamps on the row (`embeddings.seq`), and every delete
(cascades included) leaves a tombstone. Before each search the matrix reads the counter; if it
moved, only newer rows and tombstones are fetched. Another process's writes and deletions are
therefore visible at the next query, and an unchanged collection costs one indexed read.

The scan itself is one BLAS matrix-vector product over a contiguous float32 block (rows are
L2-normalised on load, so the product is the cosine) and `argpartition` for the top k: the same
work as the numpy floor. Deleted rows are swap-removed, so the block stays dense.

PostgreSQL with pgvector additionally mirrors vectors into `embeddings.vec` so that an HNSW
index can be built per model (`ann_index`). Searches asking for `approximate=True` use it when
it exists, which spares holding a large collection in memory; everywhere else (no pgvector,
no index, or fewer hits than asked for) they use the approximate index files of
`search/ann.py` when built, else fall back to the exact matrix, so the API and the results of
the exact path are the same on every engine.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from memvault import scope
from memvault.errors import InvalidInput
from memvault.store.base import Tx
from memvault.threads import one_blas_thread

F32 = npt.NDArray[np.float32]
KINDS = ("memory", "message")
TARGET = {"memory": "memory_id", "message": "message_id"}
MODEL_NAME = re.compile(r"^[A-Za-z0-9._:/@+\-]{1,200}$")
MAX_ENTRIES = 64


def check_model(model: str) -> str:
    if not isinstance(model, str) or not MODEL_NAME.match(model):
        raise InvalidInput(
            "model", model, "expected 1-200 characters among letters, digits and ._:/@+-"
        )
    return model


def as_vector(field: str, value: Any, dim: int | None = None) -> F32:
    """A finite 1-d float32 vector (copied), of `dim` values when given."""
    try:
        vec = np.asarray(value, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, value, f"not a vector of numbers ({exc})") from exc
    if vec.size == 0 or vec.size > 16384:
        raise InvalidInput(field, f"<{vec.size} values>", "expected 1 to 16384 values")
    if not np.all(np.isfinite(vec)):
        raise InvalidInput(field, "<vector>", "contains NaN or infinite values")
    if dim is not None and vec.size != dim:
        raise InvalidInput(field, f"<{vec.size} values>", f"expected {dim} values")
    return np.ascontiguousarray(vec)


TEXT_KEY = "text_sha256"  # in `embeddings.metadata`: which text the vector was computed from


def text_digest(text: str) -> str:
    """The identity of the exact text a vector embeds (SHA-256, nothing folded)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def owner_key(user_id: str | None) -> str:
    return "" if user_id is None else str(user_id)


def model_dim(tx: Tx, model: str) -> int | None:
    """The dimension already used by `model` in this store, if any."""
    value = tx.scalar("SELECT dim FROM embeddings WHERE model = :m LIMIT 1", {"m": model})
    return None if value is None else int(value)


_pgvector: dict[str, bool] = {}


def has_pgvector(tx: Tx) -> bool:
    """Whether `embeddings.vec` exists (PostgreSQL with pgvector)."""
    if tx.engine != "postgresql":
        return False
    key = tx.database
    if key not in _pgvector:
        _pgvector[key] = bool(
            tx.scalar(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'embeddings' "
                "AND column_name = 'vec' AND table_schema = current_schema()"
            )
        )
    return _pgvector[key]


def vec_literal(vec: F32) -> str:
    return "[" + ",".join(repr(float(x)) for x in vec) + "]"


def put(
    tx: Tx,
    *,
    embedding_id: str,
    user_id: str | None,
    kind: str,
    target_id: str,
    model: str,
    vector: F32,
    created_at: Any,
    text: str | None = None,
) -> None:
    """Insert or replace the vector of one memory or message for `model` (caller's tx).

    `text`: the text the vector embeds; its digest is kept in the row's metadata
    (`TEXT_KEY`), so that a vector can always be checked against its row's current text."""
    column = TARGET[kind]
    dim = model_dim(tx, model)
    if dim is not None and dim != vector.size:
        raise dim_mismatch(model, dim, vector)
    params = row_params(tx, embedding_id, user_id, target_id, model, vector, created_at, text)
    vec_col, vec_val, vec_set = "", "", ""
    if "vec" in params:
        vec_col, vec_val, vec_set = ", vec", ", CAST(:vec AS vector)", ", vec = excluded.vec"
    tx.execute(
        f"INSERT INTO embeddings (id, user_id, {column}, model, dim, vector, created_at, "
        f"metadata{vec_col}) VALUES (:id, :user_id, :target, :model, :dim, :vector, "
        f":created_at, :meta{vec_val}) "
        f"ON CONFLICT ({column}, model) DO UPDATE SET vector = excluded.vector, "
        f"dim = excluded.dim, created_at = excluded.created_at, "
        f"metadata = excluded.metadata{vec_set}",
        params,
    )


def dim_mismatch(model: str, dim: int, vector: F32) -> InvalidInput:
    """The error of a vector whose size is not the one `model` already stores."""
    return InvalidInput(
        "vector", f"<{vector.size} values>",
        f"model {model!r} already stores {dim}-dimensional vectors",
    )  # fmt: skip


def row_params(
    tx: Tx,
    embedding_id: str,
    user_id: str | None,
    target_id: str | None,
    model: str,
    vector: F32,
    created_at: Any,
    text: str | None,
) -> dict[str, Any]:
    """The parameters of one `embeddings` row (`vec` too where pgvector mirrors vectors)."""
    params: dict[str, Any] = {
        "id": embedding_id,
        "user_id": user_id,
        "target": target_id,
        "model": model,
        "dim": int(vector.size),
        "vector": vector.astype("<f4").tobytes(),
        "created_at": created_at,
        "meta": tx.json({TEXT_KEY: text_digest(text)} if text is not None else {}),
    }
    if has_pgvector(tx):
        params["vec"] = vec_literal(vector)
    return params


def insert_from(source: str, prefix: str, *, pgvector: bool) -> str:
    """PostgreSQL: the INSERT of one new memory's vector whose memory id and owner are the
    `id` and `user_id` of the CTE `source` (no row there: nothing inserted); its other
    values are `row_params` with each name prefixed by `prefix`."""
    vec_col, vec_val = (", vec", f", CAST(:{prefix}vec AS vector)") if pgvector else ("", "")
    return (
        f"INSERT INTO embeddings (id, user_id, memory_id, model, dim, vector, created_at, "
        f"metadata{vec_col}) SELECT :{prefix}id, user_id, id, :{prefix}model, :{prefix}dim, "
        f":{prefix}vector, :{prefix}created_at, :{prefix}meta{vec_val} FROM {source}"
    )


class _Matrix:
    """One owner's vectors of one model and kind: a dense, growable float32 block."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: F32 = np.empty((0, 0), dtype=np.float32)
        self.n = 0
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.seen = 0  # counter value this matrix reflects

    @property
    def dim(self) -> int:
        return int(self.data.shape[1])

    def reset(self) -> None:
        self.data = np.empty((0, 0), dtype=np.float32)
        self.n = 0
        self.ids = []
        self.pos = {}
        self.seen = 0

    def remove(self, key: str) -> None:
        i = self.pos.pop(key, None)
        if i is None:
            return
        last = self.n - 1
        if i != last:
            self.data[i] = self.data[last]
            moved = self.ids[last]
            self.ids[i] = moved
            self.pos[moved] = i
        self.ids.pop()
        self.n = last

    def upsert(self, keys: Sequence[str], block: F32) -> None:
        if len(keys) == 0:
            return
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        block = (block / norms).astype(np.float32, copy=False)
        if self.data.shape[1] != block.shape[1]:
            if self.n:
                raise InvalidInput("vector", "<block>", "dimension changed within one model")
            self.data = np.empty((0, block.shape[1]), dtype=np.float32)
        fresh: list[int] = []
        for j, key in enumerate(keys):
            i = self.pos.get(key)
            if i is not None:
                self.data[i] = block[j]
            else:
                fresh.append(j)
        if not fresh:
            return
        need = self.n + len(fresh)
        if need > self.data.shape[0]:
            grown = np.empty((max(need, 2 * self.data.shape[0], 64), block.shape[1]), np.float32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        idx = np.asarray(fresh)
        self.data[self.n : need] = block[idx]
        for off, j in enumerate(fresh):
            self.ids.append(keys[j])
            self.pos[keys[j]] = self.n + off
        self.n = need


class MatrixIndex:
    """The exact vector index of one open Vault (see the module doc)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, str, str], _Matrix] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _entry(self, key: tuple[str, str, str]) -> _Matrix:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Matrix()
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
            return entry

    def _refresh(self, tx: Tx, m: _Matrix, user_id: str | None, model: str, kind: str) -> None:
        owner = owner_key(user_id)
        clock = tx.scalar(
            "SELECT value FROM vector_clock WHERE owner = :o AND model = :m",
            {"o": owner, "m": model},
        )
        if clock is None:
            m.reset()
            return
        clock = int(clock)
        if clock == m.seen:
            return
        if clock < m.seen:  # counters were reset (user erased and re-created, restore)
            m.reset()
        col = TARGET[kind]
        params: dict[str, Any] = {"o": owner, "m": model, "last": m.seen, "c": clock}
        if m.seen:
            for row in tx.all(
                f"SELECT {col} AS t FROM vector_tombstones WHERE owner = :o AND model = :m "
                f"AND seq > :last AND seq <= :c AND {col} IS NOT NULL",
                params,
            ):
                m.remove(str(row["t"]))
        who = scope.owners_clause([user_id], params, name="u")
        cur = tx.execute(
            f"SELECT {col} AS t, dim, vector FROM embeddings WHERE {who} AND model = :m "
            f"AND seq > :last AND seq <= :c AND {col} IS NOT NULL",
            params,
        )
        # In blocks: a first load of 1M rows never holds every row object at once.
        while rows := cur.fetchmany(16_384):
            dim = int(rows[0]["dim"])
            raw = b"".join(bytes(r["vector"]) for r in rows)
            block = np.frombuffer(raw, dtype="<f4").reshape(len(rows), dim)
            m.upsert([str(r["t"]) for r in rows], block)
        m.seen = clock

    def search(
        self,
        tx: Tx,
        user_id: str | None,
        model: str,
        kind: str,
        query: F32,
        k: int,
        *,
        allowed: Callable[[list[str]], set[str]] | None = None,
        allowed_all: Callable[[], Iterable[str]] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-`k` (id, cosine) of one owner's `kind` vectors for `model`, best first.

        `allowed(ids)` returns which candidate ids pass the caller's filters (checked on
        growing candidate sets); `allowed_all()` lists every passing id, used when the filter
        turns out to be selective.
        """
        m = self._entry((owner_key(user_id), model, kind))
        with m.lock:
            self._refresh(tx, m, user_id, model, kind)
            if m.n == 0:
                return []
            if query.size != m.dim:
                raise InvalidInput(
                    "query_vector", f"<{query.size} values>",
                    f"model {model!r} stores {m.dim}-dimensional vectors",
                )  # fmt: skip
            q = query / (float(np.linalg.norm(query)) or 1.0)
            with one_blas_thread():
                scores = m.data[: m.n] @ q
            if allowed is None:
                return _top(scores, m.ids, k)
            got: list[tuple[str, float]] = []
            checked = 0
            want = max(4 * k, 64)
            order: npt.NDArray[np.intp] | None = None
            while checked < m.n:
                if want >= 4096 and allowed_all is not None:
                    ok = {m.pos[i] for i in allowed_all() if i in m.pos}
                    if not ok:
                        return []
                    idx = np.fromiter(ok, dtype=np.intp, count=len(ok))
                    sub = scores[idx]
                    top = idx[_top_idx(sub, k)]
                    return [(m.ids[i], float(scores[i])) for i in top]
                take = min(want, m.n)
                if take < m.n:
                    part = np.argpartition(-scores, take - 1)[:take]
                    order = part[np.argsort(-scores[part], kind="stable")]
                else:
                    order = np.argsort(-scores, kind="stable")
                batch = [m.ids[i] for i in order[checked:take]]
                passed = allowed(batch)
                for i in order[checked:take]:
                    key = m.ids[i]
                    if key in passed:
                        got.append((key, float(scores[i])))
                checked = take
                if len(got) >= k:
                    break
                want *= 4
            return got[:k]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "matrices": len(self._entries),
                "rows": sum(e.n for e in self._entries.values()),
                "bytes": sum(e.data.nbytes for e in self._entries.values()),
            }


def _top_idx(scores: F32, k: int) -> npt.NDArray[np.intp]:
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    return part[np.argsort(-scores[part], kind="stable")]


def _top(scores: F32, ids: list[str], k: int) -> list[tuple[str, float]]:
    return [(ids[i], float(scores[i])) for i in _top_idx(scores, k)]


def ann_index_name(model: str, dim: int) -> str:
    return "ix_embeddings_hnsw_" + re.sub(r"[^a-z0-9]", "_", model.lower())[:30] + f"_{int(dim)}"


def ann_index(tx: Tx, model: str, dim: int) -> str | None:
    """Create (if missing) a pgvector HNSW index for `model`; its name, or None without
    pgvector. Approximate: measure its recall before relying on it."""
    if not has_pgvector(tx):
        return None
    check_model(model)
    name = ann_index_name(model, dim)
    literal = model.replace("'", "''")
    tx.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON embeddings USING hnsw "
        f"((vec::vector({int(dim)})) vector_cosine_ops) WHERE model = '{literal}'"
    )
    return name


_ann_ready: set[str] = set()


def has_ann_index(tx: Tx, model: str, dim: int) -> bool:
    """Whether an HNSW index for (`model`, `dim`) exists (PostgreSQL with pgvector)."""
    if not has_pgvector(tx):
        return False
    name = ann_index_name(check_model(model), dim)
    key = f"{tx.database}/{name}"
    if key in _ann_ready:
        return True
    found = tx.scalar(
        "SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relname = :n AND c.relnamespace = current_schema()::regnamespace "
        "AND i.indisvalid",
        {"n": name},
    )
    if found:
        _ann_ready.add(key)
    return bool(found)


def ann_search(
    tx: Tx,
    user_id: str | None,
    model: str,
    kind: str,
    query: F32,
    k: int,
    *,
    ef_search: int = 100,
    table: str | None = None,
    where: str = "",
    params: dict[str, Any] | None = None,
) -> list[tuple[str, float]]:
    """Approximate top-`k` (id, cosine) through pgvector HNSW (PostgreSQL with pgvector only).

    `table`/`where`/`params`: the target table (alias `t`) and the caller's filters, applied
    during the index scan. pgvector's iterative scan keeps reading the graph until `k` rows
    pass them (up to `hnsw.max_scan_tuples`), so a selective filter may return fewer."""
    check_model(model)
    col = TARGET[kind]
    dim = int(query.size)
    literal = model.replace("'", "''")
    p: dict[str, Any] = dict(params or {})
    p.update(ann_q=vec_literal(query), ann_k=int(k))
    who = scope.owners_clause([user_id], p, "e.user_id", name="ann_u")
    join = f" JOIN {table} t ON t.id = e.{col}" if table else ""
    cond = f" AND {where}" if where else ""
    dist = f"e.vec::vector({dim}) <=> CAST(:ann_q AS vector({dim}))"
    tx.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
    tx.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    rows = tx.all(
        f"SELECT e.{col} AS t, 1 - ({dist}) AS score FROM embeddings e{join} "
        f"WHERE e.model = '{literal}' AND {who} AND e.{col} IS NOT NULL{cond} "
        f"ORDER BY {dist} LIMIT :ann_k",
        p,
    )
    got = [(str(r["t"]), float(r["score"])) for r in rows]
    got.sort(key=lambda item: -item[1])  # relaxed order: nearly sorted, sort for the caller
    return got
