"""The catalogue of démarches: labels as the portal shows them, services, schemas. Data, not code.

The router resolves a request's service from here; `GET /catalog` publishes it.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from chalicelib.domain import demarches as d


class Service(StrEnum):
    remboursements = "remboursements"
    devis = "devis"
    hospitalisation = "hospitalisation"
    tiers_payant = "tiers_payant"
    adhesion = "adhesion"
    cotisations = "cotisations"
    reclamations = "reclamations"
    relation_adherent = "relation_adherent"


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


class Attachments(StrEnum):
    required = "required"
    optional = "optional"
    none = "none"


@dataclass(frozen=True)
class RequestType:
    type: str
    label: str
    category: str
    service: Service
    data_model: builtins.type[BaseModel]
    attachments: Attachments
    description_required: bool = False

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

REQUEST_TYPES: tuple[RequestType, ...] = (
    RequestType(
        "sante.justificatif",
        "Envoi de justificatif de remboursement",
        "sante",
        Service.remboursements,
        d.JustificatifData,
        Attachments.required,
    ),
    RequestType(
        "sante.devis",
        "Envoi de devis",
        "sante",
        Service.devis,
        d.DevisData,
        Attachments.required,
    ),
    RequestType(
        "sante.prise_en_charge_hospitaliere",
        "Demande de prise en charge hospitalière",
        "sante",
        Service.hospitalisation,
        d.HospitalisationData,
        Attachments.optional,
    ),
    RequestType(
        "sante.attestation_tiers_payant",
        "Édition de l'attestation de Tiers-Payant Santé",
        "sante",
        Service.tiers_payant,
        d.NoData,
        Attachments.none,
    ),
    RequestType(
        "vie.coordonnees",
        "Modification des coordonnées de contact ou postales",
        "vie_personnelle",
        Service.adhesion,
        d.CoordonneesData,
        Attachments.none,
    ),
    RequestType(
        "vie.coordonnees_bancaires",
        "Gestion des coordonnées bancaires",
        "vie_personnelle",
        Service.cotisations,
        d.CoordonneesBancairesData,
        Attachments.required,
    ),
    RequestType(
        "vie.prolongation_droits_enfant",
        "Prolongation des droits d'un enfant majeur",
        "vie_personnelle",
        Service.adhesion,
        d.ProlongationDroitsEnfantData,
        Attachments.required,
    ),
    RequestType(
        "vie.situation_familiale",
        "Changement de situation familiale",
        "vie_personnelle",
        Service.adhesion,
        d.SituationFamilialeData,
        Attachments.required,
    ),
    RequestType(
        "vie.autre",
        "Transmission ou obtention d'autres informations",
        "vie_personnelle",
        Service.adhesion,
        d.NoData,
        Attachments.optional,
        description_required=True,
    ),
    RequestType(
        "contact.demande",
        "Demande",
        "contact",
        Service.relation_adherent,
        d.ContactDemandeData,
        Attachments.optional,
        description_required=True,
    ),
)

REQUEST_TYPES_BY_CODE: dict[str, RequestType] = {t.type: t for t in REQUEST_TYPES}

COMPLAINT_LABEL = "Réclamation"


def service_for(request_type: str, *, complaint: bool) -> Service:
    """Every complaint goes to the complaints service; other requests to their type's."""
    return Service.reclamations if complaint else REQUEST_TYPES_BY_CODE[request_type].service


def label_for(request_type: str, *, complaint: bool) -> str:
    return COMPLAINT_LABEL if complaint else REQUEST_TYPES_BY_CODE[request_type].label


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Subject:
    code: str
    label: str
    details: tuple[Choice, ...]


# The contact form's two drop-downs: what members of a mutuelle write about.
SUBJECTS: tuple[Subject, ...] = (
    Subject(
        "remboursements",
        "Mes remboursements",
        (
            Choice("remboursement_non_recu", "Remboursement non reçu"),
            Choice("montant_conteste", "Montant du remboursement contesté"),
            Choice("decompte", "Question sur un décompte"),
            Choice("teletransmission", "Télétransmission avec l'Assurance Maladie"),
        ),
    ),
    Subject(
        "cotisations",
        "Mes cotisations",
        (
            Choice("montant", "Montant de ma cotisation"),
            Choice("echeancier", "Échéancier de paiement"),
            Choice("prelevement", "Prélèvement rejeté ou en double"),
            Choice("attestation_fiscale", "Attestation fiscale (loi Madelin)"),
        ),
    ),
    Subject(
        "garanties",
        "Mes garanties",
        (
            Choice("niveau_remboursement", "Niveau de remboursement d'un soin"),
            Choice("changement_formule", "Changement de formule"),
            Choice("tableau_garanties", "Obtenir mon tableau de garanties"),
        ),
    ),
    Subject(
        "adhesion",
        "Mon adhésion",
        (
            Choice("ajout_beneficiaire", "Ajouter un bénéficiaire"),
            Choice("radiation_beneficiaire", "Radier un bénéficiaire"),
            Choice("resiliation", "Résilier mon contrat"),
            Choice("attestation_adhesion", "Obtenir une attestation d'adhésion"),
        ),
    ),
    Subject(
        "tiers_payant",
        "Carte de tiers-payant",
        (
            Choice("carte_non_recue", "Carte non reçue"),
            Choice("refus_professionnel", "Tiers-payant refusé par un professionnel"),
            Choice("erreur_carte", "Erreur sur ma carte"),
        ),
    ),
    Subject(
        "hospitalisation",
        "Hospitalisation",
        (
            Choice("prise_en_charge", "Suivi d'une prise en charge"),
            Choice("frais_sejour", "Frais de séjour et chambre particulière"),
        ),
    ),
    Subject(
        "espace_adherent",
        "Mon espace adhérent",
        (
            Choice("connexion", "Difficulté de connexion"),
            Choice("documents", "Documents introuvables"),
            Choice("autre", "Autre difficulté"),
        ),
    ),
    Subject(
        "autre",
        "Autre sujet",
        (Choice("autre", "Autre demande"),),
    ),
)

SUBJECTS_BY_CODE: dict[str, Subject] = {s.code: s for s in SUBJECTS}

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
    }
