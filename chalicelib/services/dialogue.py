"""The dialogue on a request: the service asks, the member answers or withdraws, an agent
hands the request on (to the complaints service, or to the right service)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, StringConstraints
from ulid import ULID

from chalicelib.domain import catalog, clock
from chalicelib.domain.catalog import Service
from chalicelib.domain.deadlines import acknowledgement_due
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.model import JsonBool, JsonInt, Model
from chalicelib.domain.requests import (
    AgentMessage,
    InformationRequest,
    NamedIds,
    RequestDetail,
    RequestRecord,
    UlidStr,
    body_fingerprint,
    parse_body,
)
from chalicelib.domain.states import Actor, Status
from chalicelib.domain.text import NOT_BLANK
from chalicelib.services.decisions import closed, moved_away
from chalicelib.services.dispatching import (
    HANDED_OVER_FOR,
    dispatch,
    hand_over,
    hand_over_pending,
)
from chalicelib.services.filing import (
    Filed,
    WriteLanded,
    accepted_files,
    attachments_of,
    copies_under,
    copy_files,
    daily_limit,
    keeping_copies,
    limit_reached,
    race_winner,
    read_checks,
    refuse_when_full,
)
from chalicelib.services.letters import owe_letter
from chalicelib.services.lists import whole_list
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.requests import (
    DailyLimitReached,
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    RequestClosed,
)

MAX_MESSAGE = 4000
MAX_REPLY_FILES = 5
# A request's exchanges live in its item, which DynamoDB caps at 400 KB: past that every write
# to it fails (a reply, a question, a withdrawal), and the request is stuck. The exchanges (the
# messages, the files' entries and the history they add) stop at 160 KB (about 40 replies of
# 4,000 ASCII characters, 10 of emoji, or 25 of five files with long names), which leaves room
# for the rest of the item and a withdrawal's reason.
MAX_EXCHANGES_BYTES = 160_000
# What a message adds beside its text (its id, moment, author, the history's entry), and what
# one file's entry may take (its ids, type, size, digest, and a name of 120 characters of
# 4-byte UTF-8: `domain/uploads.display_filename`): counted before the files are read.
MESSAGE_OVERHEAD_BYTES = 300
ATTACHMENT_ENTRY_BYTES = 800


def exchanges_bytes(record: RequestRecord) -> int:
    """What the request's exchanges take in its item, as written (JSON, UTF-8)."""
    parts = (*record.messages, *record.attachments, *record.history)
    return sum(len(part.model_dump_json(exclude_none=True).encode()) for part in parts)


def exchanges_full(record: RequestRecord, text: str, files: int = 0) -> bool:
    """Whether a message of `text` with `files` files would take the request's exchanges past
    `MAX_EXCHANGES_BYTES` (a reply of « ok » with five files each counted only its two
    letters, and the item reached DynamoDB's limit: a 500, then every change refused)."""
    adds = len(text.encode()) + MESSAGE_OVERHEAD_BYTES + files * ATTACHMENT_ENTRY_BYTES
    return exchanges_bytes(record) + adds > MAX_EXCHANGES_BYTES


Text = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE, pattern=NOT_BLANK
    ),
]

ASKED_LABEL = "Pièces complémentaires demandées"
WITHDRAWN_LABEL = "Demande retirée"
UNANSWERED_LABEL = "Sans réponse dans le délai : le service reprend votre demande"


class InformationRequestBody(Model):
    """`POST /backoffice/…/information-request`."""

    model_config = ConfigDict(extra="forbid")

    message: Text = Field(description="Ce que le service demande, tel que l'adhérent le lira")
    respond_within_days: JsonInt = Field(
        default=30, ge=1, le=60, description="Délai de réponse, en jours (1 à 60)"
    )


class ReplyBody(Model):
    """`POST /requests/{request_id}/replies`."""

    model_config = ConfigDict(extra="forbid")

    message: Text = Field(description="La réponse de l'adhérent")
    upload_ids: list[UlidStr] = Field(
        default_factory=list,
        max_length=MAX_REPLY_FILES,
        description="5 fichiers au plus, chacun une fois",
        json_schema_extra={"uniqueItems": True},
    )


