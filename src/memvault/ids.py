"""Time-ordered UUIDv7 ids, generated client-side.

`new_id()` is random in its low bits; `derived_id(key, at)` is deterministic for a given
source key and time, so that an import re-run or resume produces the same ids.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime

# No uuid nor hashlib at import: `memvault hook` (one process per tool call) reads and writes
# ids but derives none, and uuid alone imports platform (nine regular expressions compiled).
_HEX = frozenset("0123456789abcdef")

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _format(ms: int, rand_a: int, rand_b: int) -> str:
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= (rand_a & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand_b & 0x3FFF_FFFF_FFFF_FFFF
    h = f"{value:032x}"  # what str(uuid.UUID(int=value)) gives, without building the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id() -> str:
    """A new UUIDv7 as a string; strictly increasing within this process."""
    global _last_ms, _counter
    rand = int.from_bytes(os.urandom(10), "big")
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                ms += 1
                _counter = 0
        else:
            _counter = rand >> 68 & 0x3FF  # random start leaves room to count up
        _last_ms = ms
        counter = _counter
    return _format(ms, counter, rand)


def derived_id(key: str, at: datetime | None = None) -> str:
    """A deterministic UUIDv7 for `key`, time-ordered by `at` (epoch when unknown)."""
    import hashlib  # (see the imports)

    d = hashlib.sha256(key.encode("utf-8")).digest()
    ms = int(at.timestamp() * 1000) if at is not None else 0
    if ms < 0:
        ms = 0
    # `_format(ms, digest[:2], digest[2:10])` laid out byte by byte (one hex() instead of the
    # integer arithmetic; an import derives one id per record).
    h = (
        (ms & 0xFFFF_FFFF_FFFF).to_bytes(6, "big")
        + bytes((0x70 | d[0] & 0x0F, d[1], 0x80 | d[2] & 0x3F))
        + d[3:10]
    ).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_id(value: object) -> bool:
    """True when `value` is a UUID string in canonical form."""
    # What `str(uuid.UUID(value)) == value` says: 8-4-4-4-12 lower-case hex digits.
    if not isinstance(value, str) or len(value) != 36:
        return False
    digits = value.replace("-", "")
    return (
        len(digits) == 32
        and value[8] == value[13] == value[18] == value[23] == "-"
        and _HEX.issuperset(digits)
    )
