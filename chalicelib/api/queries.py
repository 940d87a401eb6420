"""Query strings: one model per route that reads one, and the one way to parse with it.

A model's fields are the route's query parameters: it parses them (`from_request`) and it
documents them (`GET /openapi.json` turns its JSON Schema into the route's query parameters), so
what the document says and what the route accepts are the same constraints. An unknown
parameter answers 400; a bad value 422, naming each parameter with its message (`Invalid`).
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from chalicelib.domain import documents as document_rules
from chalicelib.domain import professionals as search_rules
from chalicelib.domain.catalog import REQUEST_TYPES, SPECIALTIES, SPECIALTIES_BY_CODE
from chalicelib.domain.errors import BadRequest, FieldError, ValidationFailed
from chalicelib.domain.model import Model
from chalicelib.domain.requests import ULID_PATTERN
from chalicelib.domain.states import Status


@dataclass(frozen=True)
class Invalid:
    """A parameter's message when its value is refused (`Annotated` metadata of its field), and
    the answer's message when this parameter is the first one refused."""

    message: str
    title: str | None = None


class QueryModel(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    invalid: ClassVar[str] = "Paramètre invalide."  # the 422's message

    @classmethod
    def from_request(cls, request: Any) -> Self:
        """The request's query string as this model: an unknown parameter or one given twice is
        a 400, a bad value a 422 whose `fields` name each parameter refused."""
        given = request.query_params or {}
        # Chalice's MultiDict answers a repeated parameter's last value: which one the client
        # meant is not ours to guess (`specialty=opticien&specialty=pharmacien`).
        repeated = sorted(
            name for name in given if hasattr(given, "getlist") and len(given.getlist(name)) > 1
        )
        if repeated:
            raise BadRequest(
                "Paramètre donné plusieurs fois."
                if len(repeated) == 1
                else "Paramètres donnés plusieurs fois.",
                [FieldError(name, "Paramètre donné plusieurs fois.") for name in repeated],
            )
        params: dict[str, str] = dict(given)
        try:
            return cls.model_validate(params)
        except ValidationError as error:
            problems = error.errors()
            unknown = sorted(str(e["loc"][0]) for e in problems if e["type"] == "extra_forbidden")
            if unknown:
                raise BadRequest(
                    "Paramètre inconnu." if len(unknown) == 1 else "Paramètres inconnus.",
                    [FieldError(name, "Paramètre inconnu.") for name in unknown],
                ) from error
            names = dict.fromkeys(str(e["loc"][0]) for e in problems if e["loc"])
            refused = [cls._invalid(name) for name in names]
            title = (refused[0][1].title if refused else None) or cls.invalid
            raise ValidationFailed(
                title, [FieldError(name, invalid.message) for name, invalid in refused]
            ) from error

    @classmethod
    def _invalid(cls, name: str) -> tuple[str, Invalid]:
        metadata = cls.model_fields[name].metadata
        found = next((m for m in metadata if isinstance(m, Invalid)), Invalid("Valeur invalide."))
        return name, found


# -- value types shared by the models ------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,9}")


def _ascii_digits(value: object) -> object:
    # `int()` also takes "١" (and pydantic signs, spaces, underscores): only ASCII digits here.
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("ASCII digits expected")
    return value


# After an integer's bounds in `Annotated` (which then stay in its JSON Schema).
ASCII_DIGITS = BeforeValidator(_ascii_digits)

# Cursors are base64url (no padding) of a 16-byte HMAC tag and a JSON object (`domain/cursor.py`).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
CURSOR_MIN_LENGTH = 24  # the tag and `{}`
CURSOR_MAX_LENGTH = 2048
_CURSOR = re.compile(CURSOR_PATTERN)


def _cursor_shape(value: object) -> object:
    """A cursor that cannot be one of ours is forged, like one whose tag is wrong: 400."""
    if isinstance(value, str) and not (
        CURSOR_MIN_LENGTH <= len(value) <= CURSOR_MAX_LENGTH and _CURSOR.fullmatch(value)
    ):
        raise BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
    return value


Cursor = Annotated[
    str,
    BeforeValidator(_cursor_shape),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CURSOR_PATTERN,
            "minLength": CURSOR_MIN_LENGTH,
            "maxLength": CURSOR_MAX_LENGTH,
        }
    ),
]


def cursor_description(foreign: str) -> str:
    return (
        "The previous page's `next_cursor`, as it was. Opaque and signed: a forged cursor, or "
        f"one of {foreign}, answers 400."
    )


# -- GET /requests ---------------------------------------------------------------------------------

REQUEST_TYPE_CODES = tuple(t.type for t in REQUEST_TYPES)
STATUS_CODES = tuple(s.value for s in Status)

