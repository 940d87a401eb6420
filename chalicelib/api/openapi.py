"""`GET /openapi.json`: the API's OpenAPI 3.1 document, generated from the app's routes — never a
hand-kept copy, and no table of routes here.

Each route says what it answers and reads where it is declared (keywords of `ApiBlueprint.route`,
`api/route_docs.py`; summary and description from the view's docstring); this module walks
`app.routes` and turns that into the document: path parameters from the path, query parameters
from the route's query model, bodies and answers from the models the route uses, error answers
from the error hierarchy (`domain/errors.py`). A route declared without its documentation, or
without a docstring, fails the build.

Built on the first request and kept for the Lambda's life (never at import). `make openapi`
writes the committed copy, `docs/openapi.json` (`scripts/write_openapi.py`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from chalicelib.api.errors import JSON_HEADERS, ApiBlueprint
from chalicelib.api.lazy import target
from chalicelib.api.route_docs import (
    EXPORTS_PER_DAY,
    MAX_BODY_KB,
    REPLIES_PER_DAY,
    REQUESTS_PER_DAY,
    UNUSED_UPLOADS_MAX,
    Header,
    RouteDocs,
    docs_of,
)
from chalicelib.api.schemas import ErrorAnswer
from chalicelib.domain.catalog import Service
from chalicelib.domain.errors import AppError
from chalicelib.domain.requests import ULID_PATTERN

if TYPE_CHECKING:
    from pydantic._internal._core_utils import CoreSchemaOrField

blueprint = ApiBlueprint(__name__)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
SECURITY_SCHEME = "cognitoIdToken"
JSON = "application/json"
_REF = "#/components/schemas/{model}"
_NOT_JSON = "The body is not JSON (`Content-Type` other than `application/json`)."

TAGS: dict[str, str] = {
    "reference": "Reference data for every signed-in user",
    "member": "The signed-in member's own data",
    "requests": "Filing and following démarches",
    "uploads": "Files sent straight to storage",
    "documents": "« Mes courriers et documents »",
    "professionals": "Partner health professionals",
    "backoffice": "Agents of a service",
    "meta": "About this API",
}


# -- parameters ---------------------------------------------------------------------------------


def _parameter(
    name: str, location: str, schema: Mapping[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": location,
        "required": required or location == "path",
        "description": description,
        "schema": dict(schema),
    }


# The same names mean the same thing on every path: documented once, by name.
PATH_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "request_id": (
        {"type": "string", "pattern": ULID_PATTERN},
        "ULID of the request. Unknown, malformed and other members' requests alike: 404.",
    ),
    "attachment_id": (
        {"type": "string", "pattern": ULID_PATTERN},
        "ULID of the attachment (the `upload_id` it was filed with).",
    ),
    "document_id": (
        {"type": "string", "pattern": ULID_PATTERN},
        "ULID of the document. Unknown, malformed and other members' documents alike: 404.",
    ),
    "service": (
        {"type": "string", "enum": [s.value for s in Service]},
        "The service whose work list is read; the agent must be in `agent-<service>`.",
    ),
    "member_id": (
        {"type": "string", "minLength": 1, "maxLength": 64},
        "The member the request belongs to (`member_id` of the work list).",
    ),
    "export_id": (
        {"type": "string", "pattern": ULID_PATTERN},
        "ULID of the export. Unknown, malformed, gone and other members' exports alike: 404.",
    ),
}


class _QuerySchemaGenerator(GenerateJsonSchema):
    """A query parameter is absent or a string, never null: `X | None = None` reads as `X`."""

    def field_title_should_be_set(self, schema: CoreSchemaOrField) -> bool:
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])


# What an object's JSON Schema says of each property alone; any other keyword is a rule that
# spans several properties (`anyOf`: this one or those, `not`: never both).
_ONE_BY_ONE = frozenset({"type", "properties", "required", "additionalProperties", "title"})


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The query model's fields, as query parameters: its JSON Schema, field by field.

    OpenAPI cannot state a rule between two parameters, so a model with such a rule is one
    object parameter exploded into its fields (`style: form`, as `a=1&b=2`): its schema is the
    model's, the rule included."""
    schema = model.model_json_schema(mode="validation", schema_generator=_QuerySchemaGenerator)
    if "$defs" in schema:
        raise ValueError(f"{model.__name__}: a query parameter's schema must stand alone")
    required = set(schema.get("required", ()))
    fields: dict[str, tuple[dict[str, Any], str]] = {}
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        description = field_schema.pop("description", "")
        if field_schema.get("default", ...) is None:
            del field_schema["default"]
        fields[name] = (field_schema, description)
    rules = {k: v for k, v in schema.items() if k not in _ONE_BY_ONE and k != "description"}
    if not rules:
        return [
            _parameter(name, "query", field_schema, description, name in required)
            for name, (field_schema, description) in fields.items()
        ]
    whole = {
        "type": "object",
        "properties": {
            name: {**field_schema, "description": description} if description else field_schema
            for name, (field_schema, description) in fields.items()
        },
        **({"required": sorted(required)} if required else {}),
        "additionalProperties": False,
        **rules,
    }
    parameter = _parameter(
        "query", "query", whole, " ".join(schema.get("description", "").split()), _needs_one(model)
    )
    return [{**parameter, "style": "form", "explode": True}]


