"""Business days (weekends and French public holidays excluded) and complaint deadlines."""

from datetime import date

import pytest

from chalicelib.domain.deadlines import (
    acknowledgement_due,
    add_business_days,
    answer_due,
    at_risk,
    business_days_between,
    is_business_day,
)


@pytest.mark.parametrize(
    "holiday",
    [
        date(2027, 3, 29),
        date(2026, 4, 6),
        date(2027, 5, 1),
        date(2026, 7, 14),
        date(2026, 12, 25),
        date(2027, 5, 6),
        date(2026, 11, 11),
    ],
)
def test_french_public_holidays_are_not_business_days(holiday: date) -> None:
    assert not is_business_day(holiday)


def test_easter_monday_is_skipped() -> None:
    # Thursday 25 March 2027 + 2 business days: Friday 26, (weekend, Easter Monday 29), Tuesday 30.
    assert add_business_days(date(2027, 3, 25), 2) == date(2027, 3, 30)


def test_may_day_and_victory_day_are_skipped() -> None:
    # Thursday 30 April 2026: Friday 1 May is off; Friday 8 May too.
    assert add_business_days(date(2026, 4, 30), 1) == date(2026, 5, 4)
    assert add_business_days(date(2026, 5, 7), 1) == date(2026, 5, 11)


def test_bastille_day_is_skipped() -> None:
    assert add_business_days(date(2026, 7, 13), 1) == date(2026, 7, 15)


def test_acknowledgement_within_ten_business_days_over_christmas() -> None:
    # Filed Monday 21 December 2026: 22, 23, 24, (25 off), 28, 29, 30, 31, (1 Jan off), 4, 5, 6.
    assert acknowledgement_due(date(2026, 12, 21)) == date(2027, 1, 6)


def test_answer_within_two_calendar_months() -> None:
    assert answer_due(date(2026, 11, 26)) == date(2027, 1, 26)
    assert answer_due(date(2026, 12, 31)) == date(2027, 2, 28)


def test_at_risk_when_overdue_or_within_five_business_days() -> None:
    today = date(2026, 11, 26)  # a Thursday
    assert at_risk(date(2026, 11, 20), today)
    assert at_risk(date(2026, 12, 3), today)  # 5 business days ahead
    assert not at_risk(date(2026, 12, 4), today)  # 6
    assert business_days_between(today, date(2026, 12, 4)) == 6
