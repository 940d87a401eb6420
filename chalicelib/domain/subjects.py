"""The contact form's two drop-downs (subject, then detail): what members of a mutuelle write
about. Imports nothing of ours: the démarches' models and the catalogue both read it."""

from __future__ import annotations

from dataclasses import dataclass


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
