"""Daily SLA watch: complaints whose acknowledgement or answer is overdue or due within 5
business days go to the head of the complaints service's work list, and are counted."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from chalicelib.domain.catalog import Service
from chalicelib.domain.deadlines import at_risk
from chalicelib.domain.demarches import PARIS
from chalicelib.domain.requests import RequestRecord
from chalicelib.observability import metric
from chalicelib.store.requests import NORMAL, URGENT, Transitions

logger = logging.getLogger(__name__)


def _day(stamp: str | None) -> date | None:
    if stamp is None:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(PARIS).date()


def deadline_at_risk(record: RequestRecord, today: date) -> bool:
    answer_on = _day(record.due_at)
    acknowledge_on = _day(record.acknowledgement_due_at)
    if (
        record.acknowledged_at is None
        and acknowledge_on is not None
        and at_risk(acknowledge_on, today)
    ):
        return True
    return answer_on is not None and at_risk(answer_on, today)


def watch(now: datetime | None = None) -> int:
    """Returns how many open complaints are at risk."""
    now = now or datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    transitions = Transitions()
    flagged = 0
    start = None
    while True:
        records, start = transitions.work_list(Service.reclamations.value, "open", 100, start)
        for record in records:
            risky = deadline_at_risk(record, today)
            flagged += risky
            transitions.prioritise(record, URGENT if risky or record.needs_attention else NORMAL)
        if start is None:
            break
    _count(flagged)
    return flagged


def _count(flagged: int) -> None:
    metric("ComplaintDeadlinesAtRisk", flagged)
    logger.info("complaints at risk: %d", flagged)
