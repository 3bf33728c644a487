"""A small incremental JSON reader: walk a huge array or object one element at a time.

The file is decoded chunk by chunk into a sliding text buffer and each element is parsed
with `json.JSONDecoder.raw_decode` (the C scanner), so memory stays bounded by the largest
single element, whatever the file size. Any syntax error, truncation or decoding error
raises `JsonCorrupt`; a decoding error raises its subclass `NotDecodable`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

_WS = " \t\n\r"
_NUMBER_CHARS = frozenset("0123456789.eE+-")
_DECODER = json.JSONDecoder()
CHUNK = 1 << 20
MAX_CHUNK = 1 << 26


class JsonCorrupt(Exception):
    """The text is not valid JSON (or not the expected shape); `line` is 1-based."""

    def __init__(self, reason: str, line: int, *, truncated: bool = False) -> None:
        super().__init__(f"{reason} (line {line})")
        self.reason = reason
        self.line = line
        self.truncated = truncated  # the text ends before the value does


class NotDecodable(JsonCorrupt):
    """The bytes are not valid in the requested text encoding."""


@dataclass(frozen=True, slots=True)
class Item:
    """One decoded element: its value, index in its container, start line and JSON text."""

    value: Any
    index: int
    line: int
    text: str


class JsonStream:
    """Cursor over one JSON text read incrementally from a binary file."""

    def __init__(self, fh: IO[bytes], encoding: str = "utf-8", chunk: int = CHUNK) -> None:
        self._fh = fh
        self._dec = codecs.getincrementaldecoder(encoding)("strict")
        self._buf = ""
        self._pos = 0
        self._line = 1
        self._eof = False
        self._chunk = chunk
        self._first = True
        self._encoding = encoding
        self._bytes_read = 0
        self._phantom = 0  # bytes the final U+FFFD of a cut character adds to the text

    # -- buffer -------------------------------------------------------------------------
    def _fill(self, size: int | None = None) -> bool:
        """Append more text; False at end of file."""
        if self._eof:
            return False
        data = self._fh.read(size or self._chunk)
        self._bytes_read += len(data)
        try:
            if not data and self._dec.getstate()[0]:
                # The file ends inside a multi-byte character: it was cut, not mis-encoded.
                # U+FFFD leaves the JSON incomplete (or followed by extra data), never valid.
                text = "\ufffd"
                self._phantom = len(text.encode(self._encoding)) - len(self._dec.getstate()[0])
                self._dec.reset()
            else:
                text = self._dec.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise NotDecodable(f"not valid text: {exc.reason}", self._line) from None
        if self._first:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if not data:
            self._eof = True
        if self._pos > len(self._buf) // 2:
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += text
        return bool(data) or bool(text)

    def _advance(self, end: int) -> None:
        self._line += self._buf.count("\n", self._pos, end)
        self._pos = end

    @property
    def line(self) -> int:
        """The 1-based line of the cursor."""
        return self._line

    def offset(self) -> int:
        """The byte offset of the cursor in the file (computed, so call it rarely)."""
        pending = len(self._dec.getstate()[0])
        rest = len(self._buf[self._pos :].encode(self._encoding, "surrogatepass"))
        if rest:
            rest -= self._phantom
        return self._bytes_read - pending - rest

    def corrupt(self, reason: str) -> JsonCorrupt:
        """An error located at the cursor."""
        return JsonCorrupt(reason, self._line, truncated=self._eof and self.peek() == "")

    def peek(self) -> str:
        """The next non-whitespace character ('' at end of input), without consuming it."""
        while True:
            buf, pos, n = self._buf, self._pos, len(self._buf)
            while pos < n and buf[pos] in _WS:
                pos += 1
            self._advance(pos)
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        """Consume `char` (after whitespace) or raise JsonCorrupt."""
        got = self.peek()
        if got != char:
            raise self.corrupt(f"expected {char!r}, found {got or 'end of input'!r}")
        self._advance(self._pos + 1)

    def at_end(self) -> bool:
        """True when only whitespace remains."""
        return self.peek() == ""

    def finish(self) -> None:
        """Require that nothing but whitespace follows the top-level value."""
        if not self.at_end():
            raise self.corrupt("extra data after the top-level value")

    # -- values -------------------------------------------------------------------------
    def value(self, index: int = 0) -> Item:
        """Decode the next complete value."""
        if self.peek() == "":
            raise self.corrupt("unexpected end of input")
        grow = self._chunk
        while True:
            try:
                obj, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                incomplete = exc.pos >= len(self._buf) - 16 or exc.msg.startswith("Unterminated")
                if incomplete and self._fill(grow):
                    grow = min(grow * 2, MAX_CHUNK)
                    continue
                line = self._line + self._buf.count("\n", self._pos, exc.pos)
                raise JsonCorrupt(exc.msg, line, truncated=incomplete and self._eof) from None
            except RecursionError:
                raise self.corrupt("nesting too deep") from None
            if self._number_may_continue(obj, end) and self._fill(grow):
                grow = min(grow * 2, MAX_CHUNK)
                continue
            line = self._line
            text = self._buf[self._pos : end]
            self._advance(end)
            return Item(obj, index, line, text)

    def _number_may_continue(self, obj: Any, end: int) -> bool:
        """True when a number was cut by the buffer's end ("0." + "5", "12" + "3"): the
        scanner stops at the last valid prefix, so look for a delimiter after it."""
        if isinstance(obj, bool) or not isinstance(obj, int | float):
            return end >= len(self._buf)
        buf, n = self._buf, len(self._buf)
        while end < n and buf[end] in _NUMBER_CHARS:
            end += 1
        return end >= n

    def iter_array(self) -> Iterator[Item]:
        """Yield the elements of the array at the cursor, one at a time."""
        self.expect("[")
        if self.peek() == "]":
            self._advance(self._pos + 1)
            return
        index = 0
        while True:
            yield self.value(index)
            index += 1
            sep = self.peek()
            self._advance(self._pos + 1)
            if sep == "]":
                return
            if sep != ",":
                raise self.corrupt(f"expected ',' or ']', found {sep or 'end of input'!r}")

    def iter_object(self) -> Iterator[str]:
        """Yield the keys of the object at the cursor; consume each value before resuming."""
        self.expect("{")
        if self.peek() == "}":
            self._advance(self._pos + 1)
            return
        while True:
            if self.peek() != '"':
                raise self.corrupt("expected a property name")
            key = self.value().value
            self.expect(":")
            yield str(key)
            sep = self.peek()
            self._advance(self._pos + 1)
            if sep == "}":
                return
            if sep != ",":
                raise self.corrupt(f"expected ',' or '}}', found {sep or 'end of input'!r}")


def iter_top_array(js: JsonStream) -> Iterator[Item]:
    """Elements of a top-level array; an empty or whitespace-only text is an empty array."""
    if js.at_end():
        return
    if js.peek() != "[":
        raise js.corrupt("expected a JSON array at the top level")
    yield from js.iter_array()
    js.finish()


def iter_top_object(js: JsonStream, streamed: frozenset[str]) -> Iterator[tuple[str, Item]]:
    """Members of a top-level object as (key, item); arrays under `streamed` keys are
    yielded element by element, every other value whole (index -1 marks a whole value).
    An empty or whitespace-only text is an empty object."""
    if js.at_end():
        return
    if js.peek() != "{":
        raise js.corrupt("expected a JSON object at the top level")
    for key in js.iter_object():
        if key in streamed and js.peek() == "[":
            for item in js.iter_array():
                yield key, item
        else:
            whole = js.value(-1)
            yield key, whole
    js.finish()
