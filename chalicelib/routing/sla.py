"""Scheduled daily: complaints whose acknowledgement or answer is overdue or due within 5 jours
ouvrables go to the head of the complaints service's work list, and requests whose question
went unanswered past its deadline go back to the head of their service's open list; members
whose answer is due in 7 days are reminded (through the notifications queue); yesterday's audit
chain is verified (metric `AuditChainBroken`, alarmed on). The files whose retention ended are
not the watch's: a national day of them takes hours (`routing/retention.py`)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import clock
from chalicelib.services.audit import watch_chain
from chalicelib.services.dialogue import watch_unanswered
from chalicelib.services.notifications import remind_before_deadlines
from chalicelib.services.sweeping import watch_deadlines
from chalicelib.store.unit_of_work import unit_of_work


def watch(now: datetime | None = None) -> int:
    """Returns how many open complaints are at risk."""
    moment = now or clock.now()
    watch_unanswered(unit_of_work(), moment)
    remind_before_deadlines(unit_of_work(), moment)
    at_risk = watch_deadlines(unit_of_work(), moment)
    watch_chain(unit_of_work(), moment)  # last: a failure here stops none of the above
    return at_risk
