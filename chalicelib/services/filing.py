"""Filing a démarche: the upload tickets, the checks, the copies, the one transaction, and the
outbox that gets the request to the intake queue (now, or through the sweeper)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from ulid import ULID

from chalicelib.domain import clock
from chalicelib.domain import uploads as rules
from chalicelib.domain.errors import (
    AppError,
    Conflict,
    FieldError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.domain.requests import (
    Attachment,
    NamedIds,
    NewRequest,
    RequestDetail,
    body_fingerprint,
    check_against_contract,
    month_of,
    named_ids,
    new_record,
    new_request_id,
    parse_new_request,
)
from chalicelib.domain.uploads import Upload, UploadRequest
from chalicelib.observability import metric
from chalicelib.services.dispatching import HANDED_OVER_FOR, hand_over, hand_over_pending
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import keys
from chalicelib.store.dynamo import in_background, parallel_map
from chalicelib.store.files import Inspected
from chalicelib.store.requests import (
    DailyLimit,
    DailyLimitReached,
    FilingChecks,
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    RequestClosed,
    TransactionCanceled,
    UploadTaken,
)
from chalicelib.store.uploads import UPLOAD_RECORD_TTL, TooManyUnusedUploads

logger = logging.getLogger(__name__)

B = TypeVar("B")


@dataclass(frozen=True)
class Filed:
    """The filed request's detail; `replayed` when an earlier call with the same key made it."""

    request_id: str
    detail: dict[str, Any]
    replayed: bool = False
    written: bytes | None = None  # the detail as JSON, when already written (a new filing's)

    @property
    def answer(self) -> dict[str, Any] | bytes:
        """The answer's body: the detail, as JSON if it is already written."""
        return self.written if self.written is not None else self.detail


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
    next_form_end: datetime | None = None
    try:
        try:
            uow.uploads.record(upload, now, limit)
        except TooManyUnusedUploads as full:
            released, next_form_end = release_never_sent(uow, member_id, full.unused, now)
            if not released:
                raise
            uow.uploads.record(upload, now, limit)
    except TooManyUnusedUploads as full:
        metric("MemberLimitReached", limit="unused_uploads")
        # A place frees when the oldest ticket's record expires, or sooner when the form of a
        # ticket never sent expires (`release_never_sent`): the sooner of the two.
        frees_at = full.frees_at
        if next_form_end is not None:
            frees_at = min(frees_at, int(next_form_end.timestamp()))
        raise TooManyRequests(
            f"Vous avez déjà {limit} fichiers téléversés en attente : joignez-les à une "
            "démarche, ou attendez qu'ils expirent.",
            max(1, frees_at - int(now.timestamp())),
        ) from None
    return {
        "upload_id": upload.upload_id,
        "url": form["url"],
        "fields": form["fields"],
        "expires_at": clock.iso_z(now + timedelta(seconds=rules.UPLOAD_URL_SECONDS)),
        "max_size": upload.declared_size,
    }


# A presigned POST's form is refused past its expiry (`UPLOAD_URL_SECONDS`), give or take the
# clocks of the browser's and S3's hosts.
_FORM_CLOCK_MARGIN = timedelta(minutes=1)


