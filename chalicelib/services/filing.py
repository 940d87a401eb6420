"""Filing a démarche: the upload tickets, the checks, the copies, the one transaction, and the
outbox that gets the request to the intake queue (now, or through the sweeper)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.domain import clock
from chalicelib.domain import uploads as rules
from chalicelib.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.domain.requests import (
    Attachment,
    RequestDetail,
    body_fingerprint,
    check_against_contract,
    month_of,
    new_record,
    new_request_id,
    parse_new_request,
)
from chalicelib.domain.uploads import Upload, UploadRequest
from chalicelib.observability import metric
from chalicelib.services.dispatching import hand_over
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import keys
from chalicelib.store.dynamo import in_background
from chalicelib.store.files import Inspected
from chalicelib.store.requests import (
    DailyLimit,
    DailyLimitReached,
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    UploadTaken,
)
from chalicelib.store.uploads import UPLOAD_RECORD_TTL, TooManyUnusedUploads

logger = logging.getLogger(__name__)

# A new request's outbox is handed to the router (`dispatching.hand_over`), which dispatches it
# with the routing's own: the sweeper steps in only if it is still pending this long after the
# filing (and its own minute), not while intake is merely busy. `make load`'s backlog on moto
# (10 minutes) had it send 687 filings again with 4 minutes; SQS keeps what was sent, so the
# sweeper is only for a pointer never sent (a crash, an SQS outage): a quarter of an hour late
# then, and on its service's work list meanwhile.
HANDED_OVER_FOR = timedelta(minutes=14)


@dataclass(frozen=True)
class Filed:
    """The filed request's detail; `replayed` when an earlier call with the same key made it."""

    request_id: str
    detail: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class Staged:
    upload: Upload
    inspected: Inspected


def create_upload(
    uow: UnitOfWork, member_id: str, wanted: UploadRequest, now: datetime
) -> dict[str, Any]:
    """A presigned POST for one file, and the record that lets a request use it later."""
    if wanted.content_type not in rules.SIGNATURES:
        raise UnsupportedMediaType(
            "Formats acceptés: PDF, JPEG, PNG, GIF.",
            [FieldError("content_type", "Format non accepté.")],
        )
    if wanted.size > rules.MAX_FILE_BYTES:
        raise PayloadTooLarge(
            "Un fichier ne peut dépasser 5 Mo.", [FieldError("size", "5 Mo au plus.")]
        )
    upload = Upload(
        upload_id=str(ULID.from_datetime(now)),
        member_id=member_id,
        filename=rules.display_filename(wanted.filename, wanted.content_type),
        content_type=wanted.content_type,
        declared_size=wanted.size,
        expires_at=int((now + UPLOAD_RECORD_TTL).timestamp()),
    )
    form = uow.files.presigned_post(
        keys.staged_object(member_id, upload.upload_id),
        upload.content_type,
        upload.declared_size,
        rules.UPLOAD_URL_SECONDS,
    )
    limit = uow.limits.unused_uploads
    try:
        uow.uploads.record(upload, now, limit)
    except TooManyUnusedUploads as full:
        metric("MemberLimitReached", limit="unused_uploads")
        raise TooManyRequests(
            f"Vous avez déjà {limit} fichiers téléversés en attente : joignez-les à une "
            "démarche, ou attendez qu'ils expirent.",
            full.frees_at - int(now.timestamp()),
        ) from None
    return {
        "upload_id": upload.upload_id,
        "url": form["url"],
        "fields": form["fields"],
        "expires_at": clock.iso_z(now + timedelta(seconds=rules.UPLOAD_URL_SECONDS)),
        "max_size": upload.declared_size,
    }


