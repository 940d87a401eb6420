"""French formatting for letters: dates, amounts, and what a member filed, in words.

No locale: Lambda images ship without fr_FR, and `locale.setlocale` is process-wide.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.domain.catalog import SUBJECTS_BY_CODE
from chalicelib.domain.demarches import CARE_TYPE_LABELS, CareType
from chalicelib.domain.members import Beneficiary, Relationship, mask_iban

NBSP = "\u00a0"
# French typography puts a narrow no-break space between digit groups and inside « ».
NNBSP = "\u202f"

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def long_date(day: date) -> str:
    """« 26 novembre 2026 », « 1er mars 2027 », the day tied to its month by a no-break space."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number}{NBSP}{MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def amount(value: Decimal) -> str:
    """« 1 234,50 € »: two decimals, grouped thousands, comma, no-break space before €."""
    whole, cents = f"{value.quantize(Decimal('0.01')):.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{NNBSP.join(groups)},{cents}{NBSP}€"


def quoted(text: str) -> str:
    return f"«{NNBSP}{text}{NNBSP}»"


def full_name(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}"


RELATIONSHIP_LABELS: dict[str, str] = {
    Relationship.member: "Adhérent",
    Relationship.spouse: "Conjoint",
    Relationship.child: "Enfant",
}

STAY_TYPE_LABELS: dict[str, str] = {
    "ambulatoire": "Ambulatoire",
    "hospitalisation_complete": "Hospitalisation complète",
    "maternite": "Maternité",
    "psychiatrie": "Psychiatrie",
    "reeducation": "Rééducation",
}

CHILD_SITUATION_LABELS: dict[str, str] = {
    "etudiant": "Étudiant",
    "apprenti": "Apprenti",
    "demandeur_emploi": "Demandeur d'emploi",
    "handicap": "En situation de handicap",
}

FAMILY_EVENT_LABELS: dict[str, str] = {
    "mariage": "Mariage",
    "pacs": "PACS",
    "naissance": "Naissance",
    "adoption": "Adoption",
    "divorce": "Divorce",
    "separation": "Séparation",
    "deces": "Décès",
}

# The fields of the démarches' `data` (chalicelib/domain/demarches.py), as a member reads them.
FIELD_LABELS: dict[str, str] = {
    "care_date": "Date des soins",
    "amount": "Montant",
    "care_type": "Nature des soins",
    "practitioner": "Praticien",
    "establishment": "Établissement",
    "finess": "N° FINESS",
    "admission_date": "Date d'entrée",
    "stay_type": "Type de séjour",
    "email": "Adresse e-mail",
    "phone": "Téléphone",
    "postal_address": "Adresse postale",
    "iban": "IBAN",
    "holder_name": "Titulaire du compte",
    "situation": "Situation",
    "until": "Jusqu'au",
    "event": "Événement",
    "event_date": "Date de l'événement",
    "new_beneficiary": "Nouveau bénéficiaire",
    "subject": "Sujet",
    "detail": "Détail",
}

DATE_FIELDS = frozenset({"care_date", "admission_date", "until", "event_date"})


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_amount(value: Any) -> Decimal | None:
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def care_type_label(value: Any) -> str:
    try:
        return CARE_TYPE_LABELS[CareType(value)]
    except ValueError:
        return str(value)


def _address(value: Mapping[str, Any]) -> str:
    city = f"{value.get('postal_code', '')} {value.get('city', '')}".strip()
    lines = [value.get("line1"), value.get("line2"), city]
    return ", ".join(str(line) for line in lines if line)


def _newcomer(value: Mapping[str, Any]) -> str:
    name = full_name(str(value.get("first_name", "")), str(value.get("last_name", "")))
    relationship = RELATIONSHIP_LABELS.get(str(value.get("relationship")), "")
    born = parse_date(value.get("birth_date"))
    parts = [name, relationship.lower()] + ([f"né(e) le {long_date(born)}"] if born else [])
    return ", ".join(part for part in parts if part)


def field_value(key: str, value: Any, data: Mapping[str, Any]) -> str:
    """One filed value in words: dates and amounts in French, codes as their labels, the IBAN
    masked (a letter travels by post)."""
    if value is None:
        return ""
    if key in DATE_FIELDS and (day := parse_date(value)) is not None:
        return long_date(day)
    if key == "amount" and (parsed := parse_amount(value)) is not None:
        return amount(parsed)
    labels = {
        "care_type": {c.value: label for c, label in CARE_TYPE_LABELS.items()},
        "stay_type": STAY_TYPE_LABELS,
        "situation": CHILD_SITUATION_LABELS,
        "event": FAMILY_EVENT_LABELS,
    }
    if key in labels:
        return labels[key].get(str(value), str(value))
    if key == "iban":
        return mask_iban(str(value))
    if key == "subject" and (subject := SUBJECTS_BY_CODE.get(str(value))):
        return subject.label
    if key == "detail" and (subject := SUBJECTS_BY_CODE.get(str(data.get("subject")))):
        return next((c.label for c in subject.details if c.code == value), str(value))
    if key == "postal_address" and isinstance(value, Mapping):
        return _address(value)
    if key == "new_beneficiary" and isinstance(value, Mapping):
        return _newcomer(value)
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} : {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def filed_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The filed `data`, one (label, value) row per field, in the order it was filed."""
    rows = []
    for key, value in data.items():
        text = field_value(key, value, data)
        if text:
            rows.append((FIELD_LABELS.get(key, key.replace("_", " ").capitalize()), text))
    return rows


def beneficiary_names(beneficiaries: tuple[Beneficiary, ...]) -> str:
    return ", ".join(full_name(b.first_name, b.last_name) for b in beneficiaries)
