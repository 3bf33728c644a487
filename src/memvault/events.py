"""The Vault's event stream: every committed write publishes an Event to its subscribers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from memvault.records import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

Handler = Callable[[Event], None]


@dataclass(eq=False)
class Subscription:
    """A handler and what it listens to; `close()` stops delivery."""

    handler: Handler
    kinds: tuple[str, ...] = ()
    user_id: str | None = None
    all_users: bool = True
    _bus: EventBus | None = field(default=None, repr=False)

    def matches(self, event: Event) -> bool:
        if self.kinds and not any(
            event.kind == k or event.kind.startswith(k + ".") for k in self.kinds
        ):
            return False
        return self.all_users or event.user_id == self.user_id

    def close(self) -> None:
        if self._bus is not None:
            self._bus.unsubscribe(self)
            self._bus = None


class EventBus:
    """In-process publish/subscribe; handlers run on the writer's thread after commit."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self.relays: list[Handler] = []

    def subscribe(
        self,
        handler: Handler,
        kinds: Iterable[str] = (),
        *,
        user_id: str | None = None,
        all_users: bool | None = None,
    ) -> Subscription:
        """Call `handler` for each event whose kind is (or is under) one of `kinds`.

        With `user_id`, only that user's events; without it, every user's.
        """
        sub = Subscription(
            handler,
            tuple(kinds),
            user_id,
            all_users if all_users is not None else user_id is None,
            self,
        )
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, event: Event) -> None:
        """Deliver to local subscribers; a failing handler is logged, never raised."""
        with self._lock:
            targets = [s for s in self._subs if s.matches(event)]
        for sub in targets:
            try:
                sub.handler(event)
            except Exception:  # a subscriber must not break the writer
                _log().exception("event handler failed for %s", event.kind)
        for relay in self.relays:
            try:
                relay(event)
            except Exception:
                _log().exception("event relay failed for %s", event.kind)


def _log() -> logging.Logger:
    """This module's logger, imported when a handler fails: logging (with traceback, string
    and the regular expressions of its formatters) is not on `memvault hook`'s path."""
    import logging

    return logging.getLogger(__name__)
