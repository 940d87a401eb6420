"""Tokens signed with the key of the pool under test (moto signs every pool's tokens with it):
a test can change one claim and nothing else, so the check it names is the one that refuses."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp

POOL_KEY = json.loads(
    gzip.decompress(
        (Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz").read_bytes()
    )
)


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def pool_signed(claims: dict[str, Any]) -> str:
    key = jwt.PyJWK(POOL_KEY).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": POOL_KEY["kid"]})
