"""The router: each intake pointer goes to its service's queue, the routing recorded once, the
request's outbox dispatched (but the entry the pointer was sent for)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import clock
from chalicelib.routing.batch import SecondsLeft, process_pointers
from chalicelib.services.serving import route
from chalicelib.store.unit_of_work import unit_of_work


def handle_intake(event: dict[str, Any], seconds_left: SecondsLeft | None = None) -> dict[str, Any]:
    return process_pointers(
        event,
        lambda pointer, entry: route(unit_of_work(), pointer, clock.now(), delivered=entry),
        "router",
        seconds_left,
    )
