"""The schedules' use cases: the outbox sweeper (every minute) and the deadlines watch (daily)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from chalicelib.domain import clock
from chalicelib.domain.catalog import Service
from chalicelib.domain.requests import RequestRecord
from chalicelib.observability import metric
from chalicelib.services.dispatching import dispatch
from chalicelib.services.lists import whole_list
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.dynamo import parallel_map
from chalicelib.store.requests import URGENT, priority

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=1)


# A run starts no page with less time than this left (each page is 100 dispatches, 8 at once:
# a few seconds on AWS), and the next run, a minute later, goes on.
SWEEP_RESERVE_SECONDS = 15.0
SWEEP_PAGE = 100


def sweep_outbox(
    uow: UnitOfWork, now: datetime, time_left: Callable[[], float] = clock.no_deadline
) -> int:
    """Send what changes left pending over a minute ago (a send that failed, a crash): every
    page of them while the run has time (`time_left()`, Lambda's; no page started with less
    than `SWEEP_RESERVE_SECONDS`), 8 at once. One page a minute was 100 requests: after an
    hour of the bus or a queue down, a national backlog took hours to be told. Returns how
    many were sent."""
    sent = failed = 0
    for page in uow.requests.pending_pages(now - SWEEP_AFTER, SWEEP_PAGE):
        if time_left() < SWEEP_RESERVE_SECONDS:
            logger.info("sweeper stopped for time: the next run goes on")
            break
        outcomes = parallel_map(lambda pending: dispatch(uow, *pending[:2], now, pending[2]), page)
        sent += sum(outcomes)
        failed += len(outcomes) - sum(outcomes)
    if sent or failed:
        logger.info("sweeper sent %d pending requests, %d left for a later run", sent, failed)
    return sent


def _open_complaints(uow: UnitOfWork) -> Iterator[RequestRecord]:
    """The complaints service's open requests, those waiting for the member too: a question
    does not stop the ACPR clocks."""
    for state in ("open", "waiting"):
        yield from whole_list(uow, Service.reclamations.value, state)


def watch_deadlines(uow: UnitOfWork, now: datetime) -> int:
    """Open complaints (waiting for the member too) whose deadline is at risk go to the head of
    their work list (and back in line once they are not), each deadline said once on the bus
    (`ComplaintDeadlineAtRisk`). Each open complaint's mark on the request it contests is
    made sure of too (a complaint filed before the marks existed has none: the purge would
    take the contested request's files while it is open). Returns how many are at risk."""
    today = clock.paris_date(now)
    flagged = 0
    for record in _open_complaints(uow):
        if record.related_request_id is not None:
            uow.requests.mark_contested(record, now)
        due_at = record.deadline_at_risk(today)
        if due_at is not None:
            flagged += 1
            if record.at_risk_due_at == due_at:
                # Said on the bus already: only back at the head if a question and its
                # answer put it back in line.
                uow.transitions.prioritise(record, URGENT)
            elif uow.transitions.deadline_at_risk(record, due_at, now):
                dispatch(uow, record.member_id, record.request_id, now)
        else:
            # Back in line, unless a flag keeps it at the head: its question unanswered (put
            # there by `dialogue.watch_unanswered`, this same morning or before) or its handler
            # given up.
            uow.transitions.prioritise(record, priority(record))
    metric("ComplaintDeadlinesAtRisk", flagged)
    logger.info("complaints at risk: %d", flagged)
    return flagged
