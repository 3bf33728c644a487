"""Approximate vector search without pgvector: an inverted file of k-means lists, on disk.

Derived data, like the full-text tables. `build` reads one owner's vectors of one model and
kind (rows up to the owner's change counter, `vector_clock`), clusters them into about 2·√N
lists with spherical k-means (around the rows' mean) and writes the rows grouped by list,
their ids, the centroids and the list bounds as `.npy` files in a folder beside the store
(`<db>.ann/`). A small pointer file per (owner, model, kind) names the current build and the
counter value it covers (its watermark); it is replaced atomically, so readers see the old or
the new build, never half of one. Files are memory-mapped: opening costs nothing, and
processes share the page cache.

A query scores the centroids, then scans the rows of the `probes` nearest lists (one BLAS
product per list) and takes the top k. Rows written after the watermark (new and updated
vectors, by `embeddings.seq`) are searched exactly in a small in-memory matrix, and rows
deleted or replaced after it (tombstones, newer seq) are never returned from the file. Once
those rows reach a fifth of the build (`FileIndex.rebuild_fraction`, `rebuild_min`), the vault
rebuilds the files in the background.
Filters are checked on growing candidate sets; when too few pass, the caller falls back to the
exact matrix. A missing, unreadable or foreign file (another database, counters reset) is
ignored: the search is exact, never wrong.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import mmap
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memvault import scope
from memvault.search.vectors import F32, TARGET, _Matrix, owner_key
from memvault.store.base import Tx
from memvault.threads import one_blas_thread

FORMAT = 1
log = logging.getLogger(__name__)
I64 = npt.NDArray[np.int64]
MAX_CANDIDATES = 4096  # beyond this many filtered candidates, the exact matrix answers
MIN_SCAN = 4096  # rows scanned at least (about 6 MB at 384-d): small indexes stay accurate
REBUILD_FRACTION = 0.2  # rebuild once rows changed since the build reach this share of it ...
REBUILD_MIN = 1000  # ... and at least this many


def key_name(owner: str, model: str, kind: str) -> str:
    return hashlib.sha256(f"{owner}\0{model}\0{kind}".encode()).hexdigest()[:24]


# -- building -----------------------------------------------------------------------------


def kmeans(x: F32, nlist: int, *, iters: int = 10, seed: int = 0, centre: F32 | None = None) -> F32:
    """Spherical k-means centroids (unit rows) of the unit rows `x` less `centre` (directions
    from the centre), trained on a sample."""
    rng = np.random.default_rng(seed)
    nlist = max(1, min(nlist, x.shape[0]))
    size = min(x.shape[0], 64 * nlist, 262_144)
    sample = x[np.sort(rng.choice(x.shape[0], size, replace=False))]
    if centre is not None:
        sample = sample - centre
        norms = np.linalg.norm(sample, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        sample /= norms
    cent = sample[rng.choice(size, nlist, replace=False)].copy()
    for _ in range(iters):
        assign = _assign(sample, cent)
        sums = np.zeros_like(cent)
        np.add.at(sums, assign, sample)
        norms = np.linalg.norm(sums, axis=1)
        keep = norms > 0  # an empty list keeps its centroid
        cent[keep] = sums[keep] / norms[keep, None]
    return np.ascontiguousarray(cent, dtype=np.float32)


def _assign(x: F32, cent: F32, chunk: int = 32_768, centre: F32 | None = None) -> I64:
    """The nearest centroid of each row of `x` (less `centre`: (x - m)·c = x·c - m·c)."""
    shift = np.zeros(cent.shape[0], np.float32) if centre is None else cent @ centre
    return np.concatenate(
        [np.argmax(x[i : i + chunk] @ cent.T - shift, axis=1) for i in range(0, x.shape[0], chunk)]
    ).astype(np.int64)


def lists_for(n: int) -> int:
    """Lists of an index of `n` rows: about 2·√n, at most 8192. On real embeddings more,
    smaller lists gave a better recall for the same rows scanned (bench/README_search.md,
    "Approximate search on real embeddings")."""
    return max(1, min(8192, round(2 * math.sqrt(n))))


def organise(x: F32, lists: int) -> tuple[I64, F32, I64, F32]:
    """Cluster the unit rows `x` around their mean: (row order grouped by list, centroids,
    list bounds, mean). Embeddings of one model share a large common component (mean
    pairwise cosine ~0.82 for e5); the lists are the directions from the mean. Measured on
    real embeddings, this is on a par with k-means on the raw rows (bench/README_search.md):
    a query probes by q·c either way, so the files of either build are read alike."""
    centre = np.ascontiguousarray(x.mean(axis=0, dtype=np.float64).astype(np.float32))
    cent = kmeans(x, lists, centre=centre)
    assign = _assign(x, cent, centre=centre)
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(cent.shape[0] + 1)).astype(np.int64)
    return order, cent, bounds, centre


def _read_rows(
    tx: Tx, user_id: str | None, model: str, kind: str, upto: int
) -> tuple[list[str], F32]:
    col = TARGET[kind]
    params: dict[str, Any] = {"m": model, "c": upto}
    who = scope.owners_clause([user_id], params, name="u")
    count = int(tx.scalar(
        f"SELECT count(*) FROM embeddings WHERE {who} AND model = :m AND seq <= :c "
        f"AND {col} IS NOT NULL", params,
    ))  # fmt: skip
    cur = tx.execute(
        f"SELECT {col} AS t, dim, vector FROM embeddings WHERE {who} AND model = :m "
        f"AND seq <= :c AND {col} IS NOT NULL",
        params,
    )
    ids: list[str] = []
    x: F32 = np.empty((0, 0), dtype=np.float32)
    while rows := cur.fetchmany(16_384):
        dim = int(rows[0]["dim"])
        if x.shape[1] != dim:
            if ids:
                raise ValueError(f"model {model!r} holds vectors of two dimensions")
            x = np.empty((max(count, len(rows)), dim), dtype=np.float32)
        if len(ids) + len(rows) > x.shape[0]:  # more rows than counted (no snapshot)
            x = np.concatenate([x, np.empty((len(rows), x.shape[1]), np.float32)])
        raw = b"".join(bytes(r["vector"]) for r in rows)
        x[len(ids) : len(ids) + len(rows)] = np.frombuffer(raw, "<f4").reshape(len(rows), dim)
        ids += [str(r["t"]) for r in rows]
    x = x[: len(ids)]
    for i in range(0, x.shape[0], 65_536):  # unit rows, in place, as the exact matrix has
        block = x[i : i + 65_536]
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        block /= norms
    return ids, x


def build(
    folder: Path,
    tx: Tx,
    user_id: str | None,
    model: str,
    kind: str,
    *,
    nlist: int | None = None,
) -> dict[str, Any] | None:
    """Write the approximate index of one (owner, model, kind) from `tx`'s snapshot; its
    metadata, or None when the owner has no such vector. Replaces an older build."""
    owner = owner_key(user_id)
    clock = tx.scalar(
        "SELECT value FROM vector_clock WHERE owner = :o AND model = :m", {"o": owner, "m": model}
    )
    if clock is None:
        return None
    ids, x = _read_rows(tx, user_id, model, kind, int(clock))
    if not ids:
        return None
    started = time.perf_counter()
    n = len(ids)
    order, cent, bounds, _centre = organise(x, nlist or lists_for(n))
    folder.mkdir(parents=True, exist_ok=True)
    name = key_name(owner, model, kind)
    build_dir = folder / f"{name}-{time.time_ns():x}"
    build_dir.mkdir()
    try:
        data = np.lib.format.open_memmap(
            build_dir / "data.npy", mode="w+", dtype=np.float32, shape=x.shape
        )
        for i in range(0, n, 65_536):
            data[i : i + 65_536] = x[order[i : i + 65_536]]
        data.flush()
        del data
        id_arr = np.array(ids, dtype=object)[order]
        np.save(build_dir / "ids.npy", np.array([s.encode() for s in id_arr], dtype="S"))
        np.save(build_dir / "centroids.npy", cent)
        np.save(build_dir / "bounds.npy", bounds)
        meta = {
            "format": FORMAT, "owner": owner, "model": model, "kind": kind,
            "dim": int(x.shape[1]), "count": n, "lists": int(cent.shape[0]),
            "seq": int(clock), "dir": build_dir.name, "centred": True,
            "build_s": round(time.perf_counter() - started, 3),
        }  # fmt: skip
        pointer = folder / f"{name}.json"
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, pointer)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    for old in folder.glob(f"{name}-*"):  # readers keep their mapped files open (POSIX)
        if old.name != build_dir.name:
            shutil.rmtree(old, ignore_errors=True)
    return meta


# -- loading and searching ----------------------------------------------------------------


@dataclass
class Built:
    """One build as read from its files (rows memory-mapped)."""

    meta: dict[str, Any]
    data: F32
    ids: npt.NDArray[np.bytes_]
    centroids: F32
    bounds: I64

    @property
    def seq(self) -> int:
        return int(self.meta["seq"])

    def candidates(self, q: F32, want: int, probes: int) -> tuple[I64, F32, bool]:
        """Positions and scores of the best rows in the `probes` nearest lists (more lists
        until at least 4·`want` and MIN_SCAN rows are scanned), best first; True when every
        row was."""
        order = np.argsort(-(self.centroids @ q), kind="stable")
        sizes = self.bounds[1:] - self.bounds[:-1]
        reach = np.cumsum(sizes[order])
        enough = int(np.searchsorted(reach, max(4 * want, MIN_SCAN))) + 1
        lists = order[: max(probes, enough)]
        lists = lists[sizes[lists] > 0]
        starts = self.bounds[lists]
        offs = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(sizes[lists], out=offs[1:])
        scores = np.empty(int(offs[-1]), dtype=np.float32)
        for j, a in enumerate(starts.tolist()):  # one BLAS product per list, into `scores`
            lo, hi = int(offs[j]), int(offs[j + 1])
            np.dot(self.data[a : a + hi - lo], q, out=scores[lo:hi])
        if want < scores.size:
            top = np.argpartition(-scores, want - 1)[:want]
        else:
            top = np.arange(scores.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        part = np.searchsorted(offs, top, side="right") - 1
        pos = starts[part] + (top - offs[part])
        return (
            pos.astype(np.int64),
            scores[top],
            len(lists) >= len(order) or bool(np.all(sizes[order[len(lists) :]] == 0)),
        )


def _mapped(path: Path) -> npt.NDArray[Any]:
    """A read-only `.npy` array mapped with its page tables filled up front (MAP_POPULATE
    where the platform has it): the first queries of a process would otherwise take a
    page fault per 4 KB they touch, several ms per query at 1M rows."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version != (1, 0):
            raise ValueError(f"unexpected .npy version {version}")
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
        if fortran or dtype.hasobject:
            raise ValueError("unexpected .npy layout")
        count = int(np.prod(shape))
        if offset + count * dtype.itemsize > os.fstat(f.fileno()).st_size:
            raise ValueError("the file is shorter than its header says")
        if count == 0:
            return np.empty(shape, dtype=dtype)
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        mm = mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
    return np.frombuffer(mm, dtype=dtype, count=count, offset=offset).reshape(shape)


