"""The relation_adherent service: acknowledges each request, then an agent decides."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.requests import RequestRecord
from chalicelib.routing.services._acknowledge import acknowledge


def handle(record: RequestRecord, now: datetime) -> None:
    acknowledge(record, now)
