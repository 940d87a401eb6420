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

# A timeline page's first read of the member's requests, per month it shows: most members file
# one or two a month (a month of more, or months filtered out, are read on, in wider reads).
REQUESTS_READ_PER_MONTH = 4


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
    """One month, or up to `limit` months older than `before` that hold requests: one Query of
    the member's requests by month, newest first, read until a request of the month after the
    page's last shows that more follow (or none is left). Filters keep whole months: a page is
    the `limit` newest months that hold a request that matches, with only those; months with
    none are read past, so a filtered page is never empty while older months hold a match.
    Requests past their retention are not read: no page is announced that holds nothing."""

    def matches(request: RequestSummary) -> bool:
        return (status is None or request.status is status) and (
            request_type is None or request.type == request_type
        )

    read = uow.requests.newest_first(
        member_id, month=month, before=before, first_read=REQUESTS_READ_PER_MONTH * limit + 1
    )
    page: list[tuple[str, list[RequestSummary]]] = []
    for request_month, request in read:
        if not matches(request):
            continue
        if not page or page[-1][0] != request_month:
            if len(page) == limit:  # a month past the page's: the next page starts there
                return TimelinePage(page, last_month=page[-1][0])
            page.append((request_month, []))
        page[-1][1].append(request)
    return TimelinePage(page, last_month=None)


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
