"""What every router shares: field types that the store can hold, request bodies that feed the
core by their field names, and paging."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, TypedDict, TypeVar

from fastapi import Depends, Query
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
BaseParam = Annotated[
    bool,
    Query(description="Write the shared base layer, which every user reads (admin keys only; "
                      "name no user). An admin key must name a user or pass this."),
]  # fmt: skip


class Body(BaseModel):
    """Base of request bodies: an unknown field is refused (422 naming it), never dropped:
    a misspelt or guessed name (`ttl_seconds` for `ttl`) would otherwise store something
    other than what the client meant, with a 200.

    A body's fields are named as the parameters of the core method it feeds (`feeds`, as
    "domain.method"), so a route passes them on with `**body.fields()` instead of naming each
    again; `derived` lists the fields the route turns into other arguments first.
    tests/server/test_bodies.py holds every body to this, so a field cannot be dropped silently.
    """

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="null")
    feeds: ClassVar[str]
    derived: ClassVar[frozenset[str]] = frozenset()

    def fields(self, *, sent: bool = False, **given: Any) -> dict[str, Any]:
        """The fields as keyword arguments of the core call, without `derived`: all of them,
        or with `sent` only those the client sent (a patch); `given` adds or replaces."""
        names = self.model_fields_set if sent else type(self).model_fields
        out = {name: getattr(self, name) for name in names if name not in self.derived}
        out.update(given)
        return out


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_offset` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class PageArgs(TypedDict):
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class Paging:
    """The `limit` and `offset` of a list request, and the page body of its answer."""

    limit: int
    offset: int

    @property
    def args(self) -> PageArgs:
        """`limit=…, offset=…` for a core list method that pages itself."""
        return {"limit": self.limit, "offset": self.offset}

    def page(self, items: list[Any]) -> dict[str, Any]:
        """The page body for `items` fetched with `args`."""
        full = len(items) == self.limit
        return {"items": items, "limit": self.limit, "offset": self.offset,
                "next_offset": self.offset + len(items) if full else None}  # fmt: skip

    def window(self, items: list[Any]) -> dict[str, Any]:
        """The page body for a list the core returns whole (small, bounded lists)."""
        return self.page(items[self.offset : self.offset + self.limit])


@functools.cache
def paged(default: int) -> Callable[..., Paging]:
    """A FastAPI dependency reading `limit` (default `default`) and `offset` from the query."""

    def dependency(limit: Limit = default, offset: Offset = 0) -> Paging:
        return Paging(limit, offset)

    return dependency


Pages = Annotated[Paging, Depends(paged(100))]
"""A list route's paging, 100 rows by default (`Annotated[Paging, Depends(paged(n))]`: n)."""


class Deleted(BaseModel):
    deleted: bool = True
    id: str


class ErrorBody(BaseModel):
    """Every error answer: a code, a human message and, for bad input, the field."""

    error: str
    detail: str
    field: str | None = None
