"""Opaque, tamper-proof page cursors: base64url JSON with an HMAC-SHA256 tag."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.domain.errors import BadRequest, FieldError

_TAG_BYTES = 16


def encode_cursor(payload: dict[str, Any], secret: str) -> str:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    tag = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(tag + body).rstrip(b"=").decode()


def decode_cursor(cursor: str, secret: str) -> dict[str, Any]:
    invalid = BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as error:
        raise invalid from error
    tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_TAG_BYTES]
    if len(raw) <= _TAG_BYTES or not hmac.compare_digest(tag, expected):
        raise invalid
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise invalid from error
    if not isinstance(payload, dict):
        raise invalid
    return payload
