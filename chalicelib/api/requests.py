"""Requests: file a démarche, follow the timeline, open a request's detail."""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import Response

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.queries import TimelineQuery
from chalicelib.api.route_docs import (
    MEMBERS_ONLY,
    REPLIES_PER_DAY,
    REQUESTS_PER_DAY,
    request_types_table,
)
from chalicelib.api.schemas import DownloadLink, Timeline, TimelineMonth
from chalicelib.domain import clock
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, FieldError
from chalicelib.domain.requests import RequestDetail, new_request_adapter
from chalicelib.domain.states import Status
from chalicelib.services import dialogue, filing, following
from chalicelib.settings import get_settings
from chalicelib.store.unit_of_work import unit_of_work

blueprint = ApiBlueprint(__name__)


@blueprint.route(
    "/requests",
    methods=["POST"],
    tag="requests",
    answer=RequestDetail,
    status=201,
    answer_description="Filed (or, with an `Idempotency-Key` already used with the same body, "
    "the first answer replayed): the request's detail.",
    answer_headers=("Location", "Idempotent-Replayed"),
    body=new_request_adapter,
    body_name="NewRequest",
    examples={
        "justificatif": {
            "type": "sante.justificatif",
            "beneficiary_ids": ["0012345601-01"],
            "description": "Pharmacie du 2 novembre",
            "data": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"},
            "upload_ids": ["01JC9ZP7Q8W3Y5V2N4M6K8H0GF"],
            "complaint": False,
        }
    },
    headers=(body.IDEMPOTENCY_KEY,),
    errors={
        400: "Malformed JSON, not an object, an unknown or server-owned field, or an invalid "
        "`Idempotency-Key`.",
        403: MEMBERS_ONLY,
        409: "This `Idempotency-Key` was used with another body (or a call with the same key is "
        "still in progress: retry).",
        422: "The body breaks a rule: unknown `type`, a field of `data`, a beneficiary not on "
        "the contract, an upload unknown, expired, used, missing or not what it declared; "
        "`fields` names each one.",
        429: f"The member filed {REQUESTS_PER_DAY} démarches today (Paris time): "
        "`Retry-After` is midnight. A replay of an `Idempotency-Key` is answered all the same.",
    },
    appendix=request_types_table,
)
def file_request() -> Response:
    """File a démarche.

    The body is one of the variants of the table below, chosen by `type`; each variant's `data`
    is validated against its type's schema (also published by `GET /catalog`).

    - `beneficiary_ids`: at least one, each a beneficiary of the member's contract;
      `vie.prolongation_droits_enfant` takes only children aged 18 or more, its `until`
      after the child's current coverage end (`GET /me/beneficiaries`), else 422.
    - `complaint`: only on `contact.demande`; true files a complaint (label « Réclamation »)
      and sends it to the complaints service.
    - `upload_ids`: uploads of this member (`POST /uploads`), uploaded, each used once; 5 at
      most, 15 MB in all, each file's first bytes matching its declared type.
    - Fields the server owns (`status`, `member_id`, `created_at`, …) and unknown fields are
      refused with 400.
    - `Idempotency-Key`: the same key with the same body within 24 hours answers the first 201
      again (with `Idempotent-Replayed: true`) and files nothing; the same key with another
      body answers 409.
    """
    http = blueprint.current_request
    filed = filing.file_request(
        unit_of_work(),
        current_member_id(),
        body.json_body(http),
        body.idempotency_key(http),
        clock.now(),
    )
    headers = {"Location": f"/requests/{filed.request_id}"}
    if filed.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(filed.answer, 201, headers)


@blueprint.route(
    "/requests",
    methods=["GET"],
    tag="requests",
    answer=Timeline,
    query=TimelineQuery,
    errors={
        400: "An unknown query parameter, a forged or foreign cursor, `month` with `cursor`, or "
        "`status` or `type` other than the cursor's.",
        403: MEMBERS_ONLY,
        422: "`month`, `limit`, `status` or `type` malformed or unknown.",
    },
)
def timeline() -> Response:
    """The member's requests, month by month, newest first.

    A page holds whole months: the `limit` newest months that hold requests, each with its
    requests, newest first. `next_cursor` continues, null on the last page. `month` gives that
    one month (empty `months` if it holds nothing) and cannot be combined with `cursor`.
    `status` and `type` keep only the requests that match, still page by whole months: a page
    is the `limit` newest months holding one that matches. A cursor continues its listing,
    filters included: sent again beside it they must be the same (else 400), left out they
    still apply.
    """
    member_id = current_member_id()
    query = TimelineQuery.from_request(blueprint.current_request)
    month, limit = query.month, query.limit
    # A cursor continues the listing it came from, its filters with it (never beside `month`:
    # the query model).
    position = _cursor_position(query, member_id)
    status, request_type = position.status, position.request_type
    page = following.timeline(
        unit_of_work(),
        member_id,
        month=month,
        before=position.before,
        limit=limit,
        status=Status(status) if status else None,
        request_type=request_type,
    )
    answer = Timeline(
        months=[TimelineMonth(month=m, requests=found) for m, found in page.months],
        next_cursor=(
            _cursor_after(TimelinePosition(page.last_month, status, request_type), member_id)
            if page.last_month
            else None
        ),
    )
    return json_response(answer)


