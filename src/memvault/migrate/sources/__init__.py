"""Source readers: one module per legacy format, each streaming typed canonical records.

scan = sources.scan("ait42", Path("legacy/ait42"))
for record in scan.records():
    ...                      # UserRec, SessionRec, MessageRec, ..., Quarantined
scan.report.as_dict()        # the section-9 block, complete once iterated
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memvault.errors import InvalidInput
from memvault.migrate.sources import (
    ait42,
    chatgpt,
    dcm,
    edgesoul,
    langchain,
    lilith,
    workly,
)
from memvault.migrate.sources._base import Scan, ScanOptions
from memvault.migrate.sources.detect import FORMATS, Detection, detect
from memvault.migrate.sources.generic import GenericMapping
from memvault.migrate.sources.report import REPORT_KEYS, FormatReport

SOURCES: dict[str, Callable[[Path, ScanOptions | None], Scan]] = {
    "ait42": ait42.scan,
    "lilith": lilith.scan,
    "edgesoul": edgesoul.scan,
    "workly": workly.scan,
    "dcm": dcm.scan,
    "chatgpt": chatgpt.scan,
    "langchain": langchain.scan,
}


# What a user can hand to each format (a file, a folder, a zip): `memvault import --help`
# and the README print these.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "ait42": ait42.LAYOUTS,
    "lilith": lilith.LAYOUTS,
    "edgesoul": edgesoul.LAYOUTS,
    "workly": workly.LAYOUTS,
    "dcm": dcm.LAYOUTS,
    "chatgpt": chatgpt.LAYOUTS,
    "langchain": langchain.LAYOUTS,
    "generic": (
        "one JSON or NDJSON file",
        "a folder: the files its mapping's `files` globs match",
    ),
}
ZIP_NOTE = "a .zip of any of these is unpacked first (its .json, .jsonl, .ndjson and .db files)"


def scan(fmt: str, root: Path, options: ScanOptions | None = None) -> Scan:
    """A Scan of `root` read as format `fmt` (one of FORMATS)."""
    try:
        factory = SOURCES[fmt]
    except KeyError:
        raise InvalidInput("format", fmt, f"expected one of {', '.join(FORMATS)}") from None
    return factory(Path(root), options)


def scan_tree(root: Path, options: ScanOptions | None = None) -> list[Scan]:
    """One Scan per format detected under `root` (the `auto` format)."""
    return [scan(d.format, d.root, options) for d in detect(Path(root))]


__all__ = [
    "FORMATS",
    "LAYOUTS",
    "REPORT_KEYS",
    "SOURCES",
    "ZIP_NOTE",
    "Detection",
    "FormatReport",
    "GenericMapping",
    "Scan",
    "ScanOptions",
    "detect",
    "scan",
    "scan_tree",
]
