"""One handler per service queue, each in its own module: what the service does by itself.

The registry is data: a service's name maps to its module's `handle`. Each handler gets a
request still in progress and must be idempotent (a redelivery changes nothing, issues no
second letter): it relies on the conditional transitions and the one-letter-per-kind guard.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

from chalicelib.domain.catalog import Service
from chalicelib.domain.requests import RequestPointer, RequestRecord, Status
from chalicelib.store.requests import RequestRepository

ServiceHandler = Callable[[RequestRecord, datetime], None]


def handler_for(service: Service) -> ServiceHandler:
    handle: ServiceHandler = import_module(f"{__name__}.{service.value}").handle
    return handle


def serve(service: Service, pointer: RequestPointer, now: datetime | None = None) -> None:
    record = RequestRepository().get(pointer.member_id, pointer.request_id)
    if record.status is Status.processed:
        return  # a late duplicate: the request was already answered
    handler_for(service)(record, now or datetime.now(UTC))


def handle_service_queue(service: Service, event: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.routing.batch import process_batch

    return process_batch(event, lambda pointer: serve(service, pointer), f"svc_{service.value}")
