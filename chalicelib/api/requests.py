"""Requests: file a démarche, follow the timeline, open a request's detail."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Response

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.schemas import DownloadLink, Timeline, TimelineMonth
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.demarches import PARIS
from chalicelib.domain.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.requests import (
    RequestDetail,
    RequestRecord,
    Status,
    body_fingerprint,
    check_against_contract,
    new_record,
    parse_new_request,
)
from chalicelib.observability import metric
from chalicelib.settings import get_settings
from chalicelib.store import keys, outbox, uploads
from chalicelib.store.members import MemberRepository
from chalicelib.store.requests import (
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    RequestRepository,
    UploadTaken,
)

blueprint = ApiBlueprint(__name__)

DEFAULT_MONTHS_PER_PAGE = 6
MAX_MONTHS_PER_PAGE = 12


def _now() -> datetime:
    return datetime.now(UTC)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour une autre demande.",
            [FieldError("Idempotency-Key", "Déjà utilisée avec un autre contenu.")],
        )
    # Through the model: the stored answer comes back from DynamoDB with Decimal numbers.
    answer = RequestDetail.model_validate(record.response).model_dump(mode="json")
    return json_response(
        answer,
        201,
        {"Location": f"/requests/{record.request_id}", "Idempotent-Replayed": "true"},
    )


@blueprint.route("/requests", methods=["POST"])
def file_request() -> Response:
    member_id = current_member_id()
    http = blueprint.current_request
    payload = body.json_body(http)
    key = body.idempotency_key(http)
    now = _now()
    repository = RequestRepository()
    fingerprint = body_fingerprint(payload)
    if key is not None and (previous := repository.idempotency(member_id, key, now)):
        return _replay(previous, fingerprint)

    today = now.astimezone(PARIS).date()
    new = parse_new_request(payload, today)
    chosen = check_against_contract(new, MemberRepository().beneficiaries(member_id), today)
    staged = uploads.check_uploads(member_id, new.upload_ids, now)
    record = new_record(new, member_id, chosen, now)
    record.attachments = uploads.copy_to_request(member_id, record.month, record.request_id, staged)
    detail = record.detail().model_dump(mode="json")
    claim = IdempotencyClaim(key, fingerprint, detail) if key is not None else None
    bank_iban = getattr(new.data, "iban", None)
    copies = [_attachment_object(record, a.attachment_id) for a in record.attachments]
    try:
        repository.create(record, now, idempotency=claim, bank_iban=bank_iban)
    except IdempotencyKeyTaken:
        uploads.delete_objects(copies)
        # A concurrent call with the same key won the race: answer as it did.
        assert key is not None  # noqa: S101  # only raised when a claim was made
        previous = repository.idempotency(member_id, key, now)
        if previous is None:
            raise Conflict("Requête concurrente en cours, réessayez.") from None
        return _replay(previous, fingerprint)
    except UploadTaken as taken:
        uploads.delete_objects(copies)
        index = new.upload_ids.index(taken.upload_id)
        raise ValidationFailed(
            "Pièces jointes refusées.",
            [FieldError(f"upload_ids[{index}]", f"Pièce jointe {taken.upload_id} déjà utilisée.")],
        ) from None
    except BaseException:
        uploads.delete_objects(copies)
        raise
    uploads.delete_objects(
        [keys.staged_object(member_id, a.attachment_id) for a in record.attachments]
    )

    metric("RequestsFiled", type=record.type)
    outbox.dispatch(member_id, record.request_id, now)
    return json_response(detail, 201, {"Location": f"/requests/{record.request_id}"})


@blueprint.route("/requests", methods=["GET"])
def timeline() -> Response:
    member_id = current_member_id()
    params = body.query(blueprint.current_request, {"cursor", "month", "limit"})
    month = body.month_param(params)
    limit = body.int_param(params, "limit", DEFAULT_MONTHS_PER_PAGE, 1, MAX_MONTHS_PER_PAGE)
    before = _cursor_month(params.get("cursor"), member_id)
    if month is not None and before is not None:
        raise BadRequest("« month » et « cursor » ne se combinent pas.")

    repository = RequestRepository()
    months = repository.request_months(member_id)
    if month is not None:
        page, more = ([month] if month in months else []), False
    else:
        remaining = [m for m in months if before is None or m < before]
        page, more = remaining[:limit], len(remaining) > limit
    found = repository.months(member_id, page)
    answer = Timeline(
        months=[TimelineMonth(month=m, requests=found[m]) for m in page if found[m]],
        next_cursor=_cursor_after(page[-1], member_id) if more else None,
    )
    return json_response(answer.model_dump(mode="json"))


@blueprint.route("/requests/{request_id}", methods=["GET"])
def request_detail(request_id: str) -> Response:
    record = RequestRepository().get(current_member_id(), request_id)
    return json_response(record.detail().model_dump(mode="json"))


@blueprint.route("/requests/{request_id}/attachments/{attachment_id}", methods=["GET"])
def download_attachment(request_id: str, attachment_id: str) -> Response:
    record = RequestRepository().get(current_member_id(), request_id)
    return json_response(attachment_download(record, attachment_id).model_dump(mode="json"))


def attachment_download(record: RequestRecord, attachment_id: str) -> DownloadLink:
    """A presigned GET, while the request is in progress (the portal then shows the recall)."""
    attachment = next((a for a in record.attachments if a.attachment_id == attachment_id), None)
    if attachment is None:
        raise NotFound("Pièce jointe introuvable.")
    if record.status is Status.processed:
        raise Conflict("La demande est traitée: ses pièces jointes ne sont plus consultables.")
    link = uploads.presigned_download(
        _attachment_object(record, attachment_id),
        attachment.filename,
        attachment.content_type,
        _now(),
    )
    return DownloadLink.model_validate(link)


def _attachment_object(record: RequestRecord, attachment_id: str) -> str:
    return keys.attachment_object(record.member_id, record.month, record.request_id, attachment_id)


def _cursor_after(month: str, member_id: str) -> str:
    return encode_cursor({"before": month, "member": member_id}, get_settings().cursor_secret)


def _cursor_month(cursor: str | None, member_id: str) -> str | None:
    if cursor is None:
        return None
    payload = decode_cursor(cursor, get_settings().cursor_secret)
    before = payload.get("before")
    if payload.get("member") != member_id or not isinstance(before, str):
        raise BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
    return before
