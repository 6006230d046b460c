"""The paging kit every repository shares: page parameters, one page schema, a capped count.

A repository builds the filtered SELECT of a list and hands it to `fetch_page`
(one entity per row) or `fetch_rows` (several columns per row) with the order;
the kit adds LIMIT/OFFSET and counts the matches up to `cap`, so a list over a
million rows never pays for an exact count. The statement must be a plain
filtered SELECT (joins and WHERE, no DISTINCT, GROUP BY or ORDER BY): the count
replaces its columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, TypeVarTuple

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Row, Select, func, literal_column, select
from sqlalchemy.orm import QueryableAttribute, Session

from custinfo.core.errors import FieldError

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

TOTAL_CAP = 100_000
# The largest page number the error message names (the API's Query(le=…) refuses beyond it).
MAX_PAGE = 1_000_000

OrderBy = Sequence[ColumnElement[Any] | QueryableAttribute[Any]]
# One page of rows, the match count (capped) and whether there were more matches than the count.
PageRows = tuple[list[T], int, bool]


@dataclass(frozen=True)
class PageParams:
    """Which page of a list: number `page` (from 1) of `size` records."""

    page: int = 1
    size: int = 20

    @property
    def offset(self) -> int:
        """How many records come before this page."""
        return (self.page - 1) * self.size

    def problems(self, max_size: int) -> list[FieldError]:
        """Field errors for a page below 1 or a size outside 1…max_size (the service raises them as 422)."""
        errors = []
        if self.page < 1:
            errors.append(FieldError("page", "integer.range", {"min": 1, "max": MAX_PAGE}))
        if not 1 <= self.size <= max_size:
            errors.append(FieldError("size", "integer.range", {"min": 1, "max": max_size}))
        return errors


def page_count(total: int, size: int) -> int:
    """How many pages of `size` records `total` matches fill (at least one, for an empty list)."""
    return max(1, -(-total // size))


class Page(BaseModel, Generic[T]):
    """One page of a list; subclass it per resource so the OpenAPI schema keeps a plain name."""

    items: list[T] = Field(description="The records of this page, in the list's order")
    page: int = Field(description="Page number, from 1")
    size: int = Field(description="Page size")
    total: int = Field(description=f"Matching records, counted up to {TOTAL_CAP:,}")
    total_capped: bool = Field(description="True when there are more than `total` matches")


def _window(stmt: Select[*Ts], params: PageParams, order_by: OrderBy) -> Select[*Ts]:
    return stmt.order_by(*order_by).limit(params.size).offset(params.offset)


def count_matches(session: Session, stmt: Select[*Ts], cap: int | None = TOTAL_CAP) -> tuple[int, bool]:
    """Rows `stmt` matches, counted up to `cap` (None: all of them), and whether there were more."""
    # SELECT 1 instead of the row lets the database answer from an index without reading the rows.
    ones: Select[Any] = stmt.with_only_columns(literal_column("1"), maintain_column_froms=True)
    if cap is None:
        return session.scalar(select(func.count()).select_from(ones.subquery())) or 0, False
    total = session.scalar(select(func.count()).select_from(ones.limit(cap + 1).subquery())) or 0
    return min(total, cap), total > cap


def fetch_page(
    session: Session, stmt: Select[T], params: PageParams, *, order_by: OrderBy, cap: int | None = TOTAL_CAP
) -> PageRows[T]:
    """One page of the entities `stmt` selects, in the given order, and the match count up to `cap`.

    End `order_by` with a unique column so that consecutive pages neither overlap nor skip.
    """
    rows = list(session.scalars(_window(stmt, params, order_by)))
    total, capped = count_matches(session, stmt, cap)
    return rows, total, capped


def fetch_rows(
    session: Session,
    stmt: Select[*Ts],
    params: PageParams,
    *,
    order_by: OrderBy,
    cap: int | None = TOTAL_CAP,
) -> PageRows[Row[*Ts]]:
    """`fetch_page` for a statement of several columns: one page of result rows and the count."""
    rows = list(session.execute(_window(stmt, params, order_by)).all())
    total, capped = count_matches(session, stmt, cap)
    return rows, total, capped
