"""Reading what a client sent: JSON bodies and headers; one set of errors.

Query strings are read by their models, `api/queries.py`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel

from chalicelib.api.route_docs import Header
from chalicelib.domain.errors import (
    BadRequest,
    FieldError,
    PayloadTooLarge,
)
from chalicelib.settings import get_settings

M = TypeVar("M", bound=BaseModel)

IDEMPOTENCY_KEY_PATTERN = r"[\x21-\x7e]{1,255}"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY_PATTERN}$"},
    "Makes a retry safe: 1 to 255 visible ASCII characters, e.g. a UUID made once per form "
    "submission. Kept 24 hours.",
)


def json_body(request: Any) -> Any:
    raw: bytes = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"Le corps dépasse {get_settings().max_body_bytes // 1024} Ko.")
    if not raw.strip():
        raise BadRequest("Un corps JSON est attendu.")
    from chalicelib.api.client_json import parse_client_json

    return parse_client_json(raw)


def idempotency_key(request: Any) -> str | None:
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise BadRequest(
            "En-tête Idempotency-Key invalide.",
            [FieldError("Idempotency-Key", "1 à 255 caractères ASCII visibles.")],
        )
    return str(value)


def validated(model: type[M], payload: Any, message: str = "Certains champs sont invalides.") -> M:
    """A body as `model`: unknown fields are a 400, wrong values a 422, each field named."""
    from chalicelib.domain.requests import parse_body

    return parse_body(model, payload, message)


def json_body_or_empty(request: Any) -> Any:
    """A JSON body, or `{}` when there is none (a body whose every field is optional)."""
    raw: bytes = request.raw_body or b""
    return json_body(request) if raw.strip() else {}