class WithdrawalBody(Model):
    """`POST /requests/{request_id}/withdrawal`: `{}` or a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class ReclassificationBody(Model):
    """`POST /backoffice/…/reclassification`: `{complaint: true}` or `{service}`."""

    model_config = ConfigDict(
        extra="forbid",
        # What `reclassify` checks: one of the two, `complaint` only ever true, and never the
        # complaints service by name (a complaint is made with `complaint: true`). That a
        # complaint stays with it depends on the request: a 422 no schema can state.
        json_schema_extra={
            "anyOf": [
                {
                    "properties": {"complaint": {"const": True}, "service": {"type": "null"}},
                    "required": ["complaint"],
                },
                {
                    "properties": {
                        "complaint": {"type": "null"},
                        "service": {"type": "string", "not": {"const": "reclamations"}},
                    },
                    "required": ["service"],
                },
            ]
        },
    )

    complaint: JsonBool | None = Field(default=None, description="`true`: c'est une réclamation")
    service: Service | None = Field(default=None, description="Le service qui doit la traiter")


def _hand_over_or_refuse(
    uow: UnitOfWork, record: RequestRecord, added: list[dict[str, Any]] | None
) -> None:
    """An agent's change made (`added`: the outbox entries it wrote) has its pointer sent on
    (`hand_over`); one whose condition no longer held (None) is a conflict saying what the
    request now is, read consistently: handed on, closed, or a decision under way."""
    if added is None:
        current = uow.requests.get(record.member_id, record.request_id, consistent=True)
        if current.is_open() and current.decided_outcome is not None:
            raise _decided_meanwhile()
        raise moved_away(record, current) or closed(current)
    hand_over(uow, record.member_id, record.request_id, added)


def check_question(record: RequestRecord, body: InformationRequestBody) -> None:
    """A question's own rules, on the request as read (nothing read or written, so that a
    refused question leaves no trace in the access log): none while a decision is under way;
    a new one needs room in the exchanges (`exchanges_full`); the same question again is a
    retry."""
    if record.is_open() and record.decided_outcome is not None:
        raise _decided_meanwhile()
    if not _asked_already(record, body.message) and exchanges_full(record, body.message):
        raise Conflict(
            "Les échanges sur cette demande ont atteint leur taille maximale : "
            "décidez-la, ou demandez à l'adhérent de déposer une nouvelle demande."
        )


def ask(
    uow: UnitOfWork,
    record: RequestRecord,
    body: InformationRequestBody,
    now: datetime,
    agent_id: str | None,
) -> None:
    """The service asks the member for a document or an answer: the request waits for them,
    and a letter "Demande de pièces complémentaires" is owed them, rendered by the service's
    handler the request is handed over to. Asking the same question again while it waits is
    a retry: the same question, the same letter."""
    if not record.is_open():
        raise closed(record)
    check_question(record, body)
    due_on = clock.paris_date(now) + timedelta(days=body.respond_within_days)
    if _asked_already(record, body.message):
        dispatch(uow, record.member_id, record.request_id, now)  # if the first one could not
        return  # asked already: its letter owed with the question, or issued
    message = AgentMessage(
        message_id=str(ULID.from_datetime(now)),
        at=clock.iso_z(now),
        author=Actor.service,
        text=body.message,
        agent_id=agent_id,
    )
    question = InformationRequest(
        asked_at=message.at, message=body.message, respond_before=clock.end_of_day(due_on)
    )
    letter = owe_letter(
        "demande_pieces",
        now,
        occurrence=message.message_id,
        message=body.message,
        answer_due_on=due_on,
    )
    added = uow.transitions.ask(
        record,
        question,
        message,
        ASKED_LABEL,
        now,
        letter=letter,
        hand_over=True,
        pending_from=now + HANDED_OVER_FOR,
    )
    if added is None and _asked_already(
        uow.requests.get(record.member_id, record.request_id, consistent=True), body.message
    ):
        return  # the same question, asked by another call at the same moment: asked once
    # The pointer to the service's handler, which renders the letter and dispatches the rest
    # (the audit record, `InformationRequested` that tells the member, `LetterIssued`).
    _hand_over_or_refuse(uow, record, added)


def _asked_already(record: RequestRecord, message: str) -> bool:
    waiting = record.information_request
    return (
        record.status is Status.waiting_for_member
        and waiting is not None
        and (waiting.message == message)
    )


def reply(
    uow: UnitOfWork,
    member_id: str,
    request_id: str,
    payload: Any,
    idempotency_key: str | None,
    now: datetime,
) -> Filed:
    """The member's answer, with files checked as on filing: it joins the request's messages
    and attachments, and the request goes back to its service (in progress again if it was
    waiting). With an `Idempotency-Key`, the same answer sent twice is kept once."""
    fingerprint = body_fingerprint(payload)
    scoped = f"reply:{request_id.upper()}:{idempotency_key}" if idempotency_key else None
    limit = daily_limit("replies", uow.limits.replies_per_day, now)
    try:
        body = parse_body(ReplyBody, payload, "Réponse invalide.")
        if len(set(body.upload_ids)) != len(body.upload_ids):
            raise ValidationFailed(
                "Pièces jointes refusées.", [FieldError("upload_ids", "Pièce jointe en double.")]
            )
    except ValidationFailed:
        # A body that does not parse costs no read but the key's: a replay still answers.
        if scoped is not None and (previous := uow.requests.idempotency(member_id, scoped, now)):
            return _replay(uow, member_id, previous, fingerprint)
        raise
    # The key's record, the day's count, the request and the uploads' records in one
    # BatchGetItem, the files read meanwhile; every read ends before anything is decided.
    checks, inspected = read_checks(
        uow, member_id, limit, NamedIds([], body.upload_ids), scoped, now, request_id=request_id
    )
    if checks.previous is not None:
        return _replay(uow, member_id, checks.previous, fingerprint)
    refuse_when_full(checks.count, limit, now)
    record = checks.request
    if record is None:
        raise NotFound("Demande introuvable.")
    if not record.is_open():
        raise closed(record)
    if exchanges_full(record, body.message, len(body.upload_ids)):
        raise Conflict(
            "Les échanges sur cette demande ont atteint leur taille maximale : pour nous "
            "écrire encore, déposez une nouvelle demande depuis « Écrire à Génération »."
        )
    files = accepted_files(body.upload_ids, checks.uploads, inspected, now)

    def listed() -> list[str]:
        """The files the request lists now: another call may have copied the same uploads to
        the same keys (this reply sent twice at once), and its write may be the one that won."""
        current = uow.requests.get(member_id, record.request_id, consistent=True)
        ids = [a.attachment_id for a in current.attachments]
        return copies_under(member_id, record.month, record.request_id, ids)

    attachments = attachments_of(files)
    attachment_ids = [a.attachment_id for a in attachments]
    copies = copies_under(member_id, record.month, record.request_id, attachment_ids)
    message = AgentMessage(
        message_id=str(ULID.from_datetime(now)),
        at=clock.iso_z(now),
        author=Actor.member,
        text=body.message,
        attachment_ids=attachment_ids,
    )
    claim = (
        IdempotencyClaim(scoped, fingerprint, {"message_id": message.message_id})
        if scoped is not None
        else None
    )

    def prepare(on: RequestRecord) -> Callable[[], list[dict[str, Any]]]:
        return uow.requests.prepare_reply(on, message, attachments, now, claim, limit=limit,
                                          pending_from=now + HANDED_OVER_FOR)  # fmt: skip

    # The write on the request as read is built while the files are copied, as a filing's.
    first = copy_files(
        uow, member_id, record.month, record.request_id, files, lambda: prepare(record), listed
    )

    def write(on: RequestRecord) -> list[dict[str, Any]] | None:
        commit = first if on is record else prepare(on)  # again: on the request as it is now
        try:
            return commit()
        except RequestClosed:
            return None

    def replied() -> bool:
        current = uow.requests.get(member_id, record.request_id, consistent=True)
        return any(m.message_id == message.message_id for m in current.messages)

    try:
        with keeping_copies(uow, copies, body.upload_ids, replied, listed):
            added, current = _on_the_request_as_it_is(uow, record, write)
            if added is None:
                raise closed(current)
    except DailyLimitReached:
        raise limit_reached(limit, now) from None
    except IdempotencyKeyTaken:
        assert scoped is not None  # noqa: S101  # only raised when a claim was made
        return _replay(uow, member_id, race_winner(uow, member_id, scoped, now), fingerprint)
    except WriteLanded:
        # Written, its answer lost on the way: sent as asked; its pointer read from the request.
        hand_over_pending(uow, member_id, record.request_id)
    else:
        # The pointer to intake, as a filing's: the router dispatches the rest (the audit
        # record, `MemberReplied`), sends the request on to its service and removes the staged
        # uploads.
        hand_over(uow, member_id, record.request_id, added)
    # Read consistently: the answer shows the reply just written.
    answered = uow.requests.get(member_id, record.request_id, consistent=True)
    return Filed(record.request_id, answered.detail_dict())


# A member's reply or withdrawal refused because an agent handed the request on since it was
# read is written again on the request as it is: each retry needs another move in between.
MEMBER_WRITE_ATTEMPTS = 3

Written = TypeVar("Written")


def _on_the_request_as_it_is(
    uow: UnitOfWork, record: RequestRecord, write: Callable[[RequestRecord], Written | None]
) -> tuple[Written | None, RequestRecord]:
    """A member's `write` on the request as read; refused (None) because an agent handed it on
    to another service meanwhile, or the daily watch flagged it (still open), again on the
    request as it now is, so that it goes on the lists of the service that has it, at the
    place its flags give it. The write's answer (None: refused for another reason, or changed
    at every attempt) and the request as last read."""
    for _ in range(MEMBER_WRITE_ATTEMPTS):
        written = write(record)
        if written is not None:
            return written, record
        current = uow.requests.get(record.member_id, record.request_id, consistent=True)
        if not current.is_open() or _placed(current) == _placed(record):
            return None, current
        record = current
    return None, record


def _placed(record: RequestRecord) -> tuple[str, bool, bool]:
    """What sets a request's list and its place on it: its service and its flags."""
    return record.service, record.unanswered, record.needs_attention


