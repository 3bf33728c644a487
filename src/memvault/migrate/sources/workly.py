"""Workly's JSON-era memory files (LEGACY_FORMATS.md §4; contract §8).

Files in `data/memory/`: conversations.json (segments → a SessionRec each, with their
messages and a `summary` MemoryRec), facts.json (fact/preference/event/relation
MemoryRecs), embeddings.json (EmbeddingRecs on the summaries), emotion_history.json
(EmotionRecs, intensity 0–100 → 0–1) and personality.json (TraitRecs + TraitChangeRecs).
Everything belongs to `ScanOptions.default_user`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from memvault.migrate.sources._base import (
    Scan,
    ScanContext,
    ScanOptions,
    as_number,
    as_str,
    child,
    clean_json,
    content_hash,
    dump,
    key,
    unit,
)
from memvault.migrate.sources._json import Item, JsonStream, iter_top_object
from memvault.migrate.sources._time import parse_iso
from memvault.migrate.sources.records import (
    EmbeddingRec,
    EmotionRec,
    MemoryRec,
    MessageRec,
    Record,
    SessionRec,
    TraitChangeRec,
    TraitRec,
)

FORMAT = "workly"
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
MEMORY_DIR = Path("data") / "memory"
FACT_SECTIONS = {
    "entities": ("fact", "facts_entities"),
    "preferences": ("preference", "facts_preferences"),
    "events": ("event", "facts_events"),
    "relationships": ("relation", "facts_relationships"),
}
# The text fields a fact cannot be stored without (its memory's content).
FACT_TEXT: dict[str, tuple[str, ...]] = {
    "entities": ("entity_type", "value"),
    "preferences": ("subject",),
    "events": ("description",),
    "relationships": ("subject", "object"),
}
# What Workly de-duplicates a section on (LEGACY_FORMATS.md: entities on entity_type and
# lower-cased value); the other sections' records never change once written.
FACT_IDENTITY: dict[str, tuple[str, ...]] = {
    "entities": ("entity_type", "value"),
    "relationships": ("subject", "relation_type", "object"),
}
ROLES = frozenset({"user", "assistant", "system", "tool", "function"})


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan a `workly/` folder (the app's working directory, holding `data/memory/`)."""
    return Scan(FORMAT, root, _produce, options)


class _State:
    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.owner = ctx.options.default_user
        self.summaries: dict[str, str] = {}  # segment_id → summary memory key
        self.hashes: dict[str, int] = {}

    def unique(self, *parts: object, value: Any) -> str:
        """A content-hash key, suffixed `#n` when the same content repeats."""
        base = key(FORMAT, *parts, content_hash(value))
        n = self.hashes.get(base, 0) + 1
        self.hashes[base] = n
        return base if n == 1 else f"{base}#{n}"


FILES = ("conversations.json", "facts.json", "embeddings.json", "emotion_history.json",
         "personality.json")  # fmt: skip
LAYOUTS = (
    "Workly's app folder (holding data/memory/)",
    f"the data/memory/ folder itself ({', '.join(FILES)})",
    "one of those files",
)


def memory_dir(root: Path) -> Path:
    """Where the memory files are: `data/memory/` of an app folder, or `root` itself."""
    if (root / MEMORY_DIR).is_dir():
        return root / MEMORY_DIR
    if any((root / name).is_file() for name in FILES):
        return root
    return root / MEMORY_DIR


