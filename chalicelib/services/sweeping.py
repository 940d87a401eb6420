"""The schedules' use cases: the outbox sweeper (every minute) and the deadlines watch (daily)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from chalicelib.domain import clock
from chalicelib.domain.catalog import Service
from chalicelib.domain.requests import RequestRecord
from chalicelib.observability import metric
from chalicelib.services.dispatching import dispatch
from chalicelib.services.lists import whole_list
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.requests import URGENT, priority

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=1)


def sweep_outbox(uow: UnitOfWork, now: datetime) -> int:
    """Send to intake what was filed over a minute ago and never reached it. Returns how many."""
    sent = 0
    for member_id, request_id, correlation in uow.requests.pending_before(now - SWEEP_AFTER):
        if dispatch(uow, member_id, request_id, now, correlation):
            sent += 1
    if sent:
        logger.info("sweeper sent %d pending requests", sent)
    return sent


def _open_complaints(uow: UnitOfWork) -> Iterator[RequestRecord]:
    """The complaints service's open requests, those waiting for the member too: a question
    does not stop the ACPR clocks."""
    for state in ("open", "waiting"):
        yield from whole_list(uow, Service.reclamations.value, state)


def watch_deadlines(uow: UnitOfWork, now: datetime) -> int:
    """Open complaints (waiting for the member too) whose deadline is at risk go to the head of
    their work list (and back in line once they are not), each deadline said once on the bus
    (`ComplaintDeadlineAtRisk`). Returns how many are at risk."""
    today = clock.paris_date(now)
    flagged = 0
    for record in _open_complaints(uow):
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
