"""The one clock: what time it is, and every date a member reads, in Paris time.

Stored timestamps are UTC ISO 8601 ending in `Z` (`iso_z`); a member reads dates, and a date is
always the Paris date of the moment (a request filed at 00:30 on 1 December in Paris is filed
on 1 December, in December's partition). Month arithmetic clamps to the month's last day.
Pure: no import of ours.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    """The current moment, aware, in UTC: the one call to the system clock."""
    return datetime.now(UTC)


def no_deadline() -> float:
    """The seconds a run has left when nothing bounds it (a test, a script): a scheduled job's
    `time_left` default; on Lambda the invocation's context says it."""
    return math.inf


def iso_z(moment: datetime) -> str:
    """`2026-11-28T09:15:00.000Z`: how every timestamp is stored and answered."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(stamp: str) -> datetime:
    """A stored timestamp (`…Z` or with an offset) as an aware datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def paris_date(moment: datetime | str) -> date:
    """The day a member reads for this moment (or stored timestamp): its date in Paris."""
    if isinstance(moment, str):
        moment = parse_timestamp(moment)
    return moment.astimezone(PARIS).date()


def today() -> date:
    return paris_date(now())


def paris_month(moment: datetime) -> str:
    """`YYYY-MM` of the moment in Paris: the month partition of what happens then."""
    return moment.astimezone(PARIS).strftime("%Y-%m")


def end_of_day(day: date) -> str:
    """The last second of a Paris day, as a stored timestamp: when a deadline on `day` ends."""
    return iso_z(datetime.combine(day, time(23, 59, 59), tzinfo=PARIS))


def start_of_day(day: date) -> str:
    """The first instant of a Paris day, as a stored timestamp."""
    return iso_z(datetime.combine(day, time(0, 0), tzinfo=PARIS))


def seconds_until_next_day(moment: datetime) -> int:
    """Whole seconds from `moment` to the next midnight in Paris (23 or 25 hours on the days
    the clocks change): when a count of the day starts again."""
    midnight = datetime.combine(paris_date(moment) + timedelta(days=1), time(0, 0), tzinfo=PARIS)
    return max(1, math.ceil((midnight - moment).total_seconds()))


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier if negative), clamped to the
    month's last day: 31 December + 2 months is 28 or 29 February."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has a 28th


def months_before(day: date, months: int) -> date:
    return add_months(day, -months)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (earlier if negative); 29 February becomes the 28th."""
    return add_months(day, 12 * years)
