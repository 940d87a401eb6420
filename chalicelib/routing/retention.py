"""Scheduled every 15 minutes (`retention_purge`): the files whose retention ended are deleted
(`docs/retention.md`), as many purge entries as the run's time allows; the next run resumes
where it stopped. Its own function, out of the daily watch: a national day's purges (about
170,000 entries) take far longer than one invocation may run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain import clock
from chalicelib.observability import correlated
from chalicelib.services.retention import PurgeRun, purge_due
from chalicelib.store.unit_of_work import unit_of_work


def purge(time_left: Callable[[], float], now: datetime | None = None) -> PurgeRun:
    """`time_left()`: the seconds the invocation has left (Lambda's context says it)."""
    with correlated(None, function="retention_purge"):
        return purge_due(unit_of_work(), now or clock.now(), time_left)
