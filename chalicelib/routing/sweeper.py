"""Scheduled every minute: sends to intake what was filed but never reached it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain import clock
from chalicelib.observability import correlated
from chalicelib.services.sweeping import sweep_outbox
from chalicelib.store.unit_of_work import unit_of_work


def sweep_pending(
    now: datetime | None = None, seconds_left: Callable[[], float] | None = None
) -> int:
    with correlated(None, function="outbox_sweeper"):
        return sweep_outbox(unit_of_work(), now or clock.now(), seconds_left or clock.no_deadline)