@blueprint.route(
    "/requests/{request_id}",
    methods=["GET"],
    tag="requests",
    answer=RequestDetail,
    errors={403: MEMBERS_ONLY, 404: "No such request for this member."},
)
def request_detail(request_id: str) -> Response:
    """A request's detail.

    The summary plus the service, outcome, deadline, history, what the member filed (`recall`,
    the IBAN masked), attachments and the letters sent.
    """
    record = unit_of_work().requests.get(current_member_id(), request_id)
    return json_response(record.detail_json())


@blueprint.route(
    "/requests/{request_id}/attachments/{attachment_id}",
    methods=["GET"],
    tag="requests",
    answer=DownloadLink,
    errors={
        403: MEMBERS_ONLY,
        404: "No such request for this member, or no such attachment on it.",
        409: "The request is processed or withdrawn.",
    },
)
def download_attachment(request_id: str, attachment_id: str) -> Response:
    """Download an attachment of an open request.

    A presigned GET valid a few minutes. Once the request is processed or withdrawn its
    attachments are no longer offered (409): the detail's `recall` stays.
    """
    uow = unit_of_work()
    record = uow.requests.get(current_member_id(), request_id)
    link = following.attachment_link(uow, record, attachment_id, clock.now(), agent=False)
    return json_response(DownloadLink.model_validate(link))


@dataclass(frozen=True)
class TimelinePosition:
    """Where a timeline page starts (before which month, none for the newest) and the filters
    of the listing it continues."""

    before: str | None
    status: str | None
    request_type: str | None


def _cursor_after(position: TimelinePosition, member_id: str) -> str:
    payload = {"before": position.before, "member": member_id, "status": position.status,
               "type": position.request_type}  # fmt: skip
    kept = {name: value for name, value in payload.items() if value is not None}
    return encode_cursor(kept, get_settings().cursor_secret)


def _cursor_position(query: TimelineQuery, member_id: str) -> TimelinePosition:
    """The query's page: the first, or the one its cursor continues, under the cursor's
    filters. A filter sent beside a cursor must be the cursor's own (the portal sends them
    again): another is a 400, never a page of another listing."""
    if query.cursor is None:
        return TimelinePosition(None, query.status, query.type)
    payload = decode_cursor(query.cursor, get_settings().cursor_secret)
    before = payload.get("before")
    if payload.get("member") != member_id or not isinstance(before, str):
        raise BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
    kept = {"status": payload.get("status"), "type": payload.get("type")}
    for name, sent in (("status", query.status), ("type", query.type)):
        if sent is not None and sent != kept[name]:
            raise BadRequest(
                "Ce curseur continue une autre liste : reprenez à la première page.",
                [FieldError(name, "Différent de celui de la page précédente.")],
            )
    return TimelinePosition(before, kept["status"], kept["type"])


@blueprint.route(
    "/requests/{request_id}/replies",
    methods=["POST"],
    tag="requests",
    answer=RequestDetail,
    status=201,
    answer_description="Answered (or, with an `Idempotency-Key` already used with the same "
    "body, the same answer kept once): the request's detail, in progress again.",
    answer_headers=("Idempotent-Replayed",),
    body=dialogue.ReplyBody,
    examples={"reponse": {"message": "Voici la facture détaillée.", "upload_ids": []}},
    headers=(body.IDEMPOTENCY_KEY,),
    errors={
        400: "Malformed JSON, not an object, an unknown field, or an invalid `Idempotency-Key`.",
        403: MEMBERS_ONLY,
        404: "No such request for this member.",
        409: "The request is processed or withdrawn, its exchanges are full (160 KB: messages, "
        "files' entries and history), or this `Idempotency-Key` was used with another body.",
        422: "`message` empty or too long, or an upload unknown, expired, used, missing or not "
        "what it declared (same rules as on filing: 5 files, 15 MB in all).",
        429: f"The member sent {REPLIES_PER_DAY} replies today (Paris time): `Retry-After` is "
        "midnight.",
    },
)
def reply(request_id: str) -> Response:
    """Answer the service on a request.

    The message joins the request's `messages`, its files its `attachments`. A request waiting
    for the member (`waiting_for_member`) goes back to `in_progress` and to its service; an
    answer to a request in progress is kept, and its service told.
    """
    http = blueprint.current_request
    answered = dialogue.reply(
        unit_of_work(),
        current_member_id(),
        request_id,
        body.json_body(http),
        body.idempotency_key(http),
        clock.now(),
    )
    headers = {"Idempotent-Replayed": "true"} if answered.replayed else {}
    return json_response(answered.detail, 201, headers)


@blueprint.route(
    "/requests/{request_id}/withdrawal",
    methods=["POST"],
    tag="requests",
    answer=RequestDetail,
    answer_description="Withdrawn (or already withdrawn): the request's detail.",
    body=dialogue.WithdrawalBody,
    body_required=False,
    examples={"motif": {"reason": "J'ai envoyé cette demande deux fois."}},
    errors={
        400: "Malformed JSON, not an object, or an unknown field.",
        403: MEMBERS_ONLY,
        404: "No such request for this member.",
        409: "The request is already processed, or an agent's decision on it is under way.",
        422: "`reason` too long.",
    },
)
def withdraw(request_id: str) -> Response:
    """Withdraw a request.

    Allowed until the request is processed; withdrawing a withdrawn request answers the same.
    Its service is told, its attachments are no longer downloadable, and a `reason`, if given,
    joins its `messages`.
    """
    member_id = current_member_id()
    payload = body.json_body_or_empty(blueprint.current_request)
    wanted = body.validated(dialogue.WithdrawalBody, payload)
    detail = dialogue.withdraw(unit_of_work(), member_id, request_id, wanted, clock.now())
    return json_response(detail)