def _replay(
    uow: UnitOfWork, member_id: str, previous: IdempotencyRecord, fingerprint: str
) -> Filed:
    if previous.fingerprint != fingerprint:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour une autre réponse.",
            [FieldError("Idempotency-Key", "Déjà utilisée avec un autre contenu.")],
        )
    detail = uow.requests.get(member_id, previous.request_id).detail()
    return Filed(previous.request_id, detail.model_dump(mode="json"), replayed=True)


def _decided_meanwhile() -> Conflict:
    """An agent's question refused: a decision has claimed its outcome and is closing the
    request (`Transitions.claim_decision`)."""
    return Conflict(
        "Une décision est en cours sur cette demande : aucune question ne peut plus y être posée."
    )


def _decided_where_it_is() -> Conflict:
    """A reclassification refused: a decision has claimed its outcome, and it completes on the
    service it was made on."""
    return Conflict("Une décision est en cours sur cette demande.")


def _decision_under_way() -> Conflict:
    """A withdrawal refused: an agent's decision has claimed its outcome
    (`Transitions.claim_decision`) and is applying it; the request is as good as processed,
    and its letter is on its way."""
    return Conflict(
        "Une décision est en cours sur cette demande : elle ne peut plus être retirée. "
        "Sa réponse vous parvient très prochainement."
    )


