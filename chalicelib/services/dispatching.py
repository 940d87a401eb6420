"""The dispatcher: right after a change, what it recorded in the request's outbox goes out (its
events to the bus, its pointer to intake), its changes into the audit trail first; what fails
stays for the sweeper.

A change a member or an agent makes on an API call whose outbox holds a pointer ends with
`hand_over`: the pointer goes out at once, and its consumer dispatches the rest (the audit
record and the event) with its own work: the router for a filing, a reply, a withdrawal or a
reclassification (sent to intake), the service's handler for an agent's question or decision
(which it renders the letter of). Every other change ends with `dispatch`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.requests import RequestPointer
from chalicelib.services.audit import record_changes
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import outbox
from chalicelib.store.audit import AuditUnavailable
from chalicelib.store.bus import EventsNotPut

logger = logging.getLogger(__name__)

# A change whose pointer is sent on the call (`hand_over`) leaves the rest of its outbox to the
# pointer's consumer (the router, or the service's handler), which dispatches it with its own
# work: the sweeper steps in only if it is still pending this long after the change (and its
# own minute), not while a queue is merely busy. `make load`'s backlog on moto (10 minutes) had
# it send 687 filings again with 4 minutes; SQS keeps what was sent, so the sweeper is only for
# a pointer never sent (a crash, an SQS outage): a quarter of an hour late then, and on its
# service's work list meanwhile.
HANDED_OVER_FOR = timedelta(minutes=14)


def dispatch(
    uow: UnitOfWork,
    member_id: str,
    request_id: str,
    now: datetime,
    correlation: str | None = None,
    *,
    delivered: str | None = None,
) -> bool:
    """Send what the request's outbox holds, then clear it. False (all of it still pending, for
    the sweeper) when a send fails: sent again later, at least once. `delivered`: the outbox
    entry whose message the caller is handling (a queue consumer): already sent, it is cleared
    with the rest but not sent again."""
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
        _send_pointers(uow, member_id, request_id, entries, correlation, delivered)
    except (ClientError, BotoCoreError, EventsNotPut) as error:
        logger.warning("send failed, left for the sweeper: %s %s", request_id, type(error).__name__)
        return False
    try:
        uow.requests.clear_outbox(member_id, request_id, entries, now)
    except (ClientError, BotoCoreError) as error:
        # Sent but still pending: the sweeper sends it again; consumers dedupe.
        logger.warning("clearing the outbox of %s failed: %s", request_id, type(error).__name__)
    return True


def hand_over(
    uow: UnitOfWork, member_id: str, request_id: str, entries: list[dict[str, Any]]
) -> bool:
    """A change's outbox entries (`entries`, as just written), handed to their consumer: only
    the pointers are sent, each naming its entry, and the consumer (the router, a service's
    handler) dispatches the rest (the audit record and the event, after the chain) and clears
    it all. Four calls fewer on the caller's request than `dispatch` (the audit trail's two,
    the bus's, the clearing), and no wait on the audit trail's chains. False when a send
    fails: the sweeper sends it all later (`HANDED_OVER_FOR`)."""
    try:
        _send_pointers(uow, member_id, request_id, entries)
    except (ClientError, BotoCoreError) as error:
        logger.warning("send failed, left for the sweeper: %s %s", request_id, type(error).__name__)
        return False
    return True


def hand_over_pending(uow: UnitOfWork, member_id: str, request_id: str) -> None:
    """A change asked again of a request it already changed (a retry after a call that timed
    out, or whose hand-over failed): what the first call left pending (its pointer, when its
    send failed) is handed over now, as it would have been, rather than left to the sweeper a
    quarter of an hour later; its consumer dispatches the rest once. With nothing pending, one
    consistent read and no send."""
    pending = uow.requests.outbox(member_id, request_id)
    if pending:
        hand_over(uow, member_id, request_id, pending)


def _send_pointers(
    uow: UnitOfWork,
    member_id: str,
    request_id: str,
    entries: list[dict[str, Any]],
    correlation: str | None = None,
    delivered: str | None = None,
) -> None:
    """The outbox's pointers to their queues, each naming its entry; not `delivered`'s."""
    pointer = RequestPointer(request_id=request_id, member_id=member_id)
    for entry in entries:
        if entry["to"] == outbox.QUEUE and entry["id"] != delivered:
            uow.queues.send(entry["queue"], pointer, correlation, entry["id"])
