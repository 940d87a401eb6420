"""Following: what a member reads (the timeline, a request, its attachments, their documents)
and what an agent reads (a service's work list, a request with its files)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import clock, retention
from chalicelib.domain import documents as document_rules
from chalicelib.domain.documents import DocumentSummary
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.requests import RequestRecord, RequestSummary, Status
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import keys
from chalicelib.store.documents import PDF

FILTERED_MONTHS_AT_ONCE = 8  # the shared pool's threads: one round trip


@dataclass(frozen=True)
class TimelinePage:
    months: list[tuple[str, list[RequestSummary]]]  # newest first, months with requests only
    last_month: str | None  # the page's oldest month when more follow: where the next starts


def timeline(
    uow: UnitOfWork,
    member_id: str,
    *,
    month: str | None,
    before: str | None,
    limit: int,
    status: Status | None = None,
    request_type: str | None = None,
) -> TimelinePage:
    """One month, or up to `limit` months older than `before` that hold requests: one read of
    the calendar, then one Query per month (concurrently). Filters keep whole months: a page is
    the `limit` newest months that hold a request that matches, with only those; months with
    none are read past (a filtered page is never empty while older months hold a match), in
    reads of at least `FILTERED_MONTHS_AT_ONCE` months after the first.

    The calendar keeps a month whose requests have all expired (5 years after their closing):
    read empty, it is skipped, the page reads on to fill itself, and it leaves the calendar
    (`_forget_expired`), so that no page is announced that holds nothing."""

    def matches(request: RequestSummary) -> bool:
        return (status is None or request.status is status) and (
            request_type is None or request.type == request_type
        )

    months = uow.requests.request_months(member_id)
    read: dict[str, list[RequestSummary]] = {}
    if month is not None:
        read = uow.requests.months(member_id, [month] if month in months else [])
        page, more = [m for m in read if any(map(matches, read[m]))], False
    else:
        remaining = [m for m in months if before is None or m < before]
        page = []
        while remaining and len(page) < limit:
            wanted = limit - len(page)
            # The first read is the page's own months; a later one follows months that held
            # nothing to show (expired, or filtered out), likely more of them: wider reads.
            size = max(wanted, FILTERED_MONTHS_AT_ONCE) if read else wanted
            batch, remaining = remaining[:size], remaining[size:]
            found = uow.requests.months(member_id, batch)
            read.update(found)
            page += [m for m in batch if any(map(matches, found[m]))]
        # A wider read may find more months than the page holds: the next page reads them again.
        more = bool(remaining) or len(page) > limit
        page = page[:limit]
    _forget_expired(uow, member_id, read)
    return TimelinePage(
        months=[(m, [r for r in read[m] if matches(r)]) for m in page],
        last_month=page[-1] if more and page else None,
    )


def _forget_expired(uow: UnitOfWork, member_id: str, read: dict[str, list[RequestSummary]]) -> None:
    """Months read empty that no request can be in any more: older than the longest a closed
    request is kept (a newer month read empty may only not show a request filed a moment ago:
    the Query is eventually consistent)."""
    empty = [m for m, requests in read.items() if not requests]
    if not empty:
        return
    today = clock.paris_date(clock.now())
    horizon = f"{today.year - retention.CLOSED_REQUEST_YEARS:04d}-{today.month:02d}"
    gone = [m for m in empty if m < horizon]
    if gone:
        uow.requests.forget_months(member_id, gone)


def attachment_link(
    uow: UnitOfWork, record: RequestRecord, attachment_id: str, now: datetime, *, agent: bool
) -> dict[str, str]:
    """A presigned GET of one attachment. A member sees them while the request is in progress
    (the portal then shows the recall); an agent always."""
    attachment_id = attachment_id.upper()  # a ULID, in either case (the request's id too)
    attachment = next((a for a in record.attachments if a.attachment_id == attachment_id), None)
    if attachment is None:
        raise NotFound("Pièce jointe introuvable.")
    if not agent and not record.is_open():
        closed = "retirée" if record.status is Status.withdrawn else "traitée"
        raise Conflict(f"La demande est {closed}: ses pièces jointes ne sont plus consultables.")
    key = keys.attachment_object(record.member_id, record.month, record.request_id, attachment_id)
    return uow.files.presigned_download(key, attachment.content_type, now)


def documents(uow: UnitOfWork, member_id: str, months: int, now: datetime) -> list[DocumentSummary]:
    """The member's documents of the last `months` months (Paris dates), newest first."""
    cutoff = document_rules.window_start(clock.paris_date(now), months)
    return uow.documents.since(member_id, cutoff.isoformat())


def document_link(
    uow: UnitOfWork, member_id: str, document_id: str, now: datetime
) -> dict[str, str]:
    record = uow.documents.get(member_id, document_id)
    return uow.files.presigned_download(uow.documents.object_key(record), PDF, now)


def work_list(
    uow: UnitOfWork, service: str, state: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[RequestRecord], dict[str, Any] | None]:
    """A service's requests, urgent first, then oldest first."""
    return uow.transitions.work_list(service, state, limit, start)