def withdraw(
    uow: UnitOfWork, member_id: str, request_id: str, body: WithdrawalBody, now: datetime
) -> RequestDetail:
    """The member withdraws a request until it is processed; withdrawing it again answers the
    same. Its service is told through its queue; its attachments are no longer downloadable."""
    # Consistently: the closing schedules the purge of every file the request holds, a
    # reply's of a moment ago included (`store/retention.closing`).
    record = uow.requests.get(member_id, request_id, consistent=True)
    if record.status is Status.withdrawn:
        # Withdrawn already (the portal tries again after a failed answer): what the first
        # call left pending is handed over, so its service hears of it now.
        hand_over_pending(uow, member_id, request_id)
        return record.detail()
    if not record.is_open():
        raise closed(record)
    if record.decided_outcome is not None:
        raise _decision_under_way()
    message = (
        AgentMessage(
            message_id=str(ULID.from_datetime(now)),
            at=clock.iso_z(now),
            author=Actor.member,
            text=body.reason,
        )
        if body.reason
        else None
    )
    # Handed on by an agent since it was read: withdrawn from the service that has it (its
    # withdrawn list, its `RequestWithdrawn`), not the one it left.
    added, current = _on_the_request_as_it_is(
        uow,
        record,
        lambda on: uow.transitions.withdraw(
            on, message, WITHDRAWN_LABEL, now, pending_from=now + HANDED_OVER_FOR
        ),
    )
    if added is None:
        if current.status is Status.withdrawn:
            return current.detail()
        if not current.is_open():
            raise closed(current)
        if current.decided_outcome is not None:
            raise _decision_under_way()
        raise Conflict("Cette demande vient de changer de service : réessayez.")
    # The pointer to intake, as a filing's: the router dispatches the rest (the audit record,
    # `RequestWithdrawn`) and sends the request on to its service, which counts it withdrawn.
    hand_over(uow, member_id, record.request_id, added)
    return uow.requests.get(member_id, request_id, consistent=True).detail()


