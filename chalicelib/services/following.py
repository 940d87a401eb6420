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
    the same months, with only the requests that match.

    The calendar keeps a month whose requests have all expired (5 years after their closing):
    read empty, it is skipped, the page reads on to fill itself, and it leaves the calendar
    (`_forget_expired`), so that no page is announced that holds nothing."""
    months = uow.requests.request_months(member_id)
    read: dict[str, list[RequestSummary]] = {}
    if month is not None:
        read = uow.requests.months(member_id, [month] if month in months else [])
        page, more = [m for m in read if read[m]], False
    else:
        remaining = [m for m in months if before is None or m < before]
        page = []
        while remaining and len(page) < limit:
            batch, remaining = remaining[: limit - len(page)], remaining[limit - len(page) :]
            found = uow.requests.months(member_id, batch)
            read.update(found)
            page += [m for m in batch if found[m]]
        more = bool(remaining)
    _forget_expired(uow, member_id, read)
    shown = {
        m: [
            r
            for r in read[m]
            if (status is None or r.status is status)
            and (request_type is None or r.type == request_type)
        ]
        for m in page
    }
    return TimelinePage(
        months=[(m, shown[m]) for m in page if shown[m]],
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
