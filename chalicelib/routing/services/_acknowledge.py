"""What the services that wait for an agent do by themselves: say they have the request."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import catalog
from chalicelib.domain.requests import RequestRecord
from chalicelib.store.requests import Transitions


def acknowledge(record: RequestRecord, now: datetime) -> None:
    service = catalog.Service(record.service)
    Transitions().acknowledge(
        record, f"Prise en charge par le {catalog.SERVICE_LABELS[service]}", now
    )
