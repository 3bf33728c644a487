"""The per-format import report block (LEGACY_FORMATS.md section 9), with its exact keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Group = Literal["entities", "bad_records", "duplicates", "warnings"]


@dataclass(frozen=True, slots=True)
class ReportKeys:
    """The keys each group of a format's report holds (all present, zero or not)."""

    entities: tuple[str, ...]
    bad_records: tuple[str, ...]
    duplicates: tuple[str, ...]
    warnings: tuple[str, ...]


REPORT_KEYS: dict[str, ReportKeys] = {
    "ait42": ReportKeys(
        ("sessions", "instances", "chat_messages", "workspaces"),
        ("session_files_corrupt", "sessions_invalid", "chat_messages_invalid"),
        ("sessions_dropped", "message_ids_rekeyed"),
        ("workspace_hashes_unmapped", "sessions_without_workspace",
         "instances_status_outside_sqlite_check", "chat_messages_over_10000_chars"),
    ),
    "lilith": ReportKeys(
        ("patterns", "patterns_with_embedding", "tenants", "server_settings"),
        ("patterns_invalid",),
        ("patterns_dropped_same_id",),
        ("patterns_defaults_applied",),
    ),
    "edgesoul": ReportKeys(
        ("user_profiles", "memories", "emotional_patterns", "conversation_contexts",
         "context_messages", "chat_export_records"),
        ("chat_export_records_invalid",),
        ("chat_export_records_dropped",),
        ("conversation_contexts_empty",),
    ),
    "workly": ReportKeys(
        ("segments", "segment_messages", "embeddings", "facts_entities", "facts_preferences",
         "facts_events", "facts_relationships", "emotions", "personality_traits",
         "personality_evolution"),
        ("embeddings_wrong_dimension",),
        (),
        ("emotions_missing_context",),
    ),
    "dcm": ReportKeys(
        ("tool_usage", "keyword_tool_scores", "sessions", "projects"),
        ("tool_usage_invalid", "keyword_scores_invalid"),
        ("keyword_scores_merged",),
        ("tool_usage_exit_code_empty", "tool_usage_file_paths_comma_separated",
         "keyword_scores_last_used_null", "keyword_scores_last_used_iso"),
    ),
    "chatgpt": ReportKeys(
        ("conversations", "messages_all_nodes", "messages_active_path",
         "messages_active_visible", "branch_points", "image_parts",
         "empty_hidden_nodes_not_stored"),
        ("conversations_invalid",),
        ("conversations_superseded",),
        ("conversations_without_visible_messages",),
    ),
    "langchain": ReportKeys(
        ("histories", "messages", "messages_human", "messages_ai", "messages_system",
         "messages_chat", "messages_function", "messages_tool"),
        ("messages_invalid",),
        (),
        ("files_not_utf8", "files_zero_bytes"),
    ),
    # Not in section 9: the user-described mapping (see generic.py).
    "generic": ReportKeys(
        ("records", "sessions", "messages", "memories"),
        ("records_invalid",),
        ("records_duplicate_id",),
        ("timestamps_missing", "files_zero_bytes"),
    ),
}  # fmt: skip


@dataclass(slots=True)
class FormatReport:
    """Counts for one source format; filled while its records are iterated."""

    format: str
    entities: dict[str, int] = field(default_factory=dict)
    bad_records: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    corrupt_files: list[str] = field(default_factory=list)

    @classmethod
    def for_format(cls, fmt: str) -> FormatReport:
        """An all-zero report holding exactly `fmt`'s keys."""
        keys = REPORT_KEYS[fmt]
        return cls(
            format=fmt,
            entities=dict.fromkeys(keys.entities, 0),
            bad_records=dict.fromkeys(keys.bad_records, 0),
            duplicates=dict.fromkeys(keys.duplicates, 0),
            warnings=dict.fromkeys(keys.warnings, 0),
        )

    def add(self, group: Group, key: str, n: int = 1) -> None:
        """Add `n` to a counter; an unknown key is a programming error (KeyError)."""
        counters: dict[str, int] = getattr(self, group)
        if key not in counters:
            raise KeyError(f"{self.format} report has no {group}.{key}")
        counters[key] += n

    @property
    def bad_records_total(self) -> int:
        """The sum of the bad_records counters."""
        return sum(self.bad_records.values())

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready block of section 9."""
        return {
            "entities": dict(self.entities),
            "bad_records": dict(self.bad_records),
            "bad_records_total": self.bad_records_total,
            "duplicates": dict(self.duplicates),
            "warnings": dict(self.warnings),
            "corrupt_files": list(self.corrupt_files),
        }
