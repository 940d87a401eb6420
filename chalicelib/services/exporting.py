"""A member's export of their data: asked for by the member, built from the `exports` queue,
downloaded through a link that lives 24 hours.

The zip holds what the member's own routes answer, from the same views: `profile.json` and
`beneficiaries.json` as `GET /me` and `GET /me/beneficiaries`, `requests.json` as `GET
/requests/{id}` for every request (IBANs masked), the letters' PDFs, the attachments still
held, and a `README.txt` in French. It is written to a temporary file, one entry at a time and
each file a megabyte at a time, so a big member never sits in the function's memory.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from ulid import ULID

from chalicelib.domain import clock
from chalicelib.domain.documents import pdf_filename
from chalicelib.domain.errors import ExportBuilding, NotFound, ServiceUnavailable
from chalicelib.domain.exports import (
    ExportAnswer,
    ExportPointer,
    ExportRecord,
    ExportStatus,
    archive_name,
    attachment_entry,
    letter_entry,
    readme,
)
from chalicelib.domain.members import BeneficiariesAnswer, MeAnswer
from chalicelib.domain.requests import RequestDetail, month_of
from chalicelib.observability import metric
from chalicelib.services import following
from chalicelib.services.filing import daily_limit, limit_reached
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import keys
from chalicelib.store.requests import DailyLimitReached

logger = logging.getLogger(__name__)

# Every letter the member was sent, not only the 24 months « Mes courriers » offers at most.
ALL_TIME = "1970-01-01"
TIMELINE_PAGE = 12


def start_export(uow: UnitOfWork, member_id: str, now: datetime) -> ExportAnswer:
    """A new export, building; 409 naming the other one while another of the member's exports
    builds; 429 once the member asked for `exports_per_day` today (each export reads and
    copies every file the member has: the heaviest call of the API)."""
    record = ExportRecord.new(member_id, str(ULID.from_datetime(now)), now)
    limit = daily_limit("exports", uow.limits.exports_per_day, now)
    try:
        building = uow.exports.start(record, now, limit)
    except DailyLimitReached:
        raise limit_reached(limit, now) from None
    if building is not None:
        raise ExportBuilding(building)
    try:
        uow.exports.send(ExportPointer(member_id=member_id, export_id=record.export_id))
    except Exception as error:
        # Not left building for hours with nothing to build it: ended (its place of the day
        # given back), the member may retry.
        uow.exports.abandon(record, limit)
        raise ServiceUnavailable("Export momentanément indisponible, réessayez.") from error
    logger.info("export %s asked", record.export_id)
    return view(uow, record, now)


def export_status(uow: UnitOfWork, member_id: str, export_id: str, now: datetime) -> ExportAnswer:
    """One of the member's exports (another member's is not found, as one that does not exist)."""
    if len(export_id) != 26:
        raise NotFound("Export introuvable.")
    return view(uow, uow.exports.get(member_id, export_id.upper()), now)


def view(uow: UnitOfWork, record: ExportRecord, now: datetime) -> ExportAnswer:
    status = record.status_at(now)
    ends = record.link_ends()
    url = None
    if status is ExportStatus.ready and ends is not None and record.object_key:
        url = uow.exports.link(record.object_key, now, ends)
    return ExportAnswer(
        export_id=record.export_id,
        status=status,
        url=url,
        expires_at=clock.iso_z(ends) if ends is not None else None,
    )


def build_export(uow: UnitOfWork, pointer: ExportPointer, now: datetime) -> bool:
    """Build the zip once, whatever the deliveries: False when there is nothing to do (ready
    already, abandoned, gone, or another delivery building it right now)."""
    try:
        record = uow.exports.get(pointer.member_id, pointer.export_id)
    except NotFound:
        logger.warning("export %s: no such export", pointer.export_id)
        return False
    if record.status is not ExportStatus.building:
        return False
    if not uow.exports.claim(record.member_id, record.export_id, now):
        logger.info("export %s: ready, abandoned or building elsewhere", record.export_id)
        return False
    key = keys.export_object(record.member_id, record.export_id)
    with tempfile.TemporaryFile() as spool:
        write_archive(uow, record.member_id, spool, now)
        size = spool.tell()
        spool.seek(0)
        uow.exports.store(key, spool, archive_name(clock.paris_date(now)))
    finished = uow.exports.finish(record, key, size, now)
    if finished:
        logger.info("export %s ready", record.export_id)
        metric("ExportsBuilt")
    return finished


def member_requests(uow: UnitOfWork, member_id: str) -> list[RequestDetail]:
    """Every request of the member, newest first, as `GET /requests/{id}` answers each."""
    details: list[RequestDetail] = []
    before: str | None = None
    while True:
        page = following.timeline(uow, member_id, month=None, before=before, limit=TIMELINE_PAGE)
        for _month, summaries in page.months:
            details += [uow.requests.get(member_id, s.request_id).detail() for s in summaries]
        if page.last_month is None:
            return details
        before = page.last_month


def write_archive(uow: UnitOfWork, member_id: str, archive: IO[bytes], now: datetime) -> None:
    """The zip, written to `archive` entry by entry."""
    stamp = now.astimezone(clock.PARIS).timetuple()[:6]

    def entry(name: str, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return info

    def write_json(name: str, payload: Any) -> None:
        text = json.dumps(payload, ensure_ascii=False, indent=2)
        zf.writestr(entry(name, True), text.encode("utf-8"))

    def copy(name: str, chunks: Iterable[bytes]) -> None:
        with zf.open(entry(name, False), "w", force_zip64=True) as target:
            for chunk in chunks:
                target.write(chunk)

    with zipfile.ZipFile(archive, "w") as zf:
        write_json("profile.json", MeAnswer.of(uow.members.get(member_id)).model_dump(mode="json"))
        beneficiaries = BeneficiariesAnswer.of(uow.members.beneficiaries(member_id))
        write_json("beneficiaries.json", beneficiaries.model_dump(mode="json"))
        details = member_requests(uow, member_id)
        write_json("requests.json", {"requests": [d.model_dump(mode="json") for d in details]})

        letters = 0
        for summary in uow.documents.since(member_id, ALL_TIME):
            record = uow.documents.get(member_id, summary.document_id)
            chunks = uow.exports.read(uow.documents.object_key(record))
            if chunks is None:
                continue
            name = pdf_filename(summary.title, summary.created_at)
            copy(letter_entry(summary.document_id, name), chunks)
            letters += 1

        held = gone = 0
        for detail in details:
            for attachment in detail.attachments:
                month = month_of(detail.request_id)
                key = keys.attachment_object(
                    member_id, month, detail.request_id, attachment.attachment_id
                )
                chunks = uow.exports.read(key)
                if chunks is None:
                    gone += 1
                    continue
                name = attachment_entry(
                    detail.request_id, attachment.attachment_id, attachment.filename
                )
                copy(name, chunks)
                held += 1

        text = readme(
            clock.paris_date(now),
            requests=len(details),
            letters=letters,
            attachments=held,
            attachments_gone=gone,
            attachments_purged=sum(1 for d in details if d.attachments_deleted_at is not None),
        )
        zf.writestr(entry("README.txt", True), text.encode("utf-8"))
