"""Complaint deadlines (ACPR recommendation 2022-R-01): acknowledge within 10 jours ouvrables,
answer within 2 calendar months.

Jours ouvrables are Monday to Saturday, French public holidays excluded (Sunday is the one
weekly rest day). They are not jours ouvrés (Monday to Friday), which is why the names here
stay French: "business day" reads as Monday to Friday."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from chalicelib.domain.clock import add_months

ACKNOWLEDGE_JOURS_OUVRABLES = 10
ANSWER_MONTHS = 2
SUNDAY = 6  # date.weekday()
AT_RISK_JOURS_OUVRABLES = 5


@lru_cache(maxsize=8)
def _french_holidays(year: int) -> frozenset[date]:
    import holidays  # loaded on first use only: the API's cold start does not pay for it

    return frozenset(holidays.country_holidays("FR", years=year))


def is_jour_ouvrable(day: date) -> bool:
    return day.weekday() != SUNDAY and day not in _french_holidays(day.year)


def add_jours_ouvrables(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_jour_ouvrable(day):
            days -= 1
    return day


def jours_ouvrables_between(start: date, end: date) -> int:
    """Jours ouvrables after `start` up to and including `end` (negative when `end` is before)."""
    if end < start:
        return -jours_ouvrables_between(end, start)
    return sum(
        1 for n in range(1, (end - start).days + 1) if is_jour_ouvrable(start + timedelta(n))
    )


def acknowledgement_due(filed_on: date) -> date:
    return add_jours_ouvrables(filed_on, ACKNOWLEDGE_JOURS_OUVRABLES)


def answer_due(filed_on: date) -> date:
    """Two calendar months after filing (31 December → 28/29 February)."""
    return add_months(filed_on, ANSWER_MONTHS)


def at_risk(due_on: date, today: date) -> bool:
    """Overdue, or due within 5 jours ouvrables."""
    return due_on <= today or jours_ouvrables_between(today, due_on) <= AT_RISK_JOURS_OUVRABLES
