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
    "REPORT_KEYS",
    "SOURCES",
    "Detection",
    "FormatReport",
    "GenericMapping",
    "Scan",
    "ScanOptions",
    "detect",
    "scan",
    "scan_tree",
]
