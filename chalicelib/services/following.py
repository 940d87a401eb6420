"""Following: what a member reads (the timeline, a request, its attachments, their documents)
and what an agent reads (a service's work list, a request with its files)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import clock
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
    """One month, or up to `limit` months older than `before`: one read of the calendar, then
    one Query per month that holds requests (concurrently). Filters keep whole months: a page
    is the same months, with only the requests that match."""
    months = uow.requests.request_months(member_id)
    if month is not None:
        page, more = ([month] if month in months else []), False
    else:
        remaining = [m for m in months if before is None or m < before]
        page, more = remaining[:limit], len(remaining) > limit
    found = {
        m: [
            r
            for r in requests
            if (status is None or r.status is status)
            and (request_type is None or r.type == request_type)
        ]
        for m, requests in uow.requests.months(member_id, page).items()
    }
    return TimelinePage(
        months=[(m, found[m]) for m in page if found[m]],
        last_month=page[-1] if more else None,
    )


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
