"""The import pipeline every legacy format shares: scan → plan → backup → load → verify → report.

result = import_source(vault, "legacy/", format="auto")       # or dry_run=True, resume=True
result.exit_code                                               # 0, 2 (quarantine), 3, 1

- Streaming: the source readers yield one record at a time; the loader keeps only the
  current batch and small key → id maps, and a temporary spool of (table, id, digest).
- Before writing: the import lock, a copy of every source file with its SHA-256 (the
  manifest), and an online backup of a SQLite target, in `<store>.import-backups/<run id>/`.
- Batches (`batch_rows` rows) commit together with the run's checkpoint row of their stream;
  `resume=True` takes the last unfinished run of the same source over and skips the records
  its checkpoints cover (their ids are derived, so nothing is duplicated and nothing skipped).
- Bad records go to the `quarantine` table with this run's id; the run continues.
- After loading: every row is read back by id and compared with what the source gave, the
  sources are fingerprinted again (size, mtime, SHA-256), and the status and exit code follow.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from memvault.errors import InvalidInput, MemvaultError, StoreError, StoreFull
from memvault.ids import new_id
from memvault.migrate import embedstep, runs, sources
from memvault.migrate.loader import TABLES, Loader, Spool, TableCounts, verify
from memvault.migrate.lock import ImportLock
from memvault.migrate.report import ImportResult
from memvault.migrate.sources import generic
from memvault.migrate.sources._base import Scan, ScanOptions
from memvault.migrate.sources.records import EmbeddingRec, Quarantined, UserRec
from memvault.migrate.storable import storable
from memvault.paths import confine
from memvault.store.base import Store
from memvault.vault import Vault

FORMAT_CHOICES = (*sources.FORMATS, "generic", "auto")
DEFAULT_BATCH_ROWS = 5000


class SourceChanged(MemvaultError):
    """A source file changed while it was being imported (or since an interrupted run)."""


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Where a run is: records read, rows written, the fraction of source bytes read."""

    stream: str
    records: int
    rows: int
    fraction: float | None
    elapsed: float
    phase: str = "load"


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True, slots=True)
class FileState:
    path: str  # relative to the source root
    size: int
    mtime_ns: int
    sha256: str | None = None


@dataclass(slots=True)
class _Stream:
    name: str
    make: Callable[[], Scan]
    root: Path


@dataclass(slots=True)
class _Cursor:
    position: int = 0


def _load_mapping(mapping: generic.GenericMapping | dict[str, Any] | str | Path | None) -> Any:
    if mapping is None:
        raise InvalidInput("mapping", None, "the generic format needs a mapping (--mapping FILE)")
    if isinstance(mapping, generic.GenericMapping):
        return mapping
    if isinstance(mapping, dict):
        return generic.GenericMapping.from_dict(mapping)
    path = Path(mapping)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput("mapping", str(path), f"cannot read a JSON mapping: {exc}") from None
    return generic.GenericMapping.from_dict(raw)


def streams(source: Path, fmt: str, options: ScanOptions, mapping: Any = None) -> list[_Stream]:
    """The scans of an import: one per format (several for `auto`). `source` is a folder
    or one file (a zip is unpacked before, see `unpack`)."""
    if fmt not in FORMAT_CHOICES:
        raise InvalidInput("format", fmt, f"expected one of {', '.join(FORMAT_CHOICES)}")
    if not source.is_dir() and not source.is_file():
        raise InvalidInput("source", str(source), "no such file or directory")
    if fmt == "generic":
        gm = _load_mapping(mapping)
        return [_Stream("generic", lambda: generic.scan(source, gm, options), source)]
    if fmt == "auto":
        found = sources.detect(source)
        if not found:
            what = "file" if source.is_file() else "folder"
            raise InvalidInput(
                "source",
                str(source),
                f"no known legacy format found in this {what}; `memvault import --help` lists "
                "the files and folders each format accepts (name one with --format)",
            )
        return [_Stream(d.format, _factory(d.format, d.root, options), d.root) for d in found]
    return [_Stream(fmt, _factory(fmt, source, options), source)]


