"""Records built on first use (`memvault.deferred`): importing `memvault.records` builds none
of them, a lookup builds that one (and those its annotations name), always the same class."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import typing

import pytest

from memvault.deferred import Deferred


def test_importing_the_records_builds_only_what_is_used() -> None:
    code = (
        "import dataclasses, typing, memvault.records as r\n"
        "before = sorted(n for n in ('User', 'Memory', 'EmotionalPatterns', 'EmotionPattern')"
        " if n in vars(r))\n"
        "from memvault.records import EmotionalPatterns, User\n"
        "assert dataclasses.is_dataclass(User) and User.__module__ == 'memvault.records'\n"
        "typing.get_type_hints(EmotionalPatterns)  # names EmotionPattern: built first\n"
        "print(before, sorted(n for n in ('User', 'Memory', 'EmotionalPatterns', "
        "'EmotionPattern') if n in vars(r)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "[] ['EmotionPattern', 'EmotionalPatterns', 'User']"


def _module() -> tuple[dict[str, typing.Any], typing.Any]:
    namespace: dict[str, typing.Any] = {"__name__": "fake"}
    dataclass = Deferred(namespace)

    @dataclass(frozen=True, slots=True)
    class Point:
        x: int
        tag: Tag  # another deferred class, named before it is defined

    @dataclass(frozen=True)
    class Tag:
        name: str

    namespace.update(Point=Point, Tag=Tag)
    getattr_, _ = dataclass.seal()
    return namespace, getattr_


def test_a_class_is_built_once_even_by_racing_threads() -> None:
    namespace, getattr_ = _module()
    assert "Point" not in namespace
    seen: list[type] = []
    threads = [threading.Thread(target=lambda: seen.append(getattr_("Point"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(cls) for cls in seen}) == 1
    point = seen[0]
    assert dataclasses.is_dataclass(point) and point.__slots__ == ("x", "tag")
    assert dataclasses.is_dataclass(namespace["Tag"])  # built with Point: its annotation
    assert point(1, namespace["Tag"]("a")) == point(1, namespace["Tag"]("a"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        point(1, None).x = 2
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        getattr_("Nope")
