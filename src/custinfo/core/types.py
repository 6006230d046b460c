"""Column types (exact money in fen, timezone-safe UTC datetimes) and the date ranges input may use."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from custinfo.core import clock

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """Yuan as Decimal in Python, integer fen in the database (exact on SQLite and PostgreSQL)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, never float")
        return int(Decimal(value).quantize(CENT) * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


def fen_to_yuan(fen: int | None) -> Decimal:
    """Convert a raw integer-fen aggregate (e.g. SUM over a Money column) to yuan."""
    return (Decimal(int(fen or 0)) / 100).quantize(CENT)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Dates people and contracts can have; year 1 or 9999 is a typing slip or a probe, never a record.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# Classification looks back at what the system holds; nothing can be recorded before this day.
EARLIEST_AS_OF = date(2000, 1, 1)
AS_OF_HORIZON = timedelta(days=366)


_NUMERIC = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def no_timestamps(value: Any) -> Any:
    """Refuse a number (or numeric text) where a date is expected, instead of reading it as a timestamp."""
    # Pydantic reads a number as seconds since 1970 (`as_of: 0` is 1970-01-01); a date is written as a date.
    numeric_text = isinstance(value, str | bytes) and _NUMERIC.fullmatch(
        value if isinstance(value, str) else value.decode("latin-1")
    )
    if (isinstance(value, int | float) and not isinstance(value, bool)) or numeric_text:
        raise PydanticCustomError("date_type", "a date must be written as YYYY-MM-DD")
    return value


# A text that is an ISO date or date-time (what date inputs and JSON clients send).
_ISO_DATE_TEXT = re.compile(r"\s*([+-]?\d{4,6})-\d{2}-\d{2}([T ][\d:.,]+(Z|z|[+-]\d{2}(:?\d{2})?)?)?\s*")


def date_text_out_of_range(value: str) -> bool:
    """True when `value` is written as an ISO date or date-time whose year is outside the input range."""
    match = _ISO_DATE_TEXT.fullmatch(value)
    return match is not None and not EARLIEST_DATE.year <= int(match.group(1)) <= LATEST_DATE.year


def within(earliest: date, latest: date) -> Any:
    """A validator refusing dates (or date-times) outside earliest…latest, naming the range."""

    def check(value: date) -> date:
        day = value.date() if isinstance(value, datetime) else value
        if not earliest <= day <= latest:
            raise PydanticCustomError(
                "date_range",
                "must be between {min} and {max}",
                {"min": earliest.isoformat(), "max": latest.isoformat()},
            )
        return value

    return AfterValidator(check)


def _as_of_in_range(value: date) -> date:
    latest = clock.today() + AS_OF_HORIZON
    if not EARLIEST_AS_OF <= value <= latest:
        raise PydanticCustomError(
            "date_range",
            "must be between {min} and {max}",
            {"min": EARLIEST_AS_OF.isoformat(), "max": latest.isoformat()},
        )
    return value


InputDate = Annotated[date, BeforeValidator(no_timestamps), within(EARLIEST_DATE, LATEST_DATE)]
InputDateTime = Annotated[datetime, BeforeValidator(no_timestamps), within(EARLIEST_DATE, LATEST_DATE)]
AsOfDate = Annotated[date, BeforeValidator(no_timestamps), AfterValidator(_as_of_in_range)]
