"""`GET /openapi.json`: the API's OpenAPI 3.1 document, generated from the app's route table and
the pydantic models its routes validate and answer with — never a hand-kept copy.

Every route of the app has its entry in `_operations()`, keyed by its view function: the build
fails on a route without an entry and on an entry without its route, so a new route cannot go
undocumented. Path parameters come from the route table, bodies and answers from the models the
routes use, error answers from the error hierarchy (`domain/errors.py`).

Built on the first request and kept for the Lambda's life (never at import). `make openapi`
writes the committed copy, `docs/openapi.json`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from chalicelib.api import (
    backoffice,
    body,
    documents,
    members,
    professionals,
    reference,
    requests,
    uploads,
)
from chalicelib.api.errors import JSON_HEADERS, ApiBlueprint
from chalicelib.api.schemas import (
    AgentRequestView,
    CatalogAnswer,
    ContactAnswer,
    DecisionAnswer,
    DocumentList,
    DownloadLink,
    ErrorAnswer,
    Timeline,
    UploadTicket,
    WorkList,
)
from chalicelib.domain import documents as document_rules
from chalicelib.domain import professionals as search_rules
from chalicelib.domain import uploads as upload_rules
from chalicelib.domain.catalog import REQUEST_TYPES, SPECIALTIES, Service
from chalicelib.domain.decisions import Decision
from chalicelib.domain.errors import AppError
from chalicelib.domain.requests import ULID_PATTERN, RequestDetail, new_request_adapter
from chalicelib.domain.uploads import UploadRequest
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from pydantic._internal._core_utils import CoreSchemaOrField

blueprint = ApiBlueprint(__name__)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
SECURITY_SCHEME = "cognitoIdToken"
JSON = "application/json"
_REF = "#/components/schemas/{model}"
_MAX_BODY_KB = int(Settings.model_fields["max_body_bytes"].default) // 1024
_MAX_FILE_MB = upload_rules.MAX_FILE_BYTES // (1024 * 1024)


@dataclass(frozen=True)
class Parameter:
    name: str
    schema: Mapping[str, Any]
    description: str
    required: bool = False

    def document(self, location: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": location,
            "required": self.required or location == "path",
            "description": self.description,
            "schema": dict(self.schema),
        }


@dataclass(frozen=True)
class Operation:
    """What the route table does not say about a route: its answer, body, parameters, errors."""

    summary: str
    description: str
    tag: str
    answer: type[BaseModel] | None  # None: a free-form JSON object
    status: int = 200
    answer_description: str = "OK"
    answer_headers: tuple[str, ...] = ()
    body: TypeAdapter[Any] | type[BaseModel] | None = None
    body_name: str | None = None  # names a body schema that is not a model (a union)
    body_examples: Mapping[str, Any] = field(default_factory=dict)
    query: tuple[Parameter, ...] = ()
    headers: tuple[Parameter, ...] = ()
    errors: Mapping[int, str] = field(default_factory=dict)  # status: when it is answered
    public: bool = False


# -- parameters ---------------------------------------------------------------------------------

PATH_PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "request_id",
            {"type": "string", "pattern": ULID_PATTERN},
            "ULID of the request. Unknown, malformed and other members' requests alike: 404.",
        ),
        Parameter(
            "attachment_id",
            {"type": "string", "pattern": ULID_PATTERN},
            "ULID of the attachment (the `upload_id` it was filed with).",
        ),
        Parameter(
            "document_id",
            {"type": "string", "pattern": ULID_PATTERN},
            "ULID of the document. Unknown, malformed and other members' documents alike: 404.",
        ),
        Parameter(
            "service",
            {"type": "string", "enum": [s.value for s in Service]},
            "The service whose work list is read; the agent must be in `agent-<service>`.",
        ),
        Parameter(
            "member_id",
            {"type": "string", "minLength": 1, "maxLength": 64},
            "The member the request belongs to (`member_id` of the work list).",
        ),
    )
}


def _cursor(what: str) -> Parameter:
    return Parameter(
        "cursor",
        {"type": "string", "minLength": 1},
        f"The previous page's `next_cursor`, as it was. Opaque and signed: a forged cursor, or "
        f"one of {what}, answers 400.",
    )


def _page_size(default: int, high: int, what: str) -> Parameter:
    return Parameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": high, "default": default},
        f"{what} per page, 1 to {high} (default {default}).",
    )


# -- the operations, by view function -----------------------------------------------------------

_MEMBERS_ONLY = "An agent's token: this space is for members."
_NOT_JSON = "The body is not JSON (`Content-Type` other than `application/json`)."

REQUEST_BODY_EXAMPLE = {
    "type": "sante.justificatif",
    "beneficiary_ids": ["0012345601-01"],
    "description": "Pharmacie du 2 novembre",
    "data": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"},
    "upload_ids": ["01JC9ZP7Q8W3Y5V2N4M6K8H0GF"],
    "complaint": False,
}


def _request_types_table() -> str:
    rows = [
        f"| `{t.type}` | {t.label} | {t.attachments.value} |"
        + (" required |" if t.description_required else " optional |")
        for t in REQUEST_TYPES
    ]
    return "\n".join(
        ["| `type` | label | attachments | `description` |", "|---|---|---|---|", *rows]
    )


def _file_request_description() -> str:
    return (
        "Files a démarche. The body is one of the variants below, chosen by `type`; each "
        "variant's `data` is validated against its type's schema (also published by "
        "`GET /catalog`).\n\n"
        f"{_request_types_table()}\n\n"
        "- `beneficiary_ids`: at least one, each a beneficiary of the member's contract; "
        "`vie.prolongation_droits_enfant` takes only children aged 18 or more.\n"
        "- `complaint`: only on `contact.demande`; true files a complaint (label "
        "« Réclamation ») and sends it to the complaints service.\n"
        "- `upload_ids`: uploads of this member (`POST /uploads`), uploaded, each used once; "
        "5 at most, 15 MB in all, each file's first bytes matching its declared type.\n"
        "- Fields the server owns (`status`, `member_id`, `created_at`, …) and unknown fields "
        "are refused with 400.\n"
        "- `Idempotency-Key`: the same key with the same body within 24 hours answers the first "
        "201 again (with `Idempotent-Replayed: true`) and files nothing; the same key with "
        "another body answers 409."
    )


def _operations() -> dict[Callable[..., Any], Operation]:
    return {
        reference.get_catalog: Operation(
            summary="The catalogue: démarches, contact form choices, partner specialties",
            description=(
                "What a member can file, by category (`sante`, `vie_personnelle`, `contact`), "
                "with the French labels the portal shows and, for each type, the JSON Schema of "
                "its `data`: the very schema `POST /requests` validates with. Also the contact "
                "form's two drop-downs (`subjects`) and the partner specialties. The same for "
                "every signed-in user."
            ),
            tag="reference",
            answer=CatalogAnswer,
        ),
        reference.get_contact: Operation(
            summary="How to reach Génération",
            description="Phone numbers with their opening hours, postal addresses, and the "
            "consumer mediator.",
            tag="reference",
            answer=ContactAnswer,
        ),
        members.get_me: Operation(
            summary="The signed-in member's profile",
            description="Contact details, postal address, bank account (IBAN masked: country "
            "code and last four characters) and contract. `bank_account` is null when none is "
            "on file.",
            tag="member",
            answer=members.MeAnswer,
            errors={403: _MEMBERS_ONLY, 404: "No profile for the token's member."},
        ),
        members.get_my_beneficiaries: Operation(
            summary="The people covered by the member's contract",
            description="The member and the people on their contract, in the order they "
            "joined. `coverage_end` is null while coverage runs.",
            tag="member",
            answer=members.BeneficiariesAnswer,
            errors={403: _MEMBERS_ONLY},
        ),
        professionals.search_professionals: Operation(
            summary="Partner health professionals near a postal code, nearest first",
            description=(
                "Searches the practitioners of a specialty in the département of the postal "
                "code's main commune (its most populous; the town hall, or the "
                "arrondissement's in Paris, Lyon and Marseille), nearest first, with "
                "`distance_km`. `radius_km` adds those of the neighbouring départements that "
                "lie within the radius. `area` says where distances are measured from and "
                "which départements were read.\n\n"
                "`specialty` and `postal_code` are required to start a search; `cursor` alone "
                "continues one (the search's parameters may be repeated beside it, and must "
                "then be the same)."
            ),
            tag="professionals",
            answer=professionals.ProfessionalsAnswer,
            query=(
                Parameter(
                    "specialty",
                    {"type": "string", "enum": [s.code for s in SPECIALTIES]},
                    "A code of `specialties` in `GET /catalog`. Required without `cursor`.",
                ),
                Parameter(
                    "postal_code",
                    {"type": "string", "pattern": "^[0-9]{5}$"},
                    "Five digits. Required without `cursor`.",
                ),
                Parameter(
                    "radius_km",
                    {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": search_rules.MAX_RADIUS_KM,
                    },
                    "Also search the neighbouring départements within this distance, in km: "
                    f"above 0, at most {search_rules.MAX_RADIUS_KM:g}, three decimals at most.",
                ),
                _page_size(
                    search_rules.DEFAULT_PAGE_SIZE, search_rules.MAX_PAGE_SIZE, "Practitioners"
                ),
                _cursor("another search or another route"),
            ),
            errors={
                400: "An unknown query parameter, or a cursor forged, of another route, or "
                "given beside parameters of another search.",
                404: "No commune has this (well-formed) postal code.",
                422: "A parameter is missing or invalid; `fields` names each one.",
            },
        ),
        requests.file_request: Operation(
            summary="File a démarche",
            description=_file_request_description(),
            tag="requests",
            answer=RequestDetail,
            status=201,
            answer_description="Filed (or, with an `Idempotency-Key` already used with the same "
            "body, the first answer replayed): the request's detail.",
            answer_headers=("Location", "Idempotent-Replayed"),
            body=new_request_adapter(),
            body_name="NewRequest",
            body_examples={"justificatif": REQUEST_BODY_EXAMPLE},
            headers=(
                Parameter(
                    "Idempotency-Key",
                    {"type": "string", "pattern": f"^{body.IDEMPOTENCY_KEY_PATTERN}$"},
                    "Makes a retry safe: 1 to 255 visible ASCII characters, e.g. a UUID made "
                    "once per form submission. Kept 24 hours.",
                ),
            ),
            errors={
                400: "Malformed JSON, not an object, an unknown or server-owned field, or an "
                "invalid `Idempotency-Key`.",
                403: _MEMBERS_ONLY,
                409: "This `Idempotency-Key` was used with another body (or a call with the "
                "same key is still in progress: retry).",
                422: "The body breaks a rule: unknown `type`, a field of `data`, a beneficiary "
                "not on the contract, an upload unknown, expired, used, missing or not what "
                "it declared; `fields` names each one.",
            },
        ),
        requests.timeline: Operation(
            summary="The member's requests, month by month, newest first",
            description=(
                "A page holds whole months: the `limit` newest months that hold requests "
                f"(default {requests.DEFAULT_MONTHS_PER_PAGE}), each with its requests, newest "
                "first. `next_cursor` continues, null on the last page. `month` gives that one "
                "month (empty `months` if it holds nothing) and cannot be combined with "
                "`cursor`."
            ),
            tag="requests",
            answer=Timeline,
            query=(
                _cursor("another member"),
                Parameter(
                    "month",
                    {"type": "string", "pattern": f"^{body.MONTH_PATTERN}$"},
                    "One month, `YYYY-MM` (Paris time).",
                ),
                _page_size(
                    requests.DEFAULT_MONTHS_PER_PAGE, requests.MAX_MONTHS_PER_PAGE, "Months"
                ),
            ),
            errors={
                400: "An unknown query parameter, a forged or foreign cursor, or `month` "
                "with `cursor`.",
                403: _MEMBERS_ONLY,
                422: "`month` or `limit` malformed.",
            },
        ),
        requests.request_detail: Operation(
            summary="A request's detail",
            description="The summary plus the service, outcome, deadline, history, what the "
            "member filed (`recall`, the IBAN masked), attachments and the letters sent.",
            tag="requests",
            answer=RequestDetail,
            errors={403: _MEMBERS_ONLY, 404: "No such request for this member."},
        ),
        requests.download_attachment: Operation(
            summary="Download an attachment of a request in progress",
            description="A presigned GET valid a few minutes. Once the request is processed its "
            "attachments are no longer offered (409): the detail's `recall` stays.",
            tag="requests",
            answer=DownloadLink,
            errors={
                403: _MEMBERS_ONLY,
                404: "No such request for this member, or no such attachment on it.",
                409: "The request is processed.",
            },
        ),
        uploads.create_upload: Operation(
            summary="Get a presigned POST to upload one file",
            description=(
                "Declares a file and answers a presigned S3 POST whose policy fixes the object "
                "key, the content type and the size range: the browser sends `fields` then the "
                "file, as multipart/form-data, to `url` before `expires_at`. PDF, JPEG, PNG and "
                f"GIF only; {_MAX_FILE_MB} MB at most. The file's first bytes are checked "
                "against its type when the upload is used by `POST /requests`."
            ),
            tag="uploads",
            answer=UploadTicket,
            status=201,
            answer_description="The presigned POST.",
            body=UploadRequest,
            body_examples={
                "pdf": {"filename": "facture.pdf", "content_type": "application/pdf", "size": 48213}
            },
            errors={
                403: _MEMBERS_ONLY,
                413: f"The declared size is above {_MAX_FILE_MB} MB, or the body above "
                f"{_MAX_BODY_KB} KB.",
                415: "`content_type` is not PDF, JPEG, PNG or GIF, or the body is not JSON.",
                422: "A field is invalid (e.g. an empty or unusable file name).",
            },
        ),
        documents.list_documents: Operation(
            summary="The member's letters and documents, newest first",
            description="The documents of the last `months` months (default "
            f"{document_rules.DEFAULT_WINDOW}), as « Mes courriers et documents » lists them.",
            tag="documents",
            answer=DocumentList,
            query=(
                Parameter(
                    "months",
                    {
                        "type": "integer",
                        "enum": list(document_rules.ALLOWED_WINDOWS),
                        "default": document_rules.DEFAULT_WINDOW,
                    },
                    "How many months back: "
                    + ", ".join(str(m) for m in document_rules.ALLOWED_WINDOWS)
                    + ".",
                ),
            ),
            errors={
                400: "An unknown query parameter.",
                403: _MEMBERS_ONLY,
                422: "`months` is not one of the allowed windows.",
            },
        ),
        documents.download_document: Operation(
            summary="Download a document (PDF)",
            description="A presigned GET of the PDF, valid a few minutes, saved as "
            "`<title>-<date>.pdf`.",
            tag="documents",
            answer=DownloadLink,
            errors={403: _MEMBERS_ONLY, 404: "No such document for this member."},
        ),
        backoffice.work_list: Operation(
            summary="A service's work list (agents)",
            description="The service's requests in one state, oldest first; requests whose "
            "deadline is at risk come first. For agents in `agent-<service>`.",
            tag="backoffice",
            answer=WorkList,
            query=(
                Parameter(
                    "state",
                    {"type": "string", "enum": list(backoffice.STATES), "default": "open"},
                    "`open` (waiting for an agent) or `processed`.",
                ),
                _cursor("another list"),
                _page_size(
                    backoffice.WORK_LIST_PAGE_SIZE, backoffice.MAX_WORK_LIST_PAGE_SIZE, "Requests"
                ),
            ),
            errors={
                400: "An unknown query parameter, or a forged or foreign cursor.",
                403: "Not an agent of this service (a member's token always).",
                404: "No such service.",
                422: "`state` or `limit` invalid.",
            },
        ),
        backoffice.agent_detail: Operation(
            summary="A request's detail (agents)",
            description="The detail, with the member's id, the acknowledgement deadline and "
            "each attachment's presigned download.",
            tag="backoffice",
            answer=AgentRequestView,
            errors={
                403: "Not an agent of the request's service (a member's token always).",
                404: "No such request for this member.",
            },
        ),
        backoffice.decide: Operation(
            summary="Decide a request (agents)",
            description=(
                "Records the outcome: the request becomes processed, what an approval changes "
                "is applied to the member's file (bank details, a child's coverage, a new "
                "beneficiary), and a letter PDF joins the member's documents. A refusal, in "
                "whole or in part, needs a `message`. Safe to retry: a request already "
                "processed answers 409."
            ),
            tag="backoffice",
            answer=DecisionAnswer,
            answer_description="Decided: the request as the agent now sees it, and its letter.",
            body=Decision,
            body_examples={
                "refus": {"outcome": "refused", "message": "Le justificatif est illisible."}
            },
            errors={
                400: "Malformed JSON, not an object, or an unknown field.",
                403: "Not an agent of the request's service (a member's token always).",
                404: "No such request for this member.",
                409: "The request is already processed, or another decision was taken.",
                422: "`outcome` or `amount` invalid, or a refusal without `message`.",
            },
        ),
        openapi_document_view: Operation(
            summary="This document",
            description="The OpenAPI 3.1 document of this API. Public: no token needed.",
            tag="meta",
            answer=None,
            answer_description="The OpenAPI document.",
            public=True,
        ),
    }


# -- errors -------------------------------------------------------------------------------------

_ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: malformed JSON, an unknown field or query parameter.",
    401: "Missing, malformed, tampered or expired ID token.",
    403: "Signed in, but not allowed here.",
    404: "Not found, or not this user's (never told apart).",
    409: "Conflict with the resource's state.",
    413: f"The body is larger than {_MAX_BODY_KB} KB.",
    415: _NOT_JSON,
    422: "Well-formed, but a value breaks a rule; `fields` names each one.",
    500: "Unexpected error (never caused by what the client sent).",
    503: "A dependency (identity provider, database, storage) is momentarily unavailable or "
    "overloaded: retry after `Retry-After` seconds.",
}


def _error_classes() -> dict[int, type[AppError]]:
    """Each status of the error hierarchy and the class that answers it (its code)."""
    found: dict[int, type[AppError]] = {AppError.status: AppError}
    pending = list(AppError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.setdefault(cls.status, cls)
        pending.extend(cls.__subclasses__())
    return found


def _error_response_name(cls: type[AppError]) -> str:
    return "InternalError" if cls is AppError else cls.__name__


def _error_responses(statuses: set[int]) -> dict[str, Any]:
    """The error answers, one per status the operations give."""
    responses: dict[str, Any] = {}
    for status, cls in sorted(_error_classes().items()):
        if status not in statuses:
            continue
        response: dict[str, Any] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "headers": {"Cache-Control": {"$ref": "#/components/headers/Cache-Control"}},
            "content": {
                JSON: {
                    "schema": {
                        "allOf": [
                            {"$ref": _REF.format(model="ErrorAnswer")},
                            {
                                "type": "object",
                                "properties": {
                                    "error": {
                                        "type": "object",
                                        "properties": {"code": {"const": cls.code}},
                                    }
                                },
                            },
                        ]
                    },
                    "example": {
                        "error": {"code": cls.code, "message": "…", "fields": []},
                    },
                }
            },
        }
        if status == 503:
            response["headers"]["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        responses[_error_response_name(cls)] = response
    return responses


def _operation_errors(operation: Operation) -> dict[int, str | None]:
    """Status → the operation's own description (None: the shared one)."""
    errors: dict[int, str | None] = {}
    if not operation.public:
        errors.update({401: None, 500: None, 503: None})
    if operation.body is not None:
        errors.update({400: None, 413: None, 415: None})
    errors.update(operation.errors)
    return dict(sorted(errors.items()))