def file_request(
    uow: UnitOfWork, member_id: str, payload: Any, idempotency_key: str | None, now: datetime
) -> Filed:
    """Validate, check against the contract and the uploads, copy the files under the request,
    write it in one transaction, and send it on. With an `Idempotency-Key`, a repeat of the same
    body answers the first result; another body under the same key is a conflict."""
    # What a key's replay compares: only computed when there is a key.
    fingerprint = body_fingerprint(payload) if idempotency_key is not None else ""
    limit = daily_limit("requests", uow.limits.requests_per_day, now)
    today = clock.paris_date(now)
    # The reads the checks need depend on none of each other: the beneficiaries and uploads
    # named, the day's count and the key's record, in one BatchGetItem (one round trip instead
    # of four, and no thread to wait for). A body that does not parse costs no read but the
    # key's.
    try:
        new = parse_new_request(payload, today)
    except ValidationFailed:
        if idempotency_key is not None:
            previous = uow.requests.idempotency(member_id, idempotency_key, now)
            if previous is not None:
                return _replay(previous, fingerprint)
        raise
    checks = uow.requests.checks(
        member_id, limit, new.beneficiary_ids, new.upload_ids, idempotency_key, now
    )
    if checks.previous is not None:
        return _replay(checks.previous, fingerprint)
    refuse_when_full(checks.count, limit, now)
    chosen = check_against_contract(new, list(checks.beneficiaries.values()), today)
    if new.related_request_id is not None:
        _check_contested(uow, member_id, new.related_request_id)
    # The files' S3 calls start first; the record is built while they are in flight.
    request_id = new_request_id(now)
    attaching = start_attaching(
        uow, member_id, month_of(request_id), request_id, new.upload_ids, now, checks.uploads
    )
    try:
        record = new_record(new, member_id, chosen, now, request_id=request_id)
    except BaseException:
        attaching.abandon()
        raise
    record.attachments = attaching.finish()
    detail = record.detail_dict()
    claim = (
        IdempotencyClaim(idempotency_key, fingerprint, detail)
        if idempotency_key is not None
        else None
    )
    copies = copies_under(
        member_id, record.month, record.request_id, [a.attachment_id for a in record.attachments]
    )
    try:
        with keeping_copies(uow, copies, new.upload_ids):
            filed_outbox = uow.requests.create(
                record,
                now,
                limit=limit,
                idempotency=claim,
                bank_iban=getattr(new.data, "iban", None),
                pending_from=now + HANDED_OVER_FOR,
            )
    except DailyLimitReached:
        raise limit_reached(limit, now) from None
    except IdempotencyKeyTaken:
        assert idempotency_key is not None  # noqa: S101  # only raised when a claim was made
        return _replay(race_winner(uow, member_id, idempotency_key, now), fingerprint)
    # The pointer to intake; the router dispatches the rest, counts the request filed and removes
    # the staged uploads.
    hand_over(uow, member_id, record.request_id, filed_outbox)
    return Filed(record.request_id, detail)


_DAILY_LIMIT_MESSAGES = {
    "requests": "Vous avez déjà déposé {limit} démarches aujourd'hui : réessayez demain.",
    "replies": "Vous avez déjà envoyé {limit} réponses aujourd'hui : réessayez demain.",
}


def daily_limit(counted: str, limit: int, now: datetime) -> DailyLimit:
    """The count one more of `counted` (requests, replies) joins: today's, in Paris."""
    return DailyLimit(counted, clock.paris_date(now).isoformat(), limit)


def limit_reached(limit: DailyLimit, now: datetime) -> TooManyRequests:
    """A daily limit frees up at midnight, Paris time."""
    metric("MemberLimitReached", limit=f"{limit.counted}_per_day")
    message = _DAILY_LIMIT_MESSAGES[limit.counted].format(limit=limit.limit)
    return TooManyRequests(message, clock.seconds_until_next_day(now))


def check_room(uow: UnitOfWork, member_id: str, limit: DailyLimit, now: datetime) -> None:
    """Refuse early (one read) a member whose day is full, before any file is read or copied;
    what holds the limit is the write's own condition (`RequestRepository.create`, `reply`)."""
    refuse_when_full(uow.requests.day_count(member_id, limit), limit, now)


def refuse_when_full(count: int, limit: DailyLimit, now: datetime) -> None:
    """`count` of today's already at the limit: 429 until midnight, Paris time."""
    if count >= limit.limit:
        raise limit_reached(limit, now)


@contextmanager
def keeping_copies(
    uow: UnitOfWork, copies: Sequence[str], upload_ids: Sequence[str]
) -> Iterator[None]:
    """The files copied under a request stay only if the write that uses them commits: any
    failure removes them (nothing half done); an upload another request took in the meantime
    is a 422 naming it."""
    try:
        yield
    except UploadTaken as taken:
        uow.files.delete(copies)
        index = list(upload_ids).index(taken.upload_id)
        raise ValidationFailed(
            "Pièces jointes refusées.",
            [FieldError(f"upload_ids[{index}]", f"Pièce jointe {taken.upload_id} déjà utilisée.")],
        ) from None
    except BaseException:
        uow.files.delete(copies)
        raise


def _check_contested(uow: UnitOfWork, member_id: str, request_id: str) -> None:
    """A complaint may name the request it contests (only a complaint: the model's rule): one of
    the member's own."""
    field = "related_request_id"
    try:
        uow.requests.get(member_id, request_id)
    except NotFound:
        raise ValidationFailed(
            "La demande contestée est introuvable.",
            [FieldError(field, "Aucune de vos demandes ne porte ce numéro.")],
        ) from None


def race_winner(uow: UnitOfWork, member_id: str, key: str, now: datetime) -> IdempotencyRecord:
    """A concurrent call with the same key committed first: what it recorded, to answer as it
    did (409 if that record is already gone)."""
    previous = uow.requests.idempotency(member_id, key, now)
    if previous is None:
        raise Conflict("Requête concurrente en cours, réessayez.")
    return previous


def _replay(record: IdempotencyRecord, fingerprint: str) -> Filed:
    if record.fingerprint != fingerprint:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour une autre demande.",
            [FieldError("Idempotency-Key", "Déjà utilisée avec un autre contenu.")],
        )
    # Through the model: the stored answer comes back from DynamoDB with Decimal numbers.
    detail = RequestDetail.model_validate(record.response).model_dump(mode="json")
    return Filed(record.request_id, detail, replayed=True)