def load(folder: Path, owner: str, model: str, kind: str) -> Built | None:
    """The current build of (owner, model, kind), or None (missing or unreadable: logged)."""
    pointer = folder / f"{key_name(owner, model, kind)}.json"
    if not pointer.exists():
        return None
    try:
        meta = json.loads(pointer.read_text())
        if (meta.get("format"), meta.get("owner"), meta.get("model"), meta.get("kind")) != (
            FORMAT, owner, model, kind,
        ):  # fmt: skip
            raise ValueError("the pointer file names another index or format")
        where = folder / str(meta["dir"])
        if where.parent != folder:
            raise ValueError("the build folder is outside the index folder")
        data = _mapped(where / "data.npy")
        ids = np.load(where / "ids.npy", mmap_mode="r", allow_pickle=False)
        cent = np.load(where / "centroids.npy", allow_pickle=False)
        bounds = np.load(where / "bounds.npy", allow_pickle=False)
        n, dim, lists = int(meta["count"]), int(meta["dim"]), int(meta["lists"])
        if (
            data.dtype != np.float32 or data.shape != (n, dim) or ids.shape != (n,)
            or ids.dtype.kind != "S" or cent.dtype != np.float32 or cent.shape != (lists, dim)
            or bounds.shape != (lists + 1,) or bounds[0] != 0 or bounds[-1] != n
            or np.any(np.diff(bounds) < 0)
        ):  # fmt: skip
            raise ValueError("files do not match their metadata")
        # plain views of the mapped files (numpy's memmap subclass is slow to slice)
        return Built(meta, np.asarray(data), np.asarray(ids), cent, bounds.astype(np.int64))
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        log.warning("ignoring approximate index %s (exact search instead): %s", pointer, exc)
        return None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class _Live:
    """A loaded build plus what changed since its watermark, in this process."""

    built: Built | None
    stamp: tuple[int, int, int] | None
    seen: int = 0
    verified: bool = False
    delta: _Matrix = field(default_factory=_Matrix)
    dead: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FileIndex:
    """The approximate indexes of one open Vault, read from `folder` (see the module doc).

    Rows written after a build are searched exactly beside it; once they reach
    `rebuild_fraction` of the build (and at least `rebuild_min` rows), the next search calls
    `on_stale(user_id, model, kind)` once (the vault rebuilds in the background), so that a
    growing collection does not drift back to exact scans.
    """

    def __init__(self) -> None:
        self._live: dict[tuple[str, str, str, str], _Live] = {}
        self._lock = threading.Lock()
        self.rebuild_fraction = REBUILD_FRACTION
        self.rebuild_min = REBUILD_MIN
        self.on_stale: Callable[[str | None, str, str], None] | None = None
        self._stale: set[tuple[str, str, str, str]] = set()

    def stale(self, live: _Live) -> bool:
        """Whether enough rows changed since `live`'s build to rebuild it."""
        if live.built is None:
            return False
        changed = len(live.dead)  # every row written, replaced or deleted since the build
        size = int(live.built.data.shape[0])
        return changed >= max(self.rebuild_min, self.rebuild_fraction * size)

    def rebuilt(self, folder: Path, owner: str, model: str, kind: str) -> None:
        """A rebuild of (owner, model, kind) ended (done or failed): it may be asked again."""
        with self._lock:
            self._stale.discard((str(folder), owner, model, kind))

    def clear(self) -> None:
        with self._lock:
            self._live.clear()

    def _get(self, folder: Path, owner: str, model: str, kind: str) -> _Live:
        key = (str(folder), owner, model, kind)
        stamp = _stamp(folder / f"{key_name(owner, model, kind)}.json")
        with self._lock:
            live = self._live.get(key)
            if live is None or live.stamp != stamp:
                built = load(folder, owner, model, kind) if stamp else None
                live = self._live[key] = _Live(built, stamp, built.seq if built else 0)
            return live

    def search(
        self,
        folder: Path,
        tx: Tx,
        user_id: str | None,
        model: str,
        kind: str,
        query: F32,
        n: int,
        *,
        probes: int,
        allowed: Any = None,
    ) -> list[tuple[str, float]] | None:
        """Approximate top-`n` (id, cosine), best first, of rows passing `allowed(ids)`;
        None when this index cannot answer (no usable build, or too few rows pass)."""
        owner = owner_key(user_id)
        live = self._get(folder, owner, model, kind)
        if live.built is None or query.size != live.built.data.shape[1]:
            return None
        with live.lock:
            if not self._refresh(tx, live, user_id, model, kind):
                return None
            if self.on_stale is not None and self.stale(live):
                key = (str(folder), owner, model, kind)
                with self._lock:
                    ask = key not in self._stale
                    self._stale.add(key)
                if ask:
                    self.on_stale(user_id, model, kind)
            q = query / (float(np.linalg.norm(query)) or 1.0)
            return _search(live, q.astype(np.float32), n, probes, allowed)

    def _refresh(self, tx: Tx, live: _Live, user_id: str | None, model: str, kind: str) -> bool:
        built = live.built
        assert built is not None
        owner = owner_key(user_id)
        clock = tx.scalar(
            "SELECT value FROM vector_clock WHERE owner = :o AND model = :m",
            {"o": owner, "m": model},
        )
        if clock is None or int(clock) < live.seen:  # erased, reset or restored: not ours
            live.built = None
            return False
        if not live.verified:
            if not _belongs(tx, built, user_id, model, kind):
                log.warning("approximate index %s does not match this database: ignored",
                            built.meta.get("dir"))  # fmt: skip
                live.built = None
                return False
            live.verified = True
        clock = int(clock)
        if clock == live.seen:
            return True
        col = TARGET[kind]
        params: dict[str, Any] = {"o": owner, "m": model, "last": live.seen, "c": clock}
        for row in tx.all(
            f"SELECT {col} AS t FROM vector_tombstones WHERE owner = :o AND model = :m "
            f"AND seq > :last AND seq <= :c AND {col} IS NOT NULL",
            params,
        ):
            live.delta.remove(str(row["t"]))
            live.dead.add(str(row["t"]))
        who = scope.owners_clause([user_id], params, name="u")
        rows = tx.all(
            f"SELECT {col} AS t, dim, vector FROM embeddings WHERE {who} AND model = :m "
            f"AND seq > :last AND seq <= :c AND {col} IS NOT NULL",
            params,
        )
        if rows:
            dim = int(rows[0]["dim"])
            raw = b"".join(bytes(r["vector"]) for r in rows)
            keys = [str(r["t"]) for r in rows]
            live.delta.upsert(keys, np.frombuffer(raw, dtype="<f4").reshape(len(rows), dim))
            live.dead.update(keys)  # the file's copy (if any) is older
        live.seen = clock
        return True


