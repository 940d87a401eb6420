"""The router: each intake pointer goes to its service's queue, the routing recorded once."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import clock
from chalicelib.routing.batch import process_batch
from chalicelib.services.serving import route
from chalicelib.store.unit_of_work import unit_of_work


def handle_intake(event: dict[str, Any]) -> dict[str, Any]:
    return process_batch(
        event, lambda pointer: route(unit_of_work(), pointer, clock.now()), "router"
    )
