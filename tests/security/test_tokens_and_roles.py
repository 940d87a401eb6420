"""Every way in without a valid ID token, on every kind of route: 401 before the route runs."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from infra.local_stack import LocalStack, create_cognito_user, create_user_pool
from tests.conftest import PASSWORD, Api, SignedIn
from tests.tokens import pool_signed

ROUTES = [
    ("GET", "/me"),
    ("GET", "/requests"),
    ("POST", "/requests"),
    ("POST", "/uploads"),
    ("GET", "/documents"),
    ("GET", "/backoffice/services/devis/requests"),
    ("GET", "/professionals?specialty=opticien&postal_code=75011"),
]


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def bad_tokens(local_stack: LocalStack, alice: SignedIn) -> dict[str, str | None]:
    cognito = local_stack.client("cognito-idp")
    header, _, signature = alice.token.split(".")
    now = int(time.time())
    tampered_claims = {**_claims(alice.token), "custom:member_id": "X"}
    other_client = cognito.create_user_pool_client(
        UserPoolId=local_stack.user_pool_id,
        ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    login = {"USERNAME": alice.username, "PASSWORD": PASSWORD}
    pool, client = create_user_pool(local_stack.endpoint_url, local_stack.region, "foreign")
    foreign = LocalStack(**{**local_stack.__dict__, "user_pool_id": pool, "app_client_id": client})
    create_cognito_user(foreign, "mallory", PASSWORD, alice.member_id)
    auth = cognito.initiate_auth(
        ClientId=local_stack.app_client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=login
    )["AuthenticationResult"]
    return {
        "missing": None,
        "malformed": "not.a.jwt",
        # Validly signed by the pool, and wrong in one claim only: that claim's check refuses.
        "expired": pool_signed({**_claims(alice.token), "iat": now - 600, "exp": now - 10}),
        "id_token_used_as_access": pool_signed({**_claims(alice.token), "token_use": "access"}),
        "tampered": f"{header}.{_b64(json.dumps(tampered_claims).encode())}.{signature}",
        "alg_none": jwt.encode(_claims(alice.token), key=None, algorithm="none"),
        "wrong_audience": cognito.initiate_auth(
            ClientId=other_client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=login
        )["AuthenticationResult"]["IdToken"],
        "wrong_pool": foreign.id_token("mallory", PASSWORD),
        "access_token": auth["AccessToken"],
    }


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_bad_token_is_401_and_the_route_never_runs(
    api: Api, bad_tokens: dict[str, str | None], aws_calls: list[str], method: str, path: str
) -> None:
    for name, token in bad_tokens.items():
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        answer = api.request(method, path, headers=headers, body={} if method == "POST" else None)
        assert answer.status == 401, (name, answer.body)
        assert answer.body["error"]["code"] == "unauthorized"
    assert aws_calls == []


@pytest.mark.parametrize(
    "path",
    [
        "/backoffice/services/devis/requests",
        "/backoffice/members/0012345601/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV",
    ],
)
def test_members_are_forbidden_the_back_office(api: Api, alice: SignedIn, path: str) -> None:
    answer = api.get(path, alice)
    assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden")


def test_a_member_is_forbidden_the_back_office_before_anything_is_parsed_or_read(
    api: Api, alice: SignedIn
) -> None:
    """Not a 404 for a service name, nor a 400 for a body: the role is checked first."""
    assert api.get("/backoffice/services/inconnu/requests", alice).status == 403
    base = f"/backoffice/members/{alice.member_id}/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for action in ("decision", "information-request", "reclassification"):
        answer = api.post(f"{base}/{action}", alice, raw="{")
        assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden"), action


def test_agents_are_forbidden_other_services(api: Api, agent: SignedIn) -> None:
    for service in ("hospitalisation", "reclamations", "cotisations"):
        assert api.get(f"/backoffice/services/{service}/requests", agent).status == 403
    assert api.get("/backoffice/services/devis/requests", agent).status == 200


@pytest.mark.parametrize("field", ["status", "member_id", "outcome", "created_at", "priority"])
def test_mass_assignment_is_refused_everywhere(
    api: Api, local_stack: LocalStack, alice: SignedIn, field: str
) -> None:
    """Server-owned fields are named as such ("Champ réservé."); any other unknown field is
    refused by the models (`extra="forbid"`, "Champ inconnu."): two checks, each tested."""
    from chalicelib.domain.requests import SERVER_OWNED_FIELDS
    from tests.conftest import count_items

    before = count_items(local_stack, alice.member_id or "")
    bodies = {
        "/requests": {
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
            field: "processed",
        },
        "/uploads": {
            "filename": "a.pdf",
            "content_type": "application/pdf",
            "size": 10,
            field: "processed",
        },
    }
    for path, body in bodies.items():
        answer = api.post(path, alice, body=body)
        assert answer.status == 400, (path, answer.body)
        named = {f["field"]: f["message"] for f in answer.body["error"]["fields"]}
        assert field in named
        if path == "/requests":
            reserved = field in SERVER_OWNED_FIELDS
            assert named[field] == ("Champ réservé." if reserved else "Champ inconnu."), named
    assert count_items(local_stack, alice.member_id or "") == before
