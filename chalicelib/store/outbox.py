"""The outbox: what a change must send, kept on the request item in the same write as the change
(an `outbox` list, and the sparse `gsi_pending` keys while it is not empty).

An entry is either an event for the bus or a pointer for a queue. The dispatcher sends them
right after the change, the sweeper whatever stays pending a minute later; a change with nothing
sent, or something sent with no change, cannot happen. Sending is at least once: an entry sent
but not yet cleared is sent again, and consumers dedupe (events on `event_id`; queue handlers
read the request's state).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ulid import ULID

from chalicelib.domain.events import EventDetail

BUS = "bus"
QUEUE = "queue"


def to_bus(event: EventDetail) -> dict[str, Any]:
    return {"id": event.event_id, "to": BUS, **event.entry()}


def to_queue(queue: str, now: datetime) -> dict[str, Any]:
    return {"id": str(ULID.from_datetime(now)), "to": QUEUE, "queue": queue}
