"""The outbox: what a change must send, kept on the request item in the same write as the change
(an `outbox` list, and the sparse `gsi_pending` keys while it is not empty).

An entry is either an event for the bus or a pointer for a queue. The dispatcher sends them
right after the change (a new request's: its pointer at once, the rest by the router it
reaches, `dispatching.hand_over`), the sweeper whatever stays pending a minute later; a
change with nothing sent, or something sent with no change, cannot happen. Sending is at
least once: an entry sent but not yet cleared is sent again, and consumers dedupe (events on
`event_id`; queue handlers read the request's state). Before sending, the dispatcher appends
the events (and the audit-only entries, `to_audit`) to the audit trail, once each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ulid import ULID

from chalicelib.domain.clock import iso_z
from chalicelib.domain.events import EventDetail
from chalicelib.domain.requests import RequestRecord
from chalicelib.observability import correlation_id

BUS = "bus"
QUEUE = "queue"
AUDIT = "audit"  # for the audit trail only: a change no domain event announces
AUDITED = (BUS, AUDIT)  # what the dispatcher appends to the audit trail before sending


def _correlated(entry: dict[str, Any]) -> dict[str, Any]:
    """The call's correlation id, which the audit trail keeps with the change."""
    current = correlation_id()
    return {**entry, "correlation_id": current} if current else entry


def to_bus(event: EventDetail) -> dict[str, Any]:
    return _correlated({"id": event.event_id, "to": BUS, **event.entry()})


def to_audit(action: str, request: RequestRecord, at: datetime, by: str) -> dict[str, Any]:
    """A change with no domain event (an acknowledgement, a question gone unanswered…), shaped
    as an event so the audit trail reads both alike; never put on the bus. `request` is the
    request as the change leaves it, `by` who acted (`states.Actor`)."""
    entry_id = str(ULID.from_datetime(at))
    detail = {
        "event_id": entry_id,
        "occurred_at": iso_z(at),
        "member_id": request.member_id,
        "request_id": request.request_id,
        "service": request.service,
        "status": request.status.value,
    }
    return _correlated(
        {"id": entry_id, "to": AUDIT, "detail_type": action, "detail": detail, "by": by}
    )


def to_queue(queue: str, now: datetime) -> dict[str, Any]:
    return {"id": str(ULID.from_datetime(now)), "to": QUEUE, "queue": queue}