DEFAULT_MONTHS_PER_PAGE = 6
MAX_MONTHS_PER_PAGE = 12
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class TimelineQuery(QueryModel):
    """The newest months (`limit` a page), the months before a `cursor`, or one `month`: never
    `month` and `cursor` together (400)."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["month", "cursor"]}})

    cursor: Annotated[Cursor | None, Field(description=cursor_description("another member"))] = None
    month: Annotated[
        Annotated[str, Field(pattern=MONTH_PATTERN)] | None,
        Field(description="One month, `YYYY-MM` (Paris time)."),
        Invalid("Mois attendu (AAAA-MM)."),
    ] = None
    limit: Annotated[
        int,
        Field(ge=1, le=MAX_MONTHS_PER_PAGE),
        ASCII_DIGITS,
        Field(
            description=f"Months per page, 1 to {MAX_MONTHS_PER_PAGE} "
            f"(default {DEFAULT_MONTHS_PER_PAGE})."
        ),
        Invalid(f"Entier de 1 à {MAX_MONTHS_PER_PAGE} attendu."),
    ] = DEFAULT_MONTHS_PER_PAGE
    status: Annotated[
        Literal[STATUS_CODES] | None,  # type: ignore[valid-type]
        Field(description="Only the requests in this state (`statuses` of `GET /catalog`)."),
        Invalid("État inconnu du catalogue."),
    ] = None
    type: Annotated[
        Literal[REQUEST_TYPE_CODES] | None,  # type: ignore[valid-type]
        Field(description="Only the requests of this type (a `type` of `GET /catalog`)."),
        Invalid("Type de démarche inconnu du catalogue."),
    ] = None

    @model_validator(mode="after")
    def _one_month_or_a_page(self) -> Self:
        if self.month is not None and self.cursor is not None:
            raise BadRequest("« month » et « cursor » ne se combinent pas.")
        return self


# -- GET /documents --------------------------------------------------------------------------------


def _allowed_window(months: int) -> int:
    if months not in document_rules.ALLOWED_WINDOWS:
        raise ValueError("not an allowed window")
    return months


_WINDOWS = [str(m) for m in document_rules.ALLOWED_WINDOWS]


class DocumentsQuery(QueryModel):
    invalid = "Période invalide."

    months: Annotated[
        int,
        AfterValidator(_allowed_window),
        ASCII_DIGITS,
        Field(
            description=f"How many months back: {', '.join(_WINDOWS)}.",
            json_schema_extra={"enum": list(document_rules.ALLOWED_WINDOWS)},
        ),
        Invalid(f"{', '.join(_WINDOWS[:-1])} ou {_WINDOWS[-1]} mois."),
    ] = document_rules.DEFAULT_WINDOW


# -- GET /backoffice/services/{service}/requests --------------------------------------------------

WORK_LIST_PAGE_SIZE = 50
MAX_WORK_LIST_PAGE_SIZE = 100
State = Literal["open", "waiting", "processed", "withdrawn"]
STATES: tuple[State, ...] = get_args(State)


class WorkListQuery(QueryModel):
    state: Annotated[
        State,
        Field(
            description="`open` (for an agent to work), `waiting` (for the member's answer), "
            "`processed` or `withdrawn`."
        ),
        Invalid("open, waiting, processed ou withdrawn.", title="État invalide."),
    ] = "open"
    cursor: Annotated[Cursor | None, Field(description=cursor_description("another list"))] = None
    limit: Annotated[
        int,
        Field(ge=1, le=MAX_WORK_LIST_PAGE_SIZE),
        ASCII_DIGITS,
        Field(
            description=f"Requests per page, 1 to {MAX_WORK_LIST_PAGE_SIZE} "
            f"(default {WORK_LIST_PAGE_SIZE})."
        ),
        Invalid(f"Entier de 1 à {MAX_WORK_LIST_PAGE_SIZE} attendu."),
    ] = WORK_LIST_PAGE_SIZE


# -- GET /professionals ----------------------------------------------------------------------------

MIN_RADIUS_KM = 0.001  # three decimals at most: the least radius above 0
# A decimal of km from MIN_RADIUS_KM to MAX_RADIUS_KM (100), three decimals at most, as written
# in a query string: 1 to 99 (leading zeros allowed), 100 with zero decimals, or 0.001 to 0.999.
RADIUS_PATTERN = (
    r"^(?:(?:0{0,2}[1-9]|0?[1-9][0-9])(?:\.[0-9]{1,3})?"
    r"|100(?:\.0{1,3})?"
    r"|0{1,3}\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$"
)
_RADIUS = re.compile(RADIUS_PATTERN)


def _known_specialty(code: str) -> str:
    if code not in SPECIALTIES_BY_CODE:
        raise ValueError("unknown specialty")
    return code


def _decimal_km(value: object) -> object:
    if isinstance(value, str) and not _RADIUS.fullmatch(value):
        raise ValueError("a decimal number of km expected")
    return value


class ProfessionalsQuery(QueryModel):
    """A new search (`specialty` and `postal_code`), or a `cursor` continuing one (the search's
    parameters may be repeated beside it, and must then be the same)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["specialty", "postal_code"]}, {"required": ["cursor"]}]
        }
    )
    invalid = "Recherche invalide."

    specialty: Annotated[
        Annotated[
            str,
            AfterValidator(_known_specialty),
            WithJsonSchema({"type": "string", "enum": [s.code for s in SPECIALTIES]}),
        ]
        | None,
        Field(description="A code of `specialties` in `GET /catalog`. Required without `cursor`."),
        Invalid(
            "Spécialité inconnue : utilisez un code de la liste « specialties » de GET /catalog."
        ),
    ] = None
    postal_code: Annotated[
        Annotated[str, Field(pattern=r"^[0-9]{5}$")] | None,
        Field(description="Five digits. Required without `cursor`."),
        Invalid("Le code postal s'écrit avec 5 chiffres."),
    ] = None
    radius_km: Annotated[
        Annotated[
            float,
            Field(ge=MIN_RADIUS_KM, le=search_rules.MAX_RADIUS_KM),
            # What a query string carries: the decimal as written, bounds and decimals included.
            WithJsonSchema({"type": "string", "pattern": RADIUS_PATTERN}),
        ]
        | None,
        BeforeValidator(_decimal_km),
        Field(
            description="Also search the neighbouring départements within this distance, in km: "
            f"{MIN_RADIUS_KM:g} to {search_rules.MAX_RADIUS_KM:g}, three decimals at most."
        ),
        Invalid(
            "Le rayon est un nombre de kilomètres, plus grand que 0 et au plus "
            f"{search_rules.MAX_RADIUS_KM:g}."
        ),
    ] = None
    limit: Annotated[
        int,
        Field(ge=1, le=search_rules.MAX_PAGE_SIZE),
        ASCII_DIGITS,
        Field(
            description=f"Practitioners per page, 1 to {search_rules.MAX_PAGE_SIZE} "
            f"(default {search_rules.DEFAULT_PAGE_SIZE})."
        ),
        Invalid(f"Le nombre de résultats par page va de 1 à {search_rules.MAX_PAGE_SIZE}."),
    ] = search_rules.DEFAULT_PAGE_SIZE
    cursor: Annotated[
        Cursor | None,
        Field(description=cursor_description("another search or another route")),
    ] = None

    @model_validator(mode="after")
    def _a_search_or_a_cursor(self) -> Self:
        if self.cursor is None:
            missing = [
                FieldError(name, message)
                for name, message in (
                    ("specialty", "La spécialité est obligatoire."),
                    ("postal_code", "Le code postal est obligatoire."),
                )
                if getattr(self, name) is None
            ]
            if missing:
                raise ValidationFailed(self.invalid, missing)
        return self


