"""Export: JSON/NDJSON of a store or one user, and the rollback path back to Workly and
Lilith files: legacy files → import → export → the same content read back."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.migrate.export import export_lilith, export_store, export_workly
from memvault.migrate.pipeline import import_source
from memvault.migrate.sources import lilith, workly
from memvault.migrate.sources.records import Quarantined
from tests.migrate.legacy_data import write_lilith, write_workly
from tests.migrate.test_transfer import MEMVAULT, REPO, populate, sqlite_url

IGNORED = {
    "source_key",
    "metadata",
    "trait_source_key",
    "target_source_key",
    "session_source_key",
}


def as_stored(name: str, value: Any) -> Any:
    """Vectors are stored as float32: compare what float32 keeps of the source's values."""
    if name == "vector":
        return struct.unpack(f"<{len(value)}f", struct.pack(f"<{len(value)}f", *value))
    return value


def projection(root: Path, scan: Any) -> set[tuple[Any, ...]]:
    """What a legacy tree holds, as the source readers see it, without bookkeeping fields."""
    out = set()
    for rec in scan(root).records():
        if isinstance(rec, Quarantined):
            continue
        fields = tuple(
            (name, repr(as_stored(name, getattr(rec, name))))
            for name in rec.__dataclass_fields__
            if name not in IGNORED
        )
        out.add((type(rec).__name__, fields))
    return out


def test_workly_round_trip(tmp_path: Path) -> None:
    original = write_workly(tmp_path / "legacy")
    with memvault.open(sqlite_url(tmp_path / "v.db")) as vault:
        result = import_source(vault, original, format="workly", backup=False)
        assert result.exit_code in (0, 2)
        counts = export_workly(vault, tmp_path / "back", user="default")
    assert counts["segments"] == 3 and counts["traits"] == 6
    before = projection(original, workly.scan)
    after = projection(tmp_path / "back", workly.scan)
    assert after == before
    text = (tmp_path / "back/data/memory/conversations.json").read_text(encoding="utf-8")
    assert "réunion" in text and "\\u00e9" not in text  # ensure_ascii=False, like Workly
    # Trait descriptions are kept in traits.metadata (revision 0005) and come back.
    traits = json.loads((tmp_path / "back/data/memory/personality.json").read_text())["traits"]
    assert traits and all(t["description"] == f"Trait {name}" for name, t in traits.items())


def test_lilith_round_trip(tmp_path: Path) -> None:
    original = write_lilith(tmp_path / "legacy")
    with memvault.open(sqlite_url(tmp_path / "v.db")) as vault:
        import_source(vault, original, format="lilith", backup=False)
        export_lilith(vault, tmp_path / "back")
    before = projection(original, lilith.scan)
    after = projection(tmp_path / "back", lilith.scan)
    assert after == before
    text = (tmp_path / "back/response_patterns.json").read_text(encoding="utf-8")
    assert "\\ud83c" in text or "\\u00e7" in text  # ensure_ascii=True, like Lilith
    settings = json.loads((tmp_path / "back/data/servers/123456789/settings.json").read_text())
    assert settings["guild_name"] == "Café des Devs ☕"


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_export_store_and_user(tmp_path: Path, fmt: str) -> None:
    url = sqlite_url(tmp_path / "v.db")
    populate(url, messages=7)
    with memvault.open(url) as vault:
        counts = export_store(vault, tmp_path / f"all.{fmt}", format=fmt)
        stats = vault.stats().counts
        mine = export_store(vault, tmp_path / f"alice.{fmt}", format=fmt, user="alice")
    assert {k: v for k, v in counts.items() if k in stats} == stats
    raw = (tmp_path / f"alice.{fmt}").read_text(encoding="utf-8")
    if fmt == "ndjson":
        lines = [json.loads(x) for x in raw.splitlines()]
        assert lines[0]["format"] == "memvault.export" and lines[-1]["end"] is True
        rows = [x for x in lines[1:-1]]
        assert sum(1 for x in rows if x["table"] == "messages") == 7
        assert {x["row"]["handle"] for x in rows if x["table"] == "users"} == {"alice"}
    else:
        doc = json.loads(raw)
        assert len(doc["tables"]["messages"]) == 7 == doc["counts"]["messages"]
        assert [u["handle"] for u in doc["tables"]["users"]] == ["alice"]
    assert mine["memories"] == 1  # alice's only; 李's and the base layer's are not exported


def test_cli_export(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "v.db")
    populate(url, messages=3)
    out = tmp_path / "dump.ndjson"
    proc = subprocess.run(
        [*MEMVAULT, "export", "--db", url, "--format", "ndjson", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        sum(1 for line in out.read_text().splitlines() if line.startswith('{"table":"messages"'))
        == 3
    )
