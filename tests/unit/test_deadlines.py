"""Jours ouvrables (Monday to Saturday, French public holidays excluded) and complaint deadlines."""

from datetime import date

import pytest

from chalicelib.domain.deadlines import (
    acknowledgement_due,
    add_jours_ouvrables,
    answer_due,
    at_risk,
    is_jour_ouvrable,
    jours_ouvrables_between,
)


@pytest.mark.parametrize(
    "holiday",
    [
        date(2027, 3, 29),
        date(2026, 4, 6),
        date(2027, 5, 1),  # a Saturday: a holiday first
        date(2026, 7, 14),
        date(2026, 12, 25),
        date(2027, 5, 6),
        date(2026, 11, 11),
    ],
)
def test_french_public_holidays_are_not_jours_ouvrables(holiday: date) -> None:
    assert not is_jour_ouvrable(holiday)


def test_saturday_is_a_jour_ouvrable_and_sunday_is_not() -> None:
    assert is_jour_ouvrable(date(2026, 11, 28))  # Saturday
    assert not is_jour_ouvrable(date(2026, 11, 29))  # Sunday


def test_easter_monday_is_skipped_and_saturday_counts() -> None:
    # Thursday 25 March 2027 + 3: Friday 26, Saturday 27, (Sunday, Easter Monday 29), Tuesday 30.
    assert add_jours_ouvrables(date(2027, 3, 25), 3) == date(2027, 3, 30)


def test_may_day_and_victory_day_are_skipped() -> None:
    # Thursday 30 April 2026: Friday 1 May is off, Saturday 2 May is not; Friday 8 May is off.
    assert add_jours_ouvrables(date(2026, 4, 30), 1) == date(2026, 5, 2)
    assert add_jours_ouvrables(date(2026, 5, 7), 1) == date(2026, 5, 9)
    assert add_jours_ouvrables(date(2026, 5, 7), 2) == date(2026, 5, 11)


def test_bastille_day_is_skipped() -> None:
    assert add_jours_ouvrables(date(2026, 7, 13), 1) == date(2026, 7, 15)


def test_acknowledgement_within_ten_jours_ouvrables_over_christmas() -> None:
    # Filed Monday 21 December 2026: 22, 23, 24, (25 off), 26, 28, 29, 30, 31, (1 Jan off), 2, 4.
    assert acknowledgement_due(date(2026, 12, 21)) == date(2027, 1, 4)


def test_acknowledgement_counts_saturdays_in_an_ordinary_fortnight() -> None:
    # Filed Monday 9 November 2026: 10, (11 off), 12, 13, 14, 16, 17, 18, 19, 20, 21.
    assert acknowledgement_due(date(2026, 11, 9)) == date(2026, 11, 21)


def test_answer_within_two_calendar_months() -> None:
    assert answer_due(date(2026, 11, 26)) == date(2027, 1, 26)
    assert answer_due(date(2026, 12, 31)) == date(2027, 2, 28)


def test_at_risk_when_overdue_or_within_five_jours_ouvrables() -> None:
    today = date(2026, 11, 26)  # a Thursday: 27, 28 (Saturday), 30, 1, 2 are the next five
    assert at_risk(date(2026, 11, 20), today)
    assert at_risk(date(2026, 12, 2), today)  # 5 jours ouvrables ahead
    assert not at_risk(date(2026, 12, 3), today)  # 6
    assert jours_ouvrables_between(today, date(2026, 12, 3)) == 6
    assert jours_ouvrables_between(date(2026, 12, 3), today) == -6
