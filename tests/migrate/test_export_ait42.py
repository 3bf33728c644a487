"""Rollback to AIT42: `export --format ait42` writes the session files AIT42 Editor reads,
back where each session came from; legacy → import → export → import into a fresh store
gives the same sessions, instances and messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import memvault
from memvault.migrate import import_source
from memvault.migrate.export import export_ait42
from tests.migrate.legacy_data import (
    AIT42_MAPPED,
    AIT42_UNMAPPED,
    ait42_hash,
    write_ait42,
)


def view(vault: memvault.Vault) -> list[tuple[Any, ...]]:
    """Every session as a user sees it: fields, its instances, its messages."""
    out = []
    for s in vault.sessions.list(limit=1000):
        if s.kind == "instance":
            continue
        instances = sorted(
            (i.title, i.status, i.started_at, i.ended_at, i.metadata.get("worktreePath"))
            for i in vault.sessions.list(parent_id=s.id, limit=1000)
        )
        messages = [(m.seq, m.role, m.content, m.created_at, m.metadata.get("legacy_id"))
                    for m in vault.messages.last(s.id, 1000)]  # fmt: skip
        out.append((s.metadata.get("legacy_id"), s.kind, s.title, s.status, s.started_at,
                    s.updated_at, s.ended_at, s.message_count, tuple(instances),
                    tuple(messages), s.metadata.get("winnerId"),
                    s.metadata.get("runtimeMix")))  # fmt: skip
    return sorted(out, key=lambda row: str(row[0]))


def test_ait42_round_trip_and_layout(vault: memvault.Vault, tmp_path: Path) -> None:
    legacy = write_ait42(tmp_path / "legacy")
    import_source(vault, legacy, format="ait42", backup_dir=tmp_path / "b")
    out = tmp_path / "rollback"
    counts = export_ait42(vault, out)
    mapped, unmapped = ait42_hash(AIT42_MAPPED), ait42_hash(AIT42_UNMAPPED)
    assert counts == {
        f"home/.ait42/sessions/{mapped}.json": 2,
        f"home/.ait42/sessions/{unmapped}.json": 1,
        "home/.ait42/sessions.json": 1,
        "projects/blog/.ait42/sessions.json": 1,
    }
    home = out / "home" / ".ait42"
    assert json.loads((home / "workspace_mapping.json").read_text("utf-8")) == {
        mapped: AIT42_MAPPED
    }
    # A session without bad records comes back as AIT42 wrote it: same keys, same order,
    # same values (instances, chat history, the tmux capture, instance 0's null id...).
    rel = f"home/.ait42/sessions/{mapped}.json"
    before = {s["id"]: s for s in json.loads((legacy / rel).read_text("utf-8"))}
    text = (out / rel).read_text("utf-8")
    assert not text.endswith("\n") and "Écrire" in text  # serde: raw UTF-8, no final newline
    after = {s["id"]: s for s in json.loads(text)}
    competition = next(sid for sid, s in before.items() if s["type"] == "competition")
    assert after[competition] == before[competition]
    assert list(after[competition]) == list(before[competition])

    with memvault.open(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        result = import_source(fresh, out, format="ait42", backup_dir=tmp_path / "b2")
        assert result.exit_code == 0, result.as_dict()
        assert view(fresh) == view(vault)