def _produce(ctx: ScanContext) -> Iterator[Record]:
    state = _State(ctx)
    yield from ctx.user(state.owner)
    folder = memory_dir(ctx.root)
    steps = (
        ("conversations.json", frozenset({"segments"}), _conversations),
        ("facts.json", frozenset(FACT_SECTIONS), _facts),
        ("embeddings.json", frozenset({"embeddings"}), _embeddings),
        ("emotion_history.json", frozenset({"entries"}), _emotions),
    )
    for name, streamed, handle in steps:
        path = folder / name
        if not path.is_file() or (ctx.only is not None and path != ctx.only):
            continue
        members, bad = ctx.read_json(path, partial(_walk_object, streamed=streamed))
        if bad is not None:
            yield bad
            continue
        assert members is not None
        rel = ctx.rel(path)
        for section, item in members:
            if section in streamed and item.index >= 0:
                yield from handle(state, rel, section, item)
    path = folder / "personality.json"
    if path.is_file() and (ctx.only is None or path == ctx.only):
        traits, broken = ctx.read_json(path, _walk_traits)
        if broken is not None:
            yield broken
        else:
            assert traits is not None
            for name, item in traits:
                yield from _trait(state, ctx.rel(path), name, item)


def _walk_object(js: JsonStream, streamed: frozenset[str]) -> Iterator[tuple[str, Item]]:
    return iter_top_object(js, streamed)


def _walk_traits(js: JsonStream) -> Iterator[tuple[str, Item]]:
    if js.at_end():
        return
    if js.peek() != "{":
        raise js.corrupt("expected a JSON object at the top level")
    for name in js.iter_object():
        if name == "traits" and js.peek() == "{":
            for index, trait in enumerate(js.iter_object()):
                yield trait, js.value(index)
        else:
            js.value(-1)
    js.finish()


def _bad(state: _State, rel: str, item: Item, reason: str, field: str) -> Record:
    return state.ctx.quarantine(
        rel, reason, item.text, index=item.index, line=item.line, field=field
    )


def _conversations(state: _State, rel: str, section: str, item: Item) -> Iterator[Record]:
    ctx = state.ctx
    seg = item.value
    if not isinstance(seg, dict):
        yield _bad(state, rel, item, "segment is not an object", f"segments[{item.index}]")
        return
    seg = clean_json(seg, item.text)
    ctx.report.add("entities", "segments")
    seg_id = as_str(seg.get("segment_id")) or f"#{item.index}"
    session_key = key(FORMAT, "segment", seg_id)
    summary: dict[str, Any] = seg["summary"] if isinstance(seg.get("summary"), dict) else {}
    dates: dict[str, Any] = (
        summary["date_range"] if isinstance(summary.get("date_range"), dict) else {}
    )
    messages = seg.get("messages") if isinstance(seg.get("messages"), list) else []
    yield SessionRec(
        source_key=session_key,
        user_handle=state.owner,
        kind="chat",
        title=None,
        status="completed",
        created_at=parse_iso(dates.get("start")) or parse_iso(seg.get("created_at")),
        updated_at=parse_iso(seg.get("created_at")),
        ended_at=parse_iso(dates.get("end")),
        metadata={"segment_id": seg_id, "message_count": seg.get("message_count"), "file": rel},
    )
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            yield ctx.quarantine(
                rel, "message is not an object", dump(msg), index=item.index, line=item.line,
                field=f"segments[{item.index}].messages[{i}]",
            )  # fmt: skip
            continue
        ctx.report.add("entities", "segment_messages")
        seq = i + 1  # its place in the segment: a quarantined message shifts no other
        role = as_str(msg.get("role")) or "user"
        content = msg.get("content")
        meta: dict[str, Any] = {}
        if role not in ROLES:
            meta["role_raw"] = role
            role = "user"
        yield MessageRec(
            source_key=child(session_key, "message", i),
            session_source_key=session_key,
            user_handle=state.owner,
            seq=seq,
            role=role,
            content=content if isinstance(content, str) else json.dumps(content),
            created_at=parse_iso(msg.get("timestamp")),
            metadata=meta,
        )
    text = as_str(summary.get("summary"))
    if text:
        memory_key = key(FORMAT, "summary", seg_id)
        state.summaries[seg_id] = memory_key
        extra = {k: v for k, v in summary.items() if k not in ("summary", "timestamp")}
        yield MemoryRec(
            source_key=memory_key,
            owner_handle=state.owner,
            kind="summary",
            content=text,
            session_source_key=session_key,
            created_at=parse_iso(summary.get("timestamp")) or parse_iso(seg.get("created_at")),
            metadata={"segment_id": seg_id, **extra},
        )