# -- GET /me/access-log --------------------------------------------------------------------------

ACCESS_LOG_PAGE_SIZE = 20
MAX_ACCESS_LOG_PAGE_SIZE = 100


class AccessLogQuery(QueryModel):
    cursor: Annotated[Cursor | None, Field(description=cursor_description("another member"))] = None
    limit: Annotated[
        int,
        Field(ge=1, le=MAX_ACCESS_LOG_PAGE_SIZE),
        ASCII_DIGITS,
        Field(
            description=f"Entries per page, 1 to {MAX_ACCESS_LOG_PAGE_SIZE} "
            f"(default {ACCESS_LOG_PAGE_SIZE})."
        ),
        Invalid(f"Entier de 1 à {MAX_ACCESS_LOG_PAGE_SIZE} attendu."),
    ] = ACCESS_LOG_PAGE_SIZE


# -- GET /backoffice/members/{member_id}/requests/{request_id}, and its letters -----------------


class ContestedQuery(QueryModel):
    """An agent of the service that holds a complaint reads the request it contests."""

    complaint: Annotated[
        Annotated[str, Field(pattern=ULID_PATTERN)] | None,
        Field(
            description="A complaint of the same member that contests this request "
            "(`related_request_id`): an agent of the complaint's service reads the request "
            "through it, whatever service holds the request."
        ),
        Invalid("Identifiant de réclamation attendu."),
    ] = None
