"""PDF letters and the tiers-payant attestation.

Cheap to import: kinds, titles and the context model are plain Python and pydantic. fpdf2,
the font and the Data Matrix encoder load on the first render only, so a Lambda function that
merely lists documents never pays for them. Nothing here touches disk or network at import.

    pdf = render_letter(LetterKind.refus_remboursement, LetterContext(...))
    title = letter_title(LetterKind.refus_remboursement)   # what "Mes courriers" lists
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from chalicelib.domain.members import Beneficiary, Member
from chalicelib.letters.model import (
    DEFAULT_COVERAGE,
    KIND_SPECS,
    CoverageLine,
    InterAmcBlock,
    LetterContext,
    LetterKind,
    Outcome,
    TiersPayantTerms,
    inter_amc_block,
    letter_title,
    names_mediator,
    needs_appeal,
    resolve_outcome,
)

__all__ = [
    "DEFAULT_COVERAGE",
    "KIND_SPECS",
    "PDF_CONTENT_TYPE",
    "CoverageLine",
    "InterAmcBlock",
    "LetterContext",
    "LetterKind",
    "Outcome",
    "TiersPayantTerms",
    "inter_amc_block",
    "letter_title",
    "names_mediator",
    "needs_appeal",
    "render_letter",
    "render_tiers_payant_attestation",
    "resolve_outcome",
]

PDF_CONTENT_TYPE = "application/pdf"


def render_letter(kind: LetterKind, context: LetterContext) -> bytes:
    """The PDF of a letter of this kind, filled from the context. Same input, same bytes.

    Raises ValueError when the context's outcome does not fit the kind (an "accepted"
    refusal).
    """
    if kind is LetterKind.attestation_tiers_payant:
        return render_tiers_payant_attestation(
            context.member, context.beneficiaries, context.issued_on, request_id=context.request_id
        )
    from chalicelib.letters import render  # fpdf2 loads here, on the first letter only

    return render.render_letter(kind, context)


def render_tiers_payant_attestation(
    member: Member,
    beneficiaries: Sequence[Beneficiary],
    issued_on: date,
    *,
    request_id: str | None = None,
    terms: TiersPayantTerms | None = None,
) -> bytes:
    """The PDF of the tiers-payant attestation for the year of `issued_on`.

    Beneficiaries whose coverage ended before `issued_on` are left off.
    """
    from chalicelib.letters import attestation  # fpdf2 and pyStrich load here only

    return attestation.render_tiers_payant_attestation(
        member, beneficiaries, issued_on, request_id=request_id, terms=terms
    )
