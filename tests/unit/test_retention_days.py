"""The days the retention purge deletes a closed request's files, in Paris calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

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
    """The purge runs from the day's first minutes: on the day itself, a letter still listed
    until its moment in the evening would have lost its PDF."""
    closed_at = datetime(2027, 3, 4, 17, 0, tzinfo=UTC)  # 18:00 Paris
    expires = retention.request_expires(closed_at)
    assert clock.paris_date(expires) == date(2032, 3, 4)
    assert retention.letters_purge_day(closed_at) == date(2032, 3, 5)
    assert retention.letters_purge_day_of(expires) == date(2032, 3, 5)


def test_a_request_closed_on_29_february_goes_the_same_moment_on_28_february() -> None:
    """Five years from 2028's 29 February land in 2033, which has none: its closing must still
    compute when its request goes (`date.replace` would fail the decision itself)."""
    closed_at = datetime(2028, 2, 29, 15, 30, tzinfo=UTC)
    assert retention.request_expires(closed_at) == datetime(2033, 2, 28, 15, 30, tzinfo=UTC)
    assert retention.letters_purge_day(closed_at) == date(2033, 3, 1)


@pytest.mark.parametrize(
    "closed_at",
    [
        datetime(2028, 2, 28, 23, 30, tzinfo=UTC),  # 00:30 on 29 February in Paris
        datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
        datetime(2028, 2, 29, 22, 30, tzinfo=UTC),  # 23:30 on 29 February in Paris
    ],
)
def test_a_request_closed_on_the_paris_29_february_goes_on_28_february(closed_at: datetime) -> None:
    """Whatever its hour: closed in the first hour of a Paris 29 February (still the 28th in
    UTC), a request went on 1 March, a day after one closed at noon or at 23:30 that day."""
    assert clock.paris_date(closed_at) == date(2028, 2, 29)
    expires = retention.request_expires(closed_at)
    assert clock.paris_date(expires) == date(2033, 2, 28)
    assert expires.astimezone(clock.PARIS).time() == closed_at.astimezone(clock.PARIS).time()
    assert retention.letters_purge_day(closed_at) == date(2033, 3, 1)


def test_an_item_is_gone_from_the_very_second_its_ttl_names() -> None:
    """As the lists' filter reads it (`#expires_at > :now` is what stays): a direct read never
    answers, at that second, what a list already leaves out."""
    now = datetime(2032, 3, 4, 17, 0, tzinfo=UTC)
    assert retention.expired(retention.epoch(now), now)
    assert retention.expired(Decimal(retention.epoch(now)), now)  # as DynamoDB reads it
    assert not retention.expired(retention.epoch(now) + 1, now)
    assert not retention.expired(None, now)


def test_the_watch_catches_up_every_day_it_missed_and_a_month_on_its_first_run() -> None:
    today = date(2027, 3, 4)
    assert retention.days_to_purge(date(2027, 3, 1), today) == [
        date(2027, 3, 2),
        date(2027, 3, 3),
        today,
    ]
    assert retention.days_to_purge(today, today) == []  # a second run the same day
    first = retention.days_to_purge(None, today)
    assert (first[0], first[-1], len(first)) == (date(2027, 2, 1), today, 32)
