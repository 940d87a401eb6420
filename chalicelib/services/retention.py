"""Retention's daily part (`docs/retention.md`): the files whose clock started at a request's
closing are deleted on their day by the daily watch. DynamoDB's TTL deletes the items, and the
bucket's lifecycle rules what counts from its own creation."""

from __future__ import annotations

import logging
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain import clock, retention
from chalicelib.domain.errors import NotFound, ServiceUnavailable
from chalicelib.domain.retention import ATTACHMENTS_PURGED_LABEL, Purged
from chalicelib.observability import metric
from chalicelib.services.dispatching import dispatch
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.retention import PurgeEntry

logger = logging.getLogger(__name__)


def carry_out(uow: UnitOfWork, entry: PurgeEntry, now: datetime) -> None:
    """Delete the entry's files for good; a closed request whose attachments went no longer
    lists them, and says so."""
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


def purge_due(uow: UnitOfWork, now: datetime) -> int:
    """Every purge due from the day after the last one finished through today (Paris): a day
    the watch missed is caught up by its next run. A day with a failure is not finished, so
    the next run tries its remaining entries again. Returns how many entries were carried out."""
    done = failed = 0
    for day in retention.days_to_purge(uow.retention.purged_through(), clock.paris_date(now)):
        day_failed = False
        for entry in uow.retention.due(day):
            try:
                carry_out(uow, entry, now)
            except (ClientError, BotoCoreError, ServiceUnavailable) as error:
                day_failed = True
                failed += 1
                logger.error(
                    "purge of %s for request %s failed: %s",
                    entry.what.value,
                    entry.request_id,
                    type(error).__name__,
                )
                continue
            done += 1
        if day_failed:
            break  # the cursor stays before this day: the next run starts from it
        uow.retention.finished(day)
    metric("RetentionPurges", done)
    if failed:
        metric("RetentionPurgeFailures", failed)
    logger.info("retention purges carried out: %d, failed: %d", done, failed)
    return done