def start_attaching(
    uow: UnitOfWork,
    member_id: str,
    month: str,
    request_id: str,
    upload_ids: Sequence[str],
    now: datetime,
    uploads: Mapping[str, Upload] | None = None,
) -> Attaching:
    """Every upload checked (this member's, unused, present, within limits, of its declared
    type) and copied under the request, encrypted (`uploads`: their records, when already
    read): the files' work started on the shared pool (each file inspected then copied in one
    task, the files concurrently) while the caller does its own. `Attaching.finish` waits for
    them and gives the attachments, all or nothing (any problem removes the copies made, and
    the 422 names every upload refused); `Attaching.abandon` waits and removes the copies."""
    if uploads is None:
        uploads = uow.uploads.get_many(member_id, upload_ids)
    errors: list[FieldError] = []
    usable: dict[str, Upload] = {}
    for index, upload_id in enumerate(upload_ids):
        field = f"upload_ids[{index}]"
        upload = uploads.get(upload_id)
        if upload is None or upload.expires_at <= int(now.timestamp()):
            errors.append(FieldError(field, f"Pièce jointe {upload_id} inconnue ou expirée."))
        elif upload.used_by is not None:
            errors.append(FieldError(field, f"Pièce jointe {upload_id} déjà utilisée."))
        else:
            usable[field] = upload
    copying = not errors  # a request refused already: its files are only inspected

    def stage(upload: Upload) -> Staged | str:
        checked = _problem(uow, member_id, upload)
        if isinstance(checked, str) or not copying:
            return checked
        uow.files.copy(
            keys.staged_object(member_id, upload.upload_id),
            keys.attachment_object(member_id, month, request_id, upload.upload_id),
            checked.inspected.etag,
            upload.content_type,
            upload.filename,
        )
        return checked

    # Every task ends (a failure is its outcome) before anything is decided or undone.
    join = in_background(stage, list(usable.values()))
    return Attaching(uow, member_id, month, request_id, usable, errors, join)


@dataclass
class Attaching:
    """A request's files on their way under it (`start_attaching`)."""

    uow: UnitOfWork
    member_id: str
    month: str
    request_id: str
    usable: dict[str, Upload]  # by field, the uploads whose records allow them
    errors: list[FieldError]  # the uploads refused on their records alone
    join: Callable[[], list[Any]]

    def finish(self) -> list[Attachment]:
        """The attachments, once every file is done; else the copies made are removed and the
        first failure, or a 422 naming every upload refused, is raised."""
        results = self.join()
        staged = [r for r in results if isinstance(r, Staged)]
        errors = list(self.errors)
        for (field, upload), result in zip(self.usable.items(), results, strict=True):
            if isinstance(result, str):
                errors.append(FieldError(field, f"Pièce jointe {upload.upload_id}: {result}"))
        if sum(s.inspected.size for s in staged) > rules.MAX_TOTAL_BYTES:
            errors.append(FieldError("upload_ids", "Les pièces jointes dépassent 15 Mo au total."))
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if errors or failure is not None:
            self._remove(staged)
        if failure is not None:
            raise failure
        if errors:
            raise ValidationFailed("Pièces jointes refusées.", errors)
        return [
            Attachment(
                attachment_id=item.upload.upload_id,
                filename=item.upload.filename,
                content_type=item.upload.content_type,
                size=item.inspected.size,
                sha256=item.inspected.sha256,
            )
            for item in staged
        ]

    def abandon(self) -> None:
        """The request will not be written: wait for every file, remove the copies made."""
        self._remove([r for r in self.join() if isinstance(r, Staged)])

    def _remove(self, staged: list[Staged]) -> None:
        if self.errors:  # nothing was copied: the files were only inspected
            return
        ids = [s.upload.upload_id for s in staged]
        self.uow.files.delete(copies_under(self.member_id, self.month, self.request_id, ids))


def copies_under(
    member_id: str, month: str, request_id: str, upload_ids: Iterable[str]
) -> list[str]:
    """Where these uploads' files are copied, under their request."""
    return [keys.attachment_object(member_id, month, request_id, u) for u in upload_ids]


def _problem(uow: UnitOfWork, member_id: str, upload: Upload) -> Staged | str:
    limit = min(upload.declared_size, rules.MAX_FILE_BYTES)
    found = uow.files.inspect(keys.staged_object(member_id, upload.upload_id), limit)
    if found is None:
        return "fichier non reçu (téléversement absent)."
    if found.size > limit:
        return "fichier trop volumineux (5 Mo au plus, et pas plus que la taille annoncée)."
    if not rules.matches_signature(upload.content_type, found.head):
        return f"le contenu ne correspond pas au type déclaré ({upload.content_type})."
    return Staged(upload, found)
