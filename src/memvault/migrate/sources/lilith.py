"""Lilith response patterns, JSON era (LEGACY_FORMATS.md §2; contract §8).

Files: `response_patterns.json` (tenant `default`), `data/**/response_patterns.json`,
`data/base/patterns.json` (`base`), `data/servers/<g>/patterns.json` (`server:<g>`); a file
under `data/users/<id>/` belongs to `user:<id>`. `data/servers/<g>/settings.json` becomes
the server owner's profile. The base tenant maps to owner None (the base layer), `default`
to `ScanOptions.default_user`, `user:<id>` to handle `<id>`, `server:<g>` to `server:<g>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memvault.migrate.sources._base import (
    Scan,
    ScanContext,
    ScanOptions,
    as_int,
    as_number,
    as_str,
    child,
    clean_json,
    key,
    sorted_files,
    unit,
)
from memvault.migrate.sources._json import Item, iter_top_array, iter_top_object
from memvault.migrate.sources.records import EmbeddingRec, Record, ResponsePatternRec

FORMAT = "lilith"
DEFAULTS: dict[str, Any] = {
    "success_score": 0.5,
    "intent": "general",
    "usage_count": 0,
    "embedding_cache": None,
}
_KNOWN = frozenset({"fragment_id", "trigger_context", "response_text", *DEFAULTS})


LAYOUTS = (
    "Lilith's working folder: response_patterns.json and/or data/ (data/**/response_patterns.json,"
    " data/base/patterns.json, data/servers/<guild>/patterns.json and settings.json)",
    "one pattern file: response_patterns.json or patterns.json (tenant `default`)",
)


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan Lilith's working folder (holding `response_patterns.json` and/or `data/`), or
    one pattern file."""
    return Scan(FORMAT, root, _produce, options)


def tenant_of(rel: str) -> str:
    """The tenant a pattern file belongs to, from its path relative to the root."""
    parts = rel.split("/")
    if len(parts) >= 3 and parts[0] == "data":
        if parts[1] == "base":
            return "base"
        if parts[1] == "users" and len(parts) >= 4:
            return f"user:{parts[2]}"
        if parts[1] == "servers" and len(parts) >= 4:
            return f"server:{parts[2]}"
    return "default"


def _owner(ctx: ScanContext, tenant: str) -> str | None:
    if tenant == "base":
        return None
    if tenant == "default":
        return ctx.options.default_user
    if tenant.startswith("user:"):
        return tenant[5:]
    return tenant


def _pattern_files(root: Path) -> list[Path]:
    found = {p for p in sorted_files(root / "data", "**/response_patterns.json")}
    found.update(sorted_files(root / "data" / "base", "patterns.json"))
    found.update(sorted_files(root / "data" / "servers", "*/patterns.json"))
    ordered = sorted(found, key=lambda p: p.relative_to(root).as_posix())
    top = root / "response_patterns.json"
    return ([top] if top.is_file() else []) + ordered


def _produce(ctx: ScanContext) -> Iterator[Record]:
    settings: dict[str, dict[str, Any]] = {}
    servers = ctx.root / "data" / "servers"
    for path in [] if ctx.only is not None else sorted_files(servers, "*/settings.json"):
        members, broken = ctx.read_json(path, lambda js: iter_top_object(js, frozenset()))
        if broken is not None:
            yield broken
            continue
        assert members is not None
        values = {name: clean_json(item.value, item.text) for name, item in members}
        ctx.report.add("entities", "server_settings")
        settings[path.parent.name] = values

    tenants: set[str] = set()
    for path in ctx.candidates(_pattern_files(ctx.root)):
        rel = ctx.rel(path)
        tenant = tenant_of(rel)
        last: dict[str, int] = {}

        def observe(item: Item, last: dict[str, int] = last) -> None:
            if _problem(item.value) is None:
                last[item.value["fragment_id"]] = item.index

        items, bad = ctx.read_json(path, iter_top_array, observe=observe)
        if bad is not None:
            yield bad
            continue
        assert items is not None
        if tenant not in tenants:
            tenants.add(tenant)
            ctx.report.add("entities", "tenants")
        owner = _owner(ctx, tenant)
        if owner is not None:
            server = settings.pop(tenant[7:], None) if tenant.startswith("server:") else None
            yield from ctx.user(owner, **_server_profile(server))
        for item in items:
            yield from _pattern(ctx, rel, tenant, owner, item, last)
    for guild, values in settings.items():  # settings without a pattern file
        yield from ctx.user(f"server:{guild}", **_server_profile(values))


