"""Workly reader: segments, facts, embeddings (384 dims), emotions (0–100), traits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memvault.migrate.sources import workly
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import write_workly

EXPECTED = {
    "entities": {
        "segments": 3, "segment_messages": 45, "embeddings": 3, "facts_entities": 3,
        "facts_preferences": 2, "facts_events": 1, "facts_relationships": 1, "emotions": 5,
        "personality_traits": 6, "personality_evolution": 108,
    },
    "bad_records": {"embeddings_wrong_dimension": 1},
    "bad_records_total": 1,
    "duplicates": {},
    "warnings": {"emotions_missing_context": 2},
    "corrupt_files": [],
}  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_workly(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    assert workly.scan(root).run().as_dict() == EXPECTED


def test_segments_messages_and_summaries(root: Path) -> None:
    got = collect(workly.scan(root))
    sessions = by_key(got["SessionRec"])
    assert list(sessions) == [
        "workly:segment:segment_20251116_101500_000",
        "workly:segment:segment_20251117_101500_001",
        "workly:segment:segment_20251118_101500_002",
    ]
    first = got["MessageRec"][0]
    assert first.content == "Salut Workly ! Tu peux m'aider avec mon planning ?"
    assert first.created_at == datetime(2025, 11, 16, 10, 0, 0, tzinfo=UTC)  # no fraction
    assert got["MessageRec"][1].created_at == datetime(2025, 11, 16, 10, 0, 7, 123457, tzinfo=UTC)
    summaries = [m for m in got["MemoryRec"] if m.kind == "summary"]
    assert [s.session_source_key for s in summaries[:2]] == list(sessions)[:2]
    assert summaries[0].content == "Planning : réunion avec Camille à Lyon à 14h."


def test_facts(root: Path) -> None:
    got = collect(workly.scan(root))
    facts = [m for m in got["MemoryRec"] if m.kind != "summary"]
    kinds = [m.kind for m in facts]
    assert kinds == ["fact"] * 3 + ["preference"] * 2 + ["event", "relation"]
    camille = facts[0]
    assert camille.content == "Camille" and camille.updated_at is not None
    prefs = facts[3:5]
    assert prefs[0].content == "food: crêpes (positive)"
    assert prefs[0].source_key != prefs[1].source_key  # identical facts are both kept
    assert facts[6].content == "user collègue Camille"


def test_embeddings(root: Path) -> None:
    got = collect(workly.scan(root))
    embs = got["EmbeddingRec"]
    assert [e.dim for e in embs] == [384, 384, 384]
    assert embs[0].target_source_key == "workly:summary:segment_20251116_101500_000"
    orphan = by_key(got["MemoryRec"])[embs[2].target_source_key]
    assert orphan.content == "Résumé d'un segment perdu"
    assert abs(sum(v * v for v in embs[0].vector) - 1.0) < 1e-9
    (bad,) = [q for q in got["Quarantined"]]
    assert bad.field == "embedding" and bad.record_index == 2 and "383" in bad.reason


def test_emotions_and_traits(root: Path) -> None:
    got = collect(workly.scan(root))
    emotions = got["EmotionRec"]
    assert [(e.emotion, e.intensity) for e in emotions][:2] == [("joy", 0.85), ("fun", 0.405)]
    assert emotions[4].intensity == 1.0 and emotions[4].confidence == 0.99
    traits = {t.name: t for t in got["TraitRec"]}
    assert set(traits) == {"kindness", "humor", "formality", "enthusiasm", "empathy", "creativity"}
    changes = [c for c in got["TraitChangeRec"] if c.name == "kindness"]
    assert changes[0].old_value is None and changes[0].reason == "Initialisation"
    assert changes[1].old_value == 0.5 and changes[1].new_value == 0.505
    creativity = [c for c in got["TraitChangeRec"] if c.name == "creativity"]
    assert len(creativity) == 100 and creativity[0].old_value is not None  # init entry cut


def test_truncated_file_keeps_its_complete_records_and_others_load(root: Path) -> None:
    facts = root / "data" / "memory" / "facts.json"
    facts.write_text(facts.read_text(encoding="utf-8")[:500], encoding="utf-8")
    scan = workly.scan(root)
    got = collect(scan)
    assert scan.report.corrupt_files == ["data/memory/facts.json"]
    assert scan.report.entities["facts_entities"] == 1  # the one complete before the cut
    assert scan.report.entities["segments"] == 3
    (tail,) = [q for q in got["Quarantined"] if q.file == "data/memory/facts.json"]
    assert not tail.whole_file and tail.reason.startswith("truncated file")


_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drop=st.sampled_from(["value", "entity_type", None]),
    value=_VALUE,
    confidence=_VALUE,
)
def test_a_malformed_entity_is_quarantined_never_stored_as_json(
    tmp_path_factory: pytest.TempPathFactory, drop: str | None, value: Any, confidence: Any
) -> None:
    """An entity is stored only with its type and value as text and a numeric (or absent)
    confidence; anything else is quarantined with its file, record, field and reason -
    never a memory whose content is the record's JSON, never silently dropped."""
    root = tmp_path_factory.mktemp("wk")
    memory = root / "data" / "memory"
    memory.mkdir(parents=True)
    entity: dict[str, Any] = {"entity_type": "person", "value": value, "confidence": confidence}
    if drop is not None:
        entity.pop(drop)
    (memory / "facts.json").write_text(json.dumps({"entities": [entity]}), "utf-8")
    got = collect(workly.scan(root))
    stored = got.get("MemoryRec", [])
    bad = got.get("Quarantined", [])
    good_text = drop is None and isinstance(value, str) and value.strip() != ""
    good_score = confidence is None or (
        isinstance(confidence, int | float) and not isinstance(confidence, bool)
    )
    if good_text and good_score:
        assert [m.content for m in stored] == [value] and not bad
    else:
        assert not stored, stored
        assert len(bad) == 1
        q = bad[0]
        assert q.file.endswith("facts.json") and q.record_index == 0
        assert q.field and q.field.startswith("entities[0].")
        assert q.reason