def release_never_sent(
    uow: UnitOfWork, member_id: str, unused: Mapping[str, int], now: datetime
) -> tuple[int, datetime | None]:
    """The member's unused uploads whose form expired with no file sent can never be used: their
    places are given back. Each kept its place for its record's whole day, and a member whose
    sends failed on a weak connection (each attempt asks for new forms) was refused every
    attachment for a day. Read only when the member is at the limit: one listing of their
    staged files. Returns how many places were given back, and when the next one would be (the
    end of the form of the oldest ticket never sent yet; None when every ticket has its file)."""
    form_ended = now - timedelta(seconds=rules.UPLOAD_URL_SECONDS) - _FORM_CLOCK_MARGIN
    sent = uow.files.keys_under(keys.staged_prefix(member_id))
    never = {u: e for u, e in unused.items() if keys.staged_object(member_id, u) not in sent}
    expired = {u: e for u, e in never.items() if ULID.from_str(u).datetime < form_ended}
    if expired:
        uow.uploads.release(member_id, expired)
    waiting = [ULID.from_str(u).datetime for u in never if u not in expired]
    next_end = (
        min(waiting) + timedelta(seconds=rules.UPLOAD_URL_SECONDS) + _FORM_CLOCK_MARGIN
        if waiting
        else None
    )
    return len(expired), next_end


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

    # The reads start from the ids as sent (`named_ids`) while the pool validates the body and
    # makes the request's id: the validation then costs the call no time. The model has the
    # last word: a body it refuses is refused whatever was read (before a failed read's
    # error), and ids it reads otherwise are read again, as validated.
    named = named_ids(payload)
    parsing = in_background(lambda body: _parsed(body, today, now), [payload])
    try:
        checks, inspected = read_checks(uow, member_id, limit, named, idempotency_key, now)
    except BaseException as failure:
        [outcome] = parsing()
        if isinstance(failure, Exception) and isinstance(outcome, AppError):
            return _refused(uow, member_id, outcome, idempotency_key, fingerprint, now)
        raise
    [parsed] = parsing()
    if isinstance(parsed, Exception):
        # A retry with the same key answers the first result even if its body would no longer
        # pass (a care date grown too old since).
        if isinstance(parsed, ValidationFailed) and checks.previous is not None:
            return _replay(checks.previous, fingerprint)
        raise parsed
    new, request_id, month = cast(tuple[NewRequest, str, str], parsed)
    validated = NamedIds(new.beneficiary_ids, new.upload_ids)
    if checks.previous is None and validated != named:
        checks, inspected = read_checks(uow, member_id, limit, validated, idempotency_key, now)
    if checks.previous is not None:
        return _replay(checks.previous, fingerprint)
    refuse_when_full(checks.count, limit, now)
    chosen = check_against_contract(new, list(checks.beneficiaries.values()), today)
    if new.related_request_id is not None:
        _check_contested(uow, member_id, new.related_request_id)
    files = accepted_files(new.upload_ids, checks.uploads, inspected, now)

    def build() -> _Built:
        """The record, its detail (and its JSON, the answer's body) and its write, built while
        the files are copied (`copy_files`)."""
        record = new_record(new, member_id, chosen, now, attachments_of(files), request_id)
        detail = record.detail_dict()
        claim = (
            IdempotencyClaim(idempotency_key, fingerprint, detail)
            if idempotency_key is not None
            else None
        )
        commit = uow.requests.prepare_create(
            record,
            now,
            limit=limit,
            idempotency=claim,
            bank_iban=getattr(new.data, "iban", None),
            pending_from=now + HANDED_OVER_FOR,
        )
        return _Built(Filed(request_id, detail, written=record.detail_json()), commit)

    built = copy_files(uow, member_id, month, request_id, files, build)
    copies = copies_under(member_id, month, request_id, new.upload_ids)

    def filed() -> bool:
        return _exists(uow, member_id, request_id)

    try:
        with keeping_copies(uow, copies, new.upload_ids, filed):
            filed_outbox = built.commit()
    except DailyLimitReached:
        raise limit_reached(limit, now) from None
    except IdempotencyKeyTaken:
        assert idempotency_key is not None  # noqa: S101  # only raised when a claim was made
        return _replay(race_winner(uow, member_id, idempotency_key, now), fingerprint)
    except WriteLanded:
        # Written, its answer lost on the way: filed as asked, its pointer sent as it would
        # have been (read from the request: the write's own answer never came).
        hand_over_pending(uow, member_id, request_id)
        return built.filed
    # The pointer to intake; the router dispatches the rest, counts the request filed and removes
    # the staged uploads.
    hand_over(uow, member_id, request_id, filed_outbox)
    return built.filed


@dataclass(frozen=True)
class _Built:
    """A new request's answer and its write (`commit`), built before it is made."""

    filed: Filed
    commit: Callable[[], list[dict[str, Any]]]


_DAILY_LIMIT_MESSAGES = {
    "requests": "Vous avez déjà déposé {limit} démarches aujourd'hui : réessayez demain.",
    "replies": "Vous avez déjà envoyé {limit} réponses aujourd'hui : réessayez demain.",
    "exports": "Vous avez déjà demandé {limit} exports de vos données aujourd'hui : "
    "réessayez demain.",
}


