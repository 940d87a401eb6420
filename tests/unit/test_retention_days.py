"""The days the daily watch deletes a closed request's files, in Paris calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import clock, retention


@pytest.mark.parametrize(
    "closed_at",
    [
        datetime(2027, 8, 10, 22, 30, tzinfo=UTC),  # 00:30 Paris in summer; day 90 in winter
        datetime(2027, 1, 10, 23, 30, tzinfo=UTC),  # 00:30 Paris in winter; day 90 in summer
        datetime(2027, 8, 11, 12, 0, tzinfo=UTC),
    ],
)
def test_attachments_go_90_paris_days_after_the_paris_day_of_the_closing(
    closed_at: datetime,
) -> None:
    """90 × 24 hours from a summer night fell on the 89th day once winter time had come."""
    expected = clock.paris_date(closed_at) + timedelta(days=90)
    assert retention.attachments_purge_day(closed_at) == expected


def test_letters_go_the_day_after_the_paris_day_their_items_expire() -> None:
    """The watch runs in the morning: on the day itself, a letter still listed until its
    moment in the evening would have lost its PDF."""
    closed_at = datetime(2027, 3, 4, 17, 0, tzinfo=UTC)  # 18:00 Paris
    expires = retention.request_expires(closed_at)
    assert clock.paris_date(expires) == date(2032, 3, 4)
    assert retention.letters_purge_day(closed_at) == date(2032, 3, 5)
    assert retention.letters_purge_day_of(expires) == date(2032, 3, 5)
