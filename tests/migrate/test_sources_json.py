"""The incremental JSON reader: element by element, across chunk boundaries, strict."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memvault.migrate.sources._json import (
    JsonCorrupt,
    JsonStream,
    NotDecodable,
    iter_top_array,
    iter_top_object,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def stream(data: bytes | str, chunk: int = 3, encoding: str = "utf-8") -> JsonStream:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return JsonStream(io.BytesIO(raw), encoding, chunk)


@settings(max_examples=50, deadline=None)
@given(st.lists(json_values, max_size=8), st.integers(1, 7), st.sampled_from([None, 2]))
def test_array_roundtrip_any_chunk(values: list[object], chunk: int, indent: int | None) -> None:
    text = json.dumps(values, indent=indent, ensure_ascii=False)
    got = [item.value for item in iter_top_array(stream(text, chunk))]
    assert got == values


def test_items_carry_index_line_and_text() -> None:
    text = '[\n  {"a": 1},\n  {"b": "é"},\n  123456789\n]'
    items = list(iter_top_array(stream(text, 2)))
    assert [(i.index, i.line, i.text) for i in items] == [
        (0, 2, '{"a": 1}'), (1, 3, '{"b": "é"}'), (2, 4, "123456789")
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["", "  \n\t", "[]", " [ ] "])
def test_empty_collections(text: str) -> None:
    assert list(iter_top_array(stream(text))) == []


@pytest.mark.parametrize(
    "text",
    ['[{"a": 1}', "[1,]", "[1 2]", '{"a": 1}', "[1] x", '["abc', "[tru]", "[1]]", "nul"],
)
def test_corrupt_arrays(text: str) -> None:
    with pytest.raises(JsonCorrupt):
        list(iter_top_array(stream(text)))


def test_not_utf8() -> None:
    with pytest.raises(NotDecodable):
        list(iter_top_array(stream(b'["caf\xe9"]')))
    got = list(iter_top_array(stream(b'["caf\xe9"]', encoding="cp1252")))
    assert got[0].value == "café"


def test_bom_is_ignored() -> None:
    assert [i.value for i in iter_top_array(stream("\ufeff[1]".encode()))] == [1]


def test_object_members_streams_chosen_arrays() -> None:
    text = '{"segments": [1, 2], "meta": {"x": [3]}, "total": 2}'
    got = [(k, i.index, i.value) for k, i in iter_top_object(stream(text), frozenset({"segments"}))]
    assert got == [
        ("segments", 0, 1),
        ("segments", 1, 2),
        ("meta", -1, {"x": [3]}),
        ("total", -1, 2),
    ]


def test_long_string_spanning_many_chunks() -> None:
    big = "x" * 100_000 + "é🥞"
    got = list(iter_top_array(stream(json.dumps([big, 1], ensure_ascii=False), 1024)))
    assert got[0].value == big and got[1].value == 1


def test_error_line_number() -> None:
    with pytest.raises(JsonCorrupt) as info:
        list(iter_top_array(stream('[\n1,\n2,\n{"a" 1}\n]')))
    assert info.value.line == 4