def daily_limit(counted: str, limit: int, now: datetime) -> DailyLimit:
    """The count one more of `counted` (requests, replies) joins: today's, in Paris."""
    return DailyLimit(counted, clock.paris_date(now).isoformat(), limit)


def limit_reached(limit: DailyLimit, now: datetime) -> TooManyRequests:
    """A daily limit frees up at midnight, Paris time."""
    metric("MemberLimitReached", limit=f"{limit.counted}_per_day")
    message = _DAILY_LIMIT_MESSAGES[limit.counted].format(limit=limit.limit)
    return TooManyRequests(message, clock.seconds_until_next_day(now))


def refuse_when_full(count: int, limit: DailyLimit, now: datetime) -> None:
    """`count` of today's already at the limit: 429 until midnight, Paris time. An early look
    (`RequestRepository.checks`), before any file is copied; what holds the limit is the
    write's own condition (`RequestRepository.create`, `reply`)."""
    if count >= limit.limit:
        raise limit_reached(limit, now)


class WriteLanded(Exception):
    """A write whose answer was lost (a timeout, a 5xx after it reached DynamoDB) had been made:
    read back, it is there. The caller answers as if the answer had come."""


# Failures that say the write was not made: its transaction refused, or our own rules.
_NOT_WRITTEN = (DailyLimitReached, IdempotencyKeyTaken, TransactionCanceled, RequestClosed)


@contextmanager
def keeping_copies(
    uow: UnitOfWork,
    copies: Sequence[str],
    upload_ids: Sequence[str],
    written: Callable[[], bool],
    listed: Callable[[], Collection[str]] | None = None,
) -> Iterator[None]:
    """The files copied under a request stay only if the write that uses them commits: a
    failure that says it did not removes them (nothing half done); an upload another request
    took in the meantime is a 422 naming it. A failure that says nothing of the write (its
    answer lost: a timeout, a 5xx) is settled by reading it back (`written`): made, the files
    stay and `WriteLanded` is raised; not made, they go; the read failing too, they stay (an
    orphan copy costs storage; a file deleted that a request lists is a member's document lost)
    and the failure is raised. `listed`: for copies under a request other calls change (a
    reply's), the objects the request lists now, never removed (`remove_unlisted`)."""
    try:
        yield
    except UploadTaken as taken:
        remove_unlisted(uow, copies, listed)
        index = list(upload_ids).index(taken.upload_id)
        raise ValidationFailed(
            "Pièces jointes refusées.",
            [FieldError(f"upload_ids[{index}]", f"Pièce jointe {taken.upload_id} déjà utilisée.")],
        ) from None
    except _NOT_WRITTEN:
        remove_unlisted(uow, copies, listed)
        raise
    except AppError as error:
        if not isinstance(error, ServiceUnavailable):  # AWS's 5xx is one too: settled below
            remove_unlisted(uow, copies, listed)  # our own rules refused it: nothing written
            raise
        _settle(uow, copies, written, listed, error)
    except Exception as error:
        _settle(uow, copies, written, listed, error)


def _settle(
    uow: UnitOfWork,
    copies: Sequence[str],
    written: Callable[[], bool],
    listed: Callable[[], Collection[str]] | None,
    error: Exception,
) -> None:
    """After a failure that says nothing of the write: `WriteLanded` if it was made, its copies
    removed if it was not, kept if the read back fails too (then the caller raises `error`)."""
    try:
        made = written()
    except Exception:  # unknown: keep what the request may list
        logger.warning("write unknown after %s: its copies kept", type(error).__name__)
        raise error  # noqa: B904  # the write's failure is the answer, the read's its context
    if made:
        logger.info("write made, its answer lost (%s)", type(error).__name__)
        raise WriteLanded from error
    remove_unlisted(uow, copies, listed)
    raise error


def remove_unlisted(
    uow: UnitOfWork, copies: Sequence[str], listed: Callable[[], Collection[str]] | None
) -> None:
    """A call's copies removed, but those the request lists (`listed`, read now). A reply's
    files are copied under the request, each at its upload's own key: the same reply sent twice
    at once (a retry after a timeout, two tabs) copies them twice to the same keys, and the call
    that loses the write would remove the files the winner lists. None: a new request's copies,
    which no other call can list. The read failing, every copy is kept (an orphan costs
    storage; a deleted file a request lists is a member's document lost)."""
    if listed is not None:
        try:
            kept = set(listed())
        except Exception as error:
            logger.warning("copies kept: the request unreadable (%s)", type(error).__name__)
            return
        copies = [key for key in copies if key not in kept]
    uow.files.delete(copies)


