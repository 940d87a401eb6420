"""Requests (démarches): what a member files, what is stored, what the timeline shows.

Pure: no boto3, no Chalice. The API validates a body with `parse_new_request`, checks it
against the member's contract with `check_against_contract`, and builds a `RequestRecord`.
"""

import hashlib
import json
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache, reduce
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import SchemaSerializer
from ulid import ULID

from chalicelib.domain import catalog, clock
from chalicelib.domain.deadlines import acknowledgement_due, at_risk
from chalicelib.domain.demarches import NoData
from chalicelib.domain.effects import CoverageChange
from chalicelib.domain.errors import BadRequest, FieldError, NotFound, ValidationFailed
from chalicelib.domain.members import Beneficiary, mask_iban
from chalicelib.domain.model import JsonBool, Model
from chalicelib.domain.states import OPEN_STATUSES, Actor
from chalicelib.domain.states import Outcome as Outcome
from chalicelib.domain.states import Status as Status
from chalicelib.domain.text import NOT_BLANK

MAX_DESCRIPTION = 4000
MAX_UPLOADS = 5
DUPLICATE_BENEFICIARY = "Bénéficiaire en double."

# Fields the server owns: a client that sends one is told so (400), never silently ignored.
SERVER_OWNED_FIELDS = frozenset(
    {
        "request_id", "member_id", "status", "outcome", "created_at", "updated_at", "service",
        "history", "label", "due_at", "attachments", "documents", "recall", "beneficiaries",
        "routed_at", "processed_at", "messages", "information_request",
    }
)  # fmt: skip

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$"
_ULID = re.compile(ULID_PATTERN)
# A ULID's letters are one case or the other (Crockford's base 32): read in capitals, as the
# ids are written (an upload id sent in lower case was « inconnue » to its own member).
UlidStr = Annotated[str, StringConstraints(pattern=ULID_PATTERN, to_upper=True)]
# What `iso_z` writes; the format is published in the OpenAPI document.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def _catalogue_rules(schema: dict[str, Any]) -> None:
    """What a variant's type says in the catalogue, in the variant's JSON Schema: the same rules
    as `NewRequest`'s validators, so a body the document allows is one the model takes."""
    properties = schema["properties"]
    kind = catalog.REQUEST_TYPES_BY_CODE.get(properties["type"].get("const"))
    if kind is None:
        return  # `NewRequest` itself, never published
    required = schema.setdefault("required", [])
    if kind.description_required:
        required.append("description")
        properties["description"] = {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_DESCRIPTION,
            "pattern": NOT_BLANK,
            "description": "Obligatoire pour ce type",
        }
    if kind.attachments is catalog.Attachments.none:
        properties["upload_ids"]["maxItems"] = 0
    elif kind.attachments_required:
        required.append("upload_ids")
        properties["upload_ids"]["minItems"] = 1
    if kind.complaint_allowed:
        # Only a complaint names the request it contests.
        schema["anyOf"] = [
            {"properties": {"related_request_id": {"type": "null"}}},
            {"properties": {"complaint": {"const": True}}, "required": ["complaint"]},
        ]
    else:
        properties["complaint"] = {**properties["complaint"], "const": False}
        properties["related_request_id"] = {
            "type": "null",
            "default": None,
            "description": "Réservé aux réclamations (`contact.demande`)",
        }


MAX_BENEFICIARIES = 20  # on one request
MAX_ID_LENGTH = 64  # a beneficiary's id as sent


def _distinct(items: list[str], message: str) -> list[str]:
    if len(set(items)) != len(items):
        raise ValueError(message)
    return items


