"""Field specs of orders, contracts, interactions and engagement events, and the timestamp parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from custinfo.core import clock
from custinfo.core.fields import FieldSpec, Parser, RuleViolation, boolean, external_id, integer, text
from custinfo.customers.fields import iso_date, money, past_date, vocab

ANY = frozenset({"*"})
# A timestamp slightly ahead of the server clock is the client's clock drifting, not a future event.
CLOCK_SKEW = timedelta(minutes=5)
EVENT_TYPES = ("product_viewed", "new_product_viewed", "category_viewed")


def _datetime_rule(value: str) -> str:
    """Why a text is not a date-time: a day that does not exist (30 February), or its form."""
    try:
        iso_date(value[:10])
    except RuleViolation as violation:
        return "date.nonexistent" if violation.rule == "date.nonexistent" else "datetime.format"
    return "datetime.format"


def past_datetime(zone: str) -> Parser:
    """Parser of an ISO date-time, not in the future; a naive value is local time in `zone`; returns UTC."""
    local = ZoneInfo(zone)

    def parse(value: Any) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise RuleViolation(_datetime_rule(value)) from None
        else:
            raise RuleViolation("datetime.format")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=local)
        parsed = parsed.astimezone(UTC)
        if parsed > clock.now() + CLOCK_SKEW:
            raise RuleViolation("datetime.future")
        return parsed

    return parse


def event_type(value: Any) -> str:
    """One of the engagement event types."""
    code = str(value).strip().lower()
    if code not in EVENT_TYPES:
        raise RuleViolation("vocabulary.unknown", allowed=", ".join(EVENT_TYPES))
    return code


ORDER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", external_id, in_forms=False),
    FieldSpec("ordered_on", past_date, required_for=ANY),
    FieldSpec("amount", money, required_for=ANY),
    FieldSpec("product", text(200), required_for=ANY),
    FieldSpec("category", text(100)),
    FieldSpec("quantity", integer(1, 1_000_000_000)),
    FieldSpec("provided_by", vocab("provided_by")),
)

CONTRACT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", external_id, in_forms=False),
    FieldSpec("title", text(200)),
    FieldSpec("signed_on", past_date),
    FieldSpec("starts_on", iso_date),
    FieldSpec("ends_on", iso_date),
    FieldSpec("amount", money),
    FieldSpec("status", vocab("contract_status"), required_for=ANY),
    FieldSpec("terminated_on", iso_date),
)


# Renewal: the new last day of the term and the new amount; termination: the day and why.
RENEWAL_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("ends_on", iso_date, required_for=ANY),
    FieldSpec("amount", money, required_for=ANY),
)
TERMINATION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("terminated_on", past_date, required_for=ANY),
    FieldSpec("reason", text(500), required_for=ANY),
)


def interaction_fields(zone: str) -> tuple[FieldSpec, ...]:
    """Interaction fields; `occurred_at` without an offset is local time in `zone`."""
    return (
        FieldSpec("external_id", external_id, in_forms=False),
        FieldSpec("kind", vocab("interaction_kind"), required_for=ANY),
        FieldSpec("channel", vocab("interaction_channel")),
        FieldSpec("occurred_at", past_datetime(zone), required_for=ANY),
        FieldSpec("topic", text(200)),
        FieldSpec("resolution", text(4000)),
        FieldSpec("satisfaction", integer(1, 5)),
        FieldSpec("provided_by", vocab("provided_by")),
    )


def engagement_fields(zone: str) -> tuple[FieldSpec, ...]:
    """Engagement event fields; `occurred_at` without an offset is local time in `zone`."""
    return (
        FieldSpec("occurred_at", past_datetime(zone), required_for=ANY),
        FieldSpec("event_type", event_type, required_for=ANY),
        FieldSpec("product", text(200)),
        FieldSpec("category", text(100)),
        FieldSpec("is_new_product", boolean),
        FieldSpec("dwell_seconds", integer(0, 86_400)),
        FieldSpec("provided_by", vocab("provided_by")),
    )
