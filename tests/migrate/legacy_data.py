# ruff: noqa: E501  (fixture data reads better on one line)
"""Realistic legacy data trees, one writer per format, for the source-reader tests.

Each `write_<format>(root)` creates `root/<format>/` laid out as LEGACY_FORMATS.md §9
describes and returns that folder. The files follow each project's real writer (indent,
escaping, key order, timestamp styles) and carry the quirks the contract names. The
expected report counts are spelled out in the tests, not computed here.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------- helpers


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _truncate(text: str, keep: float = 0.6) -> str:
    return text[: int(len(text) * keep)]


def ait42_hash(path: str) -> str:
    """AIT42's workspace hash of a path that does not exist locally."""
    return hashlib.sha256(path.rstrip("/").encode("utf-8")).hexdigest()[:16]


def unit_vector(dim: int, seed: int) -> list[float]:
    """A deterministic L2-normalised float32-looking vector."""
    rng = random.Random(seed)
    raw = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in raw))
    return [float(f"{v / norm:.17g}") for v in raw]


# ---------------------------------------------------------------------------- AIT42

AIT42_MAPPED = "/home/yuki/dev/ait42-editor"
AIT42_UNMAPPED = "/home/yuki/dev/side-project"
S1 = "3f2b8c1e-6a4d-4f0e-9b7a-1c2d3e4f5a6b"
S2 = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
S3 = "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"
S4 = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"
S5 = "5b4a3928-1706-4f5e-8d4c-3b2a19080706"


def _instance(n: int, status: str, mode: str, sid: str, new: bool, **extra: Any) -> dict[str, Any]:
    inst: dict[str, Any] = {
        "instanceId": n,
        "worktreePath": f"/tmp/worktree-{mode[:4]}-{sid}-{n}",
        "branch": f"claude-{mode}-{sid}-{n}",
        "agentName": f"🏆 タスク最適化 🤖 #{n} (12:3{n})",
        "status": status,
        "tmuxSessionId": f"ait42-claude-{mode}-{sid[:8]}-{n}",
        "output": "\x1b[32m✔\x1b[0m build ok\r\n" if status == "completed" else None,
        "startTime": "2025-11-10T12:31:04.047Z",
        "endTime": None,
        "filesChanged": 3,
        "linesAdded": 120,
        "linesDeleted": 7,
    }
    if new:
        inst.update(runtime="claude", model="sonnet", runtimeLabel="Claude Code")
    inst.update(extra)
    return inst


def _msg(mid: str, role: str, content: Any, ts: str, instance: int | None = None) -> dict[str, Any]:
    return {"id": mid, "role": role, "content": content, "timestamp": ts, "instanceId": instance}


def _session(
    sid: str, kind: str, task: str, status: str, instances: list[Any], chat: list[Any],
    new: bool, updated: str = "2025-11-10T12:33:28.662453+00:00",
) -> dict[str, Any]:  # fmt: skip
    session: dict[str, Any] = {
        "id": sid,
        "type": kind,
        "task": task,
        "status": status,
        "createdAt": "2025-11-10T12:31:04.047Z",
        "updatedAt": updated,
        "completedAt": "2025-11-10T12:40:00.000Z" if status == "completed" else None,
        "instances": instances,
        "chatHistory": chat,
        "model": "sonnet",
        "timeoutSeconds": 1800,
        "preserveWorktrees": None,
        "winnerId": 1 if status == "completed" else None,
    }
    if new:
        session["runtimeMix"] = ["claude", "codex"]
    session.update(
        totalDuration=512, totalFilesChanged=9, totalLinesAdded=300, totalLinesDeleted=12
    )
    return session