def _server_profile(values: dict[str, Any] | None) -> dict[str, Any]:
    if values is None:
        return {}
    name = values.get("guild_name")
    return {
        "display_name": name if isinstance(name, str) else None,
        "profile": {"discord_settings": values},
        "metadata": {"kind": "discord_server"},
    }


def _problem(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        return "", "pattern is not an object"
    if not isinstance(value.get("fragment_id"), str) or not value["fragment_id"]:
        return "fragment_id", "fragment_id must be a non-empty string"
    for name in ("trigger_context", "response_text"):
        if not isinstance(value.get(name), str):
            return name, f"{name} must be a string"
    return None


def _vector(value: Any) -> tuple[float, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    numbers = tuple(as_number(v) for v in value)
    if any(n is None for n in numbers):
        return None
    return tuple(float(n) for n in numbers if n is not None)


def _pattern(
    ctx: ScanContext,
    rel: str,
    tenant: str,
    owner: str | None,
    item: Item,
    last: dict[str, int],
) -> Iterator[Record]:
    problem = _problem(item.value)
    if problem is not None:
        ctx.report.add("bad_records", "patterns_invalid")
        yield ctx.quarantine(
            rel, problem[1], item.text, index=item.index, line=item.line, field=problem[0]
        )
        return
    value: dict[str, Any] = clean_json(item.value, item.text)
    fid: str = value["fragment_id"]
    if last.get(fid, item.index) != item.index:
        ctx.report.add("duplicates", "patterns_dropped_same_id")
        return
    defaulted: list[str] = []
    score = as_number(value.get("success_score"))
    if score is None:
        score = 0.5
        defaulted.append("success_score")
    intent = as_str(value.get("intent"))
    if not intent:
        intent = "general"
        defaulted.append("intent")
    usage = as_int(value.get("usage_count"))
    if usage is None:
        usage = 0
        defaulted.append("usage_count")
    vector = _vector(value.get("embedding_cache"))
    if "embedding_cache" not in value or (vector is None and value["embedding_cache"] is not None):
        defaulted.append("embedding_cache")
    if defaulted:
        ctx.report.add("warnings", "patterns_defaults_applied")
    ctx.report.add("entities", "patterns")
    meta: dict[str, Any] = {k: v for k, v in value.items() if k not in _KNOWN}
    meta.update(fragment_id=fid, tenant=tenant, file=rel)
    if defaulted:
        meta["defaults_applied"] = defaulted
    if not 0.0 <= float(score) <= 1.0:
        meta["success_score_raw"] = score
    pattern_key = key(FORMAT, rel, fid)
    yield ResponsePatternRec(
        source_key=pattern_key,
        owner_handle=owner,
        intent=intent,
        trigger_context=value["trigger_context"],
        response_text=value["response_text"],
        success_score=unit(float(score)),
        usage_count=max(0, int(usage)),
        metadata=meta,
    )
    if vector is not None:
        ctx.report.add("entities", "patterns_with_embedding")
        yield EmbeddingRec(
            source_key=child(pattern_key, "embedding"),
            target_source_key=pattern_key,
            target_kind="response_pattern",
            model="lilith:embedding_cache",
            dim=len(vector),
            vector=vector,
        )