def _fact_content(section: str, fact: dict[str, Any]) -> str:
    def s(name: str) -> str:
        value = fact.get(name)
        return value if isinstance(value, str) else "" if value is None else str(value)

    if section == "entities":
        text = s("value")
    elif section == "preferences":
        text = f"{s('category')}: {s('subject')} ({s('sentiment')})".strip()
    elif section == "events":
        text = s("description")
    else:
        text = " ".join(p for p in (s("subject"), s("relation_type"), s("object")) if p)
    return text or json.dumps(fact, ensure_ascii=False, sort_keys=True)


def _facts(state: _State, rel: str, section: str, item: Item) -> Iterator[Record]:
    fact = item.value
    if not isinstance(fact, dict):
        yield _bad(state, rel, item, "fact is not an object", f"{section}[{item.index}]")
        return
    fact = clean_json(fact, item.text)
    kind, counter = FACT_SECTIONS[section]
    where = f"{section}[{item.index}]"
    for name in FACT_TEXT[section]:
        if not isinstance(fact.get(name), str) or not fact[name].strip():
            shown = "missing" if name not in fact else f"not a text: {fact[name]!r}"
            yield _bad(state, rel, item, f"{name} {shown}", f"{where}.{name}")
            return
    score_field = "intensity" if section == "preferences" else "confidence"
    score = as_number(fact.get(score_field))
    if fact.get(score_field) is not None and score is None:
        reason = f"{score_field} is not a number: {fact[score_field]!r}"
        yield _bad(state, rel, item, reason, f"{where}.{score_field}")
        return
    state.ctx.report.add("entities", counter)
    when = fact.get("first_seen") if section == "entities" else fact.get("timestamp")
    meta = {k: v for k, v in fact.items() if k != "context"}
    meta["section"] = section
    # The key is what Workly itself tells facts apart by, so a fact it updated (an entity
    # seen again: occurrences, last_seen, confidence) is the same record on a re-import.
    identity = FACT_IDENTITY.get(section)
    ident: Any = fact if identity is None else [_fold(fact.get(k)) for k in identity]
    yield MemoryRec(
        source_key=state.unique("fact", section, value=ident),
        owner_handle=state.owner,
        kind=kind,
        content=_fact_content(section, fact),
        context=as_str(fact.get("context")),
        confidence=1.0 if score is None else unit(score, scale100=True),
        created_at=parse_iso(when) or parse_iso(fact.get("extracted_at")),
        updated_at=parse_iso(fact.get("last_seen")),
        metadata=meta,
    )


def _embeddings(state: _State, rel: str, section: str, item: Item) -> Iterator[Record]:
    ctx = state.ctx
    entry = item.value if isinstance(item.value, dict) else {}
    raw = entry.get("embedding")
    vector = [as_number(v) for v in raw] if isinstance(raw, list) else []
    if len(vector) != EMBEDDING_DIM or any(v is None for v in vector):
        ctx.report.add("bad_records", "embeddings_wrong_dimension")
        found = len(raw) if isinstance(raw, list) else type(raw).__name__
        yield _bad(state, rel, item, f"expected {EMBEDDING_DIM} floats, found {found}", "embedding")
        return
    entry = clean_json(entry, item.text)
    seg_id = as_str(entry.get("segment_id"))
    when = parse_iso(entry.get("created_at"))
    target = state.summaries.get(seg_id or "")
    if target is None:  # no summary memory for it: keep the embedded text as one
        text = as_str(entry.get("text")) or f"(summary of segment {seg_id or '?'})"
        target = state.unique("embedded-text", value=[seg_id, text])
        yield MemoryRec(
            source_key=target,
            owner_handle=state.owner,
            kind="summary",
            content=text,
            created_at=when,
            metadata={"segment_id": seg_id, "from": "embeddings.json"},
        )
    ctx.report.add("entities", "embeddings")
    meta = entry.get("metadata")
    yield EmbeddingRec(
        source_key=child(target, "embedding", EMBEDDING_MODEL),
        target_source_key=target,
        target_kind="memory",
        model=EMBEDDING_MODEL,
        dim=EMBEDDING_DIM,
        vector=tuple(float(v) for v in vector if v is not None),
        created_at=when,
        metadata={"segment_id": seg_id, **(meta if isinstance(meta, dict) else {})},
    )


