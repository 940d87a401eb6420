"""How long what we hold is kept, and from when (`docs/retention.md` is the table).

A request's clock starts when it closes (processed or withdrawn): its item, its letters and
their PDFs are kept 5 years from then, its attachments 90 days. What expires carries its
moment in `expires_at` (epoch seconds, DynamoDB's TTL attribute), and an expired item is no
item, whether or not DynamoDB has removed it yet (it may take days). Pure: no import of ours
but the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from chalicelib.domain import clock

CLOSED_REQUEST_YEARS = 5  # Code civil art. 2224: five years to bring a claim
ATTACHMENTS_AFTER_CLOSING = timedelta(days=90)
# A contested request's files stay while a complaint about it is open (the complaints service
# reads them: docs/retention.md); its purge looks again this many days later.
CONTESTED_LOOK_AGAIN = timedelta(days=7)
# A complaint's mark on the request it contests outlives any complaint's handling (2 months).
CONTEST_MARK_KEPT = timedelta(days=3 * 366)
PURGE_ENTRY_KEPT = timedelta(days=30)  # a purge carried out stays visible a month, then TTL
FIRST_CATCH_UP = timedelta(days=31)  # with no day done yet, the purge looks this far back
ATTACHMENTS_PURGED_LABEL = "Pièces jointes supprimées : leur durée de conservation est écoulée"


class Purged(StrEnum):
    """What a purge entry deletes when its day comes."""

    attachments = "attachments"  # every object under the request's `requests/…/` prefix
    letters = "letters"  # the PDFs of the request's letters


def request_expires(closed_at: datetime) -> datetime:
    """When a closed request, its letters and their PDFs go: the same Paris time 5 calendar
    years after its closing, on the same Paris day (29 February closes on 28 February, the
    first hour of a Paris 29 February, still the 28th in UTC, included)."""
    local = closed_at.astimezone(clock.PARIS)
    day = clock.add_years(local.date(), CLOSED_REQUEST_YEARS)
    return datetime.combine(day, local.time(), tzinfo=clock.PARIS).astimezone(UTC)


def attachments_purge_day(closed_at: datetime) -> date:
    """The Paris day the retention purge deletes a closed request's attachments: 90 days after the
    Paris day it closed (calendar days: 90 × 24 hours from a summer night lands on the 89th
    once winter time has come)."""
    return clock.paris_date(closed_at) + ATTACHMENTS_AFTER_CLOSING


def letters_purge_day(closed_at: datetime) -> date:
    """The Paris day the retention purge deletes a closed request's letters' PDFs."""
    return letters_purge_day_of(request_expires(closed_at))


def letters_purge_day_of(expires_at: datetime) -> date:
    """The day after the Paris day their items expire, never that day: the purge runs from the
    day's first minutes, and a letter listed until its very moment must still download until
    then."""
    return clock.paris_date(expires_at) + timedelta(days=1)


def epoch(moment: datetime) -> int:
    """A moment as DynamoDB's TTL reads it: whole seconds since the epoch."""
    return int(moment.timestamp())


def expired(expires_at: Decimal | int | None, now: datetime) -> bool:
    """An item whose TTL has passed is gone for every reader, even before DynamoDB deletes it.
    `expires_at` as read from an item: absent (never expires) or a number."""
    return expires_at is not None and int(expires_at) <= epoch(now)


def days_to_purge(last_done: date | None, today: date) -> list[date]:
    """The days the purge carries out, oldest first: every day after the last one it finished,
    through today (a missed run is caught up by the next), or the last month on a first run."""
    first = last_done + timedelta(days=1) if last_done else today - FIRST_CATCH_UP
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]
