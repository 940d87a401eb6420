"""Back-office routes: an agent's work list, a request's detail, the decision.

An agent acts only on the services of their `agent-<service>` groups; a member token gets 403.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice.app import Response

from chalicelib.api import body
from chalicelib.api.auth import current_principal
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.schemas import (
    AgentAttachment,
    AgentRequestView,
    DecisionAnswer,
    DownloadLink,
    WorkItem,
    WorkList,
)
from chalicelib.domain.catalog import Service
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.decisions import Decision, letter_for
from chalicelib.domain.documents import DocumentRecord
from chalicelib.domain.errors import (
    BadRequest,
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from chalicelib.domain.members import Beneficiary, Relationship
from chalicelib.domain.requests import DocumentRef, Outcome, RequestRecord, Status
from chalicelib.settings import get_settings
from chalicelib.store import keys
from chalicelib.store.letters import issue_letter
from chalicelib.store.members import MemberRepository, ProfileUpdates
from chalicelib.store.requests import RequestRepository, Transitions
from chalicelib.store.uploads import presigned_download

blueprint = ApiBlueprint(__name__)

STATES = ("open", "processed")
WORK_LIST_PAGE_SIZE = 50
MAX_WORK_LIST_PAGE_SIZE = 100


def _now() -> datetime:
    return datetime.now(UTC)


def _service(name: str) -> Service:
    try:
        service = Service(name)
    except ValueError:
        raise NotFound("Service inconnu.") from None
    current_principal().require_agent_of(service.value)
    return service


def _agent_record(member_id: str, request_id: str) -> RequestRecord:
    principal = current_principal()
    if not principal.agent_services:
        principal.require_agent_of("")  # a member: 403 before anything is read
    record = RequestRepository().get(member_id, request_id)
    principal.require_agent_of(record.service)
    return record


def _agent_view(record: RequestRecord, now: datetime) -> AgentRequestView:
    detail = record.detail()
    attachments = []
    for attachment in detail.attachments:
        key = keys.attachment_object(
            record.member_id, record.month, record.request_id, attachment.attachment_id
        )
        link = presigned_download(key, attachment.filename, attachment.content_type, now)
        attachments.append(
            AgentAttachment(**attachment.model_dump(), download=DownloadLink.model_validate(link))
        )
    return AgentRequestView(
        **detail.model_dump(exclude={"attachments"}),
        member_id=record.member_id,
        acknowledgement_due_at=record.acknowledgement_due_at,
        attachments=attachments,
    )


@blueprint.route("/backoffice/services/{service}/requests", methods=["GET"])
def work_list(service: str) -> Response:
    chosen = _service(service)
    params = body.query(blueprint.current_request, {"state", "cursor", "limit"})
    state = params.get("state", "open")
    if state not in STATES:
        raise ValidationFailed("État invalide.", [FieldError("state", "open ou processed.")])
    limit = body.int_param(params, "limit", WORK_LIST_PAGE_SIZE, 1, MAX_WORK_LIST_PAGE_SIZE)
    start = None
    if "cursor" in params:
        payload = decode_cursor(params["cursor"], get_settings().cursor_secret)
        if payload.get("list") != f"{chosen.value}#{state}":
            raise BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
        start = payload["start"]
    records, last = Transitions().work_list(chosen.value, state, limit, start)
    next_cursor = (
        encode_cursor(
            {"list": f"{chosen.value}#{state}", "start": last}, get_settings().cursor_secret
        )
        if last
        else None
    )
    items = [
        WorkItem(
            **record.summary().model_dump(),
            member_id=record.member_id,
            service=record.service,
            complaint=record.complaint,
            due_at=record.due_at,
            outcome=record.outcome,
            needs_attention=record.needs_attention,
        )
        for record in records
    ]
    return json_response(WorkList(requests=items, next_cursor=next_cursor).model_dump(mode="json"))


@blueprint.route("/backoffice/members/{member_id}/requests/{request_id}", methods=["GET"])
def agent_detail(member_id: str, request_id: str) -> Response:
    record = _agent_record(member_id, request_id)
    return json_response(_agent_view(record, _now()).model_dump(mode="json"))


@blueprint.route("/backoffice/members/{member_id}/requests/{request_id}/decision", methods=["POST"])
def decide(member_id: str, request_id: str) -> Response:
    payload = body.json_body(blueprint.current_request)
    record = _agent_record(member_id, request_id)
    decision = body.validated(Decision, payload, "Décision invalide.")
    if decision.outcome is not Outcome.accepted and not decision.message:
        raise ValidationFailed(
            "Un refus s'explique.", [FieldError("message", "Requis pour un refus.")]
        )
    now = _now()
    letter = record_decision(record, decision, now)
    view = _agent_view(RequestRepository().get(member_id, request_id), now)
    answer = DecisionAnswer(
        **view.model_dump(),
        letter=DocumentRef(document_id=letter.document_id, title=letter.title),
    )
    return json_response(answer.model_dump(mode="json"))


def record_decision(record: RequestRecord, decision: Decision, now: datetime) -> DocumentRecord:
    """The request becomes processed with this outcome, its effects applied, its letter issued.

    Safe to retry with the same outcome (every step is idempotent); another outcome, or a
    request already processed, is a conflict.
    """
    if record.status is Status.processed:
        raise Conflict("Cette demande est déjà traitée.")
    transitions = Transitions()
    if not transitions.claim_decision(record, decision.outcome.value, now):
        raise Conflict("Une autre décision a déjà été prise sur cette demande.")
    if decision.outcome is Outcome.accepted:
        _apply(record)
    letter = issue_letter(
        letter_for(record, decision.outcome),
        record.member_id,
        record.request_id,
        record.label,
        now,
        outcome=decision.outcome.value,
        message=decision.message or None,
        amount=decision.amount_value or _filed_amount(record, decision.outcome),
        filed=record.recall.model_dump(mode="json"),
        filed_on=datetime.fromisoformat(record.created_at.replace("Z", "+00:00")).date(),
    )
    label = _processed_label(decision.outcome)
    if not transitions.finish(record, decision.outcome.value, label, now):
        raise Conflict("Cette demande est déjà traitée.")
    return letter


def _processed_label(outcome: Outcome) -> str:
    return {
        Outcome.accepted: "Demande acceptée",
        Outcome.partially_accepted: "Demande acceptée en partie",
        Outcome.refused: "Demande refusée",
    }[outcome]


def _filed_amount(record: RequestRecord, outcome: Outcome) -> Any:
    from decimal import Decimal

    amount = record.recall.data.get("amount")
    return Decimal(amount) if amount and outcome is Outcome.accepted else None


def _apply(record: RequestRecord) -> None:
    """What an approval changes in the member's file. Each step can run twice harmlessly."""
    data = record.recall.data
    updates = ProfileUpdates()
    if record.type == "vie.coordonnees_bancaires":
        iban = updates.held_iban(record.member_id, record.request_id)
        if iban is None:
            raise Conflict("Les coordonnées bancaires de cette demande sont introuvables.")
        updates.apply_bank_account(record.member_id, iban, str(data["holder_name"]))
    elif record.type == "vie.prolongation_droits_enfant":
        for beneficiary in record.beneficiaries:
            updates.extend_coverage(
                record.member_id, beneficiary.beneficiary_id, str(data["until"])
            )
    elif record.type == "vie.situation_familiale" and data.get("new_beneficiary"):
        newcomer = data["new_beneficiary"]
        MemberRepository().put_beneficiary(
            record.member_id,
            Beneficiary(
                beneficiary_id=f"{record.member_id}-{record.request_id}",
                first_name=newcomer["first_name"],
                last_name=newcomer["last_name"],
                relationship=Relationship(newcomer["relationship"]),
                birth_date=newcomer["birth_date"],
            ),
        )