def _exists(uow: UnitOfWork, member_id: str, request_id: str) -> bool:
    try:
        uow.requests.get(member_id, request_id, consistent=True)
    except NotFound:
        return False
    return True


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
    # A filing's record holds the detail of the request it filed; a reply's, kept under
    # `reply:<request>:<key>` (a key a filing may send too), holds the reply's message id.
    filing_record = record.response.get("request_id") == record.request_id
    if record.fingerprint != fingerprint or not filing_record:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour une autre demande.",
            [FieldError("Idempotency-Key", "Déjà utilisée avec un autre contenu.")],
        )
    # Through the model: the stored answer comes back from DynamoDB with Decimal numbers.
    detail = RequestDetail.model_validate(record.response).model_dump(mode="json")
    return Filed(record.request_id, detail, replayed=True)


def _parsed(payload: Any, today: date, now: datetime) -> tuple[NewRequest, str, str]:
    """What a body makes before anything is read: the request validated, its new id and its
    month (the month of the id, Paris time)."""
    new = parse_new_request(payload, today)
    request_id = new_request_id(now)
    return new, request_id, month_of(request_id)


def _refused(
    uow: UnitOfWork,
    member_id: str,
    refusal: AppError,
    idempotency_key: str | None,
    fingerprint: str,
    now: datetime,
) -> Filed:
    """The answer to a body the model refused when the reads begun with it failed: its
    refusal (a 400, a 422), whatever AWS does meanwhile; but a 422 under a key is first looked
    up alone, as before the reads began with the body: a retry whose first call was filed
    answers that call (the look-up failing too, its failure is the answer, and the client
    tries again rather than hearing that what it filed was refused)."""
    if isinstance(refusal, ValidationFailed) and idempotency_key is not None:
        previous = uow.requests.idempotency(member_id, idempotency_key, now)
        if previous is not None:
            return _replay(previous, fingerprint)
    raise refusal


def read_checks(
    uow: UnitOfWork,
    member_id: str,
    limit: DailyLimit,
    named: NamedIds,
    idempotency_key: str | None,
    now: datetime,
    request_id: str | None = None,
) -> tuple[FilingChecks, list[Inspected | Exception | None]]:
    """The reads a filing's or a reply's checks need, none depending on another: the
    beneficiaries and uploads named, the day's count, the key's record (and a reply's request)
    in one BatchGetItem (one round trip instead of four), while the pool reads the staged files
    (their keys need only the ids). Every read ends before anything is decided, the files'
    reads joined whatever the BatchGetItem does."""
    inspecting = start_inspecting(uow, member_id, named.upload_ids)
    try:
        checks = uow.requests.checks(
            member_id,
            limit,
            named.beneficiary_ids,
            named.upload_ids,
            idempotency_key,
            now,
            request_id=request_id,
        )
    finally:
        inspected = inspecting()
    return checks, inspected


def start_inspecting(
    uow: UnitOfWork, member_id: str, upload_ids: Sequence[str]
) -> Callable[[], list[Inspected | Exception | None]]:
    """Each staged file read once, on the shared pool, while the caller reads the records that
    say whether it may be used (a staged file's key needs only the member and the upload id):
    the join gives, in order, each file as read, None when absent, or the error reading it."""

    def inspect(upload_id: str) -> Inspected | None:
        return uow.files.inspect(keys.staged_object(member_id, upload_id), rules.MAX_FILE_BYTES)

    return in_background(inspect, upload_ids)


