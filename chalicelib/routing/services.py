"""One handler per service queue: decode each pointer, then the service does by itself what its
type's registry entry says (`services/serving.serve`)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.catalog import Service
from chalicelib.routing.batch import SecondsLeft, process_pointers
from chalicelib.services.serving import serve
from chalicelib.store.unit_of_work import unit_of_work


def handle_service_queue(
    service: Service, event: dict[str, Any], seconds_left: SecondsLeft | None = None
) -> dict[str, Any]:
    return process_pointers(
        event,
        lambda pointer, entry: serve(unit_of_work(), pointer, clock.now(), delivered=entry),
        f"svc_{service.value}",
        seconds_left,
    )