def _emotions(state: _State, rel: str, section: str, item: Item) -> Iterator[Record]:
    ctx = state.ctx
    entry = item.value
    if not isinstance(entry, dict):
        yield _bad(state, rel, item, "emotion entry is not an object", f"entries[{item.index}]")
        return
    entry = clean_json(entry, item.text)
    ctx.report.add("entities", "emotions")
    context = entry.get("context")
    if "context" not in entry:
        ctx.report.add("warnings", "emotions_missing_context")
    intensity = as_number(entry.get("intensity")) or 0.0
    confidence = as_number(entry.get("confidence"))
    meta = {k: v for k, v in entry.items() if k in ("intensity", "confidence")}
    yield EmotionRec(
        source_key=state.unique("emotion", value=entry),
        owner_handle=state.owner,
        emotion=as_str(entry.get("emotion")) or "unknown",
        intensity=unit(intensity / 100.0),
        confidence=None if confidence is None else unit(confidence / 100.0),
        trigger=as_str(entry.get("message_preview")),
        context=json.dumps(context, ensure_ascii=False) if context else None,
        source=as_str(entry.get("source")),
        created_at=parse_iso(entry.get("timestamp")),
        metadata={"scale": "0-100", "raw": meta},
    )


def _new_score(step: Any) -> float | None:
    if not isinstance(step, dict):
        return None
    return as_number(step.get("new_score", step.get("score")))


def _trait(state: _State, rel: str, name: str, item: Item) -> Iterator[Record]:
    ctx = state.ctx
    trait = item.value
    if not isinstance(trait, dict):
        yield _bad(state, rel, item, "trait is not an object", f"traits.{name}")
        return
    trait = clean_json(trait, item.text)
    ctx.report.add("entities", "personality_traits")
    trait_key = key(FORMAT, "trait", name)
    score = as_number(trait.get("score"))
    history = trait.get("evolution_history")
    yield TraitRec(
        source_key=trait_key,
        owner_handle=state.owner,
        agent="workly",
        name=name,
        value=unit(score if score is not None else 0.5),
        description=as_str(trait.get("description")),
        updated_at=parse_iso(trait.get("last_updated")),
        metadata={} if score is not None else {"score_missing": True},
    )
    for i, step in enumerate(history if isinstance(history, list) else []):
        new = (
            as_number(step.get("new_score", step.get("score"))) if isinstance(step, dict) else None
        )
        if not isinstance(step, dict) or new is None:
            yield ctx.quarantine(
                rel, "evolution entry without a score", dump(step), index=item.index,
                line=item.line, field=f"traits.{name}.evolution_history[{i}]",
            )  # fmt: skip
            continue
        ctx.report.add("entities", "personality_evolution")
        old = as_number(step.get("old_score"))
        yield TraitChangeRec(
            source_key=child(trait_key, "change", i),
            trait_source_key=trait_key,
            name=name,
            old_value=None if old is None else unit(old),
            new_value=unit(new),
            reason=as_str(step.get("reason")),
            created_at=parse_iso(step.get("timestamp")),
            metadata={"delta": step.get("delta")} if "delta" in step else {},
        )
