"""Issuing a letter: render it (fpdf2 loads on the first letter only), store it, list it.

An agent's decision or question does not render its letter in the API: it owes it
(`owe_letter`, recorded with the change), and the request's service's handler issues what is
owed (`issue_due_letters`): only the functions that render letters load the letters' layer.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from ulid import ULID

from chalicelib import letters
from chalicelib.domain import catalog, clock
from chalicelib.domain.catalog import Service
from chalicelib.domain.documents import DocumentRecord
from chalicelib.domain.effects import CoverageChange
from chalicelib.domain.events import LetterIssued
from chalicelib.domain.members import Beneficiary
from chalicelib.domain.requests import DueLetter, RequestRecord
from chalicelib.observability import metric
from chalicelib.services.ports import UnitOfWork
from chalicelib.store import outbox

logger = logging.getLogger(__name__)


def issue_letter(
    uow: UnitOfWork,
    kind: str,
    request: RequestRecord,
    now: datetime,
    occurrence: str | None = None,
    *,
    due: DueLetter | None = None,
    **context: object,
) -> DocumentRecord:
    """One letter of `kind` for the request (or for this occurrence of it: each question),
    whatever the retries: the first one is kept. Dated the Paris day of `now`; its
    `LetterIssued` event is recorded with it, flagged for the post unless the member is
    paperless."""
    member_id, request_id, request_label = request.member_id, request.request_id, request.label
    existing = uow.documents.existing_letter(member_id, request_id, kind, occurrence)
    if existing is not None:
        return existing
    letter_kind = letters.LetterKind(kind)
    member = uow.members.get(member_id)
    issued_on = clock.paris_date(now)
    if letter_kind is letters.LetterKind.attestation_tiers_payant:
        # Those the request chose (the renderer keeps who is covered that day).
        chosen = context.get("beneficiaries")
        beneficiaries = (
            list(chosen) if isinstance(chosen, tuple) else uow.members.beneficiaries(member_id)
        )
        pdf = letters.render_tiers_payant_attestation(
            member, beneficiaries, issued_on, request_id=request_id
        )
        title = letters.letter_title(letter_kind)
    else:
        letter = letters.LetterContext(
            member=member,
            request_id=request_id,
            request_label=request_label,
            issued_on=issued_on,
            service_label=catalog.SERVICE_LABELS[Service(request.service)],
            **context,
        )
        pdf = letters.render_letter(letter_kind, letter)
        title = letters.letter_title(letter_kind, letter.outcome)
    document_id = due.document_id if due is not None else str(ULID.from_datetime(now))
    postal = not member.preferences.paperless
    issued = LetterIssued.of(
        request, now, document_id=document_id, kind=kind, postal_dispatch=postal
    )
    record = uow.documents.store(
        member_id,
        kind,
        title,
        pdf,
        now,
        request_id=request_id,
        occurrence=occurrence,
        document_id=document_id,
        postal_dispatch=postal,
        announce=outbox.to_bus(issued),
        settles=due.encoded() if due is not None else None,
        request_expires_at=request.expires_at,
    )
    logger.info("letter issued: %s for request %s", kind, request_id)
    metric("LettersIssued", kind=kind)
    return record


def concerned_beneficiaries(uow: UnitOfWork, record: RequestRecord) -> tuple[Beneficiary, ...]:
    """The beneficiaries the request concerns, as the contract holds them (a letter names them)."""
    wanted = {b.beneficiary_id for b in record.beneficiaries}
    return tuple(
        b for b in uow.members.beneficiaries(record.member_id) if b.beneficiary_id in wanted
    )


def owe_letter(
    kind: str,
    now: datetime,
    *,
    outcome: str | None = None,
    occurrence: str | None = None,
    message: str | None = None,
    amount: Decimal | None = None,
    effective_on: date | None = None,
    answer_due_on: date | None = None,
    coverage_changes: tuple[CoverageChange, ...] = (),
) -> DueLetter:
    """The letter a change calls for, to record with it: its id and title known now (the
    decision's answer names it), its PDF rendered by the service's handler."""
    letter_kind = letters.LetterKind(kind)
    # As `issue_letter` titles it: the attestation has one title, whatever the decision.
    said = letter_kind is not letters.LetterKind.attestation_tiers_payant
    title = letters.letter_title(
        letter_kind, letters.Outcome(outcome) if said and outcome is not None else None
    )
    return DueLetter(
        kind=kind,
        document_id=str(ULID.from_datetime(now)),
        title=title,
        decided_at=clock.iso_z(now),
        occurrence=occurrence,
        outcome=outcome,
        message=message,
        amount=f"{amount:.2f}" if amount is not None else None,
        effective_on=effective_on,
        answer_due_on=answer_due_on,
        coverage_changes=coverage_changes,
    )


def issue_due_letters(uow: UnitOfWork, record: RequestRecord) -> list[DocumentRecord]:
    """Render and store every letter the request owes, each settled in the same write as it is
    stored: a redelivery issues nothing twice. Dated the day of the change that owed it."""
    issued = []
    for due in record.due_letters():
        context: dict[str, object] = {
            "filed": record.recall.model_dump(mode="json"),
            "filed_on": clock.paris_date(record.created_at),
            "beneficiaries": concerned_beneficiaries(uow, record),
            "coverage_changes": due.coverage_changes,
        }
        optional = {
            "outcome": due.outcome,
            "message": due.message,
            "amount": Decimal(due.amount) if due.amount is not None else None,
            "effective_on": due.effective_on,
            "answer_due_on": due.answer_due_on,
        }
        context.update({name: value for name, value in optional.items() if value is not None})
        decided_at = datetime.fromisoformat(due.decided_at)
        issued.append(
            issue_letter(uow, due.kind, record, decided_at, due.occurrence, due=due, **context)
        )
    return issued