# -- schemas ------------------------------------------------------------------------------------


class _SchemaGenerator(GenerateJsonSchema):
    """Pydantic's generator, without a title on every property (noise in generated clients),
    and with every field of an answer required: answers are dumped whole, defaults included,
    so a client may count on each key (null where the type allows it)."""

    def field_title_should_be_set(self, schema: CoreSchemaOrField) -> bool:
        return False

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return field.get("serialization_exclude") is not True
        return super().field_is_required(field, total)


def _adapter(model: TypeAdapter[Any] | type[BaseModel]) -> TypeAdapter[Any]:
    return model if isinstance(model, TypeAdapter) else TypeAdapter(model)


def _schemas(
    operations: Mapping[str, Operation],
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """Every body and answer schema in one generation: shared models are defined once, and a
    model that reads differently in bodies and in answers gets `-Input` / `-Output` names."""
    inputs: list[tuple[str, Any, TypeAdapter[Any]]] = [
        ("error", "serialization", TypeAdapter(ErrorAnswer))
    ]
    for name, operation in operations.items():
        if operation.body is not None:
            inputs.append((f"body:{name}", "validation", _adapter(operation.body)))
        if operation.answer is not None:
            inputs.append((f"answer:{name}", "serialization", _adapter(operation.answer)))
    by_key, definitions = TypeAdapter.json_schemas(
        inputs, ref_template=_REF, schema_generator=_SchemaGenerator
    )
    schemas = {key: dict(schema) for (key, _mode), schema in by_key.items()}
    components = dict(definitions.get("$defs", {}))
    for name, operation in operations.items():
        body = schemas.get(f"body:{name}")
        if body is not None and "$ref" not in body:
            if operation.body_name is None or operation.body_name in components:
                raise ValueError(f"{name}: its body schema needs a name of its own")
            components[operation.body_name] = body
            schemas[f"body:{name}"] = {"$ref": _REF.format(model=operation.body_name)}
    return {(k.partition(":")[0], k.partition(":")[2]): v for k, v in schemas.items()}, components


# -- the document -------------------------------------------------------------------------------

_PATH_PARAMETER = re.compile(r"{([^}]+)}")


@dataclass(frozen=True)
class _Route:
    path: str
    method: str
    view_name: str
    view: Callable[..., Any]


def _routes(app: Chalice) -> Iterator[_Route]:
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            yield _Route(path, method, entry.view_name, inspect.unwrap(entry.view_function))


def _operation_document(
    route: _Route,
    operation: Operation,
    schemas: Mapping[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    name = route.view_name
    parameters = []
    for arg in _PATH_PARAMETER.findall(route.path):
        if arg not in PATH_PARAMETERS:
            raise LookupError(f"{route.method} {route.path}: path parameter {arg} undocumented")
        parameters.append(PATH_PARAMETERS[arg].document("path"))
    parameters += [p.document("query") for p in operation.query]
    parameters += [p.document("header") for p in operation.headers]

    answer_schema = (
        schemas[("answer", name)] if operation.answer is not None else {"type": "object"}
    )
    answer: dict[str, Any] = {
        "description": operation.answer_description,
        "headers": {
            header: {"$ref": f"#/components/headers/{header}"}
            for header in ("Cache-Control", *operation.answer_headers)
        },
        "content": {JSON: {"schema": answer_schema}},
    }
    responses: dict[str, Any] = {str(operation.status): answer}
    classes = _error_classes()
    for status, description in _operation_errors(operation).items():
        reference: dict[str, Any] = {
            "$ref": f"#/components/responses/{_error_response_name(classes[status])}"
        }
        if description is not None:
            reference["description"] = description
        responses[str(status)] = reference

    document: dict[str, Any] = {
        "operationId": name,
        "tags": [operation.tag],
        "summary": operation.summary,
        "description": operation.description,
    }
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        media: dict[str, Any] = {"schema": schemas[("body", name)]}
        if operation.body_examples:
            media["examples"] = {k: {"value": v} for k, v in operation.body_examples.items()}
        document["requestBody"] = {"required": True, "content": {JSON: media}}
    document["responses"] = responses
    document["security"] = [] if operation.public else [{SECURITY_SCHEME: []}]
    return document


INFO_DESCRIPTION = """\
The API of the « Démarches » area of the Génération member portal: members file requests \
(démarches), attach documents, follow them month by month and download the letters sent in \
reply; agents of each service work the requests that reach them.

**Sign-in.** Every operation but `GET /openapi.json` needs `Authorization: Bearer <Cognito ID \
token>`. The member is the token's `custom:member_id`; agents are in the Cognito groups \
`agent-<service>`. A member never sees another member's data: another member's request or \
document answers 404, exactly like one that does not exist.

**Conventions.** JSON in UTF-8. Times are ISO 8601 in UTC ending in `Z`; dates `YYYY-MM-DD`; \
months `YYYY-MM`. Amounts are strings with two decimals (`"42.50"`), in euros. IDs of requests, \
documents, uploads and attachments are ULIDs (26 characters). Page cursors are opaque: pass \
`next_cursor` back as it is. Unknown body fields and query parameters are refused (400), and so \
are the fields the server owns. Answers are not cached (`Cache-Control: no-store`).

**Errors.** Always `{"error": {"code", "message", "fields": [{"field", "message"}]}}`, one code \
per status: `bad_request` 400, `unauthorized` 401, `forbidden` 403, `not_found` 404, \
`conflict` 409, `payload_too_large` 413, `unsupported_media_type` 415, `validation_error` 422, \
`service_unavailable` 503 (with `Retry-After`). `message` and each field's `message` are in \
French, fit to show the member. API Gateway also throttles each stage: it answers 429 itself, \
before the API runs; retry after a pause.
"""


def openapi_document(app: Chalice) -> dict[str, Any]:
    """The OpenAPI document of `app`, built from its route table. Raises on a route without an
    entry in the operations table, or an entry without its route."""
    table = _operations()
    routes = list(_routes(app))
    missing = [f"{r.method} {r.path}" for r in routes if r.view not in table]
    if missing:
        raise LookupError(f"routes without an OpenAPI entry: {', '.join(missing)}")
    routed = {r.view for r in routes}
    unrouted = [view.__name__ for view in table if view not in routed]
    if unrouted:
        raise LookupError(f"OpenAPI entries without a route: {', '.join(unrouted)}")

    by_name = {r.view_name: table[r.view] for r in routes}
    if len(by_name) != len(routes):
        raise ValueError("two routes share a view name: operation ids must be unique")
    schemas, components = _schemas(by_name)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation_document(
            route, table[route.view], schemas
        )

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Génération Démarches API",
            "version": API_VERSION,
            "description": INFO_DESCRIPTION,
        },
        "tags": [
            {"name": "reference", "description": "Reference data for every signed-in user"},
            {"name": "member", "description": "The signed-in member's own data"},
            {"name": "requests", "description": "Filing and following démarches"},
            {"name": "uploads", "description": "Files sent straight to storage"},
            {"name": "documents", "description": "« Mes courriers et documents »"},
            {"name": "professionals", "description": "Partner health professionals"},
            {"name": "backoffice", "description": "Agents of a service"},
            {"name": "meta", "description": "About this API"},
        ],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "responses": _error_responses(
                {
                    status
                    for operation in by_name.values()
                    for status in _operation_errors(operation)
                }
            ),
            "headers": _HEADERS,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID token of the Génération user pool (RS256; "
                    "`token_use` must be `id`).",
                }
            },
        },
    }


