"""Whatever a client sends as a body, the answer is a 4xx in the error shape: never a 5xx.

`json.loads` raised RecursionError on 2 KB of nested brackets (a 500). The parser is fuzzed with
hypothesis on its own, then every JSON route of the app with the same bodies.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.api.client_json import MAX_DEPTH, parse_client_json
from chalicelib.domain.errors import AppError
from tests.conftest import Api, SignedIn

# Deterministic (the suite gives the same verdict on every run) and without a local database.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
_depth = st.integers(min_value=1, max_value=6000)
_traps = st.sampled_from(
    [
        b"NaN",
        b"[Infinity]",
        b'{"amount": -Infinity}',
        b"1e999",
        b'{"amount": 1e999}',
        b'"\\ud800"',
        b'{"\\udfff": 1}',
        b'{"type": "vie.autre", "type": "sante.devis"}',
        b"1" * 5000,  # more digits than int() converts
        b"\xff\xfe\x00",
        b"\xef\xbb\xbf{}",  # a byte-order mark
    ]
)
BODIES = st.one_of(
    st.binary(max_size=2048),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    _depth.map(lambda n: b"[" * n + b"]" * n),
    _depth.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    _depth.map(lambda n: b"[" * n),
    _depth.map(lambda n: b'{"data": ' + b"[{}," * n + b"1" + b"]" * n + b"}"),
    _traps,
)


@FUZZ
@given(raw=BODIES)
def test_the_parser_returns_json_or_refuses_with_a_4xx(raw: bytes) -> None:
    try:
        value = parse_client_json(raw)
    except AppError as error:
        assert 400 <= error.status < 500, error
        return
    # What it returns, the rest of the app can store and answer: finite, UTF-8, not too deep.
    json.dumps(value, allow_nan=False).encode("utf-8")


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, True),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), False),
        (b"[" * 2048, False),  # the auditor's 2 KB
        (b"[" * 1000 + b"]" * 1000, False),
        (b'{"a":' * 1500 + b"1" + b"}" * 1500, False),
        (b"NaN", False),
        (b'{"amount": Infinity}', False),
        (b"1e999", False),
        (b'{"message": "\\ud83d"}', False),
        (b'{"message": "\\ud83d\\ude00"}', True),  # a well-formed pair is an emoji
        (b'{"type": "a", "type": "b"}', False),
    ],
)
def test_nesting_non_json_numbers_lone_surrogates_and_duplicate_keys_are_400(
    raw: bytes, accepted: bool
) -> None:
    if accepted:
        parse_client_json(raw)
        return
    with pytest.raises(AppError) as refused:
        parse_client_json(raw)
    assert refused.value.status == 400


def _json_routes(member: SignedIn, agent: SignedIn) -> list[tuple[str, SignedIn, bool]]:
    """Every route that reads a JSON body (POST), its path parameters filled, with who may call
    and whether it takes no body as `{}` (`POST /me/exports`, a withdrawal)."""
    from app import app
    from chalicelib.api.route_docs import docs_of

    filler = {
        "member_id": member.member_id or "",
        "request_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "service": "devis",
    }
    routes = []
    for path, methods in app.routes.items():
        if "POST" not in methods:
            continue
        concrete = re.sub(r"\{(\w+)\}", lambda m: filler.get(m.group(1), "x"), path)
        docs = docs_of(methods["POST"].view_function)
        optional = docs is not None and not docs.body_required
        routes.append((concrete, agent if path.startswith("/backoffice") else member, optional))
    assert {"/requests", "/uploads"} <= {path for path, _, _ in routes}
    return routes


@pytest.mark.parametrize(
    "raw", [b"[" * 2048, b"[" * 1000 + b"]" * 1000, b'{"a":' * 1200 + b"1" + b"}" * 1200]
)
def test_two_kilobytes_of_nested_json_is_a_400_on_every_json_route(
    api: Api, alice: SignedIn, agent: SignedIn, raw: bytes
) -> None:
    for path, who, _ in _json_routes(alice, agent):
        answer = api.post(path, who, raw=raw)
        assert (answer.status, answer.body["error"]["code"]) == (400, "bad_request"), path


@settings(FUZZ, max_examples=60)
@given(raw=BODIES)
def test_every_json_route_answers_any_body_with_a_4xx_in_the_error_shape(
    api: Api, alice: SignedIn, agent: SignedIn, raw: bytes
) -> None:
    for path, who, optional in _json_routes(alice, agent):
        if optional and raw.strip() in (b"", b"{}"):
            continue  # no body reads as `{}` there (`POST /me/exports`): a valid call
        answer = api.post(path, who, raw=raw)  # `Api` fails the test on any 500
        assert 400 <= answer.status < 500, (path, raw[:80], answer.body)
        error: dict[str, Any] = answer.body["error"]
        assert set(error) == {"code", "message", "fields"}
