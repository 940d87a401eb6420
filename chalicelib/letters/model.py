"""What a letter says, before any PDF: kinds, outcomes, the context a letter is filled from.

Pure Python and pydantic only: the API side imports this to list documents (titles) and to
build contexts without loading fpdf2.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from chalicelib.domain.effects import CoverageChange
from chalicelib.domain.members import Beneficiary, Member
from chalicelib.domain.model import Model
from chalicelib.domain.states import Outcome as Outcome  # the one enum of decisions


class LetterKind(StrEnum):
    accuse_reception_reclamation = "accuse_reception_reclamation"
    reponse_reclamation = "reponse_reclamation"
    prise_en_charge_hospitaliere = "prise_en_charge_hospitaliere"
    refus_prise_en_charge = "refus_prise_en_charge"
    remboursement = "remboursement"
    refus_remboursement = "refus_remboursement"
    reponse_devis = "reponse_devis"
    teletransmission = "teletransmission"
    confirmation_modification = "confirmation_modification"
    attestation_tiers_payant = "attestation_tiers_payant"
    # The answer to a request no other kind fits: the contact form, "other information".
    reponse_demande = "reponse_demande"
    # The service needs a document or an answer before it can decide.
    demande_pieces = "demande_pieces"


REFUSING_OUTCOMES = frozenset({Outcome.refused, Outcome.partially_accepted})


@dataclass(frozen=True)
class KindSpec:
    """How one kind of letter behaves.

    `outcomes` lists the outcomes the kind can carry; the first one is its default (None for a
    letter that decides nothing, such as an acknowledgement). `signed_by` is the service that
    signs it.
    """

    kind: LetterKind
    title: str
    outcomes: tuple[Outcome | None, ...]
    signed_by: str
    # Titles for "Mes courriers et documents" when the outcome changes what the letter is.
    titles_by_outcome: tuple[tuple[Outcome, str], ...] = ()

    @property
    def default_outcome(self) -> Outcome | None:
        return self.outcomes[0]


_ANSWERS = (Outcome.accepted, Outcome.partially_accepted, Outcome.refused)

KIND_SPECS: dict[LetterKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            LetterKind.accuse_reception_reclamation,
            "Accusé de réception de votre réclamation",
            (None,),
            "Le Service Réclamations",
        ),
        KindSpec(
            LetterKind.reponse_reclamation,
            "Réponse à votre réclamation",
            _ANSWERS,
            "Le Service Réclamations",
        ),
        KindSpec(
            LetterKind.prise_en_charge_hospitaliere,
            "Accord de prise en charge hospitalière",
            (Outcome.accepted, Outcome.partially_accepted),
            "Le Service Hospitalisation",
        ),
        KindSpec(
            LetterKind.refus_prise_en_charge,
            "Refus de prise en charge hospitalière",
            (Outcome.refused,),
            "Le Service Hospitalisation",
        ),
        KindSpec(
            LetterKind.remboursement,
            "Votre remboursement",
            (Outcome.accepted, Outcome.partially_accepted),
            "Le Service Remboursements",
        ),
        KindSpec(
            LetterKind.refus_remboursement,
            "Refus de remboursement",
            (Outcome.refused,),
            "Le Service Remboursements",
        ),
        KindSpec(
            LetterKind.reponse_devis,
            "Réponse à votre devis",
            _ANSWERS,
            "Le Service Devis",
        ),
        KindSpec(
            LetterKind.teletransmission,
            "Télétransmission avec l'Assurance Maladie",
            (Outcome.accepted, Outcome.refused),
            "Le Service Adhérents",
        ),
        KindSpec(
            LetterKind.confirmation_modification,
            "Confirmation de la modification de votre dossier",
            _ANSWERS,
            "Le Service Adhérents",
            titles_by_outcome=(
                (Outcome.partially_accepted, "Réponse à votre demande de modification"),
                (Outcome.refused, "Réponse à votre demande de modification"),
            ),
        ),
        KindSpec(
            LetterKind.reponse_demande,
            "Réponse à votre demande",
            _ANSWERS,
            "Le Service Adhérents",
        ),
        KindSpec(
            LetterKind.demande_pieces,
            "Demande de pièces complémentaires",
            (None,),
            "Votre conseiller Génération",
        ),
        KindSpec(
            LetterKind.attestation_tiers_payant,
            "Attestation de tiers-payant",
            (None,),
            "Le Service Adhérents",
        ),
    )
}


def resolve_outcome(kind: LetterKind, outcome: Outcome | None) -> Outcome | None:
    """The outcome a letter of this kind carries: the given one, else the kind's default.

    Raises ValueError for an outcome the kind cannot carry (a refusal "accepted"): rendering a
    letter that contradicts its own title is a bug on the caller's side, not a member's.
    """
    spec = KIND_SPECS[kind]
    if outcome is None:
        return spec.default_outcome
    if outcome not in spec.outcomes:
        raise ValueError(f"a {kind.value} letter cannot carry the outcome {outcome.value}")
    return outcome


def letter_title(kind: LetterKind, outcome: Outcome | None = None) -> str:
    """The letter's title, as "Mes courriers et documents" lists it and its "Objet" reads."""
    spec = KIND_SPECS[kind]
    resolved = resolve_outcome(kind, outcome)
    return next((title for when, title in spec.titles_by_outcome if when is resolved), spec.title)


