"""What every source reader shares: options, the scan context, the `Scan` object, helpers."""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, TypeVar

from memvault.errors import InvalidInput
from memvault.migrate.sources._json import JsonCorrupt, JsonStream, NotDecodable
from memvault.migrate.sources.records import Quarantined, Record, UserRec
from memvault.migrate.sources.report import FormatReport

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    """Choices the user makes for a scan.

    default_user: handle that owns data whose source has no user (AIT42, Workly, DCM, ...).
    local_tz: zone for timestamps the legacy code wrote with a *local* naive clock.
    workspace_candidates: paths to hash when resolving AIT42 workspace hashes.
    max_raw_bytes: how much of a bad record (or corrupt file) to keep in quarantine.
    chunk_size: bytes read at a time by the streaming JSON reader.
    """

    default_user: str = "default"
    local_tz: tzinfo = UTC
    workspace_candidates: tuple[Path, ...] = ()
    max_raw_bytes: int = 1 << 20
    chunk_size: int = 1 << 20


def part(value: object) -> str:
    """Escape one component of a source key so that ':' can join components unambiguously."""
    return str(value).replace("%", "%25").replace(":", "%3A")


def key(*parts: object) -> str:
    """A source key from components."""
    return ":".join(part(p) for p in parts)


def child(parent: str, *parts: object) -> str:
    """The key of a record nested in the record keyed `parent`."""
    return ":".join([parent, *(part(p) for p in parts)])


def content_hash(value: Any) -> str:
    """A short stable hash of a JSON-able value (for records without a native id)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


def clean_text(value: str) -> str:
    """Replace lone surrogates (legal in JSON escapes, not in UTF-8) with U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def as_str(value: Any) -> str | None:
    """`value` if it is a string (cleaned), else None."""
    return clean_text(value) if isinstance(value, str) else None


def as_number(value: Any) -> float | None:
    """A finite int/float (not bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """An int (or integral float), else None; bools are not ints here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def unit(value: float, scale100: bool = False) -> float:
    """Clamp to 0–1; with `scale100`, values above 1 are read as a 0–100 scale first."""
    if scale100 and value > 1.0:
        value = value / 100.0
    return min(1.0, max(0.0, value))


def dump(value: Any) -> bytes:
    """A value as JSON bytes (for quarantine)."""
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "replace")


