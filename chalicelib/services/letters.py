"""Issuing a letter: render it (fpdf2 loads on the first letter only), store it, list it."""

from __future__ import annotations

import logging
from datetime import datetime

from ulid import ULID

from chalicelib import letters
from chalicelib.domain import clock
from chalicelib.domain.documents import DocumentRecord
from chalicelib.domain.events import LetterIssued
from chalicelib.domain.requests import RequestRecord
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
            **context,
        )
        pdf = letters.render_letter(letter_kind, letter)
        title = letters.letter_title(letter_kind, letter.outcome)
    document_id = str(ULID.from_datetime(now))
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
    )
    logger.info("letter issued: %s for request %s", kind, request_id)
    metric("LettersIssued", kind=kind)
    return record
