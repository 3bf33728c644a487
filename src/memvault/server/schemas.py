"""What every router shares: field types that the store can hold, pagination, page bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from memvault import validate
from memvault.errors import InvalidInput

T = TypeVar("T")

INT32 = 2**31 - 1
MAX_PAGE = 1000


def _storable_text(value: str) -> str:
    # A lone surrogate (legal in JSON's \\uXXXX, not in UTF-8) cannot be stored; say so
    # here rather than fail in the driver.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("not valid Unicode text (lone surrogate)") from exc
    return value


def _storable_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time needs its UTC offset, e.g. 2024-05-01T12:00:00Z")
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("time out of range") from exc
    # Four-digit years only: the SQLite store writes years below 1000 unpadded and cannot
    # read them back.
    if not 1000 <= value.year <= 9999:
        raise ValueError("year must be between 1000 and 9999")
    return value


def _storable_json(value: Any, info: ValidationInfo) -> Any:
    # The core's rule (validate.json_value), so that a body is refused here, naming its
    # field, exactly when the core would refuse it.
    try:
        validate.json_value(info.field_name or "value", value)
    except InvalidInput as exc:
        raise ValueError(exc.reason) from None
    return value


Text = Annotated[str, AfterValidator(_storable_text)]
When = Annotated[datetime, AfterValidator(_storable_time)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_json)]
JsonValue = Annotated[Any, AfterValidator(_storable_json)]
Int32 = Annotated[int, Field(ge=-INT32 - 1, le=INT32)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Number = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=INT32, description="Rows to skip.")]
UserParam = Annotated[
    Text | None,
    Query(description="Owner (admin keys only; a user key may name only itself)."),
]


class Body(BaseModel):
    """Base of request bodies: unknown fields are ignored (old clients keep working)."""

    model_config = ConfigDict(extra="ignore", ser_json_inf_nan="null")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_offset` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """A page body for `items` fetched with `limit` and `offset`."""
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + len(items) if len(items) == limit else None,
    }


def window(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """Paginate a list the core returns whole (small, bounded lists)."""
    return page(items[offset : offset + limit], limit, offset)


class Deleted(BaseModel):
    deleted: bool = True
    id: str


class ErrorBody(BaseModel):
    """Every error answer: a code, a human message and, for bad input, the field."""

    error: str
    detail: str
    field: str | None = None