class ScanContext:
    """Per-scan state shared by a source's helpers: report, options, quarantine."""

    def __init__(
        self, fmt: str, root: Path, options: ScanOptions, only: Path | None = None
    ) -> None:
        self.format = fmt
        self.root = root
        self.options = options
        self.report = FormatReport.for_format(fmt)
        self._users: set[str] = set()
        # The one file the user named (`root` is then its folder), else None.
        self.only = only
        # Every source file opened (relative paths), so that "nothing found" can be told
        # apart from "found files holding nothing".
        self.files_read: list[str] = []
        # Records a reader produced outside the module's own loop (the quarantined tail
        # of a cut file); `Scan.records` yields them right after the module's next record.
        self.pending: list[Quarantined] = []

    def candidates(self, found: list[Path]) -> list[Path]:
        """`found`, or the file the user named when there is one."""
        return [self.only] if self.only is not None else found

    def opened(self, path: Path) -> None:
        """Note that `path` is being read."""
        rel = self.rel(path)
        if rel not in self.files_read:
            self.files_read.append(rel)

    def open_sqlite(self, path: Path) -> sqlite3.Connection:
        """`open_sqlite(path)`, noting the file as read."""
        self.opened(path)
        return open_sqlite(path)

    def rel(self, path: Path) -> str:
        """`path` relative to the source root, with '/' separators."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def user(self, handle: str, **fields: Any) -> Iterator[UserRec]:
        """Yield a UserRec the first time `handle` is seen in this scan."""
        if handle in self._users:
            return
        self._users.add(handle)
        yield UserRec(source_key=key(self.format, "user", handle), handle=handle, **fields)

    def quarantine(
        self,
        file: str,
        reason: str,
        raw: bytes | str,
        *,
        index: int | None = None,
        line: int | None = None,
        field: str | None = None,
        whole_file: bool = False,
    ) -> Quarantined:
        """A Quarantined record for a bad record (the caller counts it in the report)."""
        data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
        limit = self.options.max_raw_bytes
        where = "file" if whole_file else f"{index if index is not None else line}"
        return Quarantined(
            source_key=key(self.format, "quarantine", file, where, field or ""),
            format=self.format,
            file=file,
            reason=reason,
            raw=data[:limit],
            raw_truncated=len(data) > limit,
            record_index=index,
            line=line,
            field=field,
            whole_file=whole_file,
        )

    def corrupt(self, path: Path, reason: str, line: int | None = None) -> Quarantined:
        """Record `path` as corrupt (once) and return its quarantine entry (head of file)."""
        rel = self.rel(path)
        if rel not in self.report.corrupt_files:
            self.report.corrupt_files.append(rel)
        limit = self.options.max_raw_bytes
        try:
            with path.open("rb") as fh:
                head = fh.read(limit + 1)
        except OSError:
            head = b""
        return self.quarantine(rel, reason, head, line=line, whole_file=True)

    def read_json(
        self,
        path: Path,
        walk: Callable[[JsonStream], Iterator[T]],
        *,
        observe: Callable[[T], None] | None = None,
    ) -> tuple[Iterator[T] | None, Quarantined | None]:
        """Validate `path` (UTF-8) with a first streaming pass, then return a fresh iterator.

        Two passes keep the contract "nothing is loaded from a corrupt file" without ever
        holding the file in memory. `observe` sees every item of the first pass (for
        last-wins or cross-file de-duplication). Returns (items, None) or (None, corrupt).
        """
        items, bad, _ = self.read_json_any(path, walk, ("utf-8",), observe=observe)
        return items, bad

    def read_json_any(
        self,
        path: Path,
        walk: Callable[[JsonStream], Iterator[T]],
        encodings: tuple[str, ...],
        *,
        observe: Callable[[T], None] | None = None,
    ) -> tuple[Iterator[T] | None, Quarantined | None, str]:
        """Like `read_json`, trying each text encoding in turn; also returns the one used."""
        self.opened(path)
        encoding = encodings[0]
        error: JsonCorrupt | None = None
        good = 0
        for encoding in encodings:
            good = 0
            try:
                for item in self._walk(path, walk, encoding):
                    good += 1
                    if observe is not None:
                        observe(item)
            except NotDecodable as exc:
                if encoding != encodings[-1]:
                    continue
                exc.reason = f"not valid {'/'.join(encodings)}: {exc.reason}"
                error = exc
            except JsonCorrupt as exc:
                exc.reason = f"invalid JSON: {exc.reason}"
                error = exc
            except OSError as exc:
                return None, self.corrupt(path, f"unreadable: {exc.strerror or exc}"), encoding
            break
        if error is not None and good == 0:
            return None, self.corrupt(path, error.reason, error.line), encoding
        return self._second_pass(path, walk, encoding, good, error), None, encoding

    def _walk(
        self,
        path: Path,
        walk: Callable[[JsonStream], Iterator[T]],
        encoding: str,
        keep: int | None = None,
        tail: list[tuple[int, int]] | None = None,
    ) -> Iterator[T]:
        """The items of `path`; with `keep`, only the first `keep` ones (the reader stops
        right after the last of them and appends its (line, byte offset) to `tail`)."""
        with path.open("rb") as fh:
            js = JsonStream(fh, encoding, self.options.chunk_size)
            for n, item in enumerate(walk(js), start=1):
                yield item
                if keep is not None and n >= keep:
                    break
            if tail is not None:
                tail.append((js.line, js.offset()))

    def _second_pass(
        self,
        path: Path,
        walk: Callable[[JsonStream], Iterator[T]],
        encoding: str,
        good: int,
        error: JsonCorrupt | None,
    ) -> Iterator[T]:
        """Yield the items again. When the first pass broke off with `error` after `good`
        complete items (a cut or damaged file), yield those and quarantine the rest of the
        file from the end of the last complete item: one bad tail, not a lost file."""
        keep = None if error is None else good
        tail: list[tuple[int, int]] = []
        try:
            yield from self._walk(path, walk, encoding, keep, tail)
        except (JsonCorrupt, OSError):
            # The file changed between the passes; what was yielded stays yielded.
            rel = self.rel(path)
            if rel not in self.report.corrupt_files:
                self.report.corrupt_files.append(rel)
            return
        if error is None or not tail:
            return
        kept = good
        line, offset = tail[0]
        rel = self.rel(path)
        if rel not in self.report.corrupt_files:
            self.report.corrupt_files.append(rel)
        what = "the file ends inside it" if error.truncated else error.reason
        reason = (
            f"{'truncated' if error.truncated else 'damaged'} file: the rest of the file from "
            f"record {kept} on (byte {offset:,}, line {line}) cannot be read ({what}, "
            f"line {error.line}); the {kept} complete record(s) before it were kept"
        )
        try:
            with path.open("rb") as fh:
                fh.seek(offset)
                raw = fh.read(self.options.max_raw_bytes + 1)
        except OSError:
            raw = b""
        self.pending.append(self.quarantine(rel, reason, raw, index=kept, line=line))


# A damaged file can also make the sqlite3 module fail decoding an error message.
SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)


def open_sqlite(path: Path) -> sqlite3.Connection:
    """Open a legacy SQLite file read-only; raise sqlite3.DatabaseError unless it is a
    database that passes `PRAGMA quick_check` (so nothing loads from a damaged file)."""
    uri = "file:" + path.resolve().as_posix().replace("?", "%3F").replace("#", "%23")
    conn = sqlite3.connect(uri + "?mode=ro", uri=True)
    conn.text_factory = _decode_text
    conn.row_factory = sqlite3.Row
    try:
        verdict = conn.execute("PRAGMA quick_check(1)").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict[0] if verdict else 'no answer'}")
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        conn.close()
        raise sqlite3.DatabaseError(str(exc)) from None
    return conn


def _decode_text(data: bytes) -> str:
    return clean_text(data.decode("utf-8", "replace"))


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Column names of `table` ([] when it does not exist)."""
    rows = conn.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
    return [str(r[0]) for r in rows]


