"""What a transfer copies: every memvault table but the derived ones, with its columns' kinds
and its primary key (the keyset order and the checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memvault.migrate.transfer.errors import TransferError

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # id | time | json | blob | float | int | text


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    pk: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def pk_index(self) -> tuple[int, ...]:
        names = self.column_names
        return tuple(names.index(p) for p in self.pk)


def _kind(column: sa.Column[Any]) -> str:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    pg = column.type.dialect_impl(postgresql.dialect())  # type: ignore[no-untyped-call]
    name = type(pg).__name__.upper()
    if "UUID" in name:
        return "id"
    if "TIMESTAMP" in name:
        return "time"
    if "JSON" in name:
        return "json"
    if isinstance(column.type, sa.LargeBinary):
        return "blob"
    if isinstance(column.type, sa.Boolean):
        return "bool"
    if isinstance(column.type, sa.Float) or "DOUBLE" in name:
        return "float"
    if isinstance(column.type, sa.Integer):
        return "int"
    return "text"


# Derived data, rebuilt by the destination (triggers, generated columns), never copied.
# The emotion rollups are kept by triggers on `emotion_events` (revision 0005): copying them
# too would add every event twice on the destination.
DERIVED_TABLES = frozenset(
    {"vector_clock", "vector_tombstones", "emotion_rollups", "emotion_trigger_rollups"}
)
# `sessions.instance_count` is kept by triggers on the destination (revision 0007) as the
# child sessions arrive: copying it too would count every instance twice.
DERIVED_COLUMNS = {
    "embeddings": frozenset({"seq", "vec"}),
    "sessions": frozenset({"instance_count"}),
}
DERIVED_ANYWHERE = frozenset({"fts", "vec"})


def table_specs() -> list[TableSpec]:
    """Every memvault table, parents before children, with its columns' kinds (derived
    tables and columns left out; read from the SQLAlchemy declarations, imported here)."""
    from memvault.store.schema import metadata

    specs = []
    for table in metadata.sorted_tables:
        if table.name in DERIVED_TABLES:
            continue
        skip = DERIVED_COLUMNS.get(table.name, frozenset()) | DERIVED_ANYWHERE
        if not table.primary_key.columns:
            raise TransferError(f"table {table.name} has no primary key: it cannot be copied "
                                "resumably; declare one, or list it as derived")  # fmt: skip
        specs.append(
            TableSpec(
                table.name,
                tuple(ColumnSpec(c.name, _kind(c)) for c in table.columns if c.name not in skip),
                tuple(c.name for c in table.primary_key.columns),
            )
        )
    return specs