UNPACKED_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".db"})


def is_zip(path: Path) -> bool:
    """True for a zip archive (by its content, whatever its name)."""
    return path.is_file() and zipfile.is_zipfile(path)


def unpack(archive: Path, into: Path) -> list[str]:
    """Extract the members of `archive` an importer can read (.json, .jsonl, .ndjson, .db)
    into `into`; skip macOS resource forks and refuse members that would land outside.
    Returns the extracted names."""
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InvalidInput("source", str(archive), f"not a readable zip: {exc}") from None
    names: list[str] = []
    with zf:
        members = []
        for info in zf.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.is_dir() or not parts or parts[0] == "__MACOSX":
                continue
            if parts[-1].startswith("._") or PurePosixPath(parts[-1]).suffix.lower() not in (
                UNPACKED_SUFFIXES
            ):
                continue
            if info.filename.startswith("/") or ".." in parts:
                raise InvalidInput(
                    "source", str(archive), f"zip member {info.filename!r} points outside it"
                )
            members.append(info)
        needed = sum(m.file_size for m in members)
        free = shutil.disk_usage(into).free
        if needed > free:
            raise StoreFull(
                f"unpacking {archive.name} needs {needed:,} bytes in {into}, "
                f"{free:,} are free; unzip it elsewhere and import the folder"
            )
        for info in members:
            try:
                zf.extract(info, into)
            except (OSError, zipfile.BadZipFile, EOFError) as exc:
                raise InvalidInput(
                    "source", str(archive), f"zip member {info.filename!r} unreadable: {exc}"
                ) from None
            names.append(info.filename)
    return names


def _factory(fmt: str, root: Path, options: ScanOptions) -> Callable[[], Scan]:
    return lambda: sources.scan(fmt, root, options)


# -- source fingerprints and backups ----------------------------------------------------------


def _excluded(vault: Vault, backup_root: Path | None) -> set[Path]:
    out: set[Path] = set()
    path = vault.store.location.path
    if vault.engine == "sqlite" and path and path != ":memory:":
        base = Path(path).resolve()
        out.update(Path(str(base) + s) for s in ("", "-wal", "-shm", "-journal", ".import.lock"))
    if backup_root is not None:
        out.add(backup_root.resolve())
    return out


# SQLite's companions of a legacy database: reading the database (even read-only) creates
# or touches them. The shared-memory index (-shm) never holds data; the -wal and -journal do,
# so they are compared by content, not by mtime, and an empty one appearing is no change.
SHM_SUFFIX = "-shm"
CONTENT_SUFFIXES = ("-wal", "-journal")


def _companion_of(path: Path, suffixes: tuple[str, ...]) -> Path | None:
    """The database `path` accompanies (`x.db` for `x.db-wal`), if it exists."""
    for suffix in suffixes:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            db = path.with_name(path.name[: -len(suffix)])
            return db if db.is_file() else None
    return None


def source_files(root: Path, excluded: set[Path]) -> list[FileState]:
    """Every regular file under `root` (sorted), with its size and mtime; a file `root` is
    its own single entry (relative to its folder). A SQLite database's -shm is left out
    (an index in shared memory, rebuilt by whoever opens the database next)."""
    if root.is_file():
        st = root.stat()
        return [FileState(root.name, st.st_size, st.st_mtime_ns)]
    found = []
    for path in sorted(root.rglob("*")):
        resolved = path.resolve()
        if resolved in excluded or any(p in excluded for p in resolved.parents):
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        if not path.is_file() or path.is_symlink():
            continue
        if _companion_of(path, (SHM_SUFFIX,)) is not None:
            continue
        found.append(FileState(path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns))
    return found


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _copy_hashed(src: Path, dst: Path) -> str:
    h = hashlib.sha256()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, dst.open("wb") as fout:
        while chunk := fin.read(1 << 20):
            h.update(chunk)
            fout.write(chunk)
    shutil.copystat(src, dst)
    return h.hexdigest()


