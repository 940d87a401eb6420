"""Complaint deadlines (ACPR recommendation 2022-R-01): acknowledge within 10 business days,
answer within 2 months. Business days exclude weekends and French public holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from chalicelib.domain.documents import months_before

ACKNOWLEDGE_BUSINESS_DAYS = 10
ANSWER_MONTHS = 2
AT_RISK_BUSINESS_DAYS = 5


@lru_cache(maxsize=8)
def _french_holidays(year: int) -> frozenset[date]:
    import holidays  # loaded on first use only: the API's cold start does not pay for it

    return frozenset(holidays.country_holidays("FR", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            days -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end` (negative when `end` is before)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(n)))


def acknowledgement_due(filed_on: date) -> date:
    return add_business_days(filed_on, ACKNOWLEDGE_BUSINESS_DAYS)


def answer_due(filed_on: date) -> date:
    """Two calendar months after filing (31 December → 28/29 February)."""
    return months_before(filed_on, -ANSWER_MONTHS)


def at_risk(due_on: date, today: date) -> bool:
    """Overdue, or due within 5 business days."""
    return due_on <= today or business_days_between(today, due_on) <= AT_RISK_BUSINESS_DAYS
