"""What the letters tests share: the facts each kind is filled from, and a PDF reader that
gives back the text a member would read."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from pypdf import PdfReader

from chalicelib.letters import LetterKind

ISSUED_ON = date(2026, 11, 26)
REFERENCE = "01KAXD3S5V9YB2W6N4QJ8T0RCM"


# What each kind of letter is filled from, as the routing side will give it.
FILED: dict[LetterKind, dict[str, Any]] = {
    LetterKind.accuse_reception_reclamation: {
        "request_label": "Réclamation",
        "filed": {
            "description": "Mon remboursement de lunettes n'est jamais arrivé.",
            "data": {"subject": "remboursements", "detail": "remboursement_non_recu"},
        },
        "answer_due_on": date(2027, 1, 20),
    },
    LetterKind.reponse_reclamation: {
        "request_label": "Réclamation",
        "message": "Le forfait optique a déjà été utilisé cette année.",
    },
    LetterKind.prise_en_charge_hospitaliere: {
        "request_label": "Demande de prise en charge hospitalière",
        "amount": Decimal("1450.00"),
        "filed": {
            "data": {
                "establishment": "Hôpital Saint-Joseph",
                "finess": "750000523",
                "admission_date": "2026-12-03",
                "stay_type": "hospitalisation_complete",
            }
        },
    },
    LetterKind.refus_prise_en_charge: {
        "request_label": "Demande de prise en charge hospitalière",
        "message": "La chirurgie esthétique n'est pas couverte par votre formule.",
        "filed": {
            "data": {
                "establishment": "Clinique de l'Alma",
                "finess": "750300360",
                "admission_date": "2026-12-03",
                "stay_type": "ambulatoire",
            }
        },
    },
    LetterKind.remboursement: {
        "request_label": "Envoi de justificatif de remboursement",
        "amount": Decimal("32.40"),
        "filed": {"data": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}},
    },
    LetterKind.refus_remboursement: {
        "request_label": "Envoi de justificatif de remboursement",
        "message": "Le justificatif transmis est illisible.",
        "filed": {"data": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "dentaire"}},
    },
    LetterKind.reponse_devis: {
        "request_label": "Envoi de devis",
        "amount": Decimal("380.00"),
        "filed": {"data": {"care_type": "optique", "amount": "520.00"}},
    },
    LetterKind.teletransmission: {
        "request_label": "Transmission ou obtention d’autres informations",
        "effective_on": date(2026, 12, 1),
    },
    LetterKind.confirmation_modification: {
        "request_label": "Modification de vos coordonnées de contact ou postales",
        "effective_on": date(2026, 11, 27),
        "filed": {"data": {"email": "f.lefevre@example.fr"}},
    },
    LetterKind.reponse_demande: {
        "request_label": "Demande",
        "message": "Votre attestation fiscale est disponible dans votre espace adhérent.",
        "filed": {
            "description": "Pouvez-vous m'envoyer mon attestation fiscale ?",
            "data": {"subject": "cotisations", "detail": "attestation_fiscale"},
        },
    },
    LetterKind.demande_pieces: {
        "request_label": "Envoi de justificatif de remboursement",
        "message": "Merci de nous adresser la facture détaillée, avec le nom du patient.",
        "answer_due_on": date(2026, 12, 28),
        "filed": {"data": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "optique"}},
    },
    LetterKind.attestation_tiers_payant: {
        "request_label": "Édition de l’attestation de Tiers-Payant Santé",
    },
}


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page as a reader sees it: no-break spaces as spaces, lines joined."""
    reader = PdfReader(BytesIO(pdf))
    return [_flatten(page.extract_text()) for page in reader.pages]


def pdf_text(pdf: bytes) -> str:
    return " ".join(pdf_pages(pdf))


def _flatten(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()