def _changes(before: list[FileState], after: list[FileState], hashed: bool) -> list[str]:
    old = {f.path: f for f in before}
    new = {f.path: f for f in after}
    problems = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if path.endswith(CONTENT_SUFFIXES):
            # A reader of the database creates an empty -wal and may touch it: only its
            # content counts (a writer appends frames, so its size or hash changes).
            was = a or FileState(path, 0, 0)
            now = b or FileState(path, 0, 0)
            if was.size != now.size:
                problems.append(f"{path}: size {was.size} → {now.size}")
            elif hashed and None not in (was.sha256, now.sha256) and was.sha256 != now.sha256:
                problems.append(f"{path}: content changed (SHA-256)")
            elif not hashed and was.size and was.mtime_ns != now.mtime_ns:
                problems.append(f"{path}: modified during the import")
            continue
        if a is None:
            problems.append(f"{path}: appeared during the import")
        elif b is None:
            problems.append(f"{path}: disappeared during the import")
        elif a.size != b.size:
            problems.append(f"{path}: size {a.size} → {b.size}")
        elif a.mtime_ns != b.mtime_ns:
            problems.append(f"{path}: modified during the import")
        elif hashed and a.sha256 is not None and b.sha256 is not None and a.sha256 != b.sha256:
            problems.append(f"{path}: content changed (SHA-256)")
    return problems


def backup_root_for(vault: Vault, backup_dir: str | Path | None) -> Path:
    """Where backups go: `backup_dir`, else `<store>.import-backups/` next to a SQLite file,
    else `./memvault-import-backups/`."""
    if backup_dir is not None:
        return Path(backup_dir)
    path = vault.store.location.path
    if vault.engine == "sqlite" and path and path != ":memory:":
        return Path(path + ".import-backups")
    return Path.cwd() / "memvault-import-backups"


# -- progress ------------------------------------------------------------------------------


class _Meter:
    """The fraction of the source bytes read so far, from the positions of the process's open
    files (Linux /proc); None where that is not available."""

    def __init__(self, root: Path, files: list[FileState]) -> None:
        self.sizes = {str((root / f.path).resolve()): f.size for f in files}
        self.total = sum(self.sizes.values()) or 1
        self.done: dict[str, int] = {}
        self.order: list[str] = []
        self.ok = os.path.isdir("/proc/self/fdinfo")

    def fraction(self) -> float | None:
        if not self.ok:
            return None
        try:
            for fd in os.listdir("/proc/self/fd"):
                try:
                    target = os.readlink(f"/proc/self/fd/{fd}")
                except OSError:
                    continue
                size = self.sizes.get(target)
                if size is None:
                    continue
                with open(f"/proc/self/fdinfo/{fd}") as fh:
                    pos = int(fh.readline().split()[1])
                if target not in self.done:
                    for earlier in self.order:  # files are read one after the other
                        self.done[earlier] = self.sizes[earlier]
                    self.order.append(target)
                    self.done[target] = 0
                self.done[target] = max(self.done[target], min(pos, size))
        except OSError:
            return None
        return min(1.0, sum(self.done.values()) / self.total)


# -- the run -------------------------------------------------------------------------------