def _serde(value: Any) -> str:
    """serde_json::to_string_pretty: 2-space indent, raw UTF-8, no trailing newline."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def write_ait42(base: Path) -> Path:
    """home/.ait42/{sessions/*.json, sessions.json, workspace_mapping.json}, projects/*."""
    root = base / "ait42"
    home = root / "home" / ".ait42"
    mapped, unmapped = ait42_hash(AIT42_MAPPED), ait42_hash(AIT42_UNMAPPED)
    _write(home / "workspace_mapping.json", _serde({mapped: AIT42_MAPPED}))
    tmux = "📜 Tmux Session History:\n" + (
        "\x1b[2K$ cargo build\r\n   Compiling ait42 v0.1.0\r\n" * 250
    )
    s1 = _session(
        S1, "competition", "ログイン画面のバグを修正して、テストを追加する", "completed",
        [_instance(0, "completed", "competition", S1, True),
         _instance(1, "idle", "competition", S1, True),
         _instance(2, "archived", "competition", S1, True)],
        [_msg("msg-1731241864047", "user", "Fix the login bug 🐛", "2025-11-10T12:31:04.047Z"),
         _msg("msg-1731241864047-response", "assistant", "On it — instance 0 is running.",
              "2025-11-10T12:31:05.120Z", None),
         _msg("msg-1731241864999-system", "system", "Instance 1 finished.",
              "2025-11-10T12:35:00.000Z", 1),
         _msg("history-1-1731241900000", "assistant", tmux, "2025-11-10T12:36:40.000Z", 1)],
        new=True,
    )  # fmt: skip
    s2 = _session(
        S2, "ensemble", "Écrire la documentation de l'API ✍️", "running",
        [_instance(0, "running", "ensemble", S2, True),
         _instance(1, "paused", "ensemble", S2, True)],
        [_msg("msg-1731242000000", "user", "Commence par le README", "2025-11-10T12:50:00.000Z"),
         _msg("msg-1731242000000", "user", "et le guide d'installation", "2025-11-10T12:50:00.000Z"),
         _msg("msg-1731242000000-response", "assistant", "D'accord 👍", "2025-11-10T12:50:02.500Z"),
         _msg("msg-1731242000001", "tool", "not a legal role", "2025-11-10T12:50:03.000Z"),
         _msg("msg-1731242000002", "user", "", "2025-11-10T12:50:04.000Z")],
        new=True,
    )  # fmt: skip
    _write(home / "sessions" / f"{mapped}.json", _serde([s1, s2]))
    debate_path = f"{AIT42_UNMAPPED}/src-tauri/.worktrees/debate-{S3[:8]}/debate-workspace"
    debaters = [
        {"instanceId": n, "worktreePath": debate_path, "branch": f"debate-{S3[:8]}",
         "agentName": f"🎯 Debate role {n}", "status": st, "tmuxSessionId": f"debate-{S3}",
         "output": None, "startTime": "2025-11-09T08:00:00.000Z", "endTime": None,
         "filesChanged": None, "linesAdded": None, "linesDeleted": None}
        for n, st in enumerate(["failed", "failed", "completed"])
    ]  # fmt: skip
    s3 = _session(
        S3, "debate", "Should we adopt SQLite?", "failed", debaters, [], new=False,
        updated="2025-11-09T08:10:00.123456789+00:00",
    )  # fmt: skip
    dup_s1 = dict(s1, task="retried create")
    bad_type = _session(
        "11111111-2222-4333-8444-555555555555", "tournament", "x", "running", [], [], False
    )
    bad_instance = _session(
        "66666666-7777-4888-9999-000000000000", "competition", "timeout run", "failed",
        [_instance(0, "timeout", "competition", "66666666", False)], [], new=False,
    )  # fmt: skip
    _write(home / "sessions" / f"{unmapped}.json", _serde([s3, dup_s1, bad_type, bad_instance]))
    _write(home / "sessions" / f"{'c' * 16}.json", "[]")
    _write(home / "sessions" / f"{'d' * 16}.json", "")
    truncated = _serde([_session(S5 + "x", "ensemble", "lost", "running", [], [], True)])
    _write(home / "sessions" / f"{'e' * 16}.json", _truncate(truncated))
    s4 = _session(
        S4, "competition", "v2 era: global file", "completed",
        [{"instanceId": 0, "worktreePath": "/tmp/w", "branch": "b", "agentName": "🏆 a",
          "status": "completed", "tmuxSessionId": ""}],
        [_msg("msg-1731241864047", "user", "same ms as another session", "2025-11-07T09:00:00.000Z"),
         _msg("msg-1731241864048-response", "assistant", "ok", "2025-11-07T09:00:01.000Z")],
        new=False, updated="2025-11-07T09:00:02+00:00",
    )  # fmt: skip
    _write(home / "sessions.json", _serde([s4]))
    s5 = _session(
        S5, "ensemble", "Rédiger l'article du blog 📝", "paused", [],
        [_msg("msg-1730970000000", "user", "Un article sur les crêpes, s'il te plaît 🥞",
              "2025-11-07T08:00:00.000Z")],
        new=False, updated="2025-11-07T08:00:01.5+00:00",
    )  # fmt: skip
    _write(root / "projects" / "blog" / ".ait42" / "sessions.json", _serde([s5]))
    _write(root / "projects" / "empty" / ".ait42" / "sessions.json", "  \n")
    return root


# ---------------------------------------------------------------------------- Lilith


def _pattern(fid: str, trigger: str, response: str, intent: str, **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "fragment_id": fid,
        "trigger_context": trigger,
        "response_text": response,
        "success_score": 0.5,
        "intent": intent,
        "usage_count": 0,
        "embedding_cache": None,
    }
    value.update(extra)
    return value


SEEDS = [
    ("seed_greeting_0", "hello", "Hello! How can I help you today?", "greeting"),
    ("seed_greeting_1", "bonjour", "Bonjour ! Ça va ? 😀", "greeting"),
    ("seed_farewell_2", "goodbye", "Goodbye! Take care.", "farewell"),
    ("seed_question_info_3", "what is", "Let me think about that.", "question_info"),
]


def _lilith_dump(value: Any) -> str:
    """json.dump(indent=2), default ensure_ascii=True: every non-ASCII char escaped."""
    return json.dumps(value, indent=2)


def write_lilith(base: Path) -> Path:
    """response_patterns.json, data/{base,users/*,servers/*}/…"""
    root = base / "lilith"
    default = [_pattern(*s) for s in SEEDS]
    default.append(
        {"fragment_id": "pattern_question_info_4", "trigger_context": "où est",
         "response_text": "C'est à Montréal 🇨🇦", "success_score": 0.72}
    )  # fmt: skip
    default.append(_pattern("pattern_greeting_5", "salut", "Salut !", "greeting", usage_count=3))
    default.append(
        _pattern("pattern_greeting_5", "salut", "Salut toi ! 👋", "greeting", usage_count=9)
    )
    _write(root / "response_patterns.json", _lilith_dump(default))
    based = [_pattern(*s) for s in SEEDS[:3]]
    based[0]["embedding_cache"] = unit_vector(64, 7)
    _write(root / "data" / "base" / "patterns.json", _lilith_dump(based))
    alice = [
        _pattern("pattern_farewell_0", "à plus", "À plus tard ! 😊", "farewell", success_score=0.9),
        _pattern("pattern_greeting_1", "yo", "Yo!", "greeting", usage_count=12),
        _pattern("", "empty id", "nope", "general"),
        _pattern("pattern_bad_3", "null response", None, "general"),
    ]
    _write(root / "data" / "users" / "alice" / "response_patterns.json", _lilith_dump(alice))
    _write(root / "data" / "users" / "李" / "response_patterns.json", "[]")
    _write(
        root / "data" / "users" / "bob" / "response_patterns.json",
        _truncate(_lilith_dump([_pattern(*s) for s in SEEDS])),
    )
    guild = root / "data" / "servers" / "123456789"
    _write(
        guild / "patterns.json",
        _lilith_dump([_pattern("seed_greeting_0", "hello", "Hey server!", "greeting"),
                      _pattern("pattern_server_1", "!help", "Commands: !teach", "general")]),
    )  # fmt: skip
    settings = {
        "guild_id": "123456789", "guild_name": "Café des Devs ☕", "passive_listening": False,
        "passive_channels": [], "learning_enabled": True, "teaching_roles": ["mod"],
        "response_prefix": "!", "min_confidence": 0.6,
        "created_at": "2025-11-20T10:00:00.123456", "updated_at": "2025-11-21T10:00:00",
    }  # fmt: skip
    _write(guild / "settings.json", json.dumps(settings, indent=2))
    _write(
        root / "data" / "servers" / "987" / "settings.json",
        json.dumps(dict(settings, guild_id="987", guild_name="Quiet"), indent=2),
    )
    return root


# ---------------------------------------------------------------------------- EdgeSoul

EDGESOUL_DDL = """
CREATE TABLE user_profiles (
  id INTEGER PRIMARY KEY, user_id VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(255),
  gender VARCHAR(20), empathy_level INTEGER, humor_level INTEGER, formality_level INTEGER,
  verbosity_level INTEGER, proactiveness_level INTEGER, preferred_tone VARCHAR(50),
  response_style VARCHAR(50), emoji_usage BOOLEAN, voice_enabled BOOLEAN,
  auto_speak_responses BOOLEAN, voice_speed FLOAT, voice_pitch FLOAT, interests JSON,
  dislikes JSON, communication_patterns JSON, total_conversations INTEGER,
  total_messages INTEGER, avg_session_length FLOAT, created_at DATETIME, updated_at DATETIME);
CREATE TABLE memories (
  id INTEGER PRIMARY KEY, memory_id VARCHAR(255) NOT NULL UNIQUE,
  user_id VARCHAR(255) REFERENCES user_profiles(user_id), memory_type VARCHAR(50),
  content TEXT NOT NULL, context TEXT, confidence FLOAT, importance FLOAT,
  access_count INTEGER, memory_metadata JSON, created_at DATETIME, last_accessed DATETIME);
CREATE TABLE emotional_patterns (
  id INTEGER PRIMARY KEY, user_id VARCHAR(255) REFERENCES user_profiles(user_id),
  emotion VARCHAR(50), frequency INTEGER, avg_intensity FLOAT, triggers JSON,
  time_patterns JSON, trend VARCHAR(20), last_occurrence DATETIME, UNIQUE(user_id, emotion));
CREATE TABLE conversation_contexts (
  id INTEGER PRIMARY KEY, user_id VARCHAR(255) UNIQUE REFERENCES user_profiles(user_id),
  session_id VARCHAR(255), messages JSON, topics JSON, current_emotion VARCHAR(50),
  emotion_trajectory JSON, started_at DATETIME, last_activity DATETIME);
"""
EDGESOUL_SESSION = "4c0a9f3e-2b1d-4e5f-8a7b-6c5d4e3f2a1b"


def _edgesoul_db(path: Path, full: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(EDGESOUL_DDL)
    j = json.dumps  # ASCII escapes, as SQLAlchemy's JSON type writes them
    profiles = [
        (1, "default", None, "not_set", 50, 50, 50, 50, 50, "friendly", "balanced", 1, 0, 0,
         1.0, 1.0, j([]), j([]), j({}), 3, 20, 4.5, "2025-10-27 20:40:39.307292", None),
        (2, "user_001", "Amélie", "female", 80, 65, 30, 40, 70, "warm", "concise", 1, 1, 1,
         1.2, 0.9, j(["cuisine", "vélo", "jazz 🎷"]), j(["spam"]), j({"greeting": "salut"}),
         12, 240, 11.25, "2025-10-28 08:00:00.000001", "2025-11-01 09:30:00"),
        (3, EDGESOUL_SESSION, None, "not_set", 50, 50, 50, 50, 50, "friendly", "balanced", 0,
         0, 0, 1.0, 1.0, j([]), j([]), j({}), 1, 2, 0.5, "2025-11-02 10:00:00.5", None),
    ]  # fmt: skip
    conn.executemany(f"INSERT INTO user_profiles VALUES ({','.join('?' * 24)})", profiles)
    memories = [
        (1, "user_001_1761597639.307292", "user_001", "preference", "Aime le café très noir ☕",
         "dit au petit-déjeuner", 0.9, 0.8, 3, j({"source": "chat"}),
         "2025-10-27 21:40:39.307292", "2025-11-01 09:30:00.1"),
        (2, "user_001_1761597640.1", "user_001", "fact", "Habite à Lyon", None, 0.7, 0.6, 0,
         j({}), "2025-10-27 21:40:40.1", None),
        (3, "default_1761600000.0", "default", "emotional", "Stressed before exams 😰",
         "exam week", 0.6, 0.9, 1, None, "2025-10-27 22:26:40", None),
        (4, "ghost_1761700000.25", "ghost", "conversation", "Orphan memory", None, 1.0, 0.5, 0,
         j({"note": "user has no profile"}), "2025-10-29 02:13:20.25", None),
    ]  # fmt: skip
    if not full:
        memories = memories[:1]
    conn.executemany(f"INSERT INTO memories VALUES ({','.join('?' * 12)})", memories)
    conn.executemany(
        f"INSERT INTO emotional_patterns VALUES ({','.join('?' * 9)})",
        [(1, "user_001", "joy", 12, 0.88, j(["music", "friends"]), j({"09:00": 3, "21:00": 9}),
          "increasing", "2025-11-01 09:30:00"),
         (2, "default", "anxiety", 4, 65.0, j(["exams"]), j({"23:00": 4}), "stable",
          "2025-10-30 23:10:00")],
    )  # fmt: skip
    exchanges = [
        {"user": "Salut ! Ça va ?", "assistant": "Très bien, et toi ? 😊",
         "timestamp": "2025-11-01T09:29:00.123456", "emotion": "joy"},
        {"user": "Je suis un peu fatigué", "assistant": "Repose-toi bien.",
         "timestamp": "2025-11-01T09:29:30", "emotion": "sadness"},
        {"user": "Merci", "assistant": "Avec plaisir !", "timestamp": "2025-11-01T09:30:00",
         "emotion": "neutral"},
    ]  # fmt: skip
    conn.executemany(
        f"INSERT INTO conversation_contexts VALUES ({','.join('?' * 9)})",
        [(1, "user_001", "user_001", j(exchanges), j(["fatigue", "café"]), "neutral",
          j(["joy", "sadness", "neutral"]), "2025-11-01 09:29:00", "2025-11-01 09:30:00"),
         (2, EDGESOUL_SESSION, EDGESOUL_SESSION, j([]), j([]), None, j([]),
          "2025-11-02 10:00:00", "2025-11-02 10:00:00")],
    )  # fmt: skip
    conn.commit()
    conn.close()


def _export(uid: str, n: int, user: str, ai: str, emotion: str, ms: int) -> dict[str, Any]:
    return {"userId": uid, "userMessage": user, "aiResponse": ai, "emotion": emotion,
            "timestamp": ms, "id": n}  # fmt: skip


def write_edgesoul(base: Path) -> Path:
    """backend/data/edgesoul.db (+ a backup that is not read) and exports/*.json."""
    root = base / "edgesoul"
    _edgesoul_db(root / "backend" / "data" / "edgesoul.db")
    _edgesoul_db(root / "backend" / "backups" / "edgesoul_backup_20251101.db", full=False)
    first = [
        _export("user_001", 1, "Bonjour 👋", "Bonjour Amélie !", "joy", 1761984000000),
        _export("user_001", 2, "Quel temps fait-il ?", "Je ne sais pas 🌦️", "neutral", 1761984060000),
        _export("user_001", 3, "Merci", "De rien", "joy", 1761984120500),
    ]  # fmt: skip
    _write(
        root / "exports" / "edgesoul-chats-user_001-2025-11-01.json",
        json.dumps(first, indent=2, ensure_ascii=False),
    )
    second = [
        first[1],
        first[2],
        _export("user_001", 4, "Encore moi", "Re-bonjour !", "surprise", 1762329600000),
        dict(_export("user_001", 5, "x", "y", "neutral", 0), timestamp="2025-11-05"),
        dict(_export("user_001", 6, "x", "y", "neutral", 1762329700000), id="6"),
    ]
    _write(
        root / "exports" / "edgesoul-chats-user_001-2025-11-05.json",
        json.dumps(second, indent=2, ensure_ascii=False),
    )
    _write(root / "exports" / "edgesoul-chats-broken.json", _truncate(json.dumps(first, indent=2)))
    _write(root / "exports" / "empty.json", "")
    return root


# ---------------------------------------------------------------------------- Workly

FRENCH_LINES = [
    "Salut Workly ! Tu peux m'aider avec mon planning ?",
    "Bien sûr ! Qu'est-ce qu'on organise aujourd'hui ? 😊",
    "J'ai une réunion à 14h avec Camille à Lyon.",
    "Noté : réunion avec Camille à 14h, à Lyon. 📅",
    "Et je dois finir le rapport trimestriel…",
    "Courage ! On découpe le rapport en étapes ?",
]


def _utc_iso(day: int, sec: int, micro: int) -> str:
    """datetime.utcnow().isoformat(): no fraction when the microsecond is 0."""
    base = f"2025-11-{day:02d}T{10 + sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
    return base if micro == 0 else f"{base}.{micro:06d}"


def _segment(n: int, count: int, summary: str) -> dict[str, Any]:
    msgs = [
        {"role": "user" if i % 2 == 0 else "assistant",
         "content": FRENCH_LINES[i % len(FRENCH_LINES)],
         "timestamp": _utc_iso(16 + n, i * 7, 0 if i % 5 == 0 else 123456 + i)}
        for i in range(count)
    ]  # fmt: skip
    return {
        "segment_id": f"segment_202511{16 + n:02d}_101500_{n:03d}",
        "messages": msgs,
        "summary": {
            "summary": summary,
            "message_count": count,
            "timestamp": _utc_iso(16 + n, 600, 1),
            "date_range": {"start": msgs[0]["timestamp"], "end": msgs[-1]["timestamp"]},
            "keypoints": ["réunion 14h", "rapport"] if summary else [],
        },
        "created_at": _utc_iso(16 + n, 601, 0),
        "message_count": count,
    }


def _history(n: int, cut: bool = False) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    if not cut:
        steps.append({"timestamp": _utc_iso(16, 0, 0), "score": 0.5, "reason": "Initialisation"})
    score = 0.5
    for i in range(n - len(steps)):
        new = round(min(1.0, score + 0.005), 6)
        steps.append({"timestamp": _utc_iso(17, i, 42), "old_score": score, "new_score": new,
                      "delta": round(new - score, 6), "reason": "Réaction positive 😊"})  # fmt: skip
        score = new
    return steps


WORKLY_EVOLUTION = {"kindness": 3, "humor": 1, "formality": 2, "enthusiasm": 1, "empathy": 1,
                    "creativity": 100}  # fmt: skip


def write_workly(base: Path) -> Path:
    """data/memory/{conversations,facts,embeddings,emotion_history,personality}.json."""
    root = base / "workly"
    mem = root / "data" / "memory"

    def dump(name: str, value: Any) -> None:
        _write(mem / name, json.dumps(value, indent=2, ensure_ascii=False))

    segments = [
        _segment(0, 20, "Planning : réunion avec Camille à Lyon à 14h."),
        _segment(1, 20, "Rapport trimestriel découpé en étapes ✅"),
        _segment(2, 5, ""),
    ]
    dump("conversations.json", {"segments": segments})
    dump("facts.json", {
        "entities": [
            {"entity_type": "person", "value": "Camille", "context": "réunion avec Camille",
             "confidence": 0.9, "first_seen": _utc_iso(16, 10, 5), "occurrences": 3,
             "last_seen": _utc_iso(17, 10, 5), "extracted_at": _utc_iso(16, 10, 6)},
            {"entity_type": "location", "value": "Lyon", "context": "à Lyon", "confidence": 0.8,
             "first_seen": _utc_iso(16, 10, 0), "occurrences": 1, "extracted_at": _utc_iso(16, 10, 0)},
            {"entity_type": "date", "value": "14h", "context": "à 14h", "confidence": 0.7,
             "first_seen": _utc_iso(16, 11, 0), "occurrences": 1, "extracted_at": _utc_iso(16, 11, 0)},
        ],
        "preferences": [
            {"category": "food", "subject": "crêpes", "sentiment": "positive", "intensity": 0.8,
             "context": "j'adore les crêpes", "timestamp": _utc_iso(16, 20, 0),
             "extracted_at": _utc_iso(16, 20, 0)},
            {"category": "food", "subject": "crêpes", "sentiment": "positive", "intensity": 0.8,
             "context": "j'adore les crêpes", "timestamp": _utc_iso(16, 20, 0),
             "extracted_at": _utc_iso(16, 20, 0)},
        ],
        "events": [
            {"event_type": "meeting", "description": "Réunion avec Camille", "participants": ["Camille"],
             "location": "Lyon", "time_reference": "14h", "status": "planned",
             "context": "J'ai une réunion à 14h", "timestamp": _utc_iso(16, 30, 0),
             "extracted_at": _utc_iso(16, 30, 0)},
        ],
        "relationships": [
            {"subject": "user", "relation_type": "collègue", "object": "Camille", "context": "",
             "confidence": 0.6, "timestamp": _utc_iso(16, 40, 0), "extracted_at": _utc_iso(16, 40, 0)},
        ],
    })  # fmt: skip
    embeddings = [
        {"text": segments[0]["summary"]["summary"][:200], "embedding": unit_vector(384, 1),
         "segment_id": segments[0]["segment_id"], "metadata": {"type": "segment_summary"},
         "created_at": _utc_iso(16, 602, 0)},
        {"text": segments[1]["summary"]["summary"][:200], "embedding": unit_vector(384, 2),
         "segment_id": segments[1]["segment_id"], "metadata": {"type": "segment_summary"},
         "created_at": _utc_iso(17, 602, 0)},
        {"text": "tronqué", "embedding": unit_vector(383, 3), "segment_id": "segment_x",
         "metadata": {"type": "segment_summary"}, "created_at": _utc_iso(18, 602, 0)},
        {"text": "Résumé d'un segment perdu", "embedding": unit_vector(384, 4),
         "segment_id": "segment_20251101_090000_000", "metadata": {"type": "segment_summary"},
         "created_at": _utc_iso(18, 603, 0)},
    ]  # fmt: skip
    dump("embeddings.json", {"embeddings": embeddings})
    entries = [
        {"emotion": "joy", "intensity": 85.0, "confidence": 90.0, "source": "user",
         "message_preview": "Salut Workly ! Tu peux m'aider avec mon planning ?",
         "timestamp": _utc_iso(16, 0, 0), "context": {}},
        {"emotion": "fun", "intensity": 40.5, "confidence": 70.0, "source": "assistant",
         "message_preview": "Bien sûr ! 😊", "timestamp": _utc_iso(16, 1, 1)},
        {"emotion": "neutral", "intensity": 0.0, "confidence": 0.0, "source": "user",
         "message_preview": "ok", "timestamp": _utc_iso(16, 2, 0), "context": {"user_id": "u1"}},
        {"emotion": "sorrow", "intensity": 60.0, "confidence": 55.0, "source": "user",
         "message_preview": ("Je suis épuisé " * 10)[:100] + "...", "timestamp": _utc_iso(16, 3, 0)},
        {"emotion": "surprised", "intensity": 100.0, "confidence": 99.0, "source": "user",
         "message_preview": "Quoi ?!", "timestamp": _utc_iso(16, 4, 0), "context": {}},
    ]  # fmt: skip
    dump("emotion_history.json",
         {"entries": entries, "last_modified": _utc_iso(16, 5, 0), "total_entries": 5})  # fmt: skip
    traits = {
        name: {"name": name, "score": 0.5 + 0.005 * (count - 1), "description": f"Trait {name}",
               "last_updated": _utc_iso(17, 0, 0), "evolution_history": _history(count, count == 100)}
        for name, count in WORKLY_EVOLUTION.items()
    }  # fmt: skip
    dump("personality.json", {"traits": traits, "last_modified": _utc_iso(17, 0, 0)})
    return root


# ---------------------------------------------------------------------------- DCM

DCM_DDL = """
CREATE TABLE tool_usage (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT,
  tool_name TEXT, tool_type TEXT, file_paths TEXT, exit_code INTEGER, duration_ms INTEGER,
  project_path TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE keyword_tool_scores (id INTEGER PRIMARY KEY AUTOINCREMENT, keyword TEXT,
  tool_name TEXT, tool_type TEXT, score REAL DEFAULT 1.0, usage_count INTEGER DEFAULT 0,
  success_count INTEGER DEFAULT 0, last_used DATETIME);
"""
DCM_S1 = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
DCM_S2 = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
DCM_S3 = "c3d4e5f6-a7b8-4c9d-0e1f-2a3b4c5d6e7f"


def write_dcm(base: Path) -> Path:
    """home/.claude/routing.db with tool_usage and keyword_tool_scores."""
    root = base / "dcm"
    path = root / "home" / ".claude" / "routing.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(DCM_DDL)
    rows = [
        (DCM_S1, "Read", "builtin", '["/home/u/proj-a/src/app.py"]', 0, 12, "/home/u/proj-a", "2025-12-01 10:00:00"),
        (DCM_S1, "Edit", "builtin", "src/a.py,src/b.py", "", 40, "/home/u/proj-a", "2025-12-01 10:00:05"),
        (DCM_S1, "", "builtin", None, "", 1, "/home/u/proj-a", "2025-12-01 10:00:06"),
        (DCM_S2, None, None, None, 0, 1, "/home/u/proj-b", "2025-12-01 10:00:07"),
        (DCM_S2, "mcp__github__create_issue", "mcp", "[]", 1, 900, "/home/u/proj-b", "2025-12-01 11:00:00"),
        ("", "Bash", "builtin", None, 0, 2500, "", "2025-12-01 11:05:00"),
        (DCM_S2, "WebFetch", "skill", None, "", 300, "/home/u/proj-b", "2025-12-01 11:06:00"),
        (DCM_S3, "frontend-specialist", "agent", "README.md", 0, 60000, "/home/u/proj-a", "2025-12-02 09:00:00"),
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO tool_usage (session_id, tool_name, tool_type, file_paths, exit_code,"
        " duration_ms, project_path, created_at) VALUES (?,?,?,?,?,?,?,?)",
        rows,
    )
    scores = [
        ("refactor", "Edit", "builtin", 1.2, 4, 3, "2025-11-01 10:00:00"),
        ("refactor", "Edit", "builtin", 1.3, 5, 4, None),
        ("test", "Bash", "builtin", 0.9, 2, 1, "2025-11-02T08:00:00Z"),
        ("", "Read", "builtin", 1.0, 1, 1, "2025-11-02 08:00:00"),
        ("debug", None, None, 1.0, 1, 1, "2025-11-02 08:00:00"),
        ("refactor", "Edit", "builtin", 1.4, 6, 5, "2025-11-03 09:00:00"),
        ("deploy", "mcp__vercel__deploy", "mcp", 2.5, 10, 9, "2025-11-03T12:00:00Z"),
        ("test", "Bash", "builtin", 1.1, 3, 2, None),
    ]
    conn.executemany(
        "INSERT INTO keyword_tool_scores (keyword, tool_name, tool_type, score, usage_count,"
        " success_count, last_used) VALUES (?,?,?,?,?,?,?)",
        scores,
    )
    conn.commit()
    conn.close()
    return root


# ---------------------------------------------------------------------------- ChatGPT


class _Tree:
    """Builds a ChatGPT `mapping` node by node."""

    def __init__(self, root_id: str) -> None:
        self.mapping: dict[str, Any] = {
            root_id: {"id": root_id, "message": None, "parent": None, "children": []}
        }

    def add(self, node_id: str, parent: str, role: str, content: dict[str, Any],
            t: float | None, **extra: Any) -> str:  # fmt: skip
        msg = {
            "id": node_id, "author": {"role": role, "name": extra.pop("name", None), "metadata": {}},
            "create_time": t, "update_time": None, "content": content,
            "status": "finished_successfully", "end_turn": True if role == "assistant" else None,
            "weight": extra.pop("weight", 1.0), "metadata": extra.pop("metadata", {}),
            "recipient": extra.pop("recipient", "all"),
        }  # fmt: skip
        self.mapping[node_id] = {"id": node_id, "message": msg, "parent": parent, "children": []}
        self.mapping[parent]["children"].append(node_id)
        return node_id


def _text(*parts: str) -> dict[str, Any]:
    return {"content_type": "text", "parts": list(parts)}


def _conversation(cid: str, title: str | None, create: float, update: float,
                  tree: _Tree, current: str | None, **extra: Any) -> dict[str, Any]:  # fmt: skip
    conv = {"title": title, "create_time": create, "update_time": update, "mapping": tree.mapping,
            "moderation_results": [], "current_node": current, "plugin_ids": None,
            "conversation_id": cid, "id": cid}  # fmt: skip
    conv.update(extra)
    return conv


C1 = "6f1e2d3c-4b5a-4968-8776-655443322110"
C2 = "69c5b502-7148-8329-a1b2-c3d4e5f60718"
C3 = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
C4 = "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e"


def _c1(final: bool) -> dict[str, Any]:
    t = _Tree("aaaaaaaa-0000-4000-8000-000000000000")
    sys = t.add("c1-sys", "aaaaaaaa-0000-4000-8000-000000000000", "system", _text(""), None)
    u1 = t.add("c1-u1", sys, "user", _text("Explique-moi SQLite en deux phrases."), 1700000000.123)
    a1 = t.add("c1-a1", u1, "assistant", _text("SQLite est une base embarquée.", "Elle tient dans un fichier."),
               1700000005.654321, metadata={"model_slug": "gpt-4"})  # fmt: skip
    current = a1
    if final:
        u2 = t.add("c1-u2", a1, "user", _text("Et WAL ?"), 1700000100.5)
        current = t.add("c1-a2", u2, "assistant", _text("Le WAL permet des lectures concurrentes."),
                        1700000101.000001)  # fmt: skip
    return _conversation(
        C1, "SQLite", 1700000000.0, 2000000000.0 if final else 1000000000.0, t, current
    )


def _c2() -> dict[str, Any]:
    t = _Tree("client-created-root")
    hidden = {"is_visually_hidden_from_conversation": True}
    sys = t.add(
        "c2-sys", "client-created-root", "system", _text(""), None, weight=0.0, metadata=hidden
    )
    ctx = t.add("c2-ctx", sys, "user",
                {"content_type": "user_editable_context", "user_profile": "Je suis développeuse.",
                 "user_instructions": "Réponds en français."},
                None, metadata={"is_user_system_message": True})  # fmt: skip
    u1 = t.add("c2-u1", ctx, "user", _text("Peux-tu m'expliquer les crêpes ? 🥞"), 1735689600.123)
    t.add("c2-a1", u1, "assistant", _text("Première réponse \ue203cite\ue204"), 1735689601.5)
    a2 = t.add("c2-a2", u1, "assistant", _text("Réponse régénérée."), 1735689605.25)
    image = {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_00000000abc",
             "size_bytes": 123456, "width": 800, "height": 600, "fovea": None, "metadata": {}}  # fmt: skip
    u2 = t.add("c2-u2", a2, "user", {"content_type": "multimodal_text", "parts": ["Voici une photo", image]},
               1735689700.001)  # fmt: skip
    a3 = t.add("c2-a3", u2, "assistant", _text("Belle photo !"), 1735689702.999999)
    return _conversation(C2, None, 1735689600.0, 1735689702.999999, t, a3, is_archived=False,
                         default_model_slug="gpt-4o")  # fmt: skip


def _c3() -> dict[str, Any]:
    t = _Tree("client-created-root")
    hidden = {"is_visually_hidden_from_conversation": True}
    sys = t.add(
        "c3-sys", "client-created-root", "system", _text(""), None, weight=0.0, metadata=hidden
    )
    return _conversation(C3, "Nouvelle conversation", 1740000000.0, 1740000000.0, t, sys)


def _c4() -> dict[str, Any]:
    t = _Tree("client-created-root")
    u1 = t.add("c4-u1", "client-created-root", "user", _text("Calcule 2**100"), 1745000000.0)
    a1 = t.add("c4-a1", u1, "assistant", {"content_type": "code", "language": "python", "text": "print(2**100)"},
               1745000001.0, recipient="python")  # fmt: skip
    t1 = t.add("c4-t1", a1, "tool", {"content_type": "execution_output", "text": "1267650600228229401496703205376"},
               1745000002.0, name="python")  # fmt: skip
    a2 = t.add(
        "c4-a2", t1, "assistant", _text("2**100 = 1267650600228229401496703205376"), 1745000003.0
    )
    return _conversation(C4, "Calcul", 1745000000.0, 1745000003.0, t, a2, is_archived=True)


def write_chatgpt(base: Path) -> Path:
    """Three unzipped exports; one is truncated, one uses {"conversations": [...]}."""
    root = base / "chatgpt"
    jan = [_c1(False), _c2()]
    _write(root / "export-2025-01" / "conversations.json", json.dumps(jan, separators=(",", ":")))
    _write(root / "export-2025-03" / "conversations.json", _truncate(json.dumps(jan)))
    jun = {"conversations": [_c1(True), _c3(), {"id": "no-mapping", "title": "broken"}, _c4()]}
    _write(root / "export-2025-06" / "conversations.json", json.dumps(jun, ensure_ascii=False))
    _write(root / "export-2025-06" / "user.json", json.dumps({"id": "user-abc"}))
    return root


# ---------------------------------------------------------------------------- LangChain


def _lc(kind: str, content: Any, generation: str = "1.x", **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "content": content,
        "additional_kwargs": data.pop("additional_kwargs", {}),
    }
    if generation == "0.0":
        if kind in ("human", "ai"):
            body["example"] = False
    elif generation == "0.1":
        body["type"] = kind
        if kind in ("human", "ai"):
            body["example"] = False
    else:
        body.update(response_metadata={}, type=kind, name=None, id=None)
    body.update(data)
    return {"type": kind, "data": body}


def write_langchain(base: Path) -> Path:
    """One JSON array per history, in every library generation's shape and encoding."""
    root = base / "langchain"
    old = [_lc("human", "Bonjour, je m'appelle Zoé", "0.0"), _lc("ai", "Enchanté Zoé ! 🙂", "0.0"),
           _lc("human", "Quel est mon prénom ?", "0.0"), _lc("ai", "Zoé.", "0.0")]  # fmt: skip
    _write(root / "chat_history.json", json.dumps(old))
    new = [
        _lc("human", "What's the weather in Paris?"),
        _lc("ai", "", tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "call_1",
                                   "type": "tool_call"}], invalid_tool_calls=[],
            usage_metadata={"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}),
        _lc("tool", "18°C, ensoleillé ☀️", tool_call_id="call_1", artifact=None, status="success"),
        _lc("ai", [{"type": "text", "text": "It's 18°C and sunny."}, {"type": "text", "text": "Enjoy!"}]),
        _lc("system", "You are a helpful assistant."),
    ]  # fmt: skip
    _write(root / "sessions" / "abc123.json", json.dumps(new, ensure_ascii=False))
    fn = [
        _lc("human", "Add 2 and 3", "0.1"),
        _lc("ai", "", "0.1", additional_kwargs={"function_call": {"name": "add", "arguments": '{"a":2,"b":3}'}}),
        _lc("function", "5", "0.1", name="add"),
        _lc("chat", "Looks right to me.", "0.1", role="critic"),
    ]  # fmt: skip
    _write(root / "sessions" / "old_fn.json", json.dumps(fn))
    _write(root / "sessions" / "cleared.json", "[]")
    _write(root / "sessions" / "crashed.json", "")
    windows = [
        _lc("human", "Un café – s'il vous plaît"),
        _lc("ai", "Voilà votre café, naïve question…"),
    ]
    _write(
        root / "sessions" / "windows.json", json.dumps(windows, ensure_ascii=False).encode("cp1252")
    )
    bad = [
        {"type": "assistant", "data": {"content": "wrong type"}},
        {"type": "human"},
        _lc("human", "ok"),
        {"type": "AIMessageChunk", "data": {"content": "chunk", "type": "AIMessageChunk"}},
    ]
    _write(root / "sessions" / "bad_types.json", json.dumps(bad))
    _write(root / "sessions" / "truncated.json", _truncate(json.dumps(old)))
    return root


WRITERS = {
    "ait42": write_ait42,
    "lilith": write_lilith,
    "edgesoul": write_edgesoul,
    "workly": write_workly,
    "dcm": write_dcm,
    "chatgpt": write_chatgpt,
    "langchain": write_langchain,
}


def write_all(base: Path) -> Path:
    """Every format's folder under `base`."""
    for write in WRITERS.values():
        write(base)
    return base
