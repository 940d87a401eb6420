"""The outbox: a filed request reaches the intake queue now, or the sweeper sends it later.

The request is written pending (sparse `gsi_pending` keys set) in the same transaction that
creates it. Sending the pointer and clearing the marker are two steps; if the process dies
between them the sweeper sends again, and the router's conditional update makes that harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.requests import RequestPointer
from chalicelib.store.queues import INTAKE, send_pointer
from chalicelib.store.requests import RequestRepository

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=1)


def dispatch(
    member_id: str, request_id: str, now: datetime, correlation: str | None = None
) -> bool:
    """Send the pointer to intake and clear the marker. False (and still pending) on failure."""
    try:
        pointer = RequestPointer(request_id=request_id, member_id=member_id)
        send_pointer(INTAKE, pointer, correlation)
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "intake send failed, left for the sweeper: %s %s", request_id, type(error).__name__
        )
        return False
    try:
        RequestRepository().mark_sent(member_id, request_id, now)
    except (ClientError, BotoCoreError) as error:
        # Sent but still marked: the sweeper sends it again and the router ignores the repeat.
        logger.warning("marking %s sent failed: %s", request_id, type(error).__name__)
    return True


def sweep(now: datetime) -> int:
    """Send what has been pending for over a minute. Returns how many were sent."""
    sent = 0
    for member_id, request_id, correlation in RequestRepository().pending_before(now - SWEEP_AFTER):
        if dispatch(member_id, request_id, now, correlation):
            sent += 1
    if sent:
        logger.info("sweeper sent %d pending requests", sent)
    return sent
