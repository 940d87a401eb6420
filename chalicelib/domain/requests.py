"""Requests (démarches): what a member files, what is stored, what the timeline shows.

Pure: no boto3, no Chalice. The API validates a body with `parse_new_request`, checks it
against the member's contract with `check_against_contract`, and builds a `RequestRecord`.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import reduce
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)
from ulid import ULID

from chalicelib.domain import catalog
from chalicelib.domain.demarches import PARIS, NoData
from chalicelib.domain.errors import BadRequest, FieldError, NotFound, ValidationFailed
from chalicelib.domain.members import Beneficiary, Relationship, mask_iban

MAX_DESCRIPTION = 4000
MAX_UPLOADS = 5

# Fields the server owns: a client that sends one is told so (400), never silently ignored.
SERVER_OWNED_FIELDS = frozenset(
    {
        "request_id", "member_id", "status", "outcome", "created_at", "updated_at", "service",
        "history", "label", "due_at", "attachments", "documents", "recall", "beneficiaries",
        "routed_at", "processed_at",
    }
)  # fmt: skip

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$"
UlidStr = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]
# What `iso_z` writes; the format is published in the OpenAPI document.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Status(StrEnum):
    in_progress = "in_progress"
    processed = "processed"


class Outcome(StrEnum):
    accepted = "accepted"
    refused = "refused"
    partially_accepted = "partially_accepted"


class NewRequest(BaseModel):
    """Fields common to every type; each type's variant adds `type` and its own `data`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str  # narrowed to the type's Literal in each variant
    data: BaseModel  # narrowed to the type's data model in each variant
    beneficiary_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=20, description="Bénéficiaires concernés (au moins un)"
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    upload_ids: list[UlidStr] = Field(default_factory=list, max_length=MAX_UPLOADS)
    complaint: bool = Field(default=False, description="Réclamation: seulement sur contact.demande")


def _variant(request_type: catalog.RequestType) -> type[NewRequest]:
    data_default: Any = Field(default_factory=NoData) if request_type.data_model is NoData else ...
    tag: Any = cast(Any, Literal)[request_type.type]
    return create_model(
        "New_" + request_type.type.replace(".", "_"),
        __base__=NewRequest,
        type=(tag, ...),
        data=(request_type.data_model, data_default),
    )


# One model per type, built from the catalogue, validated as one discriminated union on `type`.
NEW_REQUEST_VARIANTS: tuple[type[NewRequest], ...] = tuple(
    _variant(t) for t in catalog.REQUEST_TYPES
)
_union: Any = reduce(operator.or_, NEW_REQUEST_VARIANTS)
_new_request_adapter: TypeAdapter[Any] = TypeAdapter(
    cast(Any, Annotated)[_union, Field(discriminator="type")]
)


def new_request_adapter() -> TypeAdapter[Any]:
    """What validates `POST /requests` bodies; `GET /openapi.json` publishes its schema."""
    return _new_request_adapter


_MESSAGES = {
    "missing": "Champ requis.",
    "extra_forbidden": "Champ inconnu.",
    "string_pattern_mismatch": "Format invalide.",
    "string_too_long": "Texte trop long.",
    "string_too_short": "Valeur requise.",
    "too_short": "Au moins un élément est requis.",
    "too_long": "Trop d'éléments.",
    "enum": "Valeur non admise.",
    "literal_error": "Valeur non admise.",
    "date_from_datetime_parsing": "Date invalide (AAAA-MM-JJ).",
    "date_parsing": "Date invalide (AAAA-MM-JJ).",
    "date_type": "Date invalide (AAAA-MM-JJ).",
    "string_type": "Texte attendu.",
    "bool_type": "Booléen attendu.",
    "bool_parsing": "Booléen attendu.",
    "list_type": "Liste attendue.",
    "model_type": "Objet attendu.",
    "dict_type": "Objet attendu.",
}


def field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return _MESSAGES.get(error["type"], str(error["msg"]))


def field_errors(
    error: ValidationError, *, strip_tag: bool = False, prefix: str = ""
) -> list[FieldError]:
    fields = []
    for e in error.errors():
        loc = list(e["loc"])
        if strip_tag and loc:
            loc = loc[1:]  # the union's tag (the request type) is not a field of the body
        path = field_path([prefix, *loc] if prefix else loc)
        fields.append(FieldError(path, _message(e)))
    return fields


def parse_new_request(body: Any, today: date) -> NewRequest:
    """Validate a `POST /requests` body: 400 for unknown or server-owned fields, else 422."""
    if not isinstance(body, dict):
        raise BadRequest("Le corps doit être un objet JSON.")
    owned = sorted(SERVER_OWNED_FIELDS & body.keys())
    if owned:
        raise BadRequest(
            "Ces champs sont fixés par Génération et ne peuvent pas être envoyés.",
            [FieldError(name, "Champ réservé.") for name in owned],
        )
    try:
        request: NewRequest = _new_request_adapter.validate_python(body, context={"today": today})
    except ValidationError as error:
        if any(e["type"] in {"union_tag_not_found", "union_tag_invalid"} for e in error.errors()):
            raise ValidationFailed(
                "Type de démarche inconnu.",
                [FieldError("type", "Type de démarche inconnu ou absent.")],
            ) from error
        fields = field_errors(error, strip_tag=True)
        unknown = [
            f for f, e in zip(fields, error.errors(), strict=True) if e["type"] == "extra_forbidden"
        ]
        if unknown:
            raise BadRequest("Champs inconnus.", unknown) from error
        raise ValidationFailed("Certains champs sont invalides.", fields) from error
    return request


