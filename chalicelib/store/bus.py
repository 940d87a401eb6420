"""EventBridge: the stage's bus, where the domain events go (`domain/events.py`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib import aws
from chalicelib.domain.clock import parse_timestamp
from chalicelib.domain.events import SOURCE
from chalicelib.settings import get_settings

MAX_ENTRIES = 10  # per PutEvents call


class EventsNotPut(Exception):
    """EventBridge refused some entries: they stay in the outbox, for the sweeper."""


class Bus:
    def put(self, entries: Sequence[dict[str, Any]]) -> None:
        """Put outbox entries (`store/outbox.to_bus`) on the bus, all or raise. Each is stamped
        with the moment of its change (the envelope's `time`, as `detail.occurred_at`), not
        of the put: the sweeper's are put a minute or a quarter of an hour later, and rules,
        archives and replays go by `time`."""
        bus = get_settings().event_bus_name
        client = aws.client("events")
        for start in range(0, len(entries), MAX_ENTRIES):
            batch = [
                {
                    "EventBusName": bus,
                    "Source": SOURCE,
                    "Time": parse_timestamp(entry["detail"]["occurred_at"]),
                    "DetailType": entry["detail_type"],
                    "Detail": json.dumps(entry["detail"], separators=(",", ":")),
                }
                for entry in entries[start : start + MAX_ENTRIES]
            ]
            answer = client.put_events(Entries=batch)
            if answer.get("FailedEntryCount", 0):
                raise EventsNotPut(f"{answer['FailedEntryCount']} of {len(batch)} events")