class NewRequest(Model):
    """Fields common to every type; each type's variant adds `type` and its own `data`. The rules
    of each type's catalogue entry are checked here and published in each variant's schema
    (`_catalogue_rules`)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_catalogue_rules
    )

    type: str  # narrowed to the type's Literal in each variant
    data: BaseModel  # narrowed to the type's data model in each variant
    # As given (not stripped): an ID is on the member's contract or it is not.
    beneficiary_ids: list[
        Annotated[
            str,
            StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_ID_LENGTH),
        ]
    ] = Field(
        min_length=1,
        max_length=MAX_BENEFICIARIES,
        description="Bénéficiaires concernés (au moins un, chacun une fois)",
        json_schema_extra={"uniqueItems": True},
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION, validate_default=True)
    upload_ids: list[UlidStr] = Field(
        default_factory=list,
        max_length=MAX_UPLOADS,
        validate_default=True,
        json_schema_extra={"uniqueItems": True},
    )
    complaint: JsonBool = Field(
        default=False, description="Réclamation : seulement sur contact.demande"
    )
    related_request_id: UlidStr | None = Field(
        default=None,
        description="Réclamation : la demande de l'adhérent qu'elle conteste",
    )

    @field_validator("description")
    @classmethod
    def _described(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = catalog.REQUEST_TYPES_BY_CODE.get(info.data.get("type", ""))
        if kind is not None and kind.description_required and not value:
            raise ValueError("Décrivez votre demande.")
        return value

    @field_validator("upload_ids")
    @classmethod
    def _attachments_of_the_type(cls, value: list[str], info: ValidationInfo) -> list[str]:
        kind = catalog.REQUEST_TYPES_BY_CODE.get(info.data.get("type", ""))
        if kind is not None and value and kind.attachments is catalog.Attachments.none:
            raise ValueError("Cette démarche ne prend pas de pièce jointe.")
        if kind is not None and kind.attachments_required and not value:
            raise ValueError("Au moins une pièce jointe est requise.")
        return _distinct(value, "Pièce jointe en double.")

    @field_validator("complaint")
    @classmethod
    def _complaint_on_the_contact_form(cls, value: bool, info: ValidationInfo) -> bool:
        kind = catalog.REQUEST_TYPES_BY_CODE.get(info.data.get("type", ""))
        if value and kind is not None and not kind.complaint_allowed:
            raise ValueError("Une réclamation se formule depuis le formulaire de contact.")
        return value

    @field_validator("related_request_id")
    @classmethod
    def _contested_by_a_complaint(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("complaint") is not True:
            raise ValueError("Réservé aux réclamations.")
        return value


def _variant(request_type: catalog.RequestType) -> type[NewRequest]:
    data_default: Any = Field(default_factory=NoData) if request_type.data_model is NoData else ...
    tag: Any = cast(Any, Literal)[request_type.type]
    return create_model(
        "New_" + request_type.type.replace(".", "_"),
        __base__=NewRequest,
        type=(tag, ...),
        data=(request_type.data_model, data_default),
    )


@cache
def new_request_adapter() -> TypeAdapter[Any]:
    """What validates `POST /requests` bodies; `GET /openapi.json` publishes its schema.

    One model per type, built from the catalogue, validated as one discriminated union on
    `type`. Built on first use: the functions that never validate a new request (the queue
    handlers, the schedules) never build it (about 15 ms of every cold start)."""
    variants = tuple(_variant(t) for t in catalog.REQUEST_TYPES)
    union: Any = reduce(operator.or_, variants)
    return TypeAdapter(cast(Any, Annotated)[union, Field(discriminator="type")])


_MESSAGES = {
    "missing": "Champ requis.",
    "extra_forbidden": "Champ inconnu.",
    "string_pattern_mismatch": "Format invalide.",
    "string_too_long": "Texte trop long.",
    "string_too_short": "Au moins {min_length} caractères.",
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
    "int_type": "Nombre entier attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_from_float": "Nombre entier attendu.",
    "greater_than": "Doit être supérieur à {gt}.",
    "greater_than_equal": "Doit être au moins {ge}.",
    "less_than": "Doit être inférieur à {lt}.",
    "less_than_equal": "Doit être au plus {le}.",
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
    if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return _MESSAGES["missing"]  # an empty text is a field left empty: said one way
    known = _MESSAGES.get(error["type"])
    if known is None:
        return str(error["msg"])
    return known.format(**error.get("ctx", {}))  # the bound a bound error names


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


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], payload: Any, message: str = "Certains champs sont invalides.") -> M:
    """A JSON body as `model`: not an object or unknown fields are a 400, wrong values a 422,
    each field named."""
    if not isinstance(payload, dict):
        raise BadRequest("Le corps doit être un objet JSON.")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        fields = field_errors(error)
        if any(e["type"] == "extra_forbidden" for e in error.errors()):
            raise BadRequest("Champs inconnus.", fields) from error
        raise ValidationFailed(message, fields) from error


@dataclass(frozen=True)
class NamedIds:
    """The beneficiaries and uploads whose records the checks read: a `POST /requests` body's,
    read before it is validated (`named_ids`), or as validated; a reply's uploads."""

    beneficiary_ids: list[str]
    upload_ids: list[str]


