"""Maps the error hierarchy to the API.md error shape, in one place.

Chalice turns any exception a view raises into its own 500 body before middleware sees it, so
every route is registered through `ApiBlueprint`, whose routes map errors here. Its routes are
also where each route's documentation is given (`api/route_docs.py`).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Blueprint, Chalice, Response
from pydantic import BaseModel

from chalicelib.api.gateway import GATEWAY_TOKEN_CHECK
from chalicelib.api.route_docs import BodyModel, Header, RouteDocs, document
from chalicelib.domain.errors import AppError, ServiceUnavailable, TooManyRequests
from chalicelib.observability import failure
from chalicelib.store.dynamo import THROTTLING_CODES

logger = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


def json_response(
    body: BaseModel | Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialised here, compact, French text as readable UTF-8 rather than \\u escapes. A model
    is written by pydantic's serializer directly (the same JSON, in a fraction of the time of
    dumping it to Python objects and those to JSON: docs/performance.md); `bytes` are JSON a
    serializer already wrote (`RequestRecord.detail_json`)."""
    if isinstance(body, bytes):
        text = body.decode()
    elif isinstance(body, BaseModel):
        text = body.model_dump_json()
    else:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(
        body=text,
        status_code=status_code,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def error_response(error: AppError, headers: Mapping[str, str] | None = None) -> Response:
    """The error in API.md's shape; `headers` are the route's own (a 409's `Location`)."""
    headers = dict(headers or {})
    if isinstance(error, ServiceUnavailable | TooManyRequests):
        headers["Retry-After"] = str(error.retry_after_seconds)
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "fields": [{"field": f.field, "message": f.message} for f in error.fields],
        }
    }
    return json_response(body, error.status, headers)


def internal_error_response() -> Response:
    body = {"error": {"code": "internal_error", "message": "Erreur interne.", "fields": []}}
    return json_response(body, 500)


def as_response(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except AppError as error:
            return error_response(error)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
                return error_response(ServiceUnavailable("Service momentanément surchargé."))
            logger.error("AWS call failed", extra=failure(error))
            return internal_error_response()
        except BotoCoreError as error:
            logger.error("AWS unreachable", extra=failure(error))
            return error_response(ServiceUnavailable("Service momentanément indisponible."))
        except Exception as error:
            logger.error("unhandled error", extra=failure(error))
            return internal_error_response()

    return mapped


class ApiBlueprint(Blueprint):
    """A Blueprint whose views answer errors in the API.md shape, and whose routes are declared
    with their documentation: `GET /openapi.json` is read from them (`api/openapi.py`).

    Its routes' views are kept by path and method (`views`): the app registers them from a
    table and imports their module on first call (`api/lazy.py`), then `bind`s the blueprint to
    itself, as registering it would have, so that its views read the current request."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self.views: dict[tuple[str, str], Callable[..., Any]] = {}

    def bind(self, app: Chalice) -> None:
        """Its views read `app`'s current request (set on each call: cheap, and right again
        after a tool registered the blueprint on an app of its own, `lazy.eager_app`)."""
        self._current_app = app

    def route(  # type: ignore[override]  # the documentation keywords are required
        self,
        path: str,
        *,
        tag: str,
        answer: type[BaseModel] | None,
        status: int = 200,
        answer_description: str = "OK",
        answer_headers: tuple[str, ...] = (),
        query: type[BaseModel] | None = None,
        body: BodyModel | None = None,
        body_name: str | None = None,
        body_required: bool = True,
        examples: Mapping[str, Any] | None = None,
        headers: tuple[Header, ...] = (),
        errors: Mapping[int, str] | None = None,
        error_headers: Mapping[int, Mapping[str, str]] | None = None,
        public: bool = False,
        appendix: Callable[[], str] | None = None,
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Chalice's `route` keywords, plus what the route answers and reads: `answer` (its
        model), `status`, `query` (the model its query string is parsed with, `api/queries.py`),
        `body` (model or adapter; `body_required=False` when none reads as `{}`), `headers` it
        reads, `errors` (status: when), `error_headers` (status: the headers that error answer
        carries on this route, name: what it says), `tag`, `public`, body `examples` and an
        `appendix` made from data. Summary and description: the view's docstring."""
        docs = RouteDocs(
            tag=tag,
            answer=answer,
            status=status,
            answer_description=answer_description,
            answer_headers=answer_headers,
            query=query,
            body=body,
            body_name=body_name,
            body_required=body_required,
            examples=examples or {},
            headers=headers,
            errors=errors or {},
            error_headers=error_headers or {},
            public=public,
            appendix=appendix,
        )
        # The auth middleware refuses non-JSON bodies (415) in our shape. Chalice's own check
        # would answer in its shape, even to a GET that merely carries a Content-Type.
        kwargs.setdefault("content_types", ["*/*"])
        if not public:  # deployed, API Gateway checks the token before the function runs
            kwargs.setdefault("authorizer", GATEWAY_TOKEN_CHECK)
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            mapped = as_response(view)
            document(mapped, docs)
            register(mapped)
            for method in kwargs.get("methods", ["GET"]):
                self.views[(path, method)] = mapped
            return view

        return decorator
