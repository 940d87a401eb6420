"""The `data` of each démarche type: one pydantic model per type.

These models validate what a member files and are published, as JSON schema, by `GET /catalog`.
Rules that depend on the day take it from the validation context (`{"today": date}`), so tests
can pin it; without one they use today's date in Paris.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chalicelib.domain.members import PostalAddress

PARIS = ZoneInfo("Europe/Paris")


def today_in(info: ValidationInfo) -> date:
    context = info.context if isinstance(info.context, dict) else {}
    today = context.get("today")
    return today if isinstance(today, date) else datetime.now(PARIS).date()


def _positive_amount(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("le montant doit être strictement positif")
    return value


Amount = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,7}\.\d{2}$"),
    AfterValidator(_positive_amount),
    Field(description="Montant en euros, deux décimales, par ex. « 42.50 »", examples=["42.50"]),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CareType(StrEnum):
    consultation = "consultation"
    pharmacie = "pharmacie"
    laboratoire = "laboratoire"
    radiologie = "radiologie"
    hospitalisation = "hospitalisation"
    optique = "optique"
    dentaire = "dentaire"
    audio = "audio"
    auxiliaires_medicaux = "auxiliaires_medicaux"
    medecines_douces = "medecines_douces"


CARE_TYPE_LABELS: dict[CareType, str] = {
    CareType.consultation: "Consultation",
    CareType.pharmacie: "Pharmacie",
    CareType.laboratoire: "Laboratoire",
    CareType.radiologie: "Radiologie",
    CareType.hospitalisation: "Hospitalisation",
    CareType.optique: "Optique",
    CareType.dentaire: "Dentaire",
    CareType.audio: "Audioprothèse",
    CareType.auxiliaires_medicaux: "Auxiliaires médicaux",
    CareType.medecines_douces: "Médecines douces",
}


class JustificatifData(_Data):
    care_date: date = Field(description="Date des soins: ni future, ni de plus de deux ans")
    amount: Amount
    care_type: CareType

    @field_validator("care_date")
    @classmethod
    def _care_date_in_window(cls, value: date, info: ValidationInfo) -> date:
        today = today_in(info)
        if value > today:
            raise ValueError("la date des soins ne peut pas être dans le futur")
        if value < _years_before(today, 2):
            raise ValueError("la date des soins date de plus de deux ans")
        return value


class DevisData(_Data):
    care_type: CareType
    amount: Amount
    practitioner: Text | None = None


class StayType(StrEnum):
    ambulatoire = "ambulatoire"
    hospitalisation_complete = "hospitalisation_complete"
    maternite = "maternite"
    psychiatrie = "psychiatrie"
    reeducation = "reeducation"


class HospitalisationData(_Data):
    establishment: Text
    finess: str = Field(
        pattern=r"^(\d{2}|2A|2B)\d{7}$", description="Numéro FINESS de l'établissement (9 car.)"
    )
    admission_date: date = Field(
        description="Date d'entrée: aujourd'hui ou plus tard, ou dans les 30 derniers jours"
    )
    stay_type: StayType

    @field_validator("admission_date")
    @classmethod
    def _admission_recent_or_future(cls, value: date, info: ValidationInfo) -> date:
        if value < today_in(info) - timedelta(days=30):
            raise ValueError("la date d'entrée date de plus de 30 jours")
        return value


class NoData(_Data):
    """Types that carry no data: `data` is `{}` or left out."""


Phone = Annotated[
    str,
    StringConstraints(pattern=r"^(\+33 ?[1-9]|0[1-9])( ?\d{2}){4}$"),
    Field(description="Numéro français, par ex. « 06 12 34 56 78 » ou « +33 6 12 34 56 78 »"),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
    ),
]


class CoordonneesData(_Data):
    email: Email | None = None
    phone: Phone | None = None
    postal_address: PostalAddress | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> CoordonneesData:
        if self.email is None and self.phone is None and self.postal_address is None:
            raise ValueError("indiquez au moins un e-mail, un téléphone ou une adresse postale")
        return self


class CoordonneesBancairesData(_Data):
    iban: str = Field(
        description="IBAN (ISO 13616), espaces permis",
        json_schema_extra={"pattern": r"^[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{11,40}$"},
    )
    holder_name: Text

    @field_validator("iban")
    @classmethod
    def _iban_shape(cls, value: str) -> str:
        compact = "".join(value.split()).upper()
        if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit()):
            raise ValueError("IBAN mal formé")
        if not compact.isalnum() or not compact.isascii():
            raise ValueError("IBAN mal formé")
        return compact


class ChildSituation(StrEnum):
    etudiant = "etudiant"
    apprenti = "apprenti"
    demandeur_emploi = "demandeur_emploi"
    handicap = "handicap"


class ProlongationDroitsEnfantData(_Data):
    situation: ChildSituation
    until: date = Field(description="Fin de la prolongation demandée: future, trois ans au plus")

    @field_validator("until")
    @classmethod
    def _until_in_future(cls, value: date, info: ValidationInfo) -> date:
        today = today_in(info)
        if value <= today:
            raise ValueError("la fin de la prolongation doit être dans le futur")
        if value > _years_after(today, 3):
            raise ValueError("la prolongation ne peut dépasser trois ans")
        return value


class FamilyEvent(StrEnum):
    mariage = "mariage"
    pacs = "pacs"
    naissance = "naissance"
    adoption = "adoption"
    divorce = "divorce"
    separation = "separation"
    deces = "deces"


EVENTS_WITH_NEWCOMER = frozenset({FamilyEvent.naissance, FamilyEvent.adoption})
EVENTS_ALLOWING_NEWCOMER = EVENTS_WITH_NEWCOMER | {FamilyEvent.mariage, FamilyEvent.pacs}


class NewcomerRelationship(StrEnum):
    spouse = "spouse"
    child = "child"


class NewBeneficiary(_Data):
    first_name: Text
    last_name: Text
    birth_date: date
    relationship: NewcomerRelationship

    @field_validator("birth_date")
    @classmethod
    def _born(cls, value: date, info: ValidationInfo) -> date:
        if value > today_in(info):
            raise ValueError("la date de naissance ne peut pas être dans le futur")
        return value


class SituationFamilialeData(_Data):
    event: FamilyEvent
    event_date: date
    new_beneficiary: NewBeneficiary | None = Field(
        default=None, description="Requis pour une naissance ou une adoption"
    )

    @field_validator("event_date")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > today_in(info):
            raise ValueError("la date de l'événement ne peut pas être dans le futur")
        return value

    @model_validator(mode="after")
    def _newcomer_fits_event(self) -> SituationFamilialeData:
        if self.event in EVENTS_WITH_NEWCOMER and self.new_beneficiary is None:
            raise ValueError("indiquez le nouveau bénéficiaire")
        if self.event not in EVENTS_ALLOWING_NEWCOMER and self.new_beneficiary is not None:
            raise ValueError("cet événement n'ajoute pas de bénéficiaire")
        return self


class ContactDemandeData(_Data):
    subject: str = Field(description="Code d'un sujet du catalogue (`subjects`)")
    detail: str = Field(description="Code d'un détail de ce sujet")

    @model_validator(mode="after")
    def _from_catalogue(self) -> ContactDemandeData:
        from chalicelib.domain.catalog import SUBJECTS_BY_CODE

        subject = SUBJECTS_BY_CODE.get(self.subject)
        if subject is None:
            raise ValueError(f"sujet inconnu: {self.subject}")
        if self.detail not in {detail.code for detail in subject.details}:
            raise ValueError(f"détail inconnu pour le sujet {self.subject}: {self.detail}")
        return self


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: date, years: int) -> date:
    return _years_before(day, -years)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")
