"""The `data` of each démarche type: one pydantic model per type.

These models validate what a member files and are published, as JSON schema, by `GET /catalog`.
Rules that depend on the day take it from the validation context (`{"today": date}`), so tests
can pin it; without one they use today's date in Paris.
"""

import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chalicelib.domain import clock
from chalicelib.domain import iban as bank
from chalicelib.domain.members import COUNTRY_NAMES, PostalAddress
from chalicelib.domain.model import IsoDate, Model
from chalicelib.domain.subjects import SUBJECTS, SUBJECTS_BY_CODE
from chalicelib.domain.text import NOT_BLANK


def today_in(info: ValidationInfo) -> date:
    context = info.context if isinstance(info.context, dict) else {}
    today = context.get("today")
    return today if isinstance(today, date) else clock.today()


class Money:
    """Marks a field as an amount in euros, so a letter prints it as one (« 42,50 € »)."""


def _positive_amount(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("le montant doit être strictement positif")
    return value


# ASCII digits (a pattern's `\d` also takes "١"); the published pattern also says "above 0".
AMOUNT_PATTERN = r"^[0-9]{1,7}\.[0-9]{2}$"
POSITIVE_AMOUNT_PATTERN = r"^(?:[0-9]*[1-9][0-9]*\.[0-9]{2}|0+\.(?:0[1-9]|[1-9][0-9]))$"
Amount = Annotated[
    str,
    StringConstraints(pattern=AMOUNT_PATTERN),
    AfterValidator(_positive_amount),
    Field(
        description="Montant en euros, deux décimales, plus de 0, par ex. « 42.50 »",
        examples=["42.50"],
        json_schema_extra={"pattern": POSITIVE_AMOUNT_PATTERN, "maxLength": 10},
    ),
    Money(),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)
]


class DemarcheData(Model):
    """A démarche's `data`. Each field's `title` is its label wherever a member reads it (the
    catalogue's form, the letters' recall of what was filed)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def value_label(cls, field: str, value: Any, data: Mapping[str, Any]) -> str | None:
        """A code's label when the code alone would not speak to the member; None otherwise."""
        return None

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        """A valid `data` filed on `today`: the catalogue's tests file every type with it."""
        return {}


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


class JustificatifData(DemarcheData):
    care_date: IsoDate = Field(
        title="Date des soins", description="Date des soins : ni future, ni de plus de deux ans"
    )
    amount: Amount = Field(title="Montant")
    care_type: CareType = Field(title="Nature des soins")

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        care_date = (today - timedelta(days=3)).isoformat()
        return {"care_date": care_date, "amount": "42.50", "care_type": "pharmacie"}

    @field_validator("care_date")
    @classmethod
    def _care_date_in_window(cls, value: date, info: ValidationInfo) -> date:
        today = today_in(info)
        if value > today:
            raise ValueError("la date des soins ne peut pas être dans le futur")
        if value < clock.add_years(today, -2):
            raise ValueError("la date des soins date de plus de deux ans")
        return value


class DevisData(DemarcheData):
    care_type: CareType = Field(title="Nature des soins")
    amount: Amount = Field(title="Montant")
    practitioner: Text | None = Field(default=None, title="Praticien")

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        return {"care_type": "dentaire", "amount": "690.00", "practitioner": "Dr Lefèvre"}


class StayType(StrEnum):
    ambulatoire = "ambulatoire"
    hospitalisation_complete = "hospitalisation_complete"
    maternite = "maternite"
    psychiatrie = "psychiatrie"
    reeducation = "reeducation"


class HospitalisationData(DemarcheData):
    establishment: Text = Field(title="Établissement")
    finess: str = Field(
        title="N° FINESS",
        pattern=r"^([0-9]{2}|2A|2B)[0-9]{7}$",
        description="Numéro FINESS de l'établissement (9 car.)",
    )
    admission_date: IsoDate = Field(
        title="Date d'entrée",
        description="Date d'entrée : aujourd'hui ou plus tard, ou dans les 30 derniers jours",
    )
    stay_type: StayType = Field(title="Type de séjour")

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        return {
            "establishment": "Hôpital Saint-Antoine",
            "finess": "750100125",
            "admission_date": (today + timedelta(days=10)).isoformat(),
            "stay_type": "ambulatoire",
        }

    @field_validator("admission_date")
    @classmethod
    def _admission_recent_or_future(cls, value: date, info: ValidationInfo) -> date:
        if value < today_in(info) - timedelta(days=30):
            raise ValueError("la date d'entrée date de plus de 30 jours")
        return value