_HEADERS: dict[str, Any] = {
    "Cache-Control": {
        "description": "Answers are never cached.",
        "schema": {"type": "string", "examples": ["no-store"]},
    },
    "Location": {
        "description": "The created request, relative to the API root: `/requests/{request_id}`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer replays the first one given to the same "
        "`Idempotency-Key` and body; absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
}


def render(document: Mapping[str, Any]) -> str:
    """The committed form: stable, readable UTF-8, one trailing newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


@lru_cache(maxsize=1)
def _served(app: Chalice) -> str:
    return json.dumps(openapi_document(app), ensure_ascii=False, separators=(",", ":"))


@blueprint.route("/openapi.json", methods=["GET"])
def openapi_document_view() -> Response:
    headers: dict[str, str | list[str]] = {**JSON_HEADERS}
    return Response(body=_served(blueprint.current_app), status_code=200, headers=headers)


def main() -> None:
    """`python -m chalicelib.api.openapi [FILE]`: write the document (default: stdout)."""
    # The app lives outside the Lambda bundle's package; mypy checks chalicelib alone.
    app: Chalice = importlib.import_module("app").app
    text = render(openapi_document(app))
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    # Run as a script, this file is `__main__`, not the module whose views the app registered.
    from chalicelib.api import openapi

    openapi.main()
