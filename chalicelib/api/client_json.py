"""What a client sent as JSON, parsed so that no input can make it fail with a 5xx.

`json.loads` alone raises RecursionError on about a thousand nested brackets (2 KB), accepts
NaN and Infinity (not JSON, and not serialisable back) and lone surrogates (`"\\ud800"`,
which no UTF-8 encoder downstream accepts), and keeps the last of duplicate keys. Each of
those is a 400 here, before any model sees the value.
"""

from __future__ import annotations

import json
import math
from typing import Any

from chalicelib.domain.errors import BadRequest

# Our deepest body is a démarche's data with an address inside: 4 levels. 32 leaves room for
# any future form and stops a bomb long before the parser's recursion limit.
MAX_DEPTH = 32


def parse_client_json(raw: bytes) -> Any:
    try:
        value = json.loads(
            raw,
            parse_constant=_refuse_non_json_constant,
            parse_float=_finite_float,
            object_pairs_hook=_object_without_duplicates,
        )
    except RecursionError as error:
        raise BadRequest(f"Le corps JSON dépasse {MAX_DEPTH} niveaux d'imbrication.") from error
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, and the hooks' refusals
        raise BadRequest("Le corps n'est pas un JSON valide.") from error
    _check_depth_and_text(value)
    return value


def _refuse_non_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 parses as inf
        raise ValueError("number out of range")
    return number


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _check_depth_and_text(value: Any) -> None:
    """Walk the value without recursion: depth within MAX_DEPTH, every string valid UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequest(f"Le corps JSON dépasse {MAX_DEPTH} niveaux d'imbrication.")
            children = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in children:
                if isinstance(key, str):
                    _utf8(key)
                stack.append((child, depth + 1))
        elif isinstance(node, str):
            _utf8(node)


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, sent as "\ud800"
        raise BadRequest("Le corps contient un texte qui n'est pas de l'Unicode valide.") from error