def _needs_one(model: type[BaseModel]) -> bool:
    """Whether the model refuses an empty query string."""
    try:
        model.model_validate({})
    except (ValidationError, AppError):
        return True
    return False


def _header_parameter(header: Header) -> dict[str, Any]:
    return _parameter(header.name, "header", header.schema, header.description, header.required)


# -- errors -------------------------------------------------------------------------------------

_ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: malformed JSON, an unknown field or query parameter.",
    401: "Missing, malformed, tampered or expired ID token.",
    403: "Signed in, but not allowed here.",
    404: "Not found, or not this user's (never told apart).",
    409: "Conflict with the resource's state.",
    413: f"The body is larger than {MAX_BODY_KB} KB.",
    415: _NOT_JSON,
    422: "Well-formed, but a value breaks a rule; `fields` names each one.",
    429: "A limit of the member's is reached (API.md, « Limits »): retry after `Retry-After` "
    "seconds.",
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
        if status in (429, 503):
            response["headers"]["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        responses[_error_response_name(cls)] = response
    return responses


def _error_with_headers(
    status: int, when: str | None, headers: Mapping[str, str]
) -> dict[str, Any]:
    """A route's error answer with headers of its own (`error_headers`): the shared answer, its
    description the route's, each header added as always sent."""
    (shared,) = _error_responses({status}).values()
    answer: dict[str, Any] = copy.deepcopy(shared)
    if when is not None:
        answer["description"] = when
    for name, says in headers.items():
        answer["headers"][name] = {"description": says, "required": True,
                                   "schema": {"type": "string"}}  # fmt: skip
    return answer


def _operation_errors(docs: RouteDocs) -> dict[int, str | None]:
    """Status → the route's own description (None: the shared one)."""
    errors: dict[int, str | None] = {}
    if not docs.public:
        errors.update({401: None, 500: None, 503: None})
    if docs.body is not None:
        errors.update({400: None, 413: None, 415: None})
    errors.update(docs.errors)
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


def _schemas(
    routes: Mapping[str, RouteDocs],
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """Every body and answer schema in one generation: shared models are defined once, and a
    model that reads differently in bodies and in answers gets `-Input` / `-Output` names."""
    inputs: list[tuple[str, Any, TypeAdapter[Any]]] = [
        ("error", "serialization", TypeAdapter(ErrorAnswer))
    ]
    for name, docs in routes.items():
        body = docs.body_adapter()
        if body is not None:
            inputs.append((f"body:{name}", "validation", body))
        if docs.answer is not None:
            inputs.append((f"answer:{name}", "serialization", TypeAdapter(docs.answer)))
    by_key, definitions = TypeAdapter.json_schemas(
        inputs, ref_template=_REF, schema_generator=_SchemaGenerator
    )
    schemas = {key: dict(schema) for (key, _mode), schema in by_key.items()}
    components = dict(definitions.get("$defs", {}))
    for name, docs in routes.items():
        body_schema = schemas.get(f"body:{name}")
        if body_schema is not None and "$ref" not in body_schema:
            if docs.body_name is None or docs.body_name in components:
                raise ValueError(f"{name}: its body schema needs a name of its own")
            components[docs.body_name] = body_schema
            schemas[f"body:{name}"] = {"$ref": _REF.format(model=docs.body_name)}
    return {(k.partition(":")[0], k.partition(":")[2]): v for k, v in schemas.items()}, components


# -- the document -------------------------------------------------------------------------------

_PATH_PARAMETER = re.compile(r"{([^}]+)}")


@dataclass(frozen=True)
class _Route:
    path: str
    method: str
    view_name: str
    view: Callable[..., Any]
    docs: RouteDocs


def _routes(app: Chalice) -> Iterator[_Route]:
    """The app's routes with their documentation; raises on a route that has none."""
    undocumented = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if method == "OPTIONS":  # the browsers' CORS preflights (api/cors.py), not operations
                continue
            view = target(entry.view_function)  # a route registered from its table: its own
            docs = docs_of(view)
            if docs is None or not docs.summary_and_description(view)[0]:
                undocumented.append(f"{method} {path} ({entry.view_name})")
                continue
            if docs.tag not in TAGS:
                raise LookupError(f"{method} {path}: unknown tag {docs.tag!r}")
            yield _Route(path, method, entry.view_name, view, docs)
    if undocumented:
        raise LookupError(
            "routes without their documentation (declared through `ApiBlueprint.route`, with a "
            f"docstring): {', '.join(undocumented)}"
        )


def _operation_document(
    route: _Route, schemas: Mapping[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    name, docs = route.view_name, route.docs
    parameters = []
    for arg in _PATH_PARAMETER.findall(route.path):
        if arg not in PATH_PARAMETERS:
            raise LookupError(f"{route.method} {route.path}: path parameter {arg} undocumented")
        schema, meaning = PATH_PARAMETERS[arg]
        parameters.append(_parameter(arg, "path", schema, meaning))
    if docs.query is not None:
        parameters += _query_parameters(docs.query)
    parameters += [_header_parameter(h) for h in docs.headers]

    answer_schema = schemas[("answer", name)] if docs.answer is not None else {"type": "object"}
    answer: dict[str, Any] = {
        "description": docs.answer_description,
        "headers": {
            header: {"$ref": f"#/components/headers/{header}"}
            for header in ("Cache-Control", *docs.answer_headers)
        },
        "content": {JSON: {"schema": answer_schema}},
    }
    responses: dict[str, Any] = {str(docs.status): answer}
    classes = _error_classes()
    for status, when in _operation_errors(docs).items():
        reference: dict[str, Any] = {
            "$ref": f"#/components/responses/{_error_response_name(classes[status])}"
        }
        if when is not None:
            reference["description"] = when
        own_headers = docs.error_headers.get(status)
        # A reference takes no headers of its own: the shared answer, extended, in its place.
        responses[str(status)] = (
            _error_with_headers(status, when, own_headers) if own_headers else reference
        )

    summary, description = docs.summary_and_description(route.view)
    document: dict[str, Any] = {
        "operationId": name,
        "tags": [docs.tag],
        "summary": summary,
        "description": description,
    }
    if parameters:
        document["parameters"] = parameters
    if docs.body is not None:
        media: dict[str, Any] = {"schema": schemas[("body", name)]}
        if docs.examples:
            media["examples"] = {k: {"value": v} for k, v in docs.examples.items()}
        document["requestBody"] = {"required": docs.body_required, "content": {JSON: media}}
    document["responses"] = responses
    document["security"] = [] if docs.public else [{SECURITY_SCHEME: []}]
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
`next_cursor` back as it is. A body is sent as `Content-Type: application/json` (else 415). \
Unknown body fields are refused (400), and so are the fields the server owns, and unknown or \
repeated query parameters on the operations that take some (the others ignore a query string). \
Answers are not cached (`Cache-Control: no-store`).

**Errors.** Always `{"error": {"code", "message", "fields": [{"field", "message"}]}}`, one code \
per status: `bad_request` 400, `unauthorized` 401, `forbidden` 403, `not_found` 404, \
`conflict` 409, `payload_too_large` 413, `unsupported_media_type` 415, `validation_error` 422, \
`too_many_requests` 429 and `service_unavailable` 503 (both with `Retry-After`). `message` and \
each field's `message` are in French, fit to show the member.

""" + (
    f"**Limits.** Per member: {UNUSED_UPLOADS_MAX} unused uploads alive (an upload is used once "
    "a request or a reply takes it, and expires a day after it was asked for), "
    f"{REQUESTS_PER_DAY} démarches, {REPLIES_PER_DAY} replies and {EXPORTS_PER_DAY} exports of "
    "their data a day (a day in Paris time); "
    "beyond, 429 `too_many_requests`, `Retry-After` saying when the limit frees up (the oldest "
    "unused upload's expiry; midnight in Paris). API Gateway also throttles each stage and each "
    "address: it answers 429 itself, in the same shape, before the API runs.\n"
)


def openapi_document(app: Chalice) -> dict[str, Any]:
    """The OpenAPI document of `app`, read from its routes. Raises on a route declared without
    its documentation."""
    routes = list(_routes(app))
    by_name = {r.view_name: r.docs for r in routes}
    if len(by_name) != len(routes):
        raise ValueError("two routes share a view name: operation ids must be unique")
    schemas, components = _schemas(by_name)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation_document(route, schemas)

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Génération Démarches API",
            "version": API_VERSION,
            "description": INFO_DESCRIPTION,
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "responses": _error_responses(
                {status for docs in by_name.values() for status in _operation_errors(docs)}
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
        "description": "What was created, relative to the API root: `/requests/{request_id}`, "
        "`/me/exports/{export_id}`.",
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


@blueprint.route(
    "/openapi.json",
    methods=["GET"],
    tag="meta",
    answer=None,
    answer_description="The OpenAPI document.",
    public=True,
)
def openapi_document_view() -> Response:
    """This document.

    The OpenAPI 3.1 document of this API. Public: no token needed.
    """
    headers: dict[str, str | list[str]] = {**JSON_HEADERS}
    return Response(body=_served(blueprint.current_app), status_code=200, headers=headers)
