"""The schema's plain vocabulary: allowed values and table names, importable without
SQLAlchemy (store/schema.py declares the tables from them; the domain modules validate
with them)."""

from __future__ import annotations

SESSION_KINDS = ("chat", "task", "agent", "instance", "competition", "ensemble", "debate")
SESSION_STATUSES = (
    "active", "idle", "running", "paused", "completed", "failed", "archived", "timeout",
)  # fmt: skip
ROLES = ("user", "assistant", "system", "tool", "function")
MEMORY_KINDS = (
    "fact", "preference", "event", "relation", "pattern", "summary", "emotional",
    "conversation", "note",
)  # fmt: skip
MEMORY_OPS = ("create", "update", "delete")
TOOL_TYPES = ("builtin", "mcp", "command", "agent", "skill")
REQUEST_STATUSES = ("pending", "active", "completed", "failed", "cancelled")
TASK_STATUSES = ("pending", "running", "completed", "failed", "blocked", "cancelled")
IMPORT_STATUSES = ("running", "completed", "quarantined", "mismatch", "failed")
KEY_SCOPES = ("user", "admin")
DUALWRITE_STAGES = ("off", "dual-write", "shadow-reads", "primary", "complete")

# Engine-specific derived objects that revisions add outside the declarations: FTS5 tables
# and triggers (SQLite), generated `fts` tsvector columns and GIN indexes (PostgreSQL), the
# pgvector `vec` column where the extension exists. `memvault reindex` rebuilds them.
DERIVED_COLUMNS = frozenset({"fts", "vec"})
DERIVED_TABLE_PREFIXES = (
    "messages_fts", "memories_fts", "response_patterns_fts", "sessions_fts",
)  # fmt: skip

# Every declared table, parents before children (`schema.metadata.sorted_tables`, which
# tests/test_admin.py checks this against): the entities `stats()` counts.
ENTITY_TABLES = (
    "graph_checkpoint_blobs", "graph_checkpoint_writes",
    "import_runs", "retention_policies", "users", "vector_clock", "vector_tombstones",
    "api_keys", "dualwrite_rollouts", "emotion_rollups", "emotion_trigger_rollups",
    "graph_checkpoints", "import_checkpoints", "memory_history", "projects",
    "quarantine", "response_patterns", "routing_scores", "subscriptions", "traits",
    "agent_messages", "pattern_uses", "sessions", "trait_changes", "actions", "emotion_events",
    "message_reads", "messages", "requests", "memories", "task_lists", "embeddings",
    "subtasks",
)  # fmt: skip

# Tables holding rows of one user, in the order erase() deletes them (children first).
OWNED_TABLES = (
    "graph_checkpoint_writes", "graph_checkpoint_blobs", "graph_checkpoints",
    "api_keys", "subscriptions", "agent_messages", "subtasks", "task_lists", "requests",
    "dualwrite_rollouts", "routing_scores", "actions", "pattern_uses", "response_patterns",
    "trait_changes", "traits",
    "emotion_events", "embeddings", "memory_history", "memories", "messages", "sessions",
    "projects",
)  # fmt: skip
