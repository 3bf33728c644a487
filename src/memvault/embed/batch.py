"""Concurrent embedding requests share engine calls: what `memvault serve` puts in front of its
embedder.

The service answers each request on a thread of its pool, and a memory written or a search
made embeds one short text. Called side by side, the engine would run one call per request,
each paying for a pass over the model's weights, and compete for the cores. Here the callers
queue their texts; whichever caller finds the engine free (fewer than `calls` calls running)
takes every text waiting, up to `max_texts`, into ONE engine call with one engine thread, and
hands each caller its rows. A caller alone embeds at once (no waiting window, so no latency is
added when the service is quiet); under load, the texts that arrived during a call go together
into the next. A batch of n short texts costs much less than n calls (the weights are read once
for the batch), so throughput rises with concurrency instead of collapsing.

An error of the engine is given to every caller whose texts were in that call.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from memvault.embed.base import Embedder
from memvault.threads import engine_threads, idle_cores

MAX_TEXTS = 64  # texts in one engine call at most


@dataclass(eq=False)
class _Request:
    texts: list[str]
    result: npt.NDArray[np.float32] | None = None
    error: BaseException | None = None
    done: bool = field(default=False)


class BatchingEmbedder:
    """Wraps an Embedder so that concurrent `embed` calls share engine calls (module doc).

    `calls`: engine calls that may run at once, each with one engine thread (default: the
    idle cores when the first call comes). `batches` and `texts` count the engine calls made
    and the texts they embedded (texts / batches is the mean batch size).
    """

    def __init__(self, inner: Embedder, *, calls: int | None = None,
                 max_texts: int = MAX_TEXTS) -> None:  # fmt: skip
        self.inner = inner
        self.calls = calls
        self.max_texts = max(1, max_texts)
        self._queue: deque[_Request] = deque()
        self._running = 0
        self._cond = threading.Condition()
        self.batches = 0
        self.texts = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if len(texts) == 0:
            return np.empty((0, self.dimension), dtype=np.float32)
        req = _Request(list(texts))
        with self._cond:
            if self.calls is None:
                self.calls = idle_cores()
            self._queue.append(req)
            while not req.done:
                if self._running < self.calls and self._queue:
                    self._lead()  # returns with the lock held
                else:
                    self._cond.wait()
        if req.error is not None:
            raise req.error
        assert req.result is not None
        return req.result

    def _lead(self) -> None:
        """Take the waiting texts (lock held), embed them without the lock, hand out rows."""
        group: list[_Request] = []
        size = 0
        while self._queue and (not group or size + len(self._queue[0].texts) <= self.max_texts):
            nxt = self._queue.popleft()
            group.append(nxt)
            size += len(nxt.texts)
        self._running += 1
        self._cond.release()
        try:
            try:
                with engine_threads(1):
                    vecs = np.asarray(
                        self.inner.embed([t for r in group for t in r.texts]), dtype=np.float32
                    )
                at = 0
                for r in group:
                    r.result = vecs[at : at + len(r.texts)]
                    at += len(r.texts)
            except BaseException as exc:  # every caller of this call gets the error
                for r in group:
                    r.error = exc
        finally:
            self._cond.acquire()
            self._running -= 1
            self.batches += 1
            self.texts += size
            for r in group:
                r.done = True
            self._cond.notify_all()
