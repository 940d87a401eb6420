"""Reading what a client sent: JSON bodies, query parameters, headers; one set of errors."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any, TypeVar

from pydantic import BaseModel

from chalicelib.domain.errors import (
    BadRequest,
    FieldError,
    PayloadTooLarge,
    ValidationFailed,
)
from chalicelib.settings import get_settings

M = TypeVar("M", bound=BaseModel)

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def json_body(request: Any) -> Any:
    raw: bytes = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"Le corps dépasse {get_settings().max_body_bytes // 1024} Ko.")
    if not raw.strip():
        raise BadRequest("Un corps JSON est attendu.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("Le corps n'est pas un JSON valide.") from error


def query(request: Any, allowed: Collection[str]) -> dict[str, str]:
    params: dict[str, str] = dict(request.query_params or {})
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(
            "Paramètres inconnus.", [FieldError(name, "Paramètre inconnu.") for name in unknown]
        )
    return params


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValidationFailed(
            "Paramètre invalide.", [FieldError(name, f"Entier de {low} à {high} attendu.")]
        )
    return int(value)


def month_param(params: dict[str, str], name: str = "month") -> str | None:
    value = params.get(name)
    if value is not None and not _MONTH.match(value):
        raise ValidationFailed("Paramètre invalide.", [FieldError(name, "Mois attendu (AAAA-MM).")])
    return value


def idempotency_key(request: Any) -> str | None:
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise BadRequest(
            "En-tête Idempotency-Key invalide.",
            [FieldError("Idempotency-Key", "1 à 255 caractères ASCII visibles.")],
        )
    return str(value)


def validated(model: type[M], payload: Any, message: str = "Certains champs sont invalides.") -> M:
    """A body as `model`: unknown fields are a 400, wrong values a 422, each field named."""
    from pydantic import ValidationError

    from chalicelib.domain.requests import field_errors

    if not isinstance(payload, dict):
        raise BadRequest("Le corps doit être un objet JSON.")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        fields = field_errors(error)
        if any(e["type"] == "extra_forbidden" for e in error.errors()):
            raise BadRequest("Champs inconnus.", fields) from error
        raise ValidationFailed(message, fields) from error