# Types that carry no data: `data` is `{}` or left out. (No docstring: pydantic publishes a
# model's or an enum's docstring as its schema's description, which the portal shows members.)
class NoData(DemarcheData):
    pass


# Written as members write them: spaces, points or hyphens between the pairs, and the trunk 0
# beside +33 in brackets (`+33 (0)6 12 34 56 78`).
Phone = Annotated[
    str,
    StringConstraints(pattern=r"^(\+33[ .\-]?(\(0\)[ .\-]?)?[1-9]|0[1-9])([ .\-]?[0-9]{2}){4}$"),
    Field(
        description="Numéro français, par ex. « 06 12 34 56 78 », « 06.12.34.56.78 » ou "
        "« +33 6 12 34 56 78 »"
    ),
]


def _composed(value: Any) -> Any:
    """A text as one composed form (NFC): `é` typed as `e` and its accent is `é`."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
    ),
]


# The countries an address of five-digit postal code can be in, among those Génération's
# members live in (a Belgian or Swiss code has four digits: not one the form takes). No
# docstring: it would be published as the schema's description, shown to members.
class Country(StrEnum):
    FR = "FR"
    MC = "MC"
    DE = "DE"
    ES = "ES"
    IT = "IT"


COUNTRY_LABELS: dict[Country, str] = {country: COUNTRY_NAMES[country] for country in Country}

# The overseas départements and regions are France to the post (an address there ends with its
# postal code and town, `97400 SAINT-DENIS`): their ISO codes are taken as France.
OVERSEAS_DEPARTMENTS = frozenset({"GP", "MQ", "GF", "RE", "YT"})


# A postal address as a member gives it: a country the letters can write. No docstring: it
# would be published as the schema's description, which the portal shows as the group's hint.
class NewPostalAddress(PostalAddress):
    country: Country = Field(  # narrower than the stored one
        default=Country.FR,
        title="Pays",
        description="Le pays de l'adresse (la Guadeloupe, la Martinique, la Guyane, La Réunion "
        "et Mayotte sont en France).",
    )

    @field_validator("country", mode="before")
    @classmethod
    def _overseas_is_france(cls, value: Any) -> Any:
        return Country.FR if value in OVERSEAS_DEPARTMENTS else value


class CoordonneesData(DemarcheData):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": kind}}}
                for name, kind in (
                    ("email", "string"),
                    ("phone", "string"),
                    ("postal_address", "object"),
                )
            ]
        }
    )

    email: Email | None = Field(default=None, title="Adresse e-mail")
    phone: Phone | None = Field(default=None, title="Téléphone")
    postal_address: NewPostalAddress | None = Field(default=None, title="Adresse postale")

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        return {"phone": "06 11 22 33 44"}

    @model_validator(mode="after")
    def _at_least_one(self) -> "CoordonneesData":
        if self.email is None and self.phone is None and self.postal_address is None:
            raise ValueError("indiquez au moins un e-mail, un téléphone ou une adresse postale")
        return self


class CoordonneesBancairesData(DemarcheData):
    iban: str = Field(
        title="IBAN",
        description="IBAN (ISO 13616) d'un pays de la zone SEPA, espaces permis",
        # Its shape: 2 letters, 2 digits, 11 to 30 letters or digits (15 to 34 in all). Its
        # check digits and its country's format are checked by the validator below.
        json_schema_extra={
            "pattern": r"^ *[A-Za-z] *[A-Za-z] *[0-9] *[0-9](?: *[A-Za-z0-9]){11,30} *$"
        },
    )
    holder_name: Annotated[str, BeforeValidator(_composed)] = Field(
        title="Titulaire du compte",
        min_length=2,
        max_length=bank.HOLDER_MAX,
        pattern=bank.HOLDER_PATTERN,
        description="Nom du titulaire, tel qu'il figure sur le RIB",
    )

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        return {"iban": "FR1420041010050500013M02606", "holder_name": "Alice Martin"}

    @field_validator("iban")
    @classmethod
    def _iban_usable(cls, value: str) -> str:
        compact = "".join(value.split()).upper()
        if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit()):
            raise ValueError("IBAN mal formé")
        if not compact.isalnum() or not compact.isascii():
            raise ValueError("IBAN mal formé")
        # Checked when filed, so the member corrects it at once rather than by letter.
        problem = bank.iban_problem(compact)
        if problem is not None:
            raise ValueError(problem)
        return compact


class ChildSituation(StrEnum):
    etudiant = "etudiant"
    apprenti = "apprenti"
    demandeur_emploi = "demandeur_emploi"
    handicap = "handicap"


class ProlongationDroitsEnfantData(DemarcheData):
    situation: ChildSituation = Field(title="Situation")
    until: IsoDate = Field(
        title="Jusqu'au", description="Fin de la prolongation demandée : future, trois ans au plus"
    )

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        # After the demo's adult child's coverage end (31 December of this year), which an
        # extension must pass: the middle of next year, whatever the day.
        return {"situation": "etudiant", "until": date(today.year + 1, 6, 30).isoformat()}

    @field_validator("until")
    @classmethod
    def _until_in_future(cls, value: date, info: ValidationInfo) -> date:
        today = today_in(info)
        if value <= today:
            raise ValueError("la fin de la prolongation doit être dans le futur")
        if value > clock.add_years(today, 3):
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


NEWCOMER_BY_EVENT: dict[FamilyEvent, NewcomerRelationship] = {
    FamilyEvent.naissance: NewcomerRelationship.child,
    FamilyEvent.adoption: NewcomerRelationship.child,
    FamilyEvent.mariage: NewcomerRelationship.spouse,
    FamilyEvent.pacs: NewcomerRelationship.spouse,
}


class NewBeneficiary(DemarcheData):
    first_name: Text = Field(title="Prénom")
    last_name: Text = Field(title="Nom")
    birth_date: IsoDate = Field(title="Date de naissance")
    relationship: NewcomerRelationship = Field(title="Lien")

    @field_validator("birth_date")
    @classmethod
    def _born(cls, value: date, info: ValidationInfo) -> date:
        if value > today_in(info):
            raise ValueError("la date de naissance ne peut pas être dans le futur")
        return value


def _newcomer_by_event() -> list[JsonValue]:
    """Who an event brings, as JSON Schema: the rules of `_newcomer_fits_event` but its dates."""
    events = list(FamilyEvent)
    rules: list[JsonValue] = []
    for relationship in NewcomerRelationship:
        newcomer: JsonValue = {
            "type": "object",
            "properties": {"relationship": {"const": relationship.value}},
        }
        for needed in (True, False):
            chosen: list[JsonValue] = [
                e.value
                for e in events
                if NEWCOMER_BY_EVENT.get(e) is relationship
                and (e in EVENTS_WITH_NEWCOMER) is needed
            ]
            if chosen:
                rules.append(
                    {
                        "properties": {
                            "event": {"enum": chosen},
                            "new_beneficiary": newcomer
                            if needed
                            else {"anyOf": [{"type": "null"}, newcomer]},
                        },
                        **({"required": ["new_beneficiary"]} if needed else {}),
                    }
                )
    alone: list[JsonValue] = [e.value for e in events if e not in EVENTS_ALLOWING_NEWCOMER]
    rules.append({"properties": {"event": {"enum": alone}, "new_beneficiary": {"type": "null"}}})
    return rules


class SituationFamilialeData(DemarcheData):
    model_config = ConfigDict(json_schema_extra={"anyOf": _newcomer_by_event()})

    event: FamilyEvent = Field(title="Événement")
    event_date: IsoDate = Field(title="Date de l'événement")
    new_beneficiary: NewBeneficiary | None = Field(
        default=None,
        title="Nouveau bénéficiaire",
        description="Requis pour une naissance ou une adoption (un enfant, né le jour de la "
        "naissance) ; possible pour un mariage ou un PACS (le conjoint) ; jamais sinon",
        validate_default=True,
    )

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        born = (today - timedelta(days=20)).isoformat()
        newcomer = {"first_name": "Noé", "last_name": "Martin", "birth_date": born,
                    "relationship": "child"}  # fmt: skip
        return {"event": "naissance", "event_date": born, "new_beneficiary": newcomer}

    @field_validator("event_date")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > today_in(info):
            raise ValueError("la date de l'événement ne peut pas être dans le futur")
        return value

    @field_validator("new_beneficiary")
    @classmethod
    def _newcomer_fits_event(
        cls, value: NewBeneficiary | None, info: ValidationInfo
    ) -> NewBeneficiary | None:
        event, on = info.data.get("event"), info.data.get("event_date")
        if event is None:
            return value  # the event itself is refused
        if value is None:
            if event in EVENTS_WITH_NEWCOMER:
                raise ValueError("indiquez le nouveau bénéficiaire")
            return value
        if event not in EVENTS_ALLOWING_NEWCOMER:
            raise ValueError("cet événement n'ajoute pas de bénéficiaire")
        expected = NEWCOMER_BY_EVENT[event]
        if value.relationship is not expected:
            who = "un enfant" if expected is NewcomerRelationship.child else "un conjoint"
            raise ValueError(f"cet événement ajoute {who}")
        if on is not None and value.birth_date > on:
            raise ValueError("le nouveau bénéficiaire ne peut être né après l'événement")
        if event is FamilyEvent.naissance and on is not None and value.birth_date != on:
            raise ValueError("l'enfant naît le jour de l'événement « naissance »")
        return value


class ContactDemandeData(DemarcheData):
    # Each subject with its own details: the two drop-downs of the form, as the schema says them.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "properties": {
                        "subject": {"const": subject.code},
                        "detail": {"enum": [detail.code for detail in subject.details]},
                    }
                }
                for subject in SUBJECTS
            ]
        }
    )

    subject: str = Field(
        title="Sujet",
        description="Code d'un sujet du catalogue (`subjects`)",
        json_schema_extra={"enum": [subject.code for subject in SUBJECTS]},
    )
    detail: str = Field(
        title="Détail",
        description="Code d'un détail de ce sujet",
        json_schema_extra={
            "enum": list(sorted({d.code for subject in SUBJECTS for d in subject.details}))
        },
    )

    @classmethod
    def example(cls, today: date) -> dict[str, Any]:
        return {"subject": "remboursements", "detail": "teletransmission"}

    @classmethod
    def value_label(cls, field: str, value: Any, data: Mapping[str, Any]) -> str | None:
        subject = SUBJECTS_BY_CODE.get(str(data.get("subject")))
        if subject is None:
            return None
        if field == "subject":
            return subject.label
        if field == "detail":
            return next((c.label for c in subject.details if c.code == value), None)
        return None

    # Each refusal on its own field, in words the form can show beside its drop-down.
    @field_validator("subject")
    @classmethod
    def _a_subject_of_the_catalogue(cls, value: str) -> str:
        if value not in SUBJECTS_BY_CODE:
            raise ValueError("Choisissez un sujet dans la liste.")
        return value

    @field_validator("detail")
    @classmethod
    def _a_detail_of_its_subject(cls, value: str, info: ValidationInfo) -> str:
        subject = SUBJECTS_BY_CODE.get(str(info.data.get("subject")))
        if subject is not None and value not in {detail.code for detail in subject.details}:
            raise ValueError("Choisissez un détail de ce sujet dans la liste.")
        return value


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The catalogue's `data_schema`: each list of choices carries its French labels in
    `x-enum-labels` (code → label), so a portal builds its forms from the schema alone."""
    schema = model.model_json_schema(mode="validation")
    labels = {enum.__name__: enum_labels for enum, enum_labels in ENUM_LABELS.items()}
    for name, definition in schema.get("$defs", {}).items():
        if name in labels and "enum" in definition:
            definition["x-enum-labels"] = {str(k): v for k, v in labels[name].items()}
    return schema


