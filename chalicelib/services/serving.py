"""Routing a filed request to its service, and what each service does by itself.

The router resolves the service from the registry (`catalog.handling_for`) and records the
routing once; the service's handler then runs the type's automatic step. Every step is
idempotent: a redelivery changes nothing and issues no second letter (conditional transitions,
one letter per kind and request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from chalicelib.domain import catalog, clock
from chalicelib.domain.catalog import Automatic, Service
from chalicelib.domain.deadlines import acknowledgement_due, answer_due
from chalicelib.domain.errors import Conflict
from chalicelib.domain.iban import holder_problem, iban_problem
from chalicelib.domain.requests import RequestPointer, RequestRecord
from chalicelib.domain.states import Actor, Outcome, Status
from chalicelib.observability import metric
from chalicelib.services.decisions import decide
from chalicelib.services.dispatching import dispatch
from chalicelib.services.letters import concerned_beneficiaries, issue_due_letters, issue_letter
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import keys
from chalicelib.store.queues import service_queue

logger = logging.getLogger(__name__)

Step = Callable[[UnitOfWork, RequestRecord, datetime], None]

# A routing refused because the request changed since it was read is tried again on the
# request as it is: each retry needs an agent's or a member's change in between.
ROUTING_ATTEMPTS = 3


def route(
    uow: UnitOfWork, pointer: RequestPointer, now: datetime, delivered: str | None = None
) -> Service:
    """Record which service has the request (once), dispatch its outbox (the filing hands its
    own over: its audit record and `RequestFiled` go out here, before `RequestRouted`), and
    send the pointer to its service's queue. `delivered`: the outbox entry this pointer was
    sent for, not sent again."""
    # Read consistently: the change that sent the pointer a moment ago must be seen; a stale
    # read after a reclassification would route the request to the service it just left.
    record = uow.requests.get(pointer.member_id, pointer.request_id, consistent=True)
    for _ in range(ROUTING_ATTEMPTS):
        if record.routed_at is not None:
            break  # routed already (a redelivery, a reply's or a withdrawal's pointer)
        # The service chosen at filing (from the registry) or by an agent's reclassification.
        service = Service(record.service)
        first = not _routed_before(record)
        if uow.transitions.route(record, service.value, catalog.routed_label(service), now):
            if first:
                # Counted here, once a filing, rather than on the member's call (as its
                # `RequestFiled` event): a reclassified request is routed again, not filed again.
                metric("RequestsFiled", type=record.type)
            metric("RequestsRouted", Service=service.value)
            logger.info("request %s routed to %s", record.request_id, service.value)
            break
        # Routed by a concurrent delivery, or handed on (asked about, decided…) between the
        # read and the write: as it now is, never back to the service it left nor onto the
        # list of a state it left.
        record = uow.requests.get(pointer.member_id, pointer.request_id, consistent=True)
    service = Service(record.service)
    # On a redelivery too: what a change left pending goes out (one read when nothing is).
    dispatch(uow, record.member_id, record.request_id, now, delivered=delivered)
    # Sent again on a redelivery too: if the last attempt died after recording the routing,
    # this is what gets the request to its service; the service ignores a repeat.
    uow.queues.send(service_queue(service.value), pointer)
    remove_staged_uploads(uow, record)
    return service


def _routed_before(record: RequestRecord) -> bool:
    """The request reached a service already (its history says so): a reclassification has it
    routed again, its `routed_at` removed, and this routing is not its filing's."""
    routed = {catalog.routed_label(service) for service in Service}
    return any(entry.label in routed for entry in record.history)


def remove_staged_uploads(uow: UnitOfWork, record: RequestRecord) -> None:
    """The uploads a filing copied under its request, no longer needed where the member put
    them: removed here rather than on the member's call (one call and one thread's wait fewer
    there), on a redelivery too (removing what is gone is a no-op). Best effort, as every
    delete of files: what S3 refuses, the bucket's lifecycle removes within a day."""
    uow.files.delete(
        [keys.staged_object(record.member_id, a.attachment_id) for a in record.attachments]
    )


def serve(
    uow: UnitOfWork, pointer: RequestPointer, now: datetime, delivered: str | None = None
) -> None:
    """What the request's service does by itself when the request reaches it: first the
    letters it owes and the outbox of the change that sent it (an agent's decision or question
    hands the request over for them: the API renders none), then its automatic step.
    `delivered`: the outbox entry this pointer was sent for, not sent again."""
    # Read consistently: the change that sent the pointer a moment ago must be seen (its
    # letters owed, its status); a stale read would skip the letter of a decision.
    record = uow.requests.get(pointer.member_id, pointer.request_id, consistent=True)
    if record.letters_due:
        issue_due_letters(uow, record)
    if record.letters_due or delivered is not None:
        # The change's audit record and event, handed over with its pointer, then the letters'
        # `LetterIssued`; on a redelivery, what a failed attempt left (one read when nothing).
        dispatch(uow, record.member_id, record.request_id, now, delivered=delivered)
    if record.status is Status.withdrawn:
        # Already off the service's work list: the handler only says it saw it.
        logger.info("request %s withdrawn by the member", record.request_id)
        metric("RequestsWithdrawn", Service=record.service)
        return
    if record.status is Status.processed:
        return  # a late duplicate: the request was already answered
    handling = catalog.handling_for(record.type, complaint=record.complaint)
    try:
        STEPS[handling.automatic](uow, record, now)
    except Conflict:
        if uow.requests.get(record.member_id, record.request_id).is_open():
            raise
        return  # answered by a concurrent delivery, or withdrawn meanwhile
    answers = {
        m.message_id
        for m in record.messages
        if m.author == Actor.member and m.message_id not in record.replies_delivered
    }
    if answers:
        label = f"Réponse transmise au {catalog.SERVICE_LABELS[Service(record.service)]}"
        if uow.transitions.deliver_replies(record, answers, label, now):
            metric("RepliesDelivered", Service=record.service)
            dispatch(uow, record.member_id, record.request_id, now)  # its audit record