def request_type_of(request: NewRequest) -> catalog.RequestType:
    return catalog.REQUEST_TYPES_BY_CODE[request.type]


def check_against_contract(
    request: NewRequest, contract: Sequence[Beneficiary], today: date
) -> list[Beneficiary]:
    """The rules that need the member's contract and the catalogue. Returns the beneficiaries."""
    kind = request_type_of(request)
    errors: list[FieldError] = []
    by_id = {b.beneficiary_id: b for b in contract}
    chosen: list[Beneficiary] = []
    seen: set[str] = set()
    for index, beneficiary_id in enumerate(request.beneficiary_ids):
        field = f"beneficiary_ids[{index}]"
        beneficiary = by_id.get(beneficiary_id)
        if beneficiary_id in seen:
            errors.append(FieldError(field, "Bénéficiaire en double."))
        elif beneficiary is None:
            errors.append(FieldError(field, "Ce bénéficiaire ne figure pas sur votre contrat."))
        elif kind.type == "vie.prolongation_droits_enfant" and not (
            beneficiary.relationship is Relationship.child and beneficiary.age_on(today) >= 18
        ):
            errors.append(
                FieldError(field, "La prolongation concerne un enfant de 18 ans ou plus.")
            )
        else:
            chosen.append(beneficiary)
        seen.add(beneficiary_id)
    if request.complaint and kind.type != "contact.demande":
        errors.append(
            FieldError("complaint", "Une réclamation se formule depuis le formulaire de contact.")
        )
    if kind.description_required and not request.description:
        errors.append(FieldError("description", "Décrivez votre demande."))
    if request.upload_ids and kind.attachments is catalog.Attachments.none:
        errors.append(FieldError("upload_ids", "Cette démarche ne prend pas de pièce jointe."))
    if kind.attachments_required and not request.upload_ids:
        errors.append(FieldError("upload_ids", "Au moins une pièce jointe est requise."))
    if len(set(request.upload_ids)) != len(request.upload_ids):
        errors.append(FieldError("upload_ids", "Pièce jointe en double."))
    if errors:
        raise ValidationFailed("Certains champs sont invalides.", errors)
    return chosen


def body_fingerprint(body: Any) -> str:
    """Idempotency compares bodies by meaning, not by whitespace or key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- what is stored and shown -------------------------------------------------------------


class BeneficiaryRef(BaseModel):
    beneficiary_id: str
    first_name: str
    last_name: str


class HistoryEntry(BaseModel):
    at: Timestamp
    status: Status
    label: str


class Attachment(BaseModel):
    attachment_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class DocumentRef(BaseModel):
    document_id: str
    title: str


class Recall(BaseModel):
    description: str | None
    data: dict[str, Any]


class RequestSummary(BaseModel):
    request_id: str
    type: str
    label: str
    created_at: Timestamp
    beneficiaries: list[BeneficiaryRef]
    status: Status


class RequestDetail(RequestSummary):
    service: str
    complaint: bool
    outcome: Outcome | None = None
    due_at: Timestamp | None = None
    history: list[HistoryEntry]
    recall: Recall
    attachments: list[Attachment]
    documents: list[DocumentRef]


class RequestRecord(RequestDetail):
    """The stored request: the detail plus whose it is."""

    member_id: str
    acknowledged_at: str | None = None
    acknowledgement_due_at: str | None = None
    needs_attention: bool = False  # its service's handler gave up: an agent takes it over

    def detail(self) -> RequestDetail:
        return RequestDetail.model_validate(
            self.model_dump(
                exclude={
                    "member_id",
                    "acknowledged_at",
                    "acknowledgement_due_at",
                    "needs_attention",
                }
            )
        )

    def summary(self) -> RequestSummary:
        return RequestSummary.model_validate(
            self.model_dump(include=set(RequestSummary.model_fields))
        )

    @property
    def month(self) -> str:
        return month_of(self.request_id)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def month_of(request_id: str) -> str:
    """The month (Paris time) a request or document belongs to, read from its own ULID."""
    try:
        moment = ULID.from_str(request_id.upper()).datetime
    except ValueError as error:
        raise NotFound("Demande introuvable.") from error
    return moment.astimezone(PARIS).strftime("%Y-%m")


def recall_data(request: NewRequest) -> dict[str, Any]:
    """What the member filed, as shown back: exactly their values, the IBAN masked."""
    data: dict[str, Any] = request.data.model_dump(mode="json", exclude_none=True)
    if "iban" in data:
        data["iban"] = mask_iban(data["iban"])
    return data


def new_record(
    request: NewRequest,
    member_id: str,
    beneficiaries: Iterable[Beneficiary],
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> RequestRecord:
    kind = request_type_of(request)
    request_id = str(ULID.from_datetime(now))
    created_at = iso_z(now)
    return RequestRecord(
        request_id=request_id,
        member_id=member_id,
        type=kind.type,
        label=catalog.label_for(kind.type, complaint=request.complaint),
        created_at=created_at,
        beneficiaries=[
            BeneficiaryRef(
                beneficiary_id=b.beneficiary_id, first_name=b.first_name, last_name=b.last_name
            )
            for b in beneficiaries
        ],
        status=Status.in_progress,
        service=catalog.service_for(kind.type, complaint=request.complaint).value,
        complaint=request.complaint,
        outcome=None,
        due_at=None,
        history=[HistoryEntry(at=created_at, status=Status.in_progress, label="Demande reçue")],
        recall=Recall(description=request.description, data=recall_data(request)),
        attachments=list(attachments),
        documents=[],
    )


class RequestPointer(BaseModel):
    """Every queue message: IDs only, never personal or health data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    member_id: str
