"""Deciding a request: an agent's decision, or a service's automatic one. The request becomes
processed with its outcome, an acceptance changes the member's file as its type says, and the
type's letter for that outcome is owed in the same write: rendered at once where letters are
rendered (the services' handlers), handed over to the request's service otherwise (the API)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from chalicelib.domain import catalog, clock
from chalicelib.domain.effects import Accepted, CoverageChange
from chalicelib.domain.errors import AppError, Conflict, FieldError, Forbidden, ValidationFailed
from chalicelib.domain.requests import DueLetter, RequestRecord
from chalicelib.domain.states import DECIDED_LABELS, Outcome, Status
from chalicelib.services.dispatching import (
    HANDED_OVER_FOR,
    dispatch,
    hand_over,
    hand_over_pending,
)
from chalicelib.services.letters import issue_due_letters, owe_letter
from chalicelib.services.ports import UnitOfWork


def decide(
    uow: UnitOfWork,
    record: RequestRecord,
    outcome: Outcome,
    now: datetime,
    *,
    message: str = "",
    amount: Decimal | None = None,
    label: str | None = None,
    agent_id: str | None = None,
    render_here: bool = True,
) -> DueLetter:
    """The request becomes processed with this outcome, its effects applied, its letter owed;
    rendered here with `render_here` (a function with the letters' layer), else by the
    service's handler the change hands the request over to. Returns the letter (its id and
    title are known before it is rendered).

    Safe to retry with the same outcome (every step is idempotent); another outcome, or a
    request already processed, is a conflict (what its decision left pending is handed over
    first: `hand_over_pending`). A refusal, whole or partial, says why; a
    refusal pays nothing, so it takes no amount (its letter would say one is paid).
    """
    handling = catalog.handling_for(record.type, complaint=record.complaint)
    if not record.is_open():
        if not render_here and record.status is Status.processed:
            # What the decision left pending is handed over first (an agent's retry after
            # a call that timed out): the service's handler renders the letter and
            # dispatches the rest (audit record, `RequestDecided`, `LetterIssued`) once.
            hand_over_pending(uow, record.member_id, record.request_id)
        raise closed(record)
    check_decision(record, outcome, message, amount)
    if not uow.transitions.claim_decision(record, outcome.value, now):
        current = uow.requests.get(record.member_id, record.request_id, consistent=True)
        raise moved_away(record, current) or _claimed_otherwise(current)
    effect = handling.on_accept if outcome is Outcome.accepted else None
    changes: tuple[CoverageChange, ...] = ()
    if effect is not None:
        accepted = Accepted(
            member_id=record.member_id,
            request_id=record.request_id,
            data=record.recall.data,
            beneficiary_ids=[b.beneficiary_id for b in record.beneficiaries],
        )
        try:
            changes = tuple(effect(accepted, uow.members))
        except AppError:
            # Refused before it changed the file (the IBAN held for review gone): the
            # reservation is given back, so that the agent may still decide otherwise (a
            # refusal saying why) rather than meet « Une autre décision » for ever.
            uow.transitions.release_decision(record, outcome.value)
            raise
    letter = owe_letter(
        handling.letter(record.recall.data, outcome),
        now,
        outcome=outcome.value,
        message=message or None,
        amount=amount,
        effective_on=clock.paris_date(now) if effect is not None else None,
        coverage_changes=changes,
    )
    finished = uow.transitions.finish(
        record,
        outcome.value,
        label or DECIDED_LABELS[outcome],
        now,
        agent_id,
        letter=letter,
        hand_over=not render_here,
        pending_from=None if render_here else now + HANDED_OVER_FOR,
    )
    if finished is None:
        raise handed_on(uow, record) or Conflict("Cette demande est déjà traitée.")
    if render_here:
        # Read consistently: the letters just owed must be seen.
        issue_due_letters(
            uow, uow.requests.get(record.member_id, record.request_id, consistent=True)
        )
        dispatch(uow, record.member_id, record.request_id, now)
    else:
        # The pointer to the service's handler, which renders the letter and dispatches the
        # rest (the audit record, `RequestDecided` that tells the member, `LetterIssued`).
        hand_over(uow, record.member_id, record.request_id, finished)
    return letter


def check_decision(
    record: RequestRecord, outcome: Outcome, message: str, amount: Decimal | None
) -> None:
    """The decision's own rules, on the request as read (nothing read or written): another
    outcome's decision under way takes its place (409, named: `claim_decision`); a refusal,
    whole or partial, says why; a refusal pays nothing; an acceptance of what pays (a
    reimbursement, a quote, a hospital cover) says how much, and no more than the amount filed
    (a 422 naming the field)."""
    if record.decided_outcome not in (None, outcome):
        raise _claimed_otherwise(record)
    handling = catalog.handling_for(record.type, complaint=record.complaint)
    if outcome is not Outcome.accepted and not message:
        raise ValidationFailed(
            "Un refus s'explique.", [FieldError("message", "Requis pour un refus.")]
        )
    if outcome is Outcome.refused and amount is not None:
        raise ValidationFailed(
            "Un refus ne verse rien.", [FieldError("amount", "Sans objet pour un refus.")]
        )
    if outcome is not Outcome.refused and handling.amount_required and amount is None:
        raise ValidationFailed(
            "Le montant accordé est requis.",
            [FieldError("amount", "Requis pour une acceptation, même partielle.")],
        )
    # A complementary insurer pays at most what the member paid or was quoted (loi Évin, art. 9):
    # the letter would promise more than was spent.
    filed = record.recall.data.get("amount")
    if amount is not None and filed is not None and amount > Decimal(str(filed)):
        shown = f"{Decimal(str(filed)):.2f}".replace(".", ",")
        raise ValidationFailed(
            f"Le montant accordé dépasse le montant présenté ({shown} €).",
            [FieldError("amount", f"{shown} € au plus.")],
        )


def handed_on(uow: UnitOfWork, record: RequestRecord) -> Forbidden | None:
    """A change refused by its write, on a request another service has taken over since the
    change read it (an agent's reclassification at the same moment): no longer the acting
    service's, as if it had been read there (`api/backoffice`: 403). None when it is still on
    the service read, the write refused for another reason. One consistent read."""
    return moved_away(
        record, uow.requests.get(record.member_id, record.request_id, consistent=True)
    )


def closed(record: RequestRecord) -> Conflict:
    """What a change answers on a request closed by then: withdrawn, or processed."""
    if record.status is Status.withdrawn:
        return Conflict("Cette demande a été retirée.")
    return Conflict("Cette demande est déjà traitée.")


def _claimed_otherwise(current: RequestRecord) -> Conflict:
    """Why a decision's claim was refused, the request as it now is: closed, or another
    outcome's decision under way, named, so that the agent can finish one that died after its
    claim (its effect may be applied: no other outcome may take its place)."""
    if not current.is_open():
        return closed(current)
    if current.decided_outcome is not None:
        return Conflict(
            "Une autre décision est en cours sur cette demande : « "
            f"{DECIDED_LABELS[current.decided_outcome]} ». Si elle n'a pas abouti, "
            "renouvelez-la pour la terminer."
        )
    return Conflict("Une autre décision a déjà été prise sur cette demande.")


def moved_away(read: RequestRecord, current: RequestRecord) -> Forbidden | None:
    """`handed_on`, the request as it now is already read."""
    if current.service != read.service:
        return Forbidden("Cette demande a été confiée à un autre service.")
    return None