def import_source(
    vault: Vault,
    source: str | os.PathLike[str],
    *,
    format: str = "auto",
    mapping: generic.GenericMapping | dict[str, Any] | str | Path | None = None,
    dry_run: bool = False,
    resume: bool = False,
    user: str | None = None,
    report: str | os.PathLike[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    backup: bool = True,
    backup_dir: str | os.PathLike[str] | None = None,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the legacy data under `source` into `vault` (see the module docstring).

    Returns the result (whose `exit_code` is 0, 2 or 3); a failure (store full, source
    changed, lock held, …) raises after marking the run failed and writing `report`.
    """
    root = confine("source", source, vault.files_root).resolve()
    if report is not None:
        report = confine("report", report, vault.files_root, write=True)
    if backup_dir is not None:
        backup_dir = confine("backup_dir", backup_dir, vault.files_root, write=True)
    opts = options or ScanOptions()
    if user is not None:
        opts = ScanOptions(
            default_user=user,
            local_tz=opts.local_tz,
            workspace_candidates=opts.workspace_candidates,
            max_raw_bytes=opts.max_raw_bytes,
            chunk_size=opts.chunk_size,
        )
    if batch_rows < 1:
        raise InvalidInput("batch_rows", batch_rows, "must be at least 1")
    with tempfile.TemporaryDirectory(prefix="memvault-import-") as tmp:
        scan_root = root
        if is_zip(root):
            scan_root = Path(tmp) / root.stem
            scan_root.mkdir()
            unpack(root, scan_root)
        plan_streams = streams(scan_root, format, opts, mapping)
        run = _Run(vault, root, format, plan_streams, opts, batch_rows, progress)
        run.scan_root = scan_root
        run.backup_root = backup_root_for(vault, None if backup_dir is None else Path(backup_dir))
        result = run.dry_run() if dry_run else run.execute(resume=resume, backup=backup)
    failed = result.status == "failed" and run.exception is not None
    if not dry_run and (not failed or result.rows("memories").new):
        # The imported memories get their vectors (memvault.migrate.embedstep), also those
        # a failed run had stored: they are in the store and must be searchable.
        embedstep.embed_memories(vault, progress)
    if report is not None:
        result.write(report)
    if failed and run.exception is not None:
        exc = run.exception
        if isinstance(exc, MemvaultError) and result.error and result.error != str(exc):
            exc.args = (result.error,)  # what it stored before failing, said with the error
        raise exc
    return result


class _Run:
    def __init__(
        self,
        vault: Vault,
        root: Path,
        fmt: str,
        plan_streams: list[_Stream],
        options: ScanOptions,
        batch_rows: int,
        progress: Progress | None,
    ) -> None:
        self.vault = vault
        self.store = vault.store
        self.root = root  # what the user named: a folder, a file or a zip
        self.base = root if root.is_dir() else root.parent  # what FileState paths are under
        self.scan_root = root  # where the scans read (a zip's unpacked copy)
        self.format = fmt
        self.streams = plan_streams
        self.options = options
        self.batch_rows = batch_rows
        self.progress = progress
        self.backup_root: Path = Path(".")
        self.exception: BaseException | None = None
        self.started = time.monotonic()

    def _result(self, run_id: str, dry_run: bool) -> ImportResult:
        return ImportResult(
            run_id=run_id,
            source=str(self.root),
            format=self.format,
            status="failed",
            dry_run=dry_run,
            started_at=datetime.now(UTC),
        )

    def _run_options(self) -> dict[str, Any]:
        return {
            "user": self.options.default_user,
            "streams": [s.name for s in self.streams],
            "batch_rows": self.batch_rows,
        }

    # -- the load loop ----------------------------------------------------------------------

    def _load(
        self,
        loader: Loader,
        result: ImportResult,
        positions: dict[str, int],
        stream_state: dict[str, dict[str, Any]],
        files: list[FileState],
    ) -> None:
        write = loader.write
        if self.scan_root != self.root:  # a zip: the reads are of its unpacked members
            files = source_files(self.scan_root, set())
        meter = _Meter(self.scan_root if self.scan_root.is_dir() else self.base, files)
        rows_total = 0
        last_emit = 0.0
        for stream in self.streams:
            scan = stream.make()
            resume_at = positions.get(stream.name, 0)
            skipping = resume_at > 0
            state = stream_state.setdefault(stream.name, {"new": {}, "records": 0})
            cursor = _Cursor()

            def checkpoint(
                tx: Any, new: dict[str, int], *, _s: str = stream.name, _c: _Cursor = cursor
            ) -> None:
                position = _c.position
                st = stream_state[_s]
                for table, n in new.items():
                    st["new"][table] = st["new"].get(table, 0) + n
                st["records"] = position
                runs.save_checkpoint(tx, result.run_id, _s, position, sum(st["new"].values()), st)

            stream_root = stream.root
            position = 0
            for rec in scan.records():
                if skipping and position == resume_at:
                    loader.flush(skip=True)
                    skipping = False
                if loader.batch.count >= self.batch_rows and not isinstance(rec, EmbeddingRec):
                    rows_total += loader.batch.count
                    loader.flush(checkpoint if write else None, skip=skipping)
                    now = time.monotonic()
                    if self.progress is not None and now - last_emit > 0.2:
                        last_emit = now
                        self.progress(
                            ProgressEvent(
                                stream.name,
                                result.records + position,
                                rows_total,
                                meter.fraction(),
                                now - self.started,
                            )
                        )
                rec = storable(rec, scan)
                if isinstance(rec, Quarantined):
                    shown = self._shown(stream_root, rec.file)
                    loader.quarantined(rec, shown)
                    result.note_quarantine(rec, shown)
                else:
                    if not isinstance(rec, UserRec) or rec.profile or rec.display_name:
                        result.source_records += 1
                    loader.add(rec)
                position += 1
                cursor.position = position
            rows_total += loader.batch.count
            loader.flush(checkpoint if write and not skipping else None, skip=skipping)
            if write and not skipping and position != state.get("records", -1):
                with self.store.write() as tx:
                    checkpoint(tx, {})
            result.records += position
            result.formats[scan.format] = scan.report
            result.files_read += [self._shown(stream_root, f) for f in scan.files_read]
            if self.progress is not None:
                self.progress(
                    ProgressEvent(
                        stream.name,
                        result.records,
                        rows_total,
                        meter.fraction(),
                        time.monotonic() - self.started,
                    )
                )
        loader.finish()

    def _shown(self, stream_root: Path, file: str) -> str:
        """A source file as the user knows it: relative to what they named (for a zip,
        `<name>.zip/<member>`)."""
        folder = stream_root if stream_root.is_dir() else stream_root.parent
        path = (folder / file).resolve()
        if self.scan_root != self.root:
            try:
                return f"{self.root.name}/{path.relative_to(self.scan_root.resolve()).as_posix()}"
            except ValueError:
                return file
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return file

    def _verdict(self, result: ImportResult) -> None:
        """Turn a run that stored none of its source's records into a failure that says
        why; say so when a re-run found everything already there."""
        if result.status not in ("completed", "quarantined"):
            return
        formats = ", ".join(result.formats) or self.format
        if result.source_records == 0:
            result.status = "failed"
            if result.quarantined or result.bad_records:
                result.error = (
                    f"nothing was imported: every record read from {self.root} was refused "
                    f"({result.quarantined:,} quarantined"
                    + (f", e.g. {result.quarantine[0]['reason']}" if result.quarantine else "")
                    + ")"
                )
            elif result.files_read:
                read = result.files_read
                shown = ", ".join(read[:3])
                more = f" and {len(read) - 3} more" if len(read) > 3 else ""
                result.error = (
                    f"nothing was imported: the {formats} file(s) read ({shown}{more}) hold "
                    "no records"
                )
            else:
                expected = "; ".join(
                    f"{fmt}: {' | '.join(sources.LAYOUTS[fmt])}"
                    for fmt in (list(result.formats) or [self.format])
                    if fmt in sources.LAYOUTS
                )
                result.error = (
                    f"nothing was imported: no {formats} data found in {self.root} "
                    f"(expected {expected})"
                )
            return
        if result.dry_run:
            return
        stored = {t: c for t, c in result.tables.items() if t not in ("quarantine", "users")}
        new = sum(c.new for c in stored.values())
        present = sum(c.present for c in stored.values())
        if new == 0 and present > 0:
            result.note = (
                f"nothing new: all {present:,} rows read from {self.root} were already in the "
                "store (imported before)"
            )
        updated = sum(c.updated for c in stored.values())
        if new == 0 and updated:
            result.note = (
                f"nothing new; {updated:,} row(s) brought up to date with the source "
                "(what changed is in each row's metadata.import_updates)"
            )
        if result.gone:
            listed = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in result.gone.items())
            result.note = (result.note + "; " if result.note else "") + (
                f"{sum(result.gone.values()):,} stored record(s) are no longer in the source "
                f"({listed}): kept; `memvault verify --against {self.root}` lists them"
            )
        if result.quarantined_before:
            result.note = (result.note + "; " if result.note else "") + (
                f"{result.quarantined_before:,} bad record(s) were quarantined by an earlier "
                "import and are still in the source (not added again)"
            )

    # -- dry run ----------------------------------------------------------------------------

    def dry_run(self) -> ImportResult:
        result = self._result(new_id(), dry_run=True)
        files = source_files(self.root, _excluded(self.vault, self.backup_root))
        loader = Loader(
            self.store, result.run_id, default_user=self.options.default_user, write=False
        )
        self._load(loader, result, {}, {}, files)
        after = source_files(self.root, _excluded(self.vault, self.backup_root))
        result.source_changed = _changes(files, after, hashed=False)
        result.tables = loader.counts
        result.quarantined = loader.counts["quarantine"].expected
        source_bytes = sum(f.size for f in files)
        estimate = int(loader.bytes_estimate * 1.6)  # row, index and full-text overhead
        needed = estimate + source_bytes + self.store.size_bytes()
        where = self._space_dir()
        free = shutil.disk_usage(where).free if where is not None else None
        result.plan = {
            "rows": {t: c.expected for t, c in loader.counts.items() if c.expected},
            "duplicates_in_source": {t: c.merged for t, c in loader.counts.items() if c.merged},
            "embedding_dimensions": dict(loader.embedding_dims),
            "response_pattern_embeddings": loader.pattern_embeddings,
            "source_files": len(files),
            "source_bytes": source_bytes,
            "estimated_store_bytes": estimate,
            "needed_bytes_with_backups": needed,
            "free_bytes": free,
            "enough_space": None if free is None else free >= needed,
        }
        result.finished_at = datetime.now(UTC)
        if result.source_changed:
            result.status = "failed"
            result.error = "the source changed while it was read: " + result.source_changed[0]
        elif result.quarantined or result.bad_records:
            result.status = "quarantined"
        else:
            result.status = "completed"
        self._verdict(result)
        return result

    def _space_dir(self) -> str | None:
        path = self.store.location.path
        if self.vault.engine == "sqlite" and path and path != ":memory:":
            return str(Path(path).resolve().parent)
        return None

    # -- the real run -----------------------------------------------------------------------

    def _previous(self) -> tuple[str, dict[str, int], dict[str, dict[str, Any]]] | None:
        with self.store.read() as tx:
            found = runs.unfinished_runs(
                tx, self.format, source=str(self.root), statuses=("running", "failed")
            )
            if not found:
                return None
            run_id = found[0][0]
            points = runs.load_checkpoints(tx, run_id)
        positions = {stream: cp.position for stream, cp in points.items()}
        states = {stream: cp.state or {"new": {}, "records": 0} for stream, cp in points.items()}
        return run_id, positions, states

    def execute(self, *, resume: bool, backup: bool) -> ImportResult:
        result = self._result(new_id(), dry_run=False)
        lock = ImportLock(self.store, result.run_id, str(self.root))
        spool = Spool()
        loader: Loader | None = None
        started = False
        try:
            with lock, self.store.streaming():
                previous = self._previous() if resume else None
                positions: dict[str, int] = {}
                states: dict[str, dict[str, Any]] = {}
                if previous is not None:
                    result.run_id, positions, states = previous
                    result.resumed = True
                    lock.note(result.run_id)
                run_id = result.run_id
                excluded = _excluded(self.vault, self.backup_root)
                files = source_files(self.root, excluded)
                self._check_space(files)
                origin = self._start_run(result, previous is not None)
                started = True
                run_dir = self.backup_root / run_id
                if backup:
                    files = self._backup(run_dir, files, result)
                else:
                    result.backup = {"skipped": "backup=False"}
                loader = Loader(
                    self.store,
                    run_id,
                    default_user=self.options.default_user,
                    now=origin,
                    spool=spool,
                    source=str(self.root),
                )
                for st in states.values():
                    for table, n in st.get("new", {}).items():
                        loader.counts[table].new += int(n)
                self._load(loader, result, positions, states, files)
                result.tables = loader.counts
                result.quarantined = loader.counts["quarantine"].expected
                result.users = dict(loader.user_state)
                result.default_user = self.options.default_user
                result.problems = verify(self.store, spool, loader.counts)
                result.reimport = self._imported_before(run_id)
                if result.reimport:
                    result.gone = _no_longer_in_source(self.store, spool, set(result.formats))
                after = source_files(self.root, excluded)
                if backup:
                    after = [
                        FileState(f.path, f.size, f.mtime_ns, _sha256(self.base / f.path))
                        for f in after
                    ]
                result.source_changed = _changes(files, after, hashed=backup)
                if result.source_changed:
                    raise SourceChanged(
                        f"{len(result.source_changed)} source file(s) changed during the "
                        f"import, e.g. {result.source_changed[0]}; the store may not match "
                        "them: re-run the import once the source is stable"
                    )
                earlier = result.quarantined - loader.counts["quarantine"].new
                if result.problems:
                    result.status = "mismatch"
                elif (result.quarantined or result.bad_records) and earlier < result.quarantined:
                    result.status = "quarantined"
                else:
                    result.status = "completed"
                result.quarantined_before = max(0, earlier)
                self._verdict(result)
        except BaseException as exc:
            result.status = "failed"
            result.error = _describe(exc)
            self.exception = exc
            if loader is not None:
                result.tables = loader.counts
                result.quarantined = loader.counts["quarantine"].expected
                stored = _stored(loader.counts)
                if stored:
                    # Never a silent partial: what this failed run committed stays (a re-run
                    # finds it by id and adds the rest), and the message says what it is.
                    result.error += (
                        f"; before failing, this run had stored {stored} (kept: they are "
                        "found again, not duplicated, when the import is re-run)"
                    )
        finally:
            spool.close()
            result.finished_at = datetime.now(UTC)
            if started:
                self._finish_run(result)
        return result

    def _imported_before(self, run_id: str) -> bool:
        """Whether an earlier run imported this source (only then can rows have gone)."""
        with self.store.read() as tx:
            return runs.imported_before(tx, str(self.root), run_id)

    def _check_space(self, files: list[FileState]) -> None:
        where = self._space_dir()
        if where is None:
            return
        source_bytes = sum(f.size for f in files)
        needed = 2 * source_bytes + self.store.size_bytes()
        free = shutil.disk_usage(where).free
        if free < needed:
            raise StoreFull(
                f"not enough free space in {where}: {free:,} bytes free, about {needed:,} "
                f"needed (source {source_bytes:,} bytes, its backup, the target's backup); "
                "nothing was written"
            )

    def _start_run(self, result: ImportResult, resumed: bool) -> datetime:
        """Insert (or take over) the run row; returns the run's original start time."""
        origin = result.started_at
        with self.store.write() as tx:
            if resumed:
                origin = runs.resume_run(tx, result.run_id) or origin
            else:
                runs.start_run(tx, result.run_id, str(self.root), self.format,
                               self._run_options(), result.started_at)  # fmt: skip
        self.started = time.monotonic()
        return origin

    def _finish_run(self, result: ImportResult) -> None:
        try:
            with self.store.write() as tx:
                runs.finish_run(tx, result.run_id, result.status, result.as_dict(),
                                result.finished_at)  # fmt: skip
        except MemvaultError:
            pass  # e.g. the disk is still full: the run stays 'running' and can be resumed

    def _backup(
        self, run_dir: Path, files: list[FileState], result: ImportResult
    ) -> list[FileState]:
        """Copy the sources (with SHA-256) and back the target up; on a resume, check the
        sources still match the manifest of the interrupted run."""
        manifest_path = run_dir / "manifest.json"
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text("utf-8"))
            recorded = [FileState(**f) for f in manifest["files"]]
            hashed = [
                FileState(f.path, f.size, f.mtime_ns, _sha256(self.base / f.path)) for f in files
            ]
            old = {f.path: f.sha256 for f in recorded}
            new = {f.path: f.sha256 for f in hashed}
            if old != new:
                changed = sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))
                raise SourceChanged(
                    f"the source changed since run {result.run_id} was interrupted "
                    f"({changed[0]}{' and others' if len(changed) > 1 else ''}); its checkpoints "
                    "no longer apply: run the import again without --resume"
                )
            result.backup = manifest["backup"]
            return hashed
        run_dir.mkdir(parents=True, exist_ok=True)
        hashed = []
        for f in files:
            sha = _copy_hashed(self.base / f.path, run_dir / "source" / f.path)
            hashed.append(FileState(f.path, f.size, f.mtime_ns, sha))
        info: dict[str, Any] = {
            "dir": str(run_dir),
            "source_files": len(hashed),
            "source_bytes": sum(f.size for f in hashed),
        }
        path = self.store.location.path
        if self.vault.engine == "sqlite" and path and path != ":memory:":
            made = self.vault.backup(str(run_dir / "target.db"), overwrite=True)
            info["target"] = {"path": made.path, "bytes": made.size_bytes, "sha256": made.sha256}
        elif self.vault.engine == "sqlite":
            info["target"] = "skipped: in-memory store"
        else:
            info["target"] = (
                "skipped: PostgreSQL has no online file backup here; take one with pg_dump"
            )
        manifest = {
            "run_id": result.run_id,
            "source": str(self.root),
            "files": [
                {"path": f.path, "size": f.size, "mtime_ns": f.mtime_ns, "sha256": f.sha256}
                for f in hashed
            ],
            "backup": info,
        }
        tmp = run_dir / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1), "utf-8")
        os.replace(tmp, manifest_path)
        result.backup = info
        return hashed