def accepted_files(
    upload_ids: Sequence[str],
    uploads: Mapping[str, Upload],
    inspected: Sequence[Inspected | Exception | None],
    now: datetime,
) -> list[Staged]:
    """Every upload named checked on its record (this member's, unexpired, unused) and on its
    file as read (present, within its declared size and 5 MB, its first bytes of its declared
    type), 15 MB in all; else a 422 naming every one refused. A file that could not be read
    fails the call as it failed."""
    files: list[Inspected | None] = []
    for found in inspected:
        if isinstance(found, Exception):
            raise found
        files.append(found)
    errors: list[FieldError] = []
    accepted: list[Staged] = []
    for index, (upload_id, found) in enumerate(zip(upload_ids, files, strict=True)):
        field = f"upload_ids[{index}]"
        upload = uploads.get(upload_id)
        if upload is None or upload.expires_at <= int(now.timestamp()):
            errors.append(FieldError(field, f"Pièce jointe {upload_id} inconnue ou expirée."))
        elif upload.used_by is not None:
            errors.append(FieldError(field, f"Pièce jointe {upload_id} déjà utilisée."))
        elif isinstance(checked := _checked_file(upload, found), str):
            errors.append(FieldError(field, f"Pièce jointe {upload_id}: {checked}"))
        else:
            accepted.append(checked)
    if sum(item.inspected.size for item in accepted) > rules.MAX_TOTAL_BYTES:
        errors.append(FieldError("upload_ids", "Les pièces jointes dépassent 15 Mo au total."))
    if errors:
        raise ValidationFailed("Pièces jointes refusées.", errors)
    return accepted


_BUILD = object()  # `copy_files`'s place for the work done while the files are copied


def copy_files(
    uow: UnitOfWork,
    member_id: str,
    month: str,
    request_id: str,
    files: Sequence[Staged],
    meanwhile: Callable[[], B],
    listed: Callable[[], Collection[str]] | None = None,
) -> B:
    """The accepted files (`accepted_files`) copied under the request, encrypted, the very bytes
    that were checked (their ETag), concurrently, while `meanwhile` (the write's building) runs
    on the pool: its result is returned. The first copy is made in the calling thread, so that
    `meanwhile` runs while the copies are in flight (the calling thread waits on the network,
    where the pool's threads would wait for it to give up the GIL): what it takes then costs
    the call no time. All or nothing: every copy and `meanwhile` end, and if one failed those
    made are removed (but those the request lists: `remove_unlisted`) and the first failure (a
    copy's, in the files' order, then `meanwhile`'s) is raised."""
    if not files:
        return meanwhile()

    def step(item: Staged | object) -> tuple[Exception | None, Any]:
        try:
            if isinstance(item, Staged):
                uow.files.copy(
                    keys.staged_object(member_id, item.upload.upload_id),
                    keys.attachment_object(member_id, month, request_id, item.upload.upload_id),
                    item.inspected.etag,
                    item.upload.content_type,
                    item.upload.filename,
                )
                return None, None
            return None, meanwhile()
        except Exception as error:  # the outcome: the other steps are waited for first
            return error, None

    outcomes = parallel_map(step, [files[0], _BUILD, *files[1:]])
    built = outcomes.pop(1)
    failures = [error for error, _ in outcomes]
    failure = next((error for error in failures if error is not None), built[0])
    if failure is not None:
        made = [item.upload.upload_id for item, error in zip(files, failures, strict=True)
                if error is None]  # fmt: skip
        remove_unlisted(uow, copies_under(member_id, month, request_id, made), listed)
        raise failure
    result: B = built[1]
    return result


def attachments_of(files: Sequence[Staged]) -> list[Attachment]:
    """What the request lists of its accepted files: each as checked, under its upload's id."""
    return [
        Attachment(
            attachment_id=item.upload.upload_id,
            filename=item.upload.filename,
            content_type=item.upload.content_type,
            size=item.inspected.size,
            sha256=item.inspected.sha256,
        )
        for item in files
    ]


def copies_under(
    member_id: str, month: str, request_id: str, upload_ids: Iterable[str]
) -> list[str]:
    """Where these uploads' files are copied, under their request."""
    return [keys.attachment_object(member_id, month, request_id, u) for u in upload_ids]


def _checked_file(upload: Upload, found: Inspected | None) -> Staged | str:
    """The file as read against its upload's record: accepted, or what is wrong with it."""
    if found is None:
        return "fichier non reçu (téléversement absent)."
    if found.size > min(upload.declared_size, rules.MAX_FILE_BYTES):
        return "fichier trop volumineux (5 Mo au plus, et pas plus que la taille annoncée)."
    if not rules.matches_signature(upload.content_type, found.head):
        return f"le contenu ne correspond pas au type déclaré ({upload.content_type})."
    return Staged(upload, found)
