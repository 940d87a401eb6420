"""Back-office routes: an agent's work list, a request's detail, the decision.

An agent acts only on the services of their `agent-<service>` groups; a member token gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalice.app import Response

from chalicelib.api import body
from chalicelib.api.auth import current_principal
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.queries import ContestedQuery, WorkListQuery
from chalicelib.api.schemas import (
    AgentAttachment,
    AgentRequestView,
    DecisionAnswer,
    DownloadLink,
    WorkItem,
    WorkList,
)
from chalicelib.domain import clock
from chalicelib.domain.access import Action
from chalicelib.domain.catalog import Service
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.decisions import Decision
from chalicelib.domain.errors import BadRequest, FieldError, Forbidden, NotFound
from chalicelib.domain.requests import DocumentRef, RequestRecord
from chalicelib.services import decisions, dialogue, following, privacy
from chalicelib.settings import get_settings
from chalicelib.store.unit_of_work import unit_of_work

if TYPE_CHECKING:
    from chalicelib.services.ports import UnitOfWork

blueprint = ApiBlueprint(__name__)

OWN_FILE = (
    "Not an agent of the request's service (a member's token always), or the agent's own "
    "member file."
)


def _require_agent(member_id: str | None = None) -> None:
    """A member's token is a 403 before anything is parsed or read (API.md: "a member token
    gets 403 here"), and so is an agent on their own member file."""
    principal = current_principal()
    if not principal.agent_services:
        principal.require_agent_of("")
    if (
        member_id is not None
        and principal.member_id is not None
        and principal.member_id == member_id
    ):
        # An agent who is also a member never works their own file.
        raise Forbidden("Un agent ne traite pas son propre dossier.")


def _service(name: str) -> Service:
    _require_agent()
    try:
        service = Service(name)
    except ValueError:
        raise NotFound("Service inconnu.") from None
    current_principal().require_agent_of(service.value)
    return service


@dataclass(frozen=True)
class Read:
    """A request an agent reads, and the service they read it as."""

    record: RequestRecord
    service: str


def _agent_record(member_id: str, request_id: str) -> Read:
    """The request, for an agent of its service; or, through a complaint that contests it
    (`?complaint=`), for an agent of the complaint's service, who must read the decision the
    member contests (its messages, letters and files) to answer the complaint."""
    _require_agent(member_id)
    query = ContestedQuery.from_request(blueprint.current_request)
    principal = current_principal()
    record = unit_of_work().requests.get(member_id, request_id)
    if query.complaint is None or record.service in principal.agent_services:
        principal.require_agent_of(record.service)
        return Read(record, record.service)
    complaint = unit_of_work().requests.get(member_id, query.complaint)
    principal.require_agent_of(complaint.service)
    if not complaint.complaint or complaint.related_request_id != record.request_id:
        raise Forbidden("Cette réclamation ne conteste pas cette demande.")
    return Read(record, complaint.service)


def _agent_change(member_id: str, request_id: str) -> tuple[Any, RequestRecord]:
    """What an agent's change starts from: the role checked before the body is parsed, the
    body before the request is read, and the request read consistently, as a change must be
    decided on the request as it is (a reply a moment ago and its files included: the
    closing's retention schedules their purge from what it reads)."""
    _require_agent(member_id)
    payload = body.json_body(blueprint.current_request)
    return payload, _of_the_agents_service(member_id, request_id, consistent=True)


def _of_the_agents_service(member_id: str, request_id: str, *, consistent: bool) -> RequestRecord:
    record = unit_of_work().requests.get(member_id, request_id, consistent=consistent)
    current_principal().require_agent_of(record.service)
    return record


def _agent_view(record: RequestRecord, now: datetime) -> AgentRequestView:
    detail = record.detail()
    uow = unit_of_work()
    attachments = [
        AgentAttachment(
            **attachment.model_dump(),
            download=DownloadLink.model_validate(
                following.attachment_link(uow, record, attachment.attachment_id, now, agent=True)
            ),
        )
        for attachment in detail.attachments
    ]
    related = record.related_request_id
    return AgentRequestView(
        **detail.model_dump(exclude={"attachments", "history", "messages"}),
        member_id=record.member_id,
        acknowledgement_due_at=record.acknowledgement_due_at,
        attachments=attachments,
        history=record.history,
        messages=record.messages,
        needs_attention=record.needs_attention,
        unanswered=record.unanswered,
        deadline_at_risk=record.deadline_at_risk(clock.paris_date(now)),
        related_request=(
            f"/backoffice/members/{record.member_id}/requests/{related}"
            f"?complaint={record.request_id}"
            if related
            else None
        ),
    )


def _agent_id() -> str:
    return current_principal().subject