def named_ids(body: Any) -> NamedIds:
    """The ids a body names, as `NewRequest` reads them, for the reads they key to start while
    the body is validated: a list is taken when it is plainly what the model takes (the
    beneficiaries 1 to 20 strings of 1 to 64 ASCII characters, as every id given is, the
    uploads 5 ULIDs at most, in capitals), else it is empty. The model has the last word: a
    body it refuses is refused whatever was read, and a list it reads otherwise (an upload id
    sent with spaces around it) is read again, as validated."""
    if not isinstance(body, dict):
        return NamedIds([], [])
    beneficiaries = body.get("beneficiary_ids")
    if not (
        isinstance(beneficiaries, list)
        and 0 < len(beneficiaries) <= MAX_BENEFICIARIES
        and all(
            isinstance(b, str) and 0 < len(b) <= MAX_ID_LENGTH and b.isascii()
            for b in beneficiaries
        )
    ):
        beneficiaries = []
    uploads = body.get("upload_ids")
    if not (
        isinstance(uploads, list)
        and len(uploads) <= MAX_UPLOADS
        and all(isinstance(u, str) and _ULID.fullmatch(u) for u in uploads)
    ):
        uploads = []
    return NamedIds(list(beneficiaries), [u.upper() for u in uploads])


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
        request: NewRequest = new_request_adapter().validate_python(body, context={"today": today})
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
    """The rules that need the member's contract (those of the catalogue alone are the model's),
    and each beneficiary once (the document says it, `uniqueItems`). Returns the beneficiaries."""
    kind = request_type_of(request)
    errors: list[FieldError] = []
    by_id = {b.beneficiary_id: b for b in contract}
    chosen: list[Beneficiary] = []
    seen: set[str] = set()
    for index, beneficiary_id in enumerate(request.beneficiary_ids):
        field = f"beneficiary_ids[{index}]"
        beneficiary = by_id.get(beneficiary_id)
        if beneficiary_id in seen:
            errors.append(FieldError(field, DUPLICATE_BENEFICIARY))
        elif beneficiary is None:
            errors.append(FieldError(field, "Ce bénéficiaire ne figure pas sur votre contrat."))
        elif kind.beneficiary_rule and (
            refusal := kind.beneficiary_rule(beneficiary, today, request.data)
        ):
            errors.append(FieldError(refusal[0] or field, refusal[1]))
        else:
            chosen.append(beneficiary)
        seen.add(beneficiary_id)
    if errors:
        raise ValidationFailed("Certains champs sont invalides.", errors)
    return chosen