class Scan:
    """A single-use scan of one source root (a folder, or one file the user named).

    Iterate `records()` (or the Scan itself) to get the typed records; `report` is
    complete once the iterator is exhausted. `run()` drains the records and returns the
    report (a dry run).
    """

    def __init__(
        self,
        fmt: str,
        root: Path,
        produce: Callable[[ScanContext], Iterator[Record]],
        options: ScanOptions | None = None,
    ) -> None:
        root = Path(root)
        only = None
        if root.is_file():
            root, only = root.parent, root
        elif not root.is_dir():
            raise InvalidInput("root", str(root), "no such file or directory")
        self.format = fmt
        self.root = root
        self.only = only
        self.options = options or ScanOptions()
        self._ctx = ScanContext(fmt, root, self.options, only)
        self._produce = produce
        self._started = False
        self.done = False

    @property
    def report(self) -> FormatReport:
        """The section-9 counts (complete when `done`)."""
        return self._ctx.report

    def records(self) -> Iterator[Record]:
        """The records, in dependency order; may be iterated once."""
        if self._started:
            raise RuntimeError("a Scan can be iterated only once; make a new one")
        self._started = True
        pending = self._ctx.pending
        for rec in self._produce(self._ctx):
            yield rec
            while pending:
                yield pending.pop(0)
        while pending:
            yield pending.pop(0)
        self.done = True

    @property
    def files_read(self) -> list[str]:
        """The source files the scan opened (relative to its root)."""
        return list(self._ctx.files_read)

    __iter__ = records

    def run(self) -> FormatReport:
        """Drain the records (discarding them) and return the finished report."""
        for _ in self.records():
            pass
        return self.report


def sorted_files(root: Path, pattern: str) -> list[Path]:
    """Regular files under `root` matching the glob `pattern`, sorted by relative path."""
    try:
        found = [p for p in root.glob(pattern) if p.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def is_blank_file(path: Path) -> bool:
    """True for a 0-byte file."""
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


__all__ = [
    "Scan",
    "ScanContext",
    "ScanOptions",
    "key",
]


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def clean_json(value: Any, text: str | None = None) -> Any:
    """`value` with lone surrogates replaced in every string (skipped when `text`, the
    value's JSON source, shows no surrogate escape)."""
    if text is not None and not _SURROGATE_ESCAPE.search(text):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    return value
