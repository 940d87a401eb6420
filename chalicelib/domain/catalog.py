"""The catalogue of démarches, and the registry of what each type means. Data, not code.

One `RequestType` entry per type carries everything the type means: its labels, its data model
(field titles included), its service, its letter for each outcome, what an acceptance applies to
the member's file, what its service does by itself, and which beneficiaries it may concern.
Adding a type is its data model (`domain/demarches.py`) and its entry here: nothing else
branches on a type's code. `GET /catalog` publishes it; the router and the services read it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from chalicelib.domain import demarches as d
from chalicelib.domain import effects
from chalicelib.domain.members import Beneficiary, Relationship
from chalicelib.domain.notifications import french_date
from chalicelib.domain.services import Service as Service
from chalicelib.domain.states import STATUS_DISPLAY, Outcome
from chalicelib.domain.subjects import SUBJECTS as SUBJECTS
from chalicelib.domain.subjects import SUBJECTS_BY_CODE as SUBJECTS_BY_CODE
from chalicelib.domain.subjects import Choice

SERVICE_LABELS: dict[Service, str] = {
    Service.remboursements: "Service Remboursements",
    Service.devis: "Service Devis",
    Service.hospitalisation: "Service Hospitalisation",
    Service.tiers_payant: "Service Tiers-payant",
    Service.adhesion: "Service Adhésion",
    Service.cotisations: "Service Cotisations",
    Service.reclamations: "Service Réclamations",
    Service.relation_adherent: "Service Relation adhérent",
}


def routed_label(service: Service) -> str:
    """The history line of a request reaching its service."""
    return f"Transmise au {SERVICE_LABELS[service]}"


def acknowledged_label(service: Service) -> str:
    """The history line of a service saying it has the request."""
    # Not « Prise en charge par » : to a member, a « prise en charge » is the cover itself
    # (the hospital cover's letters are « Accord de prise en charge »), granted or not yet.
    return f"Reçue par le {SERVICE_LABELS[service]}"


class Attachments(StrEnum):
    required = "required"
    optional = "optional"
    none = "none"


class Automatic(StrEnum):
    """What a service does by itself when a request reaches it (`services/serving.py`)."""

    acknowledge = "acknowledge"  # says it has the request; an agent decides
    accept = "accept"  # accepts at once: the change applied, the letter issued, processed
    issue_attestation = "issue_attestation"  # the attestation of who is covered, or a refusal
    check_bank_details = "check_bank_details"  # refuses unusable bank details, holds the rest
    acknowledge_complaint = "acknowledge_complaint"  # ACPR deadlines and a dated acknowledgement


# A beneficiary a type may not concern, given what was filed: (the field, the reason), shown
# on that field; None when they may.
BeneficiaryRule = Callable[[Beneficiary, date, BaseModel], tuple[str | None, str] | None]
# A letter a type's data calls for instead of its usual one (None: the usual one).
LetterRule = Callable[[Mapping[str, Any], Outcome], str | None]


def _every_outcome(kind: str) -> Mapping[Outcome, str]:
    return {outcome: kind for outcome in Outcome}


@dataclass(frozen=True)
class Handling:
    """How a request is served and answered: its service, the letter answering each outcome,
    what an acceptance changes, what the service does by itself."""

    service: Service
    letters: Mapping[Outcome, str]
    automatic: Automatic = Automatic.acknowledge
    accepted_label: str = "Demande acceptée"  # the history line of an automatic acceptance
    on_accept: effects.Effect | None = None
    letter_rule: LetterRule | None = None
    # What is paid or granted must be said when it is accepted in whole or in part: a letter
    # never promises a blank amount, nor silently all that was asked.
    amount_required: bool = False
    # The full IBAN waits beside the request until the decision, and not a moment longer.
    holds_iban: bool = False

    def letter(self, data: Mapping[str, Any], outcome: Outcome) -> str:
        special = self.letter_rule(data, outcome) if self.letter_rule else None
        return special or self.letters[outcome]


@dataclass(frozen=True)
class RequestType:
    type: str
    label: str
    category: str
    data_model: builtins.type[d.DemarcheData]
    attachments: Attachments
    handling: Handling
    description_required: bool = False
    complaint_allowed: bool = False  # may be ticked as a complaint (the contact form only)
    beneficiary_rule: BeneficiaryRule | None = None
    # The ages (from, up to excluded) of the beneficiaries it may concern, published.
    beneficiary_ages: tuple[int, int] | None = None
    # Their bonds to the member, published, when it concerns only some (None: any).
    beneficiary_relationships: tuple[Relationship, ...] | None = None

    @property
    def service(self) -> Service:
        return self.handling.service

    @property
    def attachments_required(self) -> bool:
        return self.attachments is Attachments.required

    def data_schema(self) -> dict[str, Any]:
        return d.json_schema(self.data_model)


@dataclass(frozen=True)
class Category:
    code: str
    label: str


CATEGORIES: tuple[Category, ...] = (
    Category("sante", "Santé"),
    Category("vie_personnelle", "Vie personnelle"),
    Category("contact", "Échanger avec Génération"),
)

ADULT_AGE = 18
# Every formula covers a child aged 18 or more, in studies, training or looking for work, until
# the day before their 26th birthday: the limit the catalogue publishes.
CHILD_MAX_AGE = 26


def extendable_child(
    beneficiary: Beneficiary, today: date, data: BaseModel
) -> tuple[str | None, str] | None:
    """A child of 18 or more, under the formula's upper age, extended past their current
    coverage end (if any) to before that age."""
    if beneficiary.relationship is not Relationship.child or beneficiary.age_on(today) < ADULT_AGE:
        return None, "La prolongation concerne un enfant de 18 ans ou plus."
    limit = beneficiary.birthday(CHILD_MAX_AGE)  # the age `age_on` and the portal count
    if today >= limit:
        return None, f"Les droits d'un enfant s'arrêtent à ses {CHILD_MAX_AGE} ans."
    until = getattr(data, "until", None)
    if isinstance(until, date) and until >= limit:
        return "data.until", (
            f"La prolongation s'arrête au plus tard la veille des {CHILD_MAX_AGE} ans de l'enfant."
        )
    current = beneficiary.coverage_end
    if isinstance(until, date) and current is not None and until <= current:
        return "data.until", (
            f"Les droits de cet enfant courent déjà jusqu'au {french_date(current)} : "
            "choisissez une date postérieure."
        )
    return None


def concerned_by_family_event(
    beneficiary: Beneficiary, today: date, data: BaseModel
) -> tuple[str | None, str] | None:
    """A divorce or a separation concerns the spouse; a death, anyone but the member."""
    event = getattr(data, "event", None)
    if event in (d.FamilyEvent.divorce, d.FamilyEvent.separation) and (
        beneficiary.relationship is not Relationship.spouse
    ):
        return None, "Un divorce ou une séparation concerne le conjoint."
    if event is d.FamilyEvent.deces and beneficiary.relationship is Relationship.member:
        return None, "Un décès se déclare pour un autre bénéficiaire que l'adhérent."
    return None


def teletransmission_letter(data: Mapping[str, Any], outcome: Outcome) -> str | None:
    """A question on teletransmission is answered by the teletransmission letter, which says
    yes or no (a partial answer is an ordinary answer)."""
    if data.get("detail") == "teletransmission" and outcome is not Outcome.partially_accepted:
        return "teletransmission"
    return None


# Labels are Génération's own words for each démarche (its description of the Démarches area:
# « L’envoi de justificatif de remboursement »…) without the article, typographic apostrophes
# included. A request keeps the label it was filed with.
REQUEST_TYPES: tuple[RequestType, ...] = (
    RequestType(
        "sante.justificatif",
        "Envoi de justificatif de remboursement",
        "sante",
        d.JustificatifData,
        Attachments.required,
        Handling(
            Service.remboursements,
            {
                Outcome.accepted: "remboursement",
                Outcome.partially_accepted: "remboursement",
                Outcome.refused: "refus_remboursement",
            },
            amount_required=True,
        ),
    ),
    RequestType(
        "sante.devis",
        "Envoi de devis",
        "sante",
        d.DevisData,
        Attachments.required,
        Handling(Service.devis, _every_outcome("reponse_devis"), amount_required=True),
    ),
    RequestType(
        "sante.prise_en_charge_hospitaliere",
        "Demande de prise en charge hospitalière",
        "sante",
        d.HospitalisationData,
        Attachments.optional,
        Handling(
            Service.hospitalisation,
            {
                Outcome.accepted: "prise_en_charge_hospitaliere",
                Outcome.partially_accepted: "prise_en_charge_hospitaliere",
                Outcome.refused: "refus_prise_en_charge",
            },
            amount_required=True,
        ),
    ),
    RequestType(
        "sante.attestation_tiers_payant",
        "Édition de l’attestation de Tiers-Payant Santé",
        "sante",
        d.NoData,
        Attachments.none,
        Handling(
            Service.tiers_payant,
            {
                Outcome.accepted: "attestation_tiers_payant",
                Outcome.partially_accepted: "attestation_tiers_payant",
                Outcome.refused: "reponse_demande",
            },
            automatic=Automatic.issue_attestation,
            accepted_label="Attestation disponible dans vos documents",
        ),
    ),
    RequestType(
        "vie.coordonnees",
        "Modification de vos coordonnées de contact ou postales",
        "vie_personnelle",
        d.CoordonneesData,
        Attachments.none,
        Handling(
            Service.adhesion,
            _every_outcome("confirmation_modification"),
            automatic=Automatic.accept,
            accepted_label="Modification enregistrée",
            on_accept=effects.apply_contact_details,
        ),
    ),
    RequestType(
        "vie.coordonnees_bancaires",
        "Gestion de vos coordonnées bancaires",
        "vie_personnelle",
        d.CoordonneesBancairesData,
        Attachments.required,
        Handling(
            Service.cotisations,
            _every_outcome("confirmation_modification"),
            automatic=Automatic.check_bank_details,
            on_accept=effects.apply_bank_details,
            holds_iban=True,
        ),
    ),
    RequestType(
        "vie.prolongation_droits_enfant",
        "Prolongation des droits de votre (vos) enfant(s) majeur(s)",
        "vie_personnelle",
        d.ProlongationDroitsEnfantData,
        Attachments.required,
        Handling(
            Service.adhesion,
            _every_outcome("confirmation_modification"),
            on_accept=effects.extend_child_coverage,
        ),
        beneficiary_rule=extendable_child,
        beneficiary_ages=(ADULT_AGE, CHILD_MAX_AGE),
        beneficiary_relationships=(Relationship.child,),
    ),
    RequestType(
        "vie.situation_familiale",
        "Changement de situation familiale",
        "vie_personnelle",
        d.SituationFamilialeData,
        Attachments.required,
        Handling(
            Service.adhesion,
            _every_outcome("confirmation_modification"),
            on_accept=effects.apply_family_change,
        ),
        beneficiary_rule=concerned_by_family_event,
    ),
    RequestType(
        "vie.autre",
        "Transmission ou obtention d’autres informations",
        "vie_personnelle",
        d.NoData,
        Attachments.optional,
        Handling(Service.adhesion, _every_outcome("reponse_demande")),
        description_required=True,
    ),
    RequestType(
        "contact.demande",
        "Demande",
        "contact",
        d.ContactDemandeData,
        Attachments.optional,
        Handling(
            Service.relation_adherent,
            _every_outcome("reponse_demande"),
            letter_rule=teletransmission_letter,
        ),
        description_required=True,
        complaint_allowed=True,
    ),
)

REQUEST_TYPES_BY_CODE: dict[str, RequestType] = {t.type: t for t in REQUEST_TYPES}

COMPLAINT_LABEL = "Réclamation"

# Every complaint, whatever its type, is served and answered by the complaints service.
COMPLAINT_HANDLING = Handling(
    Service.reclamations,
    _every_outcome("reponse_reclamation"),
    automatic=Automatic.acknowledge_complaint,
)


def handling_for(request_type: str, *, complaint: bool) -> Handling:
    return COMPLAINT_HANDLING if complaint else REQUEST_TYPES_BY_CODE[request_type].handling


def service_for(request_type: str, *, complaint: bool) -> Service:
    """Every complaint goes to the complaints service; other requests to their type's."""
    return handling_for(request_type, complaint=complaint).service


