"""Maps the error hierarchy to the API.md error shape, in one place.

Chalice turns any exception a view raises into its own 500 body before middleware sees it, so
every route is registered through `ApiBlueprint`, whose routes map errors here.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Blueprint, Response

from chalicelib.domain.errors import AppError, ServiceUnavailable
from chalicelib.observability import failure
from chalicelib.store.dynamo import THROTTLING_CODES

logger = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    # Serialised here so French text stays readable UTF-8 rather than \u escapes.
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status_code,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def error_response(error: AppError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, ServiceUnavailable):
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
    """A Blueprint whose views answer errors in the API.md shape."""

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        # The auth middleware refuses non-JSON bodies (415) in our shape. Chalice's own check
        # would answer in its shape, even to a GET that merely carries a Content-Type.
        kwargs.setdefault("content_types", ["*/*"])
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            register(as_response(view))
            return view

        return decorator