def needs_appeal(kind: LetterKind, outcome: Outcome | None = None) -> bool:
    """Whether the letter refuses in whole or in part, and so must name the ways to appeal."""
    return resolve_outcome(kind, outcome) in REFUSING_OUTCOMES


def names_mediator(kind: LetterKind, outcome: Outcome | None = None) -> bool:
    """Whether the letter must give the mediator's contact details (ACPR 2022-R-01): an answer
    to a complaint that refuses in whole or in part."""
    return kind is LetterKind.reponse_reclamation and needs_appeal(kind, outcome)


class LetterContext(Model):
    """Everything a letter is filled from. Only `member`, `request_id`, `request_label` and
    `issued_on` are always needed; each template reads the rest when it has it.

    `filed` is the recall of what the member filed, as the request detail gives it:
    `{"description": "…", "data": {…}}`. Templates read the request's own facts from it
    (care date, establishment, quote amount…); `amount` is what Génération decided to pay.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    member: Member
    request_id: str = Field(min_length=1, max_length=64)
    request_label: str = Field(min_length=1, max_length=120)
    issued_on: date
    outcome: Outcome | None = None
    message: str | None = Field(
        default=None, description="The agent's words to the member, printed as written"
    )
    amount: Decimal | None = Field(default=None, description="Euros paid or granted")
    filed_on: date | None = Field(default=None, description="When the member filed the request")
    filed: Mapping[str, Any] = Field(default_factory=dict)
    beneficiaries: tuple[Beneficiary, ...] = ()
    answer_due_on: date | None = Field(
        default=None, description="Complaint acknowledgement: the day the answer is owed by"
    )
    effective_on: date | None = Field(
        default=None, description="When a change, a payment or a teletransmission takes effect"
    )
    coverage_changes: tuple[CoverageChange, ...] = Field(
        default=(), description="Whose coverage starts or ends, and when (a change of the file)"
    )
    service_label: str | None = Field(
        default=None,
        max_length=60,
        description="The request's service as the member's history names it (« Service "
        "Cotisations »): signs a letter of a kind several services send",
    )


class CoverageLine(Model):
    """One care domain of the tiers-payant attestation: its inter-AMC code and what is covered."""

    model_config = ConfigDict(frozen=True)

    code: str
    label: str
    coverage: str


# What a Génération contract covers in tiers-payant, per care domain. The codes are those of
# the inter-AMC attestation; "PH7" covers medicines at every Assurance Maladie rate.
DEFAULT_COVERAGE: tuple[CoverageLine, ...] = (
    CoverageLine(code="PHAR", label="Pharmacie", coverage="PH7"),
    CoverageLine(code="MED", label="Médecins", coverage="100 %"),
    CoverageLine(code="LABO", label="Laboratoire", coverage="100 %"),
    CoverageLine(code="RADL", label="Radiologie", coverage="100 %"),
    CoverageLine(code="HOSP", label="Hospitalisation", coverage="Sur accord"),
    CoverageLine(code="OPTI", label="Optique", coverage="Sur devis"),
    CoverageLine(code="DENT", label="Dentaire", coverage="100 %"),
    CoverageLine(code="AUDI", label="Audioprothèse", coverage="Sur devis"),
    CoverageLine(code="AUXM", label="Auxiliaires médicaux", coverage="100 %"),
    CoverageLine(code="SAGE", label="Sages-femmes", coverage="100 %"),
    CoverageLine(code="TRAN", label="Transport", coverage="100 %"),
    CoverageLine(code="EXTE", label="Soins externes", coverage="100 %"),
)


class TiersPayantTerms(Model):
    """What the contract's tiers-payant agreement says. The convention type and routing
    criterion come from the third-party-payment operator; empty until one is set, and the
    attestation prints their labels all the same."""

    model_config = ConfigDict(frozen=True)

    convention_type: str = ""
    routing_criterion: str = ""
    coverage: tuple[CoverageLine, ...] = DEFAULT_COVERAGE


class InterAmcBlock(Model):
    """The block a health professional reads (or scans) to bill Génération directly."""

    model_config = ConfigDict(frozen=True)

    amc_number: str
    convention_type: str
    routing_criterion: str
    member_number: str
    valid_from: date
    valid_until: date

    def payload(self) -> str:
        """The text the Data Matrix encodes: versioned, one field per label, ASCII dates."""
        fields = (
            ("AMC", self.amc_number),
            ("CONV", self.convention_type),
            ("ROUT", self.routing_criterion),
            ("ADH", self.member_number),
            ("DU", self.valid_from.strftime("%Y%m%d")),
            ("AU", self.valid_until.strftime("%Y%m%d")),
        )
        return "|".join(["GENTP1", *(f"{name}:{value}" for name, value in fields)])


def end_of_year(day: date) -> date:
    return date(day.year, 12, 31)


def inter_amc_block(member: Member, issued_on: date, terms: TiersPayantTerms) -> InterAmcBlock:
    """Valid for the calendar year of issue, from the contract's start if it began this year."""
    contract = member.contract
    return InterAmcBlock(
        amc_number=contract.amc_number,
        convention_type=terms.convention_type,
        routing_criterion=terms.routing_criterion,
        member_number=member.member_id,
        valid_from=max(contract.start_date, date(issued_on.year, 1, 1)),
        valid_until=min(end_of_year(issued_on), contract.end_date or date.max),
    )


@dataclass(frozen=True)
class BeneficiaryRights:
    beneficiary: Beneficiary
    valid_from: date
    valid_until: date


def covered_beneficiaries(
    member: Member, beneficiaries: tuple[Beneficiary, ...] | list[Beneficiary], issued_on: date
) -> list[BeneficiaryRights]:
    """Each beneficiary covered on the day of issue, with the period of their rights: from the
    contract's start (or their own coverage's, or their birth, whichever is later) to the end of
    their coverage (or of the contract, or of the year, whichever is sooner). One not covered
    that day is not on the attestation."""
    contract = member.contract
    rights = []
    for beneficiary in beneficiaries:
        if not beneficiary.covered_on(issued_on, contract):
            continue
        ends = (end_of_year(issued_on), contract.end_date, beneficiary.coverage_end)
        until = min(d for d in ends if d is not None)
        starts = (contract.start_date, beneficiary.coverage_start, beneficiary.birth_date)
        since = max(d for d in starts if d is not None)
        rights.append(BeneficiaryRights(beneficiary, since, until))
    return rights