def _record_change(
    uow: UnitOfWork,
    record: RequestRecord,
    action: Action,
    now: datetime,
    check: Callable[[], None] = lambda: None,
) -> None:
    """An agent's change in the member's access log before it is made (or nothing is
    answered), only when it can be: the request open, the change within its own rules
    (`check`, a 422). A refused one was recorded as made: « Décision sur votre demande » on a
    request still in progress, or twice on one decided once. Refused on a closed request, the
    change records nothing and the service answers 409 (a decision's retry hands over what it
    left pending first)."""
    if not record.is_open():
        return
    check()
    privacy.record_access(uow, record, action, _agent_id(), now)


@blueprint.route(
    "/backoffice/services/{service}/requests",
    methods=["GET"],
    tag="backoffice",
    answer=WorkList,
    query=WorkListQuery,
    errors={
        400: "An unknown query parameter, or a forged or foreign cursor.",
        403: "Not an agent of this service (a member's token always).",
        404: "No such service.",
        422: "`state` or `limit` invalid.",
    },
)
def work_list(service: str) -> Response:
    """A service's work list (agents).

    The service's requests in one state, oldest first; requests whose deadline is at risk come
    first. For agents in `agent-<service>`.
    """
    chosen = _service(service)
    query = WorkListQuery.from_request(blueprint.current_request)
    state, limit = query.state, query.limit
    start = None
    if query.cursor is not None:
        payload = decode_cursor(query.cursor, get_settings().cursor_secret)
        if payload.get("list") != f"{chosen.value}#{state}":
            raise BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
        start = payload["start"]
    records, last = following.work_list(unit_of_work(), chosen.value, state, limit, start)
    next_cursor = (
        encode_cursor(
            {"list": f"{chosen.value}#{state}", "start": last}, get_settings().cursor_secret
        )
        if last
        else None
    )
    today = clock.paris_date(clock.now())
    items = [
        WorkItem(
            **record.summary().model_dump(),
            member_id=record.member_id,
            service=record.service,
            complaint=record.complaint,
            due_at=record.due_at,
            outcome=record.outcome,
            needs_attention=record.needs_attention,
            unanswered=record.unanswered,
            acknowledgement_due_at=record.acknowledgement_due_at,
            deadline_at_risk=record.deadline_at_risk(today),
        )
        for record in records
    ]
    return json_response(WorkList(requests=items, next_cursor=next_cursor))


@blueprint.route(
    "/backoffice/members/{member_id}/requests/{request_id}",
    methods=["GET"],
    tag="backoffice",
    answer=AgentRequestView,
    query=ContestedQuery,
    errors={
        400: "An unknown query parameter.",
        403: f"{OWN_FILE} Through `complaint`: not an agent of the complaint's service, or a "
        "complaint that does not contest this request.",
        404: "No such request (or complaint) for this member.",
        422: "`complaint` malformed.",
    },
)
def agent_detail(member_id: str, request_id: str) -> Response:
    """A request's detail (agents).

    The detail, with the member's id, the acknowledgement deadline and each attachment's
    presigned download. An agent of the service that holds a complaint reads the request it
    contests with `?complaint=<the complaint's id>` (its `related_request` path says so), and
    the member's access log names that service.
    """
    read = _agent_record(member_id, request_id)
    now = clock.now()
    privacy.record_access(unit_of_work(), read.record, Action.consulted, _agent_id(), now,
                          read.service)  # fmt: skip
    return json_response(_agent_view(read.record, now))


@blueprint.route(
    "/backoffice/members/{member_id}/requests/{request_id}/documents/{document_id}/download",
    methods=["GET"],
    tag="backoffice",
    answer=DownloadLink,
    query=ContestedQuery,
    errors={
        400: "An unknown query parameter.",
        403: f"{OWN_FILE} Through `complaint`: as the request's detail.",
        404: "No such request (or complaint) for this member, or no such letter of it.",
        422: "`complaint` malformed.",
    },
)
def agent_letter(member_id: str, request_id: str, document_id: str) -> Response:
    """Download a letter of a request (agents).

    A presigned GET of a letter the member received about this request (one of its
    `documents`), valid a few minutes: what the service wrote, as the member reads it.
    """
    read = _agent_record(member_id, request_id)
    if document_id not in {d.document_id for d in read.record.documents}:
        raise NotFound("Courrier introuvable pour cette demande.")
    uow, now = unit_of_work(), clock.now()
    privacy.record_access(uow, read.record, Action.consulted, _agent_id(), now, read.service)
    link = following.document_link(uow, member_id, document_id, now)
    return json_response(DownloadLink.model_validate(link))


