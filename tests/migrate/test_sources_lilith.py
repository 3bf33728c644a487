"""Lilith reader: tenants, per-file last-wins, defaults, escaped unicode."""

from __future__ import annotations

from pathlib import Path

import pytest

from memvault.migrate.sources import lilith
from memvault.migrate.sources.records import ResponsePatternRec
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import write_lilith

EXPECTED = {
    # bob's cut file keeps its 2 complete patterns
    "entities": {"patterns": 15, "patterns_with_embedding": 1, "tenants": 6, "server_settings": 2},
    "bad_records": {"patterns_invalid": 2},
    "bad_records_total": 2,
    "duplicates": {"patterns_dropped_same_id": 1},
    "warnings": {"patterns_defaults_applied": 1},
    "corrupt_files": ["data/users/bob/response_patterns.json"],
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_lilith(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    scan = lilith.scan(root)
    assert scan.run().as_dict() == EXPECTED


def test_tenants_and_owners(root: Path) -> None:
    got = collect(lilith.scan(root))
    patterns = by_key(got["ResponsePatternRec"])
    owners = {(p.metadata["tenant"], p.owner_handle) for p in patterns.values()}
    assert owners == {
        ("default", "default"),
        ("base", None),
        ("user:alice", "alice"),
        ("user:bob", "bob"),  # his file is cut: its complete patterns load
        ("server:123456789", "server:123456789"),
    }
    # the same seed id in several tenants is not a duplicate
    seeds = [p for p in patterns.values() if p.metadata["fragment_id"] == "seed_greeting_0"]
    assert len(seeds) == 4
    users = {u.handle: u for u in got["UserRec"]}
    assert set(users) == {"default", "alice", "bob", "李", "server:123456789", "server:987"}
    assert users["server:123456789"].display_name == "Café des Devs ☕"


def test_escaped_unicode_defaults_and_last_wins(root: Path) -> None:
    got = collect(lilith.scan(root))
    patterns = {p.metadata["fragment_id"]: p for p in got["ResponsePatternRec"]
                if p.metadata["tenant"] == "default"}  # fmt: skip
    assert patterns["seed_greeting_1"].response_text == "Bonjour ! Ça va ? 😀"
    defaulted = patterns["pattern_question_info_4"]
    assert isinstance(defaulted, ResponsePatternRec)
    assert (defaulted.intent, defaulted.usage_count, defaulted.success_score) == (
        "general",
        0,
        0.72,
    )
    assert defaulted.metadata["defaults_applied"] == ["intent", "usage_count", "embedding_cache"]
    assert defaulted.response_text == "C'est à Montréal 🇨🇦"
    winner = patterns["pattern_greeting_5"]
    assert (winner.response_text, winner.usage_count) == ("Salut toi ! 👋", 9)


def test_embedding_and_quarantine(root: Path) -> None:
    got = collect(lilith.scan(root))
    (emb,) = got["EmbeddingRec"]
    assert emb.dim == 64 and emb.target_kind == "response_pattern"
    assert emb.target_source_key == "lilith:data/base/patterns.json:seed_greeting_0"
    assert len(emb.as_float32()) == 4 * 64
    bad = sorted((q.file, q.record_index, q.field) for q in got["Quarantined"] if not q.whole_file)
    alice = "data/users/alice/response_patterns.json"
    bob = "data/users/bob/response_patterns.json"
    assert bad == [(alice, 2, "fragment_id"), (alice, 3, "response_text"), (bob, 2, None)]


def test_tenant_of() -> None:
    assert lilith.tenant_of("response_patterns.json") == "default"
    assert lilith.tenant_of("data/base/patterns.json") == "base"
    assert lilith.tenant_of("data/users/é/response_patterns.json") == "user:é"
    assert lilith.tenant_of("data/servers/42/patterns.json") == "server:42"
