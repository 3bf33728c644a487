"""Imports land where the APIs look: after importing each legacy format, the domain API a user
would call (profiles, emotions, traits, memories, sessions and messages, patterns, actions and
routing) shows every kind of legacy entity with its legacy values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import memvault
from memvault.migrate import import_source
from tests.migrate import legacy_data as legacy


def imported(vault: memvault.Vault, tmp_path: Path, fmt: str) -> None:
    write: Callable[[Path], Path] = getattr(legacy, f"write_{fmt}")
    result = import_source(vault, write(tmp_path), format=fmt, backup_dir=tmp_path / "b")
    assert result.as_dict()["run"]["verification"]["problems"] == []
    assert result.exit_code in (0, 2)  # the fixtures hold bad records on purpose


def user(vault: memvault.Vault, handle: str) -> str:
    return vault.users.resolve(handle).id


def sessions_by_title(vault: memvault.Vault, owner: str) -> dict[str | None, memvault.Session]:
    return {s.title: s for s in vault.sessions.list(user_id=owner, limit=1000)}


def test_edgesoul_profile_levels_and_voice(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "edgesoul")
    profile = vault.profiles.get(user(vault, "user_001"))
    assert profile.personality == {
        "empathy": 0.8, "humor": 0.65, "formality": 0.3, "verbosity": 0.4, "proactiveness": 0.7,
    }  # fmt: skip
    assert profile.voice == {"speed": 1.2, "pitch": 0.9, "auto_speak": True, "enabled": True}
    assert profile.interests == ["cuisine", "vélo", "jazz 🎷"]
    assert profile.dislikes == ["spam"]


def test_edgesoul_emotional_patterns_are_a_baseline_events_extend(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    imported(vault, tmp_path, "edgesoul")
    amelie = user(vault, "user_001")
    [joy] = vault.emotions.patterns(amelie).patterns
    assert (joy.emotion, joy.count) == ("joy", 12)
    assert abs(joy.avg_intensity - 0.88) < 1e-9
    assert {t.trigger for t in joy.top_triggers} == {"music", "friends"}
    assert joy.hours[9] == 3 and joy.hours[21] == 9 and sum(joy.hours) == 12
    assert joy.last_at is not None and joy.last_at <= datetime(2025, 11, 1, 9, 30, tzinfo=UTC)
    # the legacy 0–100 intensity (65.0) is on memvault's 0–1 scale
    [anxiety] = vault.emotions.patterns(user(vault, "default")).patterns
    assert (anxiety.emotion, anxiety.count, anxiety.avg_intensity) == ("anxiety", 4, 0.65)
    assert [t.trigger for t in anxiety.top_triggers] == ["exams"]
    # not free text any more: no memory of kind "emotional" was made from a pattern
    contents = [m.content for m in vault.memories.list(amelie, kinds=["emotional"])]
    assert not any("Emotional pattern" in c for c in contents)
    # a recorded event extends the legacy pattern
    vault.emotions.record(amelie, "joy", 0.5, trigger="music")
    [joy] = vault.emotions.patterns(amelie).patterns
    assert joy.count == 13
    assert joy.top_triggers[0].trigger == "music" and joy.top_triggers[0].count == 2


def test_edgesoul_memories_and_conversations(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "edgesoul")
    amelie = user(vault, "user_001")
    memories = {m.content: m for m in vault.memories.list(amelie, track_access=False)}
    assert memories["Aime le café très noir ☕"].kind == "preference"
    assert memories["Habite à Lyon"].kind == "fact"
    chats = sessions_by_title(vault, amelie)
    export = chats["EdgeSoul chat export"]
    texts = [m.content for m in vault.messages.last(export.id, 100)]
    assert "Encore moi" in texts and "Re-bonjour !" in texts
    # the session starts with its first exported record, not at the import
    first = vault.messages.last(export.id, 100)[0]
    assert export.started_at == first.created_at
    context = chats[None]
    assert [m.content for m in vault.messages.last(context.id, 2)] == ["Merci", "Avec plaisir !"]


def test_workly_traits_memories_emotions_conversations(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    imported(vault, tmp_path, "workly")
    owner = user(vault, "default")
    traits = {t.name: t for t in vault.traits.list(owner)}
    assert set(traits) == set(legacy.WORKLY_EVOLUTION)
    assert traits["kindness"].value == 0.51
    assert len(vault.traits.history(owner, "creativity", limit=1000)) == 100
    summaries = [m.content for m in vault.memories.list(owner, kinds=["summary"], limit=100)]
    assert "Planning : réunion avec Camille à Lyon à 14h." in summaries
    facts = " ".join(m.content for m in vault.memories.list(owner, limit=100))
    assert "Camille" in facts and "crêpes" in facts
    emotions = {p.emotion: p for p in vault.emotions.patterns(owner).patterns}
    assert emotions["joy"].avg_intensity == 0.85 and emotions["surprised"].count == 1
    sessions = vault.sessions.list(user_id=owner, limit=100)
    assert sorted(s.message_count for s in sessions) == [5, 20, 20]


def test_lilith_patterns_per_tenant_and_base(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "lilith")
    mine = vault.patterns.find(user(vault, "default"), intent="greeting", layered=False)
    assert "Salut toi ! 👋" in [p.response_text for p in mine]
    assert [p.usage_count for p in mine if p.response_text == "Salut toi ! 👋"] == [9]
    base = vault.patterns.find(None, intent="greeting")
    assert "Hello! How can I help you today?" in [p.response_text for p in base]
    alice = vault.patterns.find(user(vault, "alice"), intent="farewell", layered=False)
    assert [p.success_score for p in alice if p.response_text == "À plus tard ! 😊"] == [0.9]
    server = vault.users.resolve("server:123456789")
    assert server.display_name == "Café des Devs ☕"


def test_ait42_sessions_instances_messages(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "ait42")
    owner = user(vault, "default")
    sessions = sessions_by_title(vault, owner)
    bug = sessions["ログイン画面のバグを修正して、テストを追加する"]
    assert bug.kind == "competition"
    assert bug.started_at == datetime(2025, 11, 10, 12, 31, 4, 47000, tzinfo=UTC)
    assert any(m.content.startswith("📜 Tmux Session History:")
               for m in vault.messages.last(bug.id, 100))  # fmt: skip
    instances = vault.sessions.list(user_id=owner, parent_id=bug.id, limit=100)
    assert instances and all(i.kind == "instance" for i in instances)
    # numbered as in the legacy list, so that the dual-write adapter finds them by number
    assert sorted(i.instance_no for i in instances) == list(range(len(instances)))
    assert vault.sessions.get(bug.id).instance_count == len(instances)
    # an instance without a start time of its own starts with its session, not at the import
    assert all(i.started_at.year == 2025 for i in vault.sessions.list(user_id=owner, limit=1000))
    assert len(vault.projects.list(user_id=owner)) == 3  # the workspaces


def test_dcm_actions_and_routing(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "dcm")
    actions = vault.actions.list(memvault.ANY, limit=100)
    assert sorted(a.tool_name for a in actions) == sorted(
        ["Read", "Edit", "mcp__github__create_issue", "Bash", "WebFetch", "frontend-specialist"]
    )
    stats = {s.tool_name: s for s in vault.actions.stats(memvault.ANY)}
    assert stats["mcp__github__create_issue"].count == 1
    scores = {(s.keyword, s.tool_name): s for s in vault.routing.scores(None)}
    assert scores[("refactor", "Edit")].weight == 1.4
    assert scores[("refactor", "Edit")].usage_count == 6
    assert scores[("deploy", "mcp__vercel__deploy")].success_count == 9
    assert [s.tool_name for s in vault.routing.suggest("refactor the parser")][:1] == ["Edit"]


def test_chatgpt_conversations(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "chatgpt")
    sessions = sessions_by_title(vault, user(vault, "default"))
    sqlite_chat = sessions["SQLite"]
    texts = [m.content for m in vault.messages.last(sqlite_chat.id, 100)]
    assert texts[-2:] == ["Et WAL ?", "Le WAL permet des lectures concurrentes."]
    assert sqlite_chat.started_at.year == 2023


def test_langchain_histories(vault: memvault.Vault, tmp_path: Path) -> None:
    imported(vault, tmp_path, "langchain")
    sessions = sessions_by_title(vault, user(vault, "default"))
    history = [(m.role, m.content) for m in vault.messages.last(sessions["chat_history"].id, 10)]
    assert history == [
        ("user", "Bonjour, je m'appelle Zoé"), ("assistant", "Enchanté Zoé ! 🙂"),
        ("user", "Quel est mon prénom ?"), ("assistant", "Zoé."),
    ]  # fmt: skip
    roles = [m.role for m in vault.messages.last(sessions["abc123"].id, 10)]
    assert "tool" in roles and "system" in roles