@blueprint.route(
    "/backoffice/members/{member_id}/requests/{request_id}/decision",
    methods=["POST"],
    tag="backoffice",
    answer=DecisionAnswer,
    answer_description="Decided: the request as the agent now sees it, and its letter.",
    body=Decision,
    examples={"refus": {"outcome": "refused", "message": "Le justificatif est illisible."}},
    errors={
        400: "Malformed JSON, not an object, or an unknown field.",
        403: OWN_FILE,
        404: "No such request for this member.",
        409: "The request is already processed or withdrawn, or another decision was taken.",
        422: "`outcome` or `amount` invalid, a refusal without `message` or with an `amount`, "
        "or an acceptance (even partial) of a reimbursement, a quote or a hospital cover "
        "without `amount`.",
    },
)
def decide(member_id: str, request_id: str) -> Response:
    """Decide a request (agents).

    Records the outcome: the request becomes processed, what an approval changes is applied to
    the member's file (bank details, a child's coverage, a new beneficiary), and a letter is
    owed to the member: `letter` names it (its id and title), and the PDF joins their
    documents a moment later, once the service has rendered it (until then its download
    answers 404). A refusal, in whole or in part, needs a `message`; a refusal pays nothing and
    takes no `amount`. Safe to retry: a request already processed answers 409.
    """
    payload, record = _agent_change(member_id, request_id)
    decision = body.validated(Decision, payload, "Décision invalide.")
    now = clock.now()
    uow = unit_of_work()
    _record_change(uow, record, Action.decided, now, lambda: decisions.check_decision(
        record, decision.outcome, decision.message, decision.amount_value))  # fmt: skip
    letter = decisions.decide(
        uow,
        record,
        decision.outcome,
        now,
        message=decision.message,
        amount=decision.amount_value,
        agent_id=_agent_id(),
        render_here=False,  # the service's handler renders it: the API loads no PDF library
    )
    view = _agent_view(uow.requests.get(member_id, request_id, consistent=True), now)
    answer = DecisionAnswer(
        **view.model_dump(),
        letter=DocumentRef(document_id=letter.document_id, title=letter.title),
    )
    return json_response(answer)


@blueprint.route(
    "/backoffice/members/{member_id}/requests/{request_id}/information-request",
    methods=["POST"],
    tag="backoffice",
    answer=AgentRequestView,
    answer_description="Asked: the request, waiting for the member.",
    body=dialogue.InformationRequestBody,
    examples={
        "facture": {
            "message": "Merci de nous adresser la facture détaillée.",
            "respond_within_days": 30,
        }
    },
    errors={
        400: "Malformed JSON, not an object, or an unknown field.",
        403: OWN_FILE,
        404: "No such request for this member.",
        409: "The request is processed or withdrawn, a decision on it is under way, or its "
        "exchanges are full (160 KB: messages, files' entries and history).",
        422: "`message` empty or too long, or `respond_within_days` not 1 to 60.",
    },
)
def information_request(member_id: str, request_id: str) -> Response:
    """Ask the member for a document or an answer (agents).

    The request waits for the member (`waiting_for_member`) until they answer or
    `respond_within_days` (default 30) pass; the detail shows the question, and a letter
    « Demande de pièces complémentaires » joins the member's documents a moment later, once
    the service has rendered it. Asking the same question again while it waits changes nothing.
    """
    payload, record = _agent_change(member_id, request_id)
    question = body.validated(dialogue.InformationRequestBody, payload, "Demande invalide.")
    now = clock.now()
    uow = unit_of_work()
    _record_change(
        uow, record, Action.asked, now, lambda: dialogue.check_question(record, question)
    )
    dialogue.ask(uow, record, question, now, _agent_id())
    view = _agent_view(uow.requests.get(member_id, request_id, consistent=True), now)
    return json_response(view)


@blueprint.route(
    "/backoffice/members/{member_id}/requests/{request_id}/reclassification",
    methods=["POST"],
    tag="backoffice",
    answer=AgentRequestView,
    answer_description="Handed on: the request, with its new service.",
    body=dialogue.ReclassificationBody,
    examples={"reclamation": {"complaint": True}, "service": {"service": "devis"}},
    errors={
        400: "Malformed JSON, not an object, or an unknown field.",
        403: OWN_FILE,
        404: "No such request for this member.",
        409: "The request is processed or withdrawn.",
        422: "Neither or both of `complaint` and `service`, an unknown service, `complaint: "
        "false`, `service: reclamations` (a complaint is made with `complaint: true`), or a "
        "`service` for a request that is a complaint (it stays with the complaints service).",
    },
)
def reclassification(member_id: str, request_id: str) -> Response:
    """Hand a request on to another service (agents).

    `{"complaint": true}`: the request is in fact a complaint; it moves to the complaints
    service, its ACPR deadlines counted from the original filing. `{"service": …}`: it moves to
    the service that should have it. Either way it is routed again and acknowledged by its new
    service.
    """
    payload, record = _agent_change(member_id, request_id)
    wanted = body.validated(dialogue.ReclassificationBody, payload, "Requalification invalide.")
    now = clock.now()
    _record_change(unit_of_work(), record, Action.reclassified, now,
                   lambda: dialogue.check_reclassification(record, wanted))  # fmt: skip
    moved = dialogue.reclassify(unit_of_work(), record, wanted, now, _agent_id())
    return json_response(_agent_view(moved, now))