def body_fingerprint(body: Any) -> str:
    """Idempotency compares bodies by meaning, not by whitespace or key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- what is stored and shown -------------------------------------------------------------


class BeneficiaryRef(Model):
    beneficiary_id: str
    first_name: str
    last_name: str


class HistoryEntry(Model):
    at: Timestamp
    status: Status
    label: str
    by: Actor = Actor.system


class AgentHistoryEntry(HistoryEntry):
    """As stored and as the back office reads it: which agent acted, if one did."""

    agent_id: str | None = None


class Message(Model):
    """One word of the dialogue on a request: the service's question, the member's answer."""

    message_id: str
    at: Timestamp
    author: Literal[Actor.member, Actor.service]
    text: str
    attachment_ids: list[str] = Field(default_factory=list)


class AgentMessage(Message):
    agent_id: str | None = None


class InformationRequest(Model):
    """What the service asked, and until when the member may answer before it decides."""

    asked_at: Timestamp
    message: str
    respond_before: Timestamp


class Attachment(Model):
    attachment_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class DocumentRef(Model):
    document_id: str
    title: str


class Recall(Model):
    description: str | None
    data: dict[str, Any]


class RequestSummary(Model):
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
    history: Sequence[HistoryEntry]
    recall: Recall
    attachments: list[Attachment]
    documents: list[DocumentRef]
    messages: Sequence[Message] = Field(default_factory=list)
    information_request: InformationRequest | None = None
    related_request_id: str | None = Field(
        default=None, description="The request a complaint contests"
    )
    # docs/retention.md: a closed request's attachments are kept 90 days, then deleted.
    attachments_kept_until: str | None = Field(
        default=None,
        description="Closed: the Paris day its attachments will be deleted",
        json_schema_extra={"format": "date"},
    )
    attachments_deleted_at: Timestamp | None = Field(
        default=None,
        description="When its attachments were deleted (their retention ended): `attachments` "
        "is then empty, and the files are no longer held",
    )


class DueLetter(Model):
    """A letter the request owes: recorded in the same write as the change that calls for it
    (an agent's decision or question), rendered by its service's handler, the one kind of
    function that loads the letters' layer (docs/design-notes.md, "Letters off the API").
    Kept on the request item as canonical JSON in a string set (`letters_due`), so adding and
    settling one are atomic set operations; never shown to anyone."""

    model_config = ConfigDict(frozen=True)

    kind: str
    document_id: str
    title: str
    decided_at: Timestamp  # the letter is dated the Paris day of the change, not of its rendering
    occurrence: str | None = None  # the question's message id: one letter per question
    outcome: str | None = None
    message: str | None = None
    amount: str | None = None
    effective_on: date | None = None
    answer_due_on: date | None = None
    coverage_changes: tuple[CoverageChange, ...] = ()

    def encoded(self) -> str:
        """What the item's string set holds: the same letter, the same string."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


class RequestRecord(RequestDetail):
    """The stored request: the detail plus whose it is, who acted, and the service's flags."""

    member_id: str
    history: Sequence[AgentHistoryEntry]
    messages: Sequence[AgentMessage] = Field(default_factory=list)
    routed_at: str | None = None  # its routing to its service recorded (again after a move)
    acknowledged_at: str | None = None
    acknowledgement_due_at: str | None = None
    needs_attention: bool = False  # its service's handler gave up: an agent takes it over
    unanswered: bool = False  # the member let the question's deadline pass
    at_risk_due_at: str | None = None  # the complaint's deadline said at risk on the bus
    decided_outcome: Outcome | None = None  # claimed by a decision until it closes the request
    replies_delivered: set[str] = Field(default_factory=set)  # answers its service has seen
    letters_due: set[str] = Field(default_factory=set)  # `DueLetter.encoded()`, until rendered
    # Closed: when it goes (closing + 5 years, epoch seconds: DynamoDB's TTL), its letters too.
    expires_at: int | None = None

    def due_letters(self) -> list[DueLetter]:
        """The letters the request owes, oldest first."""
        due = [DueLetter.model_validate_json(encoded) for encoded in self.letters_due]
        return sorted(due, key=lambda letter: letter.document_id)

    def detail(self) -> RequestDetail:
        """What the member reads: the agents' ids and the service's flags left out (the
        member's models ignore them)."""
        return RequestDetail.model_validate(
            self.model_dump(include=set(RequestDetail.model_fields))
        )

    def detail_json(self) -> bytes:
        """`detail()` as JSON, written without building it (a sixth of the time): the detail's
        own serializer applied to the record writes the detail's fields only, and each nested
        model as its declared type (an agent's history entry as a `HistoryEntry`, an agent's
        message as a `Message`: no agent id). Pydantic's rule for subclass instances
        (`SerializeAsAny` would be needed to write more); a test holds the two equal."""
        return _detail_serializer().to_json(self)

    def detail_dict(self) -> dict[str, Any]:
        """`detail().model_dump(mode="json")`, written the same way as `detail_json`."""
        return cast(dict[str, Any], _detail_serializer().to_python(self, mode="json"))

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def deadline_at_risk(self, today: date) -> str | None:
        """An open complaint's deadline at risk (overdue or due soon): its acknowledgement while
        it is not acknowledged, else its answer; None when neither is (or not a complaint)."""
        if not (self.complaint and self.is_open()):
            return None
        if (
            self.acknowledged_at is None
            and self.acknowledgement_due_at is not None
            and at_risk(clock.paris_date(self.acknowledgement_due_at), today)
        ):
            return self.acknowledgement_due_at
        if self.due_at is not None and at_risk(clock.paris_date(self.due_at), today):
            return self.due_at
        return None

    def summary(self) -> RequestSummary:
        return RequestSummary.model_validate(
            self.model_dump(include=set(RequestSummary.model_fields))
        )

    @property
    def month(self) -> str:
        return month_of(self.request_id)


@cache
def _detail_serializer() -> SchemaSerializer:
    RequestDetail.model_rebuild()  # built on first use (`Model`'s `defer_build`)
    return RequestDetail.__pydantic_serializer__


@lru_cache(maxsize=4096)  # a request's key is built several times a call (a ULID parse each)
def month_of(request_id: str) -> str:
    """The month (Paris time) a request or document belongs to, read from its own ULID."""
    try:
        moment = ULID.from_str(request_id.upper()).datetime
    except ValueError as error:
        raise NotFound("Demande introuvable.") from error
    return clock.paris_month(moment)


def recall_data(request: NewRequest) -> dict[str, Any]:
    """What the member filed, as shown back: exactly their values, the IBAN masked."""
    data: dict[str, Any] = request.data.model_dump(mode="json", exclude_none=True)
    if "iban" in data:
        data["iban"] = mask_iban(data["iban"])
    return data


def new_request_id(now: datetime) -> str:
    """A new request's id: a ULID of its filing's moment, whose month (Paris) is its month."""
    return str(ULID.from_datetime(now))


def new_record(
    request: NewRequest,
    member_id: str,
    beneficiaries: Iterable[Beneficiary],
    now: datetime,
    attachments: Sequence[Attachment] = (),
    request_id: str | None = None,
) -> RequestRecord:
    """The record of a request filed `now` (its id a new ULID of `now`, unless given: one made
    by `new_request_id` before, for its files to be copied under it meanwhile)."""
    kind = request_type_of(request)
    request_id = request_id or new_request_id(now)
    created_at = clock.iso_z(now)
    # A complaint's acknowledgement is owed from the day it is filed, whether or not its
    # handler ever runs: the deadlines watch sees one stuck before it (ACPR 2022-R-01).
    acknowledgement_due_at = (
        clock.end_of_day(acknowledgement_due(clock.paris_date(now))) if request.complaint else None
    )
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
        history=[
            AgentHistoryEntry(
                at=created_at, status=Status.in_progress, label="Demande reçue", by=Actor.member
            )
        ],
        recall=Recall(description=request.description, data=recall_data(request)),
        attachments=list(attachments),
        documents=[],
        acknowledgement_due_at=acknowledgement_due_at,
        related_request_id=request.related_request_id,
    )


class RequestPointer(Model):
    """Every queue message: IDs only, never personal or health data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    member_id: str