def acknowledge(uow: UnitOfWork, record: RequestRecord, now: datetime) -> None:
    """The service says it has the request; an agent decides."""
    label = catalog.acknowledged_label(Service(record.service))
    if uow.transitions.acknowledge(record, label, now):
        dispatch(uow, record.member_id, record.request_id, now)  # its audit record


def accept(uow: UnitOfWork, record: RequestRecord, now: datetime) -> None:
    """Accepted at once: the change applied, the letter issued, the request processed."""
    handling = catalog.handling_for(record.type, complaint=record.complaint)
    decide(uow, record, Outcome.accepted, now, label=handling.accepted_label)


def issue_attestation(uow: UnitOfWork, record: RequestRecord, now: datetime) -> None:
    """The tiers-payant attestation of the beneficiaries chosen who are covered today; a letter
    saying why instead when none is, or when the contract has ended."""
    from chalicelib.letters.french import long_date

    handling = catalog.handling_for(record.type, complaint=record.complaint)
    today = clock.paris_date(now)
    contract = uow.members.get(record.member_id).contract
    chosen = concerned_beneficiaries(uow, record)
    covered = [b for b in chosen if b.covered_on(today, contract)]
    left_out = [b.full_name for b in chosen if b not in covered]
    if contract.end_date is not None and contract.end_date < today:
        reason = f"Votre contrat a pris fin le {long_date(contract.end_date)}."
        decide(uow, record, Outcome.refused, now, message=reason, label="Attestation refusée")
    elif not covered:
        reason = "Aucun des bénéficiaires choisis n'est couvert par votre contrat ce jour."
        decide(uow, record, Outcome.refused, now, message=reason, label="Attestation refusée")
    elif left_out:
        reason = f"Non couverts ce jour, donc absents de l'attestation : {', '.join(left_out)}."
        decide(uow, record, Outcome.partially_accepted, now, message=reason,
               label=handling.accepted_label)  # fmt: skip
    else:
        decide(uow, record, Outcome.accepted, now, label=handling.accepted_label)


def check_bank_details(uow: UnitOfWork, record: RequestRecord, now: datetime) -> None:
    """Unusable bank details are refused with a letter at once; usable ones wait for an agent,
    the full IBAN held beside the request until then."""
    iban = uow.members.held_iban(record.member_id, record.request_id)
    problem = (
        iban_problem(iban) if iban else "Coordonnées bancaires introuvables."
    ) or holder_problem(str(record.recall.data.get("holder_name", "")))
    if problem is None:
        label = "Coordonnées bancaires vérifiées, en cours de validation"
        if uow.transitions.acknowledge(record, label, now):
            dispatch(uow, record.member_id, record.request_id, now)  # its audit record
        return
    decide(
        uow, record, Outcome.refused, now, message=problem, label="Coordonnées bancaires refusées"
    )


def acknowledge_complaint(uow: UnitOfWork, record: RequestRecord, now: datetime) -> None:
    """ACPR recommendation 2022-R-01: a dated acknowledgement with a copy of what was filed,
    the answer owed within two months."""
    filed_on = clock.paris_date(record.created_at)
    answer_on = answer_due(filed_on)
    issue_letter(
        uow,
        "accuse_reception_reclamation",
        record,
        now,
        filed=record.recall.model_dump(mode="json"),
        filed_on=filed_on,
        answer_due_on=answer_on,
        beneficiaries=concerned_beneficiaries(uow, record),  # the copy names them too
    )
    uow.transitions.acknowledge(
        record,
        "Réclamation enregistrée, accusé de réception envoyé",
        now,
        due_at=clock.end_of_day(answer_on),
        acknowledgement_due_at=clock.end_of_day(acknowledgement_due(filed_on)),
    )
    dispatch(uow, record.member_id, record.request_id, now)  # the letter's event, the audit


STEPS: dict[Automatic, Step] = {
    Automatic.acknowledge: acknowledge,
    Automatic.accept: accept,
    Automatic.issue_attestation: issue_attestation,
    Automatic.check_bank_details: check_bank_details,
    Automatic.acknowledge_complaint: acknowledge_complaint,
}


def flag_for_agents(uow: UnitOfWork, pointer: RequestPointer, now: datetime) -> bool:
    """A request its service's handler gave up on: before an agent, at the head of its
    service's work list, the member told that someone is on it."""
    record = uow.requests.get(pointer.member_id, pointer.request_id)
    if not uow.transitions.flag_for_agents(record, now):
        return False
    logger.warning("request %s flagged for agents", pointer.request_id)
    metric("RequestsFlaggedForAgents", Service=record.service)
    dispatch(uow, record.member_id, record.request_id, now)  # its audit record
    return True
