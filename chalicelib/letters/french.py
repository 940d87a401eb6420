"""French formatting for letters: dates, amounts, and what a member filed, in words.

No locale: Lambda images ship without fr_FR, and `locale.setlocale` is process-wide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, get_args

from pydantic.fields import FieldInfo

from chalicelib.domain.catalog import REQUEST_TYPES
from chalicelib.domain.demarches import ENUM_LABELS, DemarcheData, Money, NewBeneficiary
from chalicelib.domain.members import (
    COUNTRY_NAMES,
    Beneficiary,
    PostalAddress,
    Relationship,
    mask_iban,
)

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


_BEFORE_COLON = re.compile(r" +:")
_BEFORE_HIGH = re.compile(r" +([;!?»])")
_AFTER_GUILLEMET = re.compile(r"« +")
_NUMBER_AND_UNIT = re.compile(r"(\d) +(heures?|jours?|mois|ans?|semaines?|€)(?!\w)")
_NUMERO = re.compile(r"\bn° +")


def typographic(text: str) -> str:
    """French typography's spaces that never break: before « : » (no-break), before « ; ! ? »
    and inside « » (narrow no-break), between a number and its unit (« 48 heures »), after
    « n° ». A line never starts with « : », nor ends with « 48 »."""
    text = _BEFORE_COLON.sub(f"{NBSP}:", text)
    text = _BEFORE_HIGH.sub(rf"{NNBSP}\1", text)
    text = _AFTER_GUILLEMET.sub(f"«{NNBSP}", text)
    text = _NUMBER_AND_UNIT.sub(rf"\1{NBSP}\2", text)
    return _NUMERO.sub(f"n°{NBSP}", text)


def quoted(text: str) -> str:
    return f"«{NNBSP}{text}{NNBSP}»"


def full_name(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}"


RELATIONSHIP_LABELS: dict[str, str] = {
    Relationship.member: "Adhérent",
    Relationship.spouse: "Conjoint",
    Relationship.child: "Enfant",
}


@dataclass(frozen=True)
class _Field:
    """A field of a démarche's `data`, as a letter prints it: its label and how its value reads."""

    title: str
    kind: str  # date, money, labels, address, newcomer or text
    model: type[DemarcheData]
    labels: Mapping[Any, str] | None = None


def _kind(info: FieldInfo) -> tuple[str, Mapping[Any, str] | None]:
    annotation = info.annotation
    candidates = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    chosen = candidates[0]
    if any(isinstance(m, Money) for m in info.metadata):
        return "money", None
    if chosen is date:
        return "date", None
    if isinstance(chosen, type) and chosen in ENUM_LABELS:
        return "labels", ENUM_LABELS[chosen]
    if isinstance(chosen, type) and issubclass(chosen, PostalAddress):
        return "address", None
    if chosen is NewBeneficiary:
        return "newcomer", None
    return "text", None


@cache
def data_fields() -> dict[str, _Field]:
    """Every field of every démarche type's data model, by name, read from the registry: the
    title each model gives it, and what its annotation says of its value."""
    fields: dict[str, _Field] = {}
    for request_type in REQUEST_TYPES:
        model = request_type.data_model
        for name, info in model.model_fields.items():
            kind, labels = _kind(info)
            title = info.title or name.replace("_", " ").capitalize()
            fields.setdefault(name, _Field(title, kind, model, labels))
    return fields


def field_label(key: str) -> str:
    field = data_fields().get(key)
    return field.title if field else key.replace("_", " ").capitalize()


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


def _address(value: Mapping[str, Any]) -> str:
    city = f"{value.get('postal_code', '')} {value.get('city', '')}".strip()
    country = str(value.get("country") or "FR")
    abroad = None if country == "FR" else COUNTRY_NAMES.get(country, country)
    lines = [value.get("line1"), value.get("line2"), city, abroad]
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
    field = data_fields().get(key)
    kind = field.kind if field else "text"
    if kind == "date" and (day := parse_date(value)) is not None:
        return long_date(day)
    if kind == "money" and (parsed := parse_amount(value)) is not None:
        return amount(parsed)
    if field is not None and field.labels is not None:
        return field.labels.get(str(value), str(value))
    if key == "iban":
        return mask_iban(str(value))
    if field is not None and (label := field.model.value_label(key, value, data)):
        return label
    if kind == "address" and isinstance(value, Mapping):
        return _address(value)
    if kind == "newcomer" and isinstance(value, Mapping):
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
            rows.append((field_label(key), text))
    return rows


def beneficiary_names(beneficiaries: tuple[Beneficiary, ...]) -> str:
    return ", ".join(full_name(b.first_name, b.last_name) for b in beneficiaries)
