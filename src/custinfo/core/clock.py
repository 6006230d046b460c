"""The configured time zone's "today": every date rule ("not in the future") is judged in it.

Stored times are UTC, but a day is a local day: an order dated today in Shanghai is dated in
the future by the UTC calendar between 00:00 and 08:00 local time. `create_app` and the CLI set
the zone from `settings.timezone`; without it the house default (Asia/Shanghai) applies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"
_zone: list[ZoneInfo] = [ZoneInfo(DEFAULT_ZONE)]


def use_zone(name: str) -> None:
    """Make `name` the zone that local dates are judged in (called with settings.timezone)."""
    _zone[0] = ZoneInfo(name)


def zone() -> ZoneInfo:
    """The configured time zone."""
    return _zone[0]


def now() -> datetime:
    """The current instant, UTC (one place, so tests can fix the clock)."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the configured time zone."""
    return now().astimezone(_zone[0]).date()
