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

# ASCII digits only: `\d` and str.isdigit() also take "²" or "١", which int() then refuses.
IDEMPOTENCY_KEY_PATTERN = r"[\x21-\x7e]{1,255}"
MONTH_PATTERN = r"[0-9]{4}-(0[1-9]|1[0-2])"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_MONTH = re.compile(MONTH_PATTERN)
_INTEGER = re.compile(r"[0-9]{1,9}")


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


def ascii_int(value: str) -> int | None:
    """A query string's whole number, or None: no sign, no exotic digit, no thousand digits."""
    return int(value) if _INTEGER.fullmatch(value) else None


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    number = ascii_int(value)
    if number is None or not low <= number <= high:
        raise ValidationFailed(
            "Paramètre invalide.", [FieldError(name, f"Entier de {low} à {high} attendu.")]
        )
    return number


def month_param(params: dict[str, str], name: str = "month") -> str | None:
    value = params.get(name)
    if value is not None and not _MONTH.fullmatch(value):
        raise ValidationFailed("Paramètre invalide.", [FieldError(name, "Mois attendu (AAAA-MM).")])
    return value


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
