"""Vector storage and exact search at memory bandwidth.

Vectors live in `embeddings` (float32 bytes, model, dimension), written in the caller's
transaction. Search runs on an in-memory float32 matrix per (owner, model, target kind), held by
each open Vault and refreshed incrementally: revision 0003 keeps a counter per (owner, model)
that every embedding write bumps and stamps on the row (`embeddings.seq`), and every delete
(cascades included) leaves a tombstone. Before each search the matrix reads the counter; if it
moved, only newer rows and tombstones are fetched. Another process's writes and deletions are
therefore visible at the next query, and an unchanged collection costs one indexed read.

The scan reads the rows (L2-normalised on load, so a dot product is the cosine) in two
passes, and is exact. From `QUANTIZED_FROM` rows on, the first pass scans an int8 copy of the
block (one scale per row, a quarter of the bytes: the float32 scan is bound by memory
bandwidth, 153 MB per query at 100k x 384) and bounds every row's true score: the int8 row's
score plus the norm of that row's quantisation error (Cauchy-Schwarz, the query being a unit
vector) plus a margin above float32 rounding. Smaller blocks scan the float32 rows with the
rounding margin alone. The second pass computes the exact score (float64 products of the
stored float32 values) of the rows with the highest bounds, taking more rows until the k-th
exact score is above the bound of every row not taken: no row left out can belong to the
top k, so the result is the exact scan's (a row tied with the k-th within the margin is
always re-scored). Deleted rows are swap-removed, so the blocks stay dense.

PostgreSQL with pgvector additionally mirrors vectors into `embeddings.vec` so that an HNSW
index can be built per model (`ann_index`). Searches asking for `approximate=True` use it when
it exists, which spares holding a large collection in memory; everywhere else (no pgvector,
no index, or fewer hits than asked for) they use the approximate index files of
`search/ann.py` when built, else fall back to the exact matrix, so the API and the results of
the exact path are the same on every engine.
"""

from __future__ import annotations

import functools
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
    """pgvector's text of a float32 vector: 9 significant digits give back each float32
    exactly (FLT_DECIMAL_DIG; pgvector reads them with strtof), one `%` for the whole row
    (a Python call per value cost PostgreSQL adds more than the server's work)."""
    return _literal_format(int(vec.size)) % tuple(vec.tolist())


@functools.lru_cache(maxsize=16)
def _literal_format(dim: int) -> str:
    return "[" + ",".join(["%.9g"] * dim) + "]"


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
    dim = model_dim(tx, model)
    if dim is not None and dim != vector.size:
        raise dim_mismatch(model, dim, vector)
    params = row_params(tx, embedding_id, user_id, target_id, model, vector, created_at, text)
    tx.execute(_upsert_sql(TARGET[kind], "vec" in params), params)


