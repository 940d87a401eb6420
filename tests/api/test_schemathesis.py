"""schemathesis against the app served over HTTP on loopback, exactly as `chalice local` serves
it: every operation of the OpenAPI document, a bounded number of generated cases each (valid
and invalid parameters, bodies, content types), with real tokens, and every check schemathesis
has. No 5xx, no status or header the document does not list, no answer outside its schema,
every error in the API.md shape; every request the document refuses is refused, and every
request it allows is taken.

The checks read `schemathesis.toml` as `st run` does against `make run`; there, a schema-valid
request may still be refused where only the member's data (or a signature) can tell, with the
statuses allowed route by route. Here those refusals are held closer: each field a schema-valid
request is refused on must be one of `BEYOND_THE_SCHEMA`, for its reason. Any other refusal of
a schema-valid request fails: the document should have stated that rule.

Random IDs only ever meet 404s, so a member with real requests, an attachment, a letter and a
known postal code is prepared first, and the generated path, query and body values are mixed
with those real ones (only where the generated one is valid: a case the document refuses stays
refused): the successful answers are checked against the document too.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema
import pytest
import schemathesis
from chalice.test import Client
from hypothesis import strategies as st

from chalicelib.api.schemas import ErrorAnswer
from chalicelib.domain.catalog import Service
from chalicelib.domain.errors import AppError
from chalicelib.domain.requests import DUPLICATE_BENEFICIARY
from chalicelib.services.preferences import NO_MOBILE
from infra import seed
from infra.local_stack import LocalStack, create_account
from infra.queue_pump import QueuePump
from tests.conftest import PASSWORD, PDF_BYTES, Api, SignedIn, upload

ROOT = Path(__file__).resolve().parents[2]

# Bounded: this many generated cases per operation, plus the coverage phase's deterministic
# ones (every boundary and every violation of each keyword), keep the run under a minute on
# 2 cores. `SCHEMATHESIS_MAX_EXAMPLES=300` digs deeper, by hand.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "50"))


def _document() -> dict[str, Any]:
    from app import app
    from chalicelib.api.openapi import openapi_document

    # The document the app serves (tests/api/test_openapi.py proves it is this one), loaded at
    # collection so that each operation is a test of its own.
    return openapi_document(app)


def _config() -> schemathesis.Config:
    """`schemathesis.toml` (what `st run` reads), made deterministic and bounded."""
    shared = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    return schemathesis.Config.from_dict(
        {
            **shared,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,  # the same cases every run: a failure reproduces
                "database": "none",
                # The token is the test's (a member's, an agent's): a case without one would be
                # sent with it all the same. `ignored_auth` sends each case without it (401).
                "with-security-parameters": False,
            },
            # Each case is a test of its own here: no sequences of calls.
            "phases": {**shared.get("phases", {}), "stateful": {"enabled": False}},
        }
    )


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config())


# -- refusals no schema can state -----------------------------------------------------------------


@dataclass(frozen=True)
class Beyond:
    """A schema-valid request refused on `field` (a regular expression), for a reason only the
    member's data, the day or a computation can tell; `when` narrows it to the cases it
    explains (given the body and the field's message)."""

    field: str
    why: str
    when: Callable[[Any, str], bool] = lambda body, message: True

    def explains(self, body: Any, field: str, message: str) -> bool:
        return re.fullmatch(self.field, field) is not None and self.when(body, message)


def _born_after_the_event(body: Any, message: str) -> bool:
    """Dates against each other: the newcomer born after the event, or a birth on another day."""
    data = body.get("data", {}) if isinstance(body, dict) else {}
    newcomer = data.get("new_beneficiary") or {}
    try:
        born, on = (
            date.fromisoformat(newcomer["birth_date"]),
            date.fromisoformat(data["event_date"]),
        )
    except (KeyError, TypeError, ValueError):
        return False
    return born > on or (data.get("event") == "naissance" and born != on)


_UPLOADS = Beyond(
    r"upload_ids\[\d+\]",
    "not one of the member's uploads, or used, expired, not received, or not what it declared",
)
BEYOND_THE_SCHEMA: dict[tuple[str, str], dict[int, tuple[Beyond, ...]]] = {
    ("POST", "/requests"): {
        422: (
            Beyond(
                r"beneficiary_ids\[\d+\]",
                "not on the member's contract, or not of the age or bond the type needs",
                lambda body, message: message != DUPLICATE_BENEFICIARY,
            ),
            _UPLOADS,
            Beyond("related_request_id", "not one of the member's requests"),
            Beyond(
                r"data\.(care_date|admission_date|event_date|until|new_beneficiary\.birth_date)",
                "outside its window around the day of filing (`until`: also past the child's "
                "26th birthday)",
            ),
            Beyond(r"data\.new_beneficiary", "dates against each other", _born_after_the_event),
            Beyond(r"data\.iban", "its check digits, or its country's own format"),
        )
    },
    ("POST", "/requests/{request_id}/replies"): {422: (_UPLOADS,)},
    # Never met by this run's member (a mobile on file): `tests/api/test_preferences.py`.
    ("PUT", "/me/preferences"): {
        422: (
            Beyond(
                "sms",
                "turned on while the member's profile holds no mobile (none, or a landline)",
                lambda body, message: message == NO_MOBILE,
            ),
        )
    },
    # The shared request made a complaint by an earlier case ({"complaint": true}): from then
    # on no other service may take it, whatever `service` the next case names.
    ("POST", "/backoffice/members/{member_id}/requests/{request_id}/reclassification"): {
        422: (
            Beyond(
                "service",
                "the request is a complaint: it stays with the complaints service",
                lambda body, message: message == "Une réclamation ne change pas de service.",
            ),
        )
    },
    ("POST", "/backoffice/members/{member_id}/requests/{request_id}/decision"): {
        422: (
            Beyond(
                "amount",
                "the request's type pays or grants an amount: an acceptance, even partial, says it",
                lambda body, message: (
                    body.get("outcome") != "refused" and body.get("amount") is None
                ),
            ),
        )
    },
}


def _query_fields(operation: Mapping[str, Any]) -> set[str]:
    """The query fields of an operation: its parameters, or the properties of its one object."""
    fields: set[str] = set()
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            fields |= set(parameter["schema"].get("properties", {})) or {parameter["name"]}
    return fields


# Every route that pages: a cursor of the right shape this server did not sign (or signed for
# another member, search or list).
CURSOR_ROUTES = {
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if "cursor" in _query_fields(operation)
}
for _route in CURSOR_ROUTES:
    BEYOND_THE_SCHEMA.setdefault(_route, {})[400] = (
        Beyond("cursor", "not signed by this server, or for another member, search or list"),
    )


def refused_only_beyond_the_schema(ctx: Any, response: Any, case: Any) -> None:
    """A schema-valid request refused (400, 422) names only fields of `BEYOND_THE_SCHEMA`."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if response.status_code not in (400, 422):
        return
    known = BEYOND_THE_SCHEMA.get((case.method.upper(), case.path), {}).get(
        response.status_code, ()
    )
    fields = ErrorAnswer.model_validate(response.json()).error.fields
    unexplained = [
        f for f in fields if not any(b.explains(case.body, f.field, f.message) for b in known)
    ]
    if not fields or unexplained:
        raise AssertionError(
            f"A schema-valid request was refused for a reason the document could state "
            f"({', '.join(f.field for f in unexplained) or 'no field named'}): {response.text}"
        )


# -- a member with real data, and the hooks mixing it in ------------------------------------------

# Real values, filled in by the `known` fixture before any case is generated.
KNOWN: dict[str, str] = {}


def _account(stack: LocalStack, member_id: str | None, groups: tuple[str, ...] = ()) -> SignedIn:
    username = f"schemathesis-{uuid4().hex[:12]}"
    create_account(stack, username, PASSWORD, member_id, groups)
    return SignedIn(username, member_id, stack.id_token(username, PASSWORD))


@pytest.fixture(scope="module")
def member(local_stack: LocalStack) -> SignedIn:
    """One member (shaped like alice) that every case of the run shares."""
    member_id = f"S{uuid4().int % 10**9:09d}"
    seed.seed_member(*seed.alice(datetime.now(UTC).date(), member_id))
    return _account(local_stack, member_id)


@pytest.fixture(scope="module")
def agent(local_stack: LocalStack) -> SignedIn:
    return _account(local_stack, None, tuple(f"agent-{s.value}" for s in Service))


@pytest.fixture(scope="module")
def known(member: SignedIn, agent: SignedIn, pump: QueuePump) -> Iterator[dict[str, str]]:
    """A request in progress with an attachment, one processed with its letter, one to decide."""
    from app import app

    def justificatif(api: Api) -> tuple[str, str]:
        upload_id = upload(api, member, PDF_BYTES)
        body = {
            "type": "sante.justificatif",
            "beneficiary_ids": [f"{member.member_id}-01"],
            "data": {
                "care_date": datetime.now(UTC).date().isoformat(),
                "amount": "42.50",
                "care_type": "pharmacie",
            },
            "upload_ids": [upload_id],
        }
        answer = api.post("/requests", member, body=body)
        assert answer.status == 201, answer.body
        return str(answer.body["request_id"]), upload_id

    with Client(app, stage_name="local") as client:
        api = Api(client)
        in_progress, attachment = justificatif(api)
        processed, _ = justificatif(api)
        to_decide, _ = justificatif(api)
        pump.drain()
        decided = api.post(
            f"/backoffice/members/{member.member_id}/requests/{processed}/decision",
            agent,
            body={"outcome": "accepted", "amount": "42.50"},
        )
        assert decided.status == 200, decided.body
    KNOWN.update(
        member_id=str(member.member_id),
        request_id=in_progress,
        processed_request_id=processed,
        to_decide_request_id=to_decide,
        attachment_id=attachment,
        document_id=str(decided.body["letter"]["document_id"]),
        postal_code="75011",
    )
    yield KNOWN
    KNOWN.clear()


def _valid(value: Any, value_schema: Mapping[str, Any]) -> bool:
    return bool(jsonschema.Draft202012Validator(value_schema).is_valid(value))


PATH_SCHEMAS = {
    p["name"]: p["schema"]
    for item in DOCUMENT["paths"].values()
    for operation in item.values()
    for p in operation.get("parameters", [])
    if p["in"] == "path"
}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """The generated parameters, or the same with IDs this member really has (a generated value
    the document refuses is kept: the case stays one the API must refuse)."""
    if not KNOWN or not path_parameters:
        return st.just(path_parameters)

    def real(name: str, value: str) -> dict[str, Any]:
        if name in path_parameters and _valid(path_parameters[name], PATH_SCHEMAS[name]):
            return {name: value}
        return {}

    if context.operation.path.endswith("/decision"):
        # A decision processes its request: never the one whose attachment is downloaded.
        ids = {**real("member_id", KNOWN["member_id"])}
        ids |= real("request_id", KNOWN["to_decide_request_id"])
        return st.sampled_from([path_parameters, {**path_parameters, **ids}])
    ids = {}
    for name in path_parameters:
        if name in KNOWN:
            ids |= real(name, KNOWN[name])
    choices = [path_parameters, {**path_parameters, **ids}]
    if "request_id" in ids:
        choices.append({**path_parameters, **ids, "request_id": KNOWN["processed_request_id"]})
    return st.sampled_from(choices)


def _variant(body: dict[str, Any]) -> Mapping[str, Any] | None:
    """The schema of the `POST /requests` variant a body names, if it names one."""
    name = f"New_{str(body.get('type', '')).replace('.', '_')}"
    found: Mapping[str, Any] | None = DOCUMENT["components"]["schemas"].get(name)
    return found


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """A filed request's body, or the same for this member's own first beneficiary, without
    uploads where the type allows none, contesting one of their requests."""
    if not KNOWN or not isinstance(body, dict) or "beneficiary_ids" not in body:
        return st.just(body)
    variant = _variant(body)
    if variant is None:
        return st.just(body)
    fields = variant["properties"]
    own = dict(body)
    replacements = {
        "beneficiary_ids": [f"{KNOWN['member_id']}-01"],
        "upload_ids": [],
        "related_request_id": KNOWN["request_id"],
    }
    for name, value in replacements.items():
        if name in body and _valid(body[name], fields[name]) and _valid(value, fields[name]):
            own[name] = value
    return st.sampled_from([body, own])


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """The generated query, or the same at the known postal code. An empty list or object as a
    value goes out as nothing at all (a case the document refuses would reach the API as one it
    allows): it goes out as its JSON text instead, still refused."""
    if not query:
        return st.just(query)
    query = {k: json.dumps(v) if v in ({}, []) else v for k, v in query.items()}
    postal_code = {"type": "string", "pattern": "^[0-9]{5}$"}
    if not KNOWN or not _valid(query.get("postal_code"), postal_code):
        return st.just(query)
    return st.sampled_from([query, {**query, "postal_code": KNOWN["postal_code"]}])


def _error_codes() -> dict[int, str]:
    codes: dict[int, str] = {}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        codes.setdefault(cls.status, cls.code)
        pending.extend(cls.__subclasses__())
    return codes


ERROR_CODES = _error_codes()


def test_st_run_allows_a_foreign_cursor_on_every_route_that_takes_one() -> None:
    """`schemathesis.toml` lists the routes where 400 answers a schema-valid request: exactly
    those that take a `cursor`."""
    allowing_400 = set()
    for operation in tomllib.loads((ROOT / "schemathesis.toml").read_text())["operations"]:
        accepted = operation.get("checks", {}).get("positive_data_acceptance", {})
        if "400" in accepted.get("expected-statuses", ()):
            names = operation["include-name"]
            allowing_400 |= {
                tuple(n.split(" ", 1)) for n in ([names] if isinstance(names, str) else names)
            }
    assert allowing_400 == CURSOR_ROUTES


@schema.parametrize()
def test_api_answers_within_its_document(
    case: Any, http_api: str, member: SignedIn, agent: SignedIn, known: dict[str, str]
) -> None:
    who = agent if case.path.startswith("/backoffice") else member
    response = case.call_and_validate(
        base_url=http_api,
        headers=who.headers,
        additional_checks=[refused_only_beyond_the_schema],
    )
    # A method the path does not have never reaches the function (API Gateway answers it; here
    # Chalice's local server, in its own shape): only the app's answers are in the error shape.
    documented = case.method.lower() in DOCUMENT["paths"][case.path]
    if response.status_code >= 400 and documented:  # also those the coverage probes leave
        error = ErrorAnswer.model_validate(response.json()).error
        assert error.code == ERROR_CODES[response.status_code], response.text