def check_reclassification(record: RequestRecord, body: ReclassificationBody) -> None:
    """A reclassification's own rules, on the request as read (nothing read or written): one
    of `complaint: true` and a service; a complaint stays with the complaints service (unless
    it is where it is asked to be: a retry). A 422 naming the field."""
    if (body.complaint is None) == (body.service is None):
        raise ValidationFailed(
            "Indiquez soit « complaint: true », soit le service.",
            [FieldError("complaint", "Requis, ou bien « service ».")],
        )
    if body.complaint is False:
        raise ValidationFailed(
            "Une réclamation ne redevient pas une demande.",
            [FieldError("complaint", "Seule la valeur true est admise.")],
        )
    if not record.is_open() or _where_wanted(record, body):
        return  # closed: a 409, as before its rules (`reclassify`); or a retry, moved already
    if record.decided_outcome is not None:
        raise _decided_where_it_is()
    if body.service is not None and record.complaint:
        # API.md: a complaint goes to the complaints service, whose daily watch keeps its
        # ACPR deadlines (`sweeping.watch_deadlines` reads that service's lists only).
        raise ValidationFailed(
            "Une réclamation reste au service Réclamations, qui en suit les délais.",
            [FieldError("service", "Une réclamation ne change pas de service.")],
        )
    if body.service is Service.reclamations:
        raise ValidationFailed(
            "Une réclamation se requalifie avec « complaint: true ».",
            [FieldError("service", "Utilisez « complaint: true ».")],
        )


def reclassify(
    uow: UnitOfWork,
    record: RequestRecord,
    body: ReclassificationBody,
    now: datetime,
    agent_id: str | None,
) -> RequestRecord:
    """An agent hands an open request on: to the complaints service when it is in fact a
    complaint (the ACPR clocks count from the original filing), or to the service that should
    have it. Routed again, then acknowledged by its new service. A complaint stays with the
    complaints service: it neither becomes a request again nor moves to another service."""
    check_reclassification(record, body)
    if not record.is_open():
        raise closed(record)
    if _where_wanted(record, body):
        return _moved_already(uow, record)
    extra: dict[str, Any] = {}
    if body.complaint:
        service, complaint = Service.reclamations, True
        label = catalog.COMPLAINT_LABEL
        history_label = "Requalifiée en réclamation"
        filed_on = clock.paris_date(record.created_at)
        extra["acknowledgement_due_at"] = clock.end_of_day(acknowledgement_due(filed_on))
    else:
        assert body.service is not None  # noqa: S101  # one of the two: check_reclassification
        service, complaint, label = body.service, record.complaint, record.label
        history_label = f"Réorientée vers le {catalog.SERVICE_LABELS[service]}"
    moved = uow.transitions.reclassify(
        record,
        service=service.value,
        complaint=complaint,
        label=label,
        history_label=history_label,
        now=now,
        agent_id=agent_id,
        pending_from=now + HANDED_OVER_FOR,
        **extra,
    )
    if moved is None:
        current = uow.requests.get(record.member_id, record.request_id, consistent=True)
        if current.is_open() and _where_wanted(current, body):
            # Moved there by another call at the same moment (a double click): moved once,
            # that call hands its pointer over.
            return current
        if current.is_open():
            # Moved elsewhere meanwhile, or a decision under way (it completes where it is).
            raise moved_away(record, current) or _decided_where_it_is()
        raise closed(current)
    # The pointer to intake: the router dispatches the rest (the audit record,
    # `RequestReclassified`) and sends the request on to its new service.
    hand_over(uow, record.member_id, record.request_id, moved)
    return uow.requests.get(record.member_id, record.request_id, consistent=True)


def _where_wanted(record: RequestRecord, body: ReclassificationBody) -> bool:
    """The request is already what the reclassification asks: a complaint, or on the service."""
    if body.complaint:
        return record.complaint
    return body.service is not None and body.service.value == record.service


def _moved_already(uow: UnitOfWork, record: RequestRecord) -> RequestRecord:
    """A reclassification asked again where the request already is (an agent's retry after a
    call that timed out): nothing changes, and what the first call left pending (its pointer,
    if its hand-over failed) is handed over now, as its pointer would have been, rather than
    left to the sweeper a quarter of an hour later. The router dispatches the rest (the audit
    record, `RequestReclassified`) once; with nothing pending, one read and no send."""
    hand_over_pending(uow, record.member_id, record.request_id)
    return record


def watch_unanswered(uow: UnitOfWork, now: datetime) -> int:
    """Requests whose question went unanswered past its deadline go back to the head of their
    service's open list. Returns how many."""
    stamp = clock.iso_z(now)
    moved = 0
    for service in Service:
        for record in whole_list(uow, service.value, "waiting"):
            question = record.information_request
            overdue = question is not None and question.respond_before < stamp
            if overdue and uow.transitions.unanswered(record, UNANSWERED_LABEL, now):
                moved += 1
                dispatch(uow, record.member_id, record.request_id, now)  # its audit record
    return moved
