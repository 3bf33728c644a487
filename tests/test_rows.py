"""Rows into records (`memvault.store.rows`): one plan per record type and engine, the same
records on every engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

import memvault
from memvault import records
from memvault.store import rows
from memvault.store.rows import columns, row_decoder


@dataclass(frozen=True, slots=True)
class Sample:
    id: str
    owner_id: str | None
    at: datetime
    maybe_at: datetime | None
    data: dict[str, Any]
    items: list[Any]
    maybe_data: dict[str, Any] | None
    payload: Any
    count: int
    ratio: float
    maybe_ratio: float | None
    flag: bool
    label: str | None


def test_columns_are_the_fields_less_those_named() -> None:
    assert columns(records.Project) == (
        "id", "user_id", "name", "path", "metadata", "created_at",
    )  # fmt: skip
    assert "edited_at" not in columns(records.Message, without=("edited_at",))
    with pytest.raises(TypeError, match="no field nope"):
        columns(records.Message, without=("nope",))


def test_an_unsupported_annotation_names_its_field(vault: memvault.Vault) -> None:
    @dataclass
    class Odd:
        when: complex

    with vault.store.read() as tx, pytest.raises(TypeError, match=r"Odd\.when"):
        row_decoder(Odd)(tx, {"when": 1})


def test_every_record_of_a_row_compiles_on_every_engine(vault: memvault.Vault) -> None:
    """Each stored record type has a plan: no annotation the decoder cannot read."""
    stored = [
        records.User, records.Project, records.Session, records.Message, records.Memory,
        records.MemoryChange, records.EmotionEvent, records.Trait, records.TraitChange,
        records.TrajectoryPoint, records.ResponsePattern, records.PatternUse, records.Action,
        records.RoutingScore, records.Request, records.TaskList, records.Subtask,
        records.AgentMessage, records.AgentSubscription, records.RetentionPolicy,
        records.Pattern,
    ]  # fmt: skip
    with vault.store.read() as tx:
        for record in stored:
            assert callable(rows.compile_plan(record, type(tx)))


def test_values_decode_alike_on_every_engine(vault: memvault.Vault) -> None:
    user = vault.users.create("rows")
    with vault.store.read() as tx:
        row = tx.one(
            "SELECT id, NULL AS owner_id, created_at AS at, NULL AS maybe_at, :data AS data, "
            ":items AS items, NULL AS maybe_data, :payload AS payload, 3 AS count, "
            "0.5 AS ratio, NULL AS maybe_ratio, 1 AS flag, NULL AS label "
            "FROM users WHERE id = :id",
            {
                "id": user.id,
                "data": tx.json({"a": [1, 2]}),
                "items": tx.json(["x"]),
                "payload": tx.json(7),
            },
        )
        assert row is not None
        sample = row_decoder(Sample)(tx, row)
    assert sample == Sample(
        id=user.id, owner_id=None, at=user.created_at, maybe_at=None, data={"a": [1, 2]},
        items=["x"], maybe_data=None, payload=7, count=3, ratio=0.5, maybe_ratio=None,
        flag=True, label=None,
    )  # fmt: skip
    assert isinstance(sample.id, str) and sample.at.tzinfo is not None
    assert type(sample.flag) is bool and type(sample.ratio) is float


def test_a_plan_is_compiled_once_per_engine(
    vault: memvault.Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[type] = []
    real = rows.compile_plan

    def counting(record: type, tx_class: type) -> Any:
        compiled.append(record)
        return real(record, tx_class)

    monkeypatch.setattr(rows, "compile_plan", counting)
    decoder = rows.RowDecoder(records.User)  # a fresh decoder: no plan yet
    user = vault.users.create("once")
    with vault.store.read() as tx:
        row = tx.one("SELECT * FROM users WHERE id = :id", {"id": user.id})
        assert row is not None
        decoded = [decoder(tx, row) for _ in range(100)]
    assert compiled == [records.User]
    assert decoded[0] == user and row_decoder(records.User) is row_decoder(records.User)