def label_for(request_type: str, *, complaint: bool) -> str:
    return COMPLAINT_LABEL if complaint else REQUEST_TYPES_BY_CODE[request_type].label


# Partner health professionals' specialties (labels as the Annuaire santé names them).
SPECIALTIES: tuple[Choice, ...] = (
    Choice("medecin_generaliste", "Médecin généraliste"),
    Choice("opticien", "Opticien-lunetier"),
    Choice("chirurgien_dentiste", "Chirurgien-dentiste"),
    Choice("audioprothesiste", "Audioprothésiste"),
    Choice("masseur_kinesitherapeute", "Masseur-kinésithérapeute"),
    Choice("pharmacien", "Pharmacien"),
    Choice("infirmier", "Infirmier"),
    Choice("sage_femme", "Sage-femme"),
    Choice("ophtalmologue", "Ophtalmologue"),
    Choice("pediatre", "Pédiatre"),
    Choice("gynecologue", "Gynécologue médical et obstétrique"),
    Choice("radiologue", "Radiologue"),
    Choice("osteopathe", "Ostéopathe"),
)

SPECIALTIES_BY_CODE: dict[str, Choice] = {s.code: s for s in SPECIALTIES}


def catalog_document() -> dict[str, Any]:
    """The body of `GET /catalog`."""
    return {
        "categories": [
            {
                "code": category.code,
                "label": category.label,
                "types": [
                    {
                        "type": t.type,
                        "label": t.label,
                        "service": t.service.value,
                        "data_schema": t.data_schema(),
                        "attachments_required": t.attachments_required,
                        "attachments_allowed": t.attachments is not Attachments.none,
                        "description_required": t.description_required,
                        "beneficiary_ages": (
                            {"min": t.beneficiary_ages[0], "max": t.beneficiary_ages[1] - 1}
                            if t.beneficiary_ages
                            else None
                        ),
                        "beneficiary_relationships": (
                            [r.value for r in t.beneficiary_relationships]
                            if t.beneficiary_relationships
                            else None
                        ),
                    }
                    for t in REQUEST_TYPES
                    if t.category == category.code
                ],
            }
            for category in CATEGORIES
        ],
        "subjects": [
            {
                "code": s.code,
                "label": s.label,
                "details": [{"code": c.code, "label": c.label} for c in s.details],
            }
            for s in SUBJECTS
        ],
        "specialties": [{"code": s.code, "label": s.label} for s in SPECIALTIES],
        "services": [{"code": s.value, "label": label} for s, label in SERVICE_LABELS.items()],
        "statuses": [
            {"code": status.value, "label": shown.label, "icon": shown.icon, "color": shown.color}
            for status, shown in STATUS_DISPLAY.items()
        ],
    }
