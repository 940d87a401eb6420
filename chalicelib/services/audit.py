"""The audit trail's use cases: what the dispatcher appends, and the check of a day's chain
(`make audit-verify`, and the daily watch on yesterday's), every chain of the day."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import audit, clock
from chalicelib.domain.audit import DayVerdict
from chalicelib.observability import metric
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import outbox

logger = logging.getLogger(__name__)


def record_changes(uow: UnitOfWork, entries: Sequence[dict[str, Any]]) -> int:
    """A request's outbox entries that are changes (its events, and the changes no event
    announces) appended to today's chain, once each however often they are dispatched.

    The chain is the day of the append, by the real clock: a caller's `now` (a seed dating its
    history in the past) never writes into a day already closed. Returns how many were new.
    """
    changes = [
        audit.of_event(
            entry["detail_type"],
            entry["detail"],
            agent_id=entry.get("agent_id"),
            correlation_id=entry.get("correlation_id"),
            actor=entry.get("by"),
        )
        for entry in entries
        if entry["to"] in outbox.AUDITED
    ]
    if not changes:
        return 0
    return len(uow.audit.append(changes, clock.now(), dedupe=True))


def verify_day(uow: UnitOfWork, day: date) -> DayVerdict:
    """A Paris day's chains, each checked link by link, one chain read and held at a time:
    intact, or its first broken link."""
    return audit.verify_day(day.isoformat(), uow.audit.read_chains(day.isoformat()))


def watch_chain(uow: UnitOfWork, now: datetime) -> DayVerdict:
    """The daily watch: yesterday's chains (closed by then), and the metric the alarm reads,
    `AuditChainBroken` 1 or 0."""
    verdict = verify_day(uow, clock.paris_date(now) - timedelta(days=1))
    metric("AuditChainBroken", 0 if verdict.intact else 1)
    if verdict.intact:
        logger.info("audit chains of %s intact: %d records in %d chains", verdict.day,
                    verdict.count, len(verdict.chains))  # fmt: skip
    for broken in verdict.broken:
        logger.error("audit chain %s broken at %s: %s",
                     audit.chain_name(broken.day, broken.shard), broken.broken_at,
                     broken.reason)  # fmt: skip
    return verdict
