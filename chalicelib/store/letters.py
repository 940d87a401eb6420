"""Issuing a letter: render it (fpdf2, loaded here only), store it, list it for the member."""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.domain.documents import DocumentRecord
from chalicelib.observability import metric
from chalicelib.store.documents import DocumentRepository
from chalicelib.store.members import MemberRepository

logger = logging.getLogger(__name__)


def issue_letter(
    kind: str,
    member_id: str,
    request_id: str,
    request_label: str,
    now: datetime,
    **context: object,
) -> DocumentRecord:
    """One letter of `kind` for the request, whatever the retries: the first one is kept."""
    from chalicelib import letters

    documents = DocumentRepository()
    existing = documents.existing_letter(member_id, request_id, kind)
    if existing is not None:
        return existing
    repository = MemberRepository()
    member = repository.get(member_id)
    letter_kind = letters.LetterKind(kind)
    if letter_kind is letters.LetterKind.attestation_tiers_payant:
        pdf = letters.render_tiers_payant_attestation(
            member, repository.beneficiaries(member_id), now.date(), request_id=request_id
        )
        title = letters.letter_title(letter_kind)
    else:
        letter = letters.LetterContext(
            member=member,
            request_id=request_id,
            request_label=request_label,
            issued_on=now.date(),
            **context,
        )
        pdf = letters.render_letter(letter_kind, letter)
        title = letters.letter_title(letter_kind, letter.outcome)
    record = documents.store(member_id, kind, title, pdf, now, request_id=request_id)
    logger.info("letter issued: %s for request %s", kind, request_id)
    metric("LettersIssued", kind=kind)
    return record
