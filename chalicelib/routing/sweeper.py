"""Scheduled every minute: sends to intake what was filed but never reached it."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.store import outbox


def sweep_pending(now: datetime | None = None) -> int:
    from chalicelib.observability import correlated

    with correlated(None, function="outbox_sweeper"):
        return outbox.sweep(now or datetime.now(UTC))
