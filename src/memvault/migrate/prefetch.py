"""Read ahead on a thread: the next items are produced while the consumer works on this one.

The transfer reads and converts the next chunk of a table on this thread while PostgreSQL
digests the COPY of the current one (the main thread then waits on its socket with the GIL
released), instead of leaving the server idle while it reads and the reader idle while the
server writes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = 0, 1, 2


class Prefetch(Generic[T]):
    """Iterate `items` on a thread of its own, at most `depth` items ahead of the consumer.

    Items arrive in order. An exception raised while producing an item is raised by the
    consumer's iteration at that point (the items before it are delivered first). Closing
    (or leaving the `with` block) stops the producer and waits for its thread, so whatever
    it reads from (a database connection) is no longer in use afterwards.
    """

    def __init__(self, items: Iterable[T], depth: int = 1) -> None:
        self._queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(iter(items),), name="memvault-prefetch", daemon=True
        )
        self._thread.start()

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((_ERROR, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's cleanup runs on its own thread

    def _put(self, message: tuple[int, Any]) -> bool:
        """Queue `message` unless the consumer has closed; False when it has."""
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            kind, value = self._queue.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value

    def close(self) -> None:
        """Stop producing and wait for the thread (idempotent)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
