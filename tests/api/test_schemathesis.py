"""schemathesis against the app served over HTTP on loopback, exactly as `chalice local` serves
it: every operation of the OpenAPI document, a bounded number of generated cases each (valid
and invalid parameters, bodies, content types), with real tokens. No 5xx, no status the
document does not list, no answer outside its schema, every error in the API.md shape.

Random IDs only ever meet 404s, so a member with real requests, an attachment, a letter and a
known postal code is prepared first, and the generated path and query parameters are mixed
with those real ones: the successful answers are checked against the document too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
import schemathesis
from chalice.test import Client
from hypothesis import strategies as st

from chalicelib.api.schemas import ErrorAnswer
from chalicelib.domain.catalog import Service
from chalicelib.domain.errors import AppError
from infra import seed
from infra.local_stack import LocalStack, create_account
from infra.queue_pump import QueuePump
from tests.conftest import PASSWORD, PDF_BYTES, Api, SignedIn, upload

# Bounded: this many generated cases per operation (plus the coverage phase's deterministic
# ones) keep the whole run under a minute on 2 cores.
MAX_EXAMPLES = 30
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def _schema() -> schemathesis.BaseSchema:
    from app import app
    from chalicelib.api.openapi import openapi_document

    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,  # the same cases every run: a failure reproduces
                "database": "none",
            },
            "phases": {
                # Methods a path does not have never reach the function on AWS: API Gateway
                # answers them itself (and `chalice local` does not serve TRACE or QUERY).
                "coverage": {"unexpected-methods": []},
                "stateful": {"enabled": False},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )
    # The document the app serves (tests/api/test_openapi.py proves it is this one), loaded at
    # collection so that each operation is a test of its own.
    return schemathesis.openapi.from_dict(openapi_document(app), config=config)


schema = _schema()

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


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """The generated parameters, or the same with IDs this member really has."""
    if not KNOWN or not path_parameters:
        return st.just(path_parameters)
    real = {**path_parameters, **{k: KNOWN[k] for k in path_parameters if k in KNOWN}}
    if context.operation.path.endswith("/decision"):
        # A decision processes its request: never the one whose attachment is downloaded.
        return st.sampled_from(
            [path_parameters, {**real, "request_id": KNOWN["to_decide_request_id"]}]
        )
    choices = [path_parameters, real]
    if "request_id" in path_parameters:
        choices.append({**real, "request_id": KNOWN["processed_request_id"]})
    return st.sampled_from(choices)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """A filed request's body, or the same for this member's own first beneficiary."""
    if not KNOWN or not isinstance(body, dict) or "beneficiary_ids" not in body:
        return st.just(body)
    own = {**body, "beneficiary_ids": [f"{KNOWN['member_id']}-01"], "upload_ids": []}
    return st.sampled_from([body, {**own, "complaint": body.get("type") == "contact.demande"}])


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    if not KNOWN or not query or "postal_code" not in query:
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


@schema.parametrize()
def test_api_answers_within_its_document(
    case: Any, http_api: str, member: SignedIn, agent: SignedIn, known: dict[str, str]
) -> None:
    who = agent if case.path.startswith("/backoffice") else member
    response = case.call_and_validate(base_url=http_api, headers=who.headers)
    if response.status_code >= 400:  # also those the coverage phase's probes leave unchecked
        error = ErrorAnswer.model_validate(response.json()).error
        assert error.code == ERROR_CODES[response.status_code], response.text
