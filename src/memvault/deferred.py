"""Dataclasses made on first use: a module's classes are registered as they are defined and
built by the module's `__getattr__` (PEP 562) the first time a name is looked up.

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from dataclasses import dataclass  # what the type checker sees
    else:
        dataclass = Deferred(globals())

    @dataclass(frozen=True, slots=True)
    class User: ...

    if not TYPE_CHECKING:
        __getattr__, __dir__ = dataclass.seal()

Why: `dataclass` writes and compiles `__init__`, `__repr__`, `__eq__`, ... for every class,
about 1 ms each. `memvault.records` holds 35 records and `memvault hook`, one process per
tool call of a coding agent, needs a dozen of them. `from memvault.records import User`
builds `User`, once (a lock makes two threads get the same class), and with it the records
its annotations name, so that `typing.get_type_hints` resolves them in the module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

C = TypeVar("C", bound=type)


class Deferred:
    """The deferring `dataclass` decorator of one module (its `globals()`)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace
        self._pending: dict[str, tuple[type, dict[str, Any]]] = {}
        self._lock = threading.RLock()

    def __call__(self, **options: Any) -> Callable[[C], C]:
        """`@dataclass(**options)`: remember the class; it is built on first use."""

        def register(cls: C) -> C:
            self._pending[cls.__name__] = (cls, options)
            return cls

        return register

    def seal(self) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
        """Take the registered classes out of the module (so that a lookup reaches its
        `__getattr__`) and return its `__getattr__` and `__dir__`."""
        for name in self._pending:
            del self._namespace[name]
        module = self._namespace["__name__"]

        def __getattr__(name: str) -> Any:
            if name not in self._pending:
                raise AttributeError(f"module {module!r} has no attribute {name!r}")
            return self._build(name)

        def __dir__() -> list[str]:
            return sorted({*self._namespace, *self._pending})

        return __getattr__, __dir__

    def _build(self, name: str) -> Any:
        with self._lock:
            if name in self._namespace:  # built meanwhile, or as another one's annotation
                return self._namespace[name]
            cls, options = self._pending[name]
            # The records this one's annotations name first (`list[Trait]`): get_type_hints
            # looks them up in the module's namespace, which holds only the built ones.
            self._namespace[name] = None  # being built: a cycle stops here
            try:
                from dataclasses import dataclass  # (imports inspect)
                from inspect import get_annotations

                for annotation in get_annotations(cls).values():
                    for word in _words(str(annotation)):
                        if word != name and word in self._pending:
                            self._build(word)
                built: type = dataclass(**options)(cls)
            except BaseException:
                del self._namespace[name]
                raise
            self._namespace[name] = built
            return built


def _words(text: str) -> set[str]:
    """The identifiers in an annotation's text (without importing `re`)."""
    for sep in "[]|,.()":
        text = text.replace(sep, " ")
    return set(text.split())