# The label of each code a member chose from a list, as a letter prints it back.
ENUM_LABELS: dict[type[StrEnum], Mapping[Any, str]] = {
    CareType: CARE_TYPE_LABELS,
    Country: COUNTRY_LABELS,
    StayType: {
        StayType.ambulatoire: "Ambulatoire",
        StayType.hospitalisation_complete: "Hospitalisation complète",
        StayType.maternite: "Maternité",
        StayType.psychiatrie: "Psychiatrie",
        StayType.reeducation: "Rééducation",
    },
    ChildSituation: {
        ChildSituation.etudiant: "Étudiant",
        ChildSituation.apprenti: "Apprenti",
        ChildSituation.demandeur_emploi: "Demandeur d'emploi",
        ChildSituation.handicap: "En situation de handicap",
    },
    FamilyEvent: {
        FamilyEvent.mariage: "Mariage",
        FamilyEvent.pacs: "PACS",
        FamilyEvent.naissance: "Naissance",
        FamilyEvent.adoption: "Adoption",
        FamilyEvent.divorce: "Divorce",
        FamilyEvent.separation: "Séparation",
        FamilyEvent.deces: "Décès",
    },
    NewcomerRelationship: {
        NewcomerRelationship.spouse: "Conjoint",
        NewcomerRelationship.child: "Enfant",
    },
}