def _belongs(tx: Tx, built: Built, user_id: str | None, model: str, kind: str) -> bool:
    """Whether a sample of the build's ids still exists in this database (or was deleted
    or replaced after the watermark): a file copied from another database fails."""
    n = built.ids.shape[0]
    sample = sorted({int(i) for i in np.linspace(0, n - 1, num=min(n, 8))})
    ids = [built.ids[i].decode() for i in sample]
    col = TARGET[kind]
    params: dict[str, Any] = {"m": model, "o": owner_key(user_id), "w": built.seq}
    names = tx.expand("sid", ids, params)
    who = scope.owners_clause([user_id], params, name="u")
    live = {str(r["t"]) for r in tx.all(
        f"SELECT {col} AS t FROM embeddings WHERE {col} IN ({names}) AND model = :m AND {who}",
        params,
    )}  # fmt: skip
    gone = {str(r["t"]) for r in tx.all(
        f"SELECT {col} AS t FROM vector_tombstones WHERE {col} IN ({names}) AND model = :m "
        "AND owner = :o AND seq > :w",
        params,
    )}  # fmt: skip
    return all(i in live or i in gone for i in ids)


def _search(
    live: _Live, q: F32, n: int, probes: int, allowed: Any
) -> list[tuple[str, float]] | None:
    built = live.built
    assert built is not None
    verdict: dict[str, bool] = {}
    want = n
    while True:
        with one_blas_thread():  # see memvault.threads
            pos, scores, complete = built.candidates(q, want + len(live.dead), probes)
        cands: list[tuple[str, float]] = []
        for p, s in zip(pos.tolist(), scores.tolist(), strict=True):
            key = built.ids[p].decode()
            if key not in live.dead:
                cands.append((key, s))
                if len(cands) >= want:
                    break
        d = live.delta
        if d.n:
            with one_blas_thread():
                ds = d.data[: d.n] @ q
            top = np.argsort(-ds, kind="stable")[:want]
            cands += [(d.ids[i], float(ds[i])) for i in top]
            cands.sort(key=lambda c: -c[1])
        if allowed is None:
            return cands[:n]
        fresh = [c for c, _ in cands if c not in verdict]
        if fresh:
            passed = allowed(fresh)
            verdict.update((c, c in passed) for c in fresh)
        got = [c for c in cands if verdict[c[0]]]
        everything = complete and pos.size == built.data.shape[0] and d.n <= want
        if len(got) >= n or everything:
            return got[:n]  # enough, or every row was a candidate: the exact answer
        want *= 4
        probes *= 2
        if want > MAX_CANDIDATES:
            return None
