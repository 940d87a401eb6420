"""The router: each intake pointer goes to its service's queue, the routing recorded once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain import catalog
from chalicelib.domain.requests import RequestPointer
from chalicelib.observability import metric
from chalicelib.store.queues import send_pointer, service_queue
from chalicelib.store.requests import RequestRepository, Transitions

logger = logging.getLogger(__name__)


def route(pointer: RequestPointer, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    record = RequestRepository().get(pointer.member_id, pointer.request_id)
    service = catalog.service_for(record.type, complaint=record.complaint)
    label = f"Transmise au {catalog.SERVICE_LABELS[service]}"
    if Transitions().route(record, service.value, label, now):
        metric("RequestsRouted", Service=service.value)
        logger.info("request %s routed to %s", record.request_id, service.value)
    # Sent again on a redelivery too: if the last attempt died after recording the routing,
    # this is what gets the request to its service; the service ignores a repeat.
    send_pointer(service_queue(service.value), pointer)
    return service.value


def handle_intake(event: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.routing.batch import process_batch

    return process_batch(event, route, "router")