# The tables whose rows name the legacy record they came from (metadata.source_key).
KEYED_TABLES = ("sessions", "messages", "memories", "emotion_events", "traits",
                "response_patterns", "actions", "routing_scores")  # fmt: skip


def _no_longer_in_source(store: Store, spool: Spool, formats: set[str]) -> dict[str, int]:
    """Per table, the stored rows imported from these formats (by their source key) that
    this run did not read again: the legacy side deleted them. They are kept."""
    seen: set[str] = set()
    for chunk in spool.read():
        seen.update(str(rid).lower() for table, rid, _ in chunk if table in KEYED_TABLES)
    gone: dict[str, int] = {}
    with store.read() as tx:
        for table in KEYED_TABLES:
            for row in tx.all(f"SELECT id, metadata FROM {table}"):
                if str(row["id"]).lower() in seen:
                    continue
                meta = tx.json_out(row["metadata"])
                key = meta.get("source_key") if isinstance(meta, dict) else None
                if isinstance(key, str) and key.split(":", 1)[0] in formats:
                    gone[table] = gone.get(table, 0) + 1
    return gone


def _stored(counts: dict[str, TableCounts]) -> str:
    """The rows a run wrote, as text ("71 memories, 118 messages"); empty when none."""
    parts = [
        f"{c.new + c.updated:,} {table.replace('_', ' ')}"
        for table, c in counts.items()
        if table != "quarantine" and c.new + c.updated
    ]
    return ", ".join(parts)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, StoreError | MemvaultError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def iter_tables() -> Iterator[str]:
    """The canonical tables an import writes, in write order."""
    yield from TABLES


__all__ = [
    "DEFAULT_BATCH_ROWS",
    "FORMAT_CHOICES",
    "ImportResult",
    "ProgressEvent",
    "SourceChanged",
    "import_source",
]
