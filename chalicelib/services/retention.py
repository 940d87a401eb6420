"""Retention's scheduled part (`docs/retention.md`): the files whose clock started at a
request's closing are deleted on their day by the retention purge (`retention_purge`, every 15
minutes, each run as long as its time allows). DynamoDB's TTL deletes the items, and the
bucket's lifecycle rules what counts from its own creation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain import clock, retention
from chalicelib.domain.errors import NotFound, ServiceUnavailable
from chalicelib.domain.retention import ATTACHMENTS_PURGED_LABEL, Purged
from chalicelib.observability import metric
from chalicelib.services.dispatching import dispatch
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.dynamo import parallel_map
from chalicelib.store.retention import PurgeEntry

logger = logging.getLogger(__name__)

# Entries carried out at once, on the shared pool's threads (`parallel_map`: 8): each is a
# few calls (a listing and a delete in S3, an update or two in the table), tens of
# milliseconds on AWS, independent of every other (a request has one entry of each kind a
# day; its outbox's dispatch is safe to race, as the sweeper's is).
BATCH = 32
# A run starts no batch with less time than this left: a batch takes well under a second,
# and even calls retried through a slow minute end before Lambda's timeout.
RESERVE_SECONDS = 60.0


def carry_out(uow: UnitOfWork, entry: PurgeEntry, now: datetime) -> None:
    """Delete the entry's files for good; a closed request whose attachments went no longer
    lists them, and says so. Not while a complaint about the request is open: the complaints
    service reads them (docs/retention.md); the purge looks again a week later, and the
    request's detail says until when they are kept."""
    if entry.what is Purged.attachments and _kept_while_contested(uow, entry, now):
        return
    uow.files.purge(entry.prefixes)
    if entry.what is Purged.attachments:
        try:
            record = uow.requests.get(entry.member_id, entry.request_id)
        except NotFound:
            record = None  # already past its own retention: nothing left to say it on
        held = record is not None and (record.attachments or record.attachments_kept_until)
        if (
            held
            and record
            and uow.transitions.attachments_deleted(record, ATTACHMENTS_PURGED_LABEL, now)
        ):
            dispatch(uow, record.member_id, record.request_id, now)  # its audit record
    uow.retention.carried_out(entry, now)


def _kept_while_contested(uow: UnitOfWork, entry: PurgeEntry, now: datetime) -> bool:
    """True when an open complaint contests the entry's request: the entry is due again a
    week later, and the request's detail says so (`attachments_kept_until`)."""
    complaints = uow.requests.contesting(entry.member_id, entry.request_id)
    if not any(complaint.is_open() for complaint in complaints):
        return False
    later = clock.paris_date(now) + retention.CONTESTED_LOOK_AGAIN
    uow.retention.postpone(entry, later, now)
    try:
        record = uow.requests.get(entry.member_id, entry.request_id)
    except NotFound:
        return True
    if record.attachments:
        uow.transitions.keep_attachments_until(record, later)
    return True


@dataclass(frozen=True)
class PurgeRun:
    """What one run did: entries carried out and failed, and whether it stopped for time (its
    day left unfinished, resumed by the next run)."""

    done: int
    failed: int
    out_of_time: bool


def purge_due(
    uow: UnitOfWork, now: datetime, time_left: Callable[[], float] = clock.no_deadline
) -> PurgeRun:
    """The purges due from the day after the last one finished through today (Paris), as many
    as the run's time allows: a day missed is caught up, a day too large for one run (a
    national day is ~170,000 entries) is resumed by the next. Each entry is marked done as it
    is carried out, a day is finished only once all its entries are, and a day with a
    failure stays unfinished (the next run tries its remaining entries again; the days after
    it wait). `time_left()`: seconds the run has left (Lambda's remaining time); no batch of
    entries starts with less than `RESERVE_SECONDS` left."""
    done = failed = 0
    out_of_time = False
    for day in retention.days_to_purge(uow.retention.purged_through(), clock.paris_date(now)):
        day_failed = False
        for page in uow.retention.pages_due(day):
            for start in range(0, len(page), BATCH):
                if time_left() < RESERVE_SECONDS:
                    out_of_time = True
                    break
                batch = page[start : start + BATCH]
                outcomes = parallel_map(lambda entry: _carried_out(uow, entry, now), batch)
                done += sum(outcomes)
                failed += len(outcomes) - sum(outcomes)
                day_failed = day_failed or not all(outcomes)
            if out_of_time:
                break
        if out_of_time:
            logger.info("retention purge stopped for time in %s: the next run resumes it", day)
            break
        if day_failed:
            break  # the cursor stays before this day: the next run starts from it
        uow.retention.finished(day)
    metric("RetentionPurges", done)
    if failed:
        metric("RetentionPurgeFailures", failed)
    logger.info("retention purges carried out: %d, failed: %d", done, failed)
    return PurgeRun(done, failed, out_of_time)


def _carried_out(uow: UnitOfWork, entry: PurgeEntry, now: datetime) -> bool:
    """One entry (on the pool's threads): False, and logged, when AWS refused or failed."""
    try:
        carry_out(uow, entry, now)
    except (ClientError, BotoCoreError, ServiceUnavailable) as error:
        logger.error(
            "purge of %s for request %s failed: %s",
            entry.what.value,
            entry.request_id,
            type(error).__name__,
        )
        return False
    return True
