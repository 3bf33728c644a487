"""Round trips of extreme values through the store (hypothesis), on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memvault

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=2000,
).filter(lambda s: s.strip() != "")
# What every engine stores: no lone surrogate, and no NUL, which PostgreSQL refuses in jsonb
# (the core refuses it on every engine, so a store can move between them).
JSON_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | JSON_TEXT,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(JSON_TEXT, children, max_size=5)
    ),
    max_leaves=20,
)
UNIT = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[memvault.Vault, str, str]]:
    path: Path = tmp_path_factory.mktemp("props") / "props.db"
    vault = memvault.open(path)
    user = vault.users.create("prop")
    session = vault.sessions.create(user.id)
    yield vault, user.id, session.id
    vault.close()


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(content=TEXT, metadata=st.dictionaries(JSON_TEXT, JSON, max_size=4))
def test_message_round_trip(shared: tuple[memvault.Vault, str, str], content: str,
                            metadata: dict[str, object]) -> None:  # fmt: skip
    vault, _, session_id = shared
    sent = vault.messages.append(session_id, "user", content, metadata=metadata)
    got = vault.messages.get(sent.id)
    assert got.content == content
    assert got.metadata == metadata
    assert got == sent


@SETTINGS
@given(content=TEXT, confidence=UNIT, importance=UNIT, metadata=st.dictionaries(JSON_TEXT, JSON))
def test_memory_round_trip(
    shared: tuple[memvault.Vault, str, str],
    content: str,
    confidence: float,
    importance: float,
    metadata: dict[str, object],
) -> None:
    vault, user_id, _ = shared
    unique = f"{memvault.new_id()} {content}"  # no de-duplication against earlier examples
    memory = vault.memories.add(user_id, "note", unique, confidence=confidence,
                                importance=importance, metadata=metadata)  # fmt: skip
    got = vault.memories.get(memory.id, track_access=False)
    assert got.content == unique
    assert got.confidence == confidence
    assert got.importance == importance
    assert got.metadata == metadata


def test_very_long_text(shared: tuple[memvault.Vault, str, str]) -> None:
    vault, _, session_id = shared
    content = "🎉 long tmux capture \x1b[31mred\x1b[0m\r\n" * 40_000  # ~1.5 MB
    sent = vault.messages.append(session_id, "assistant", content)
    assert vault.messages.get(sent.id).content == content


@pytest.mark.parametrize("value", [5e-324, 1.7976931348623157e308, -0.0, 2**63 - 1, -(2**63)])
def test_extreme_numbers_in_metadata(shared: tuple[memvault.Vault, str, str],
                                     value: float) -> None:  # fmt: skip
    vault, _, session_id = shared
    sent = vault.messages.append(session_id, "user", "n", metadata={"v": value})
    assert vault.messages.get(sent.id).metadata["v"] == value


def test_extreme_unit_floats(shared: tuple[memvault.Vault, str, str]) -> None:
    vault, user_id, _ = shared
    for value in (0.0, 1.0, 5e-324, 1 - 1e-16):
        memory = vault.memories.add(user_id, "fact", f"edge {value!r}", confidence=value)
        assert vault.memories.get(memory.id, track_access=False).confidence == value