def put_many(tx: Tx, kind: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace many vectors (`row_params` of each, already checked against their
    model's dimension) in one `executemany` of `put`'s statement (caller's tx)."""
    if rows:
        tx.executemany(_upsert_sql(TARGET[kind], "vec" in rows[0]), rows)


def _upsert_sql(column: str, pgvector: bool) -> str:
    vec_col, vec_val, vec_set = "", "", ""
    if pgvector:
        vec_col, vec_val, vec_set = ", vec", ", CAST(:vec AS vector)", ", vec = excluded.vec"
    return (
        f"INSERT INTO embeddings (id, user_id, {column}, model, dim, vector, created_at, "
        f"metadata{vec_col}) VALUES (:id, :user_id, :target, :model, :dim, :vector, "
        f":created_at, :meta{vec_val}) "
        f"ON CONFLICT ({column}, model) DO UPDATE SET vector = excluded.vector, "
        f"dim = excluded.dim, created_at = excluded.created_at, "
        f"metadata = excluded.metadata{vec_set}"
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


QUANTIZED_FROM = 8192  # rows: from here on the first pass scans the int8 block
CHUNK = 512  # rows converted from int8 per BLAS call (stays in the CPU cache)
# Above float32 rounding of a 16384-term dot product of unit vectors (γ_n ≤ 1e-3 at n=16384,
# ≤ 2.3e-5 at 384): what a computed score may differ from the true one besides quantisation.
MARGIN = 1e-4
I8 = npt.NDArray[np.int8]


def _margin(dim: int) -> float:
    return max(MARGIN, 2.0 * dim * float(np.finfo(np.float32).eps))


class _Matrix:
    """One owner's vectors of one model and kind: a dense, growable float32 block, with its
    int8 copy (`codes` x `scale` per row) and each row's quantisation error norm (`error`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.data: F32 = np.empty((0, 0), dtype=np.float32)
        self.codes: I8 = np.empty((0, 0), dtype=np.int8)
        self.scale: F32 = np.empty(0, dtype=np.float32)
        self.error: F32 = np.empty(0, dtype=np.float32)
        self.n = 0
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.seen = 0  # counter value this matrix reflects
        self.rescored = 0  # rows whose exact score was computed (second pass), in total

    @property
    def dim(self) -> int:
        return int(self.data.shape[1])

    def remove(self, key: str) -> None:
        i = self.pos.pop(key, None)
        if i is None:
            return
        last = self.n - 1
        if i != last:
            self.data[i] = self.data[last]
            self.codes[i] = self.codes[last]
            self.scale[i] = self.scale[last]
            self.error[i] = self.error[last]
            moved = self.ids[last]
            self.ids[i] = moved
            self.pos[moved] = i
        self.ids.pop()
        self.n = last

    def _set(self, rows: npt.NDArray[np.intp], block: F32) -> None:
        """Store normalised rows at positions `rows`, with their int8 codes and error norms."""
        self.data[rows] = block
        peak = np.abs(block).max(axis=1)
        scale = (peak / np.float32(127.0)).astype(np.float32)
        scale[~(scale > 0)] = 1.0  # zero rows, and rows so small their scale underflows
        codes = np.clip(np.rint(block / scale[:, None]), -127, 127).astype(np.int8)
        # The error of the values the scan multiplies (float32 scale times int8 code),
        # in float64, rounded up to float32.
        diff = block.astype(np.float64) - scale.astype(np.float64)[:, None] * codes
        err = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        self.codes[rows] = codes
        self.scale[rows] = scale
        self.error[rows] = np.nextafter(err.astype(np.float32), np.float32(np.inf))

    def upsert(self, keys: Sequence[str], block: F32) -> None:
        if len(keys) == 0:
            return
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        block = (block / norms).astype(np.float32, copy=False)
        if self.data.shape[1] != block.shape[1]:
            if self.n:
                raise InvalidInput("vector", "<block>", "dimension changed within one model")
            self.reset()
            self.data = np.empty((0, block.shape[1]), dtype=np.float32)
            self.codes = np.empty((0, block.shape[1]), dtype=np.int8)
        old: list[int] = []
        at: list[int] = []
        fresh: list[int] = []
        for j, key in enumerate(keys):
            i = self.pos.get(key)
            if i is not None:
                old.append(j)
                at.append(i)
            else:
                fresh.append(j)
        if old:
            self._set(np.asarray(at, dtype=np.intp), block[np.asarray(old)])
        if not fresh:
            return
        need = self.n + len(fresh)
        if need > self.data.shape[0]:
            size = max(need, 2 * self.data.shape[0], 64)
            dim = block.shape[1]
            grown = np.empty((size, dim), np.float32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
            codes = np.empty((size, dim), np.int8)
            codes[: self.n] = self.codes[: self.n]
            self.codes = codes
            self.scale = np.concatenate([self.scale[: self.n], np.empty(size - self.n, np.float32)])
            self.error = np.concatenate([self.error[: self.n], np.empty(size - self.n, np.float32)])
        self._set(np.arange(self.n, need, dtype=np.intp), block[np.asarray(fresh)])
        for off, j in enumerate(fresh):
            self.ids.append(keys[j])
            self.pos[keys[j]] = self.n + off
        self.n = need

    def bounds(self, q: F32, quantized: bool) -> F32:
        """An upper bound of every row's true score against the unit query `q` (first pass)."""
        n = self.n
        out = np.empty(n, dtype=np.float32)
        margin = _margin(self.dim)
        with one_blas_thread():
            if not quantized:
                np.dot(self.data[:n], q, out=out)
                out += margin
                return out
            buf = np.empty((min(CHUNK, n), self.dim), dtype=np.float32)
            for a in range(0, n, CHUNK):
                b = min(a + CHUNK, n)
                part = buf[: b - a]
                np.copyto(part, self.codes[a:b], casting="unsafe")  # int8 -> float32: exact
                np.dot(part, q, out=out[a:b])
        out *= self.scale[:n]
        out += self.error[:n] * np.float32(1.0 + 1e-5)
        out += margin
        return out

    def exact(
        self, rows: npt.NDArray[np.intp], q64: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """True scores of `rows`: float64 products of the stored float32 values (exact) summed
        row by row the same way whatever `rows` holds, so a row's score never depends on the
        rows scored with it (equal rows score equal; a BLAS product may round them apart)."""
        self.rescored += int(rows.size)
        out = np.empty(rows.size, dtype=np.float64)
        for a in range(0, rows.size, 4096):
            b = min(a + 4096, rows.size)
            np.sum(self.data[rows[a:b]].astype(np.float64) * q64, axis=1, out=out[a:b])
        return out

    def top(
        self,
        q: F32,
        k: int,
        *,
        quantized: bool,
        allowed: Callable[[list[str]], set[str]] | None = None,
        allowed_all: Callable[[], Iterable[str]] | None = None,
    ) -> list[tuple[str, float]]:
        """The exact top-`k` (id, cosine) against the unit query `q`, best first, equal
        scores in block order (see the module doc and `MatrixIndex.search`)."""
        if self.n == 0:
            return []
        upper = self.bounds(q, quantized)
        return _exact_top(self, upper, q.astype(np.float64), k, allowed, allowed_all)


class MatrixIndex:
    """The exact vector index of one open Vault (see the module doc)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, str, str], _Matrix] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.quantized_from = QUANTIZED_FROM

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
        """Top-`k` (id, cosine) of one owner's `kind` vectors for `model`, best first: the
        exact answer (see the module doc).

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
            q = (query / (float(np.linalg.norm(query)) or 1.0)).astype(np.float32)
            return m.top(
                q, k, quantized=m.n >= self.quantized_from,
                allowed=allowed, allowed_all=allowed_all,
            )  # fmt: skip

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "matrices": len(self._entries),
                "rows": sum(e.n for e in self._entries.values()),
                "bytes": sum(e.data.nbytes for e in self._entries.values()),
            }


def _exact_top(
    m: _Matrix,
    upper: F32,
    q64: npt.NDArray[np.float64],
    k: int,
    allowed: Callable[[list[str]], set[str]] | None,
    allowed_all: Callable[[], Iterable[str]] | None,
) -> list[tuple[str, float]]:
    """The `k` best passing rows by exact score, re-scoring rows by decreasing bound until
    the k-th exact score passes the bound of every row not re-scored."""
    universe: npt.NDArray[np.intp] | None = None  # None: every row
    ub = upper
    verdict: dict[int, bool] = {}
    want = max(4 * k, 64)
    while True:
        size = ub.size
        if allowed is not None and want >= 4096 and allowed_all is not None and universe is None:
            ok = sorted({m.pos[i] for i in allowed_all() if i in m.pos})
            if not ok:
                return []
            universe = np.asarray(ok, dtype=np.intp)
            ub = upper[universe]
            verdict = dict.fromkeys(ok, True)
            allowed = None
            continue
        if want < size:
            part = np.argpartition(-ub, want)
            take, rest = part[:want], float(ub[part[want]])
        else:
            take, rest = np.arange(size), -np.inf
        rows = take if universe is None else universe[take]
        if allowed is not None:
            fresh = [int(r) for r in rows if int(r) not in verdict]
            if fresh:
                passed = allowed([m.ids[r] for r in fresh])
                verdict.update((r, m.ids[r] in passed) for r in fresh)
            rows = np.asarray([r for r in rows.tolist() if verdict[r]], dtype=np.intp)
        scores = m.exact(rows, q64)
        # best first; equal scores by position in the block (the scan's order)
        order = np.lexsort((rows, -scores))[:k]
        if rest == -np.inf or (order.size >= k and scores[order[-1]] > rest):
            return [(m.ids[int(rows[i])], float(scores[i])) for i in order]
        want *= 4


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
