"""The dispatcher: right after a change, what it recorded in the request's outbox goes out (its
events to the bus, its pointer to intake), its changes into the audit trail first; what fails
stays for the sweeper. Every use case that changes a request ends with `dispatch`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.requests import RequestPointer
from chalicelib.services.audit import record_changes
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import outbox
from chalicelib.store.audit import AuditUnavailable
from chalicelib.store.bus import EventsNotPut

logger = logging.getLogger(__name__)


def dispatch(
    uow: UnitOfWork,
    member_id: str,
    request_id: str,
    now: datetime,
    correlation: str | None = None,
    *,
    entries: list[dict[str, Any]] | None = None,
) -> bool:
    """Send what the request's outbox holds, then clear it. False (all of it still pending, for
    the sweeper) when a send fails: sent again later, at least once. `entries`: the outbox as
    the caller just wrote it in a new request (no read); by default it is read."""
    if entries is None:
        entries = uow.requests.outbox(member_id, request_id)
    if not entries:
        return True
    try:
        # Recorded before it is told: a crash after this leaves the entries pending, and the
        # next dispatch finds them already in the chain (deduplicated on their id).
        record_changes(uow, entries)
    except (ClientError, BotoCoreError, AuditUnavailable) as error:
        logger.warning("audit trail unavailable, left for the sweeper: %s %s", request_id,
                       type(error).__name__)  # fmt: skip
        return False
    try:
        events = [e for e in entries if e["to"] == outbox.BUS]
        if events:
            uow.bus.put(events)
        pointer = RequestPointer(request_id=request_id, member_id=member_id)
        for entry in entries:
            if entry["to"] == outbox.QUEUE:
                uow.queues.send(entry["queue"], pointer, correlation)
    except (ClientError, BotoCoreError, EventsNotPut) as error:
        logger.warning("send failed, left for the sweeper: %s %s", request_id, type(error).__name__)
        return False
    try:
        uow.requests.clear_outbox(member_id, request_id, entries, now)
    except (ClientError, BotoCoreError) as error:
        # Sent but still pending: the sweeper sends it again; consumers dedupe.
        logger.warning("clearing the outbox of %s failed: %s", request_id, type(error).__name__)
    return True
