"""Sign-in that really checks: real Cognito (moto) tokens, really verified."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from infra.local_stack import LocalStack, create_cognito_user, create_user_pool
from tests.conftest import PASSWORD, Api, SignedIn
from tests.tokens import POOL_KEY as _POOL_KEY
from tests.tokens import claims as _claims
from tests.tokens import pool_signed as _pool_signed


def _assert_unauthorized(answer: Any) -> None:
    assert answer.status == 401
    assert answer.body["error"]["code"] == "unauthorized"
    assert answer.body["error"]["message"]
    assert answer.body["error"]["fields"] == []


def test_valid_token_opens_the_members_profile(api: Api, alice: SignedIn) -> None:
    answer = api.get("/me", alice)
    assert answer.status == 200
    assert answer.body["member_id"] == alice.member_id


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c"],
)
def test_missing_or_malformed_token_is_refused_before_the_route_runs(
    api: Api, alice: SignedIn, aws_calls: list[str], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    _assert_unauthorized(api.get("/me", headers=headers))
    assert aws_calls == []  # the route, which reads DynamoDB, never ran


def test_tampered_token_is_refused(
    api: Api, alice: SignedIn, bob: SignedIn, aws_calls: list[str]
) -> None:
    header, payload, signature = alice.token.split(".")
    claims = _claims(alice.token)
    claims["custom:member_id"] = bob.member_id
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _assert_unauthorized(
        api.get("/me", headers={"Authorization": f"Bearer {header}.{forged_payload}.{signature}"})
    )
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    _assert_unauthorized(
        api.get("/me", headers={"Authorization": f"Bearer {header}.{payload}.{flipped}"})
    )
    assert aws_calls == []


def test_token_signed_with_the_pool_key_is_accepted_then_refused_once_expired(
    api: Api, alice: SignedIn, aws_calls: list[str]
) -> None:
    claims = _claims(alice.token)
    fresh = _pool_signed({**claims, "iat": int(time.time()), "exp": int(time.time()) + 300})
    assert api.get("/me", headers={"Authorization": f"Bearer {fresh}"}).status == 200
    aws_calls.clear()
    expired = _pool_signed({**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 60})
    answer = api.get("/me", headers={"Authorization": f"Bearer {expired}"})
    _assert_unauthorized(answer)
    assert "expiré" in answer.body["error"]["message"]
    assert aws_calls == []


def test_unsigned_alg_none_token_is_refused(
    api: Api, alice: SignedIn, aws_calls: list[str]
) -> None:
    unsigned = jwt.encode(_claims(alice.token), key=None, algorithm="none")
    answer = api.get("/me", headers={"Authorization": f"Bearer {unsigned}"})
    _assert_unauthorized(answer)
    # Refused by our allow-list, on the header, before any key is looked up (PyJWT's own
    # `algorithms` would refuse it too: a second layer, not the one under test).
    assert "algorithme" in answer.body["error"]["message"]
    assert aws_calls == []


def test_hs256_token_keyed_with_the_public_key_is_refused(api: Api, alice: SignedIn) -> None:
    # The classic algorithm-confusion forgery, built by hand since PyJWT refuses to make it.
    from cryptography.hazmat.primitives import serialization

    public_pem = (
        jwt.PyJWK(_POOL_KEY)
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": _POOL_KEY["kid"]}).encode())
        + "."
        + b64(json.dumps(_claims(alice.token)).encode())
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(signature)}"
    answer = api.get("/me", headers={"Authorization": f"Bearer {token}"})
    _assert_unauthorized(answer)
    assert "algorithme" in answer.body["error"]["message"]


def test_token_for_another_app_client_is_refused(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    other_client = local_stack.client("cognito-idp").create_user_pool_client(
        UserPoolId=local_stack.user_pool_id,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    answer = local_stack.client("cognito-idp").initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": alice.username, "PASSWORD": PASSWORD},
    )
    token = answer["AuthenticationResult"]["IdToken"]
    assert _claims(token)["aud"] == other_client
    _assert_unauthorized(api.get("/me", headers={"Authorization": f"Bearer {token}"}))


def test_token_from_another_user_pool_is_refused(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    pool_id, client_id = create_user_pool(
        local_stack.endpoint_url, local_stack.region, "another-pool"
    )
    other = LocalStack(
        **{**local_stack.__dict__, "user_pool_id": pool_id, "app_client_id": client_id}
    )
    create_cognito_user(other, "intruder", PASSWORD, alice.member_id)
    token = other.id_token("intruder", PASSWORD)
    assert _claims(token)["custom:member_id"] == alice.member_id
    _assert_unauthorized(api.get("/me", headers={"Authorization": f"Bearer {token}"}))


def test_access_token_is_refused_where_an_id_token_is_expected(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    answer = local_stack.client("cognito-idp").initiate_auth(
        ClientId=local_stack.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": alice.username, "PASSWORD": PASSWORD},
    )
    access = answer["AuthenticationResult"]["AccessToken"]
    _assert_unauthorized(api.get("/me", headers={"Authorization": f"Bearer {access}"}))
    # A real access token also lacks `aud`; this one is alice's ID token in every claim but
    # `token_use`, validly signed: only the token_use check can refuse it.
    as_access = _pool_signed({**_claims(alice.token), "token_use": "access"})
    answer = api.get("/me", headers={"Authorization": f"Bearer {as_access}"})
    _assert_unauthorized(answer)
    assert "ID token" in answer.body["error"]["message"]


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("iss", "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_another"),
        ("aud", "another-app-client"),
        ("exp", 1_000_000_000),
        ("token_use", "access"),
    ],
)
def test_a_validly_signed_token_wrong_in_one_claim_only_is_refused(
    api: Api, alice: SignedIn, aws_calls: list[str], claim: str, value: Any
) -> None:
    control = _pool_signed(_claims(alice.token))
    assert api.get("/me", headers={"Authorization": f"Bearer {control}"}).status == 200
    aws_calls.clear()
    wrong = _pool_signed({**_claims(alice.token), claim: value})
    _assert_unauthorized(api.get("/me", headers={"Authorization": f"Bearer {wrong}"}))
    assert aws_calls == []


def test_agent_without_member_id_is_forbidden_on_member_routes(api: Api, agent: SignedIn) -> None:
    answer = api.get("/me", agent)
    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"


def test_jwks_is_fetched_once_and_cached(
    local_stack: LocalStack, alice: SignedIn, bob: SignedIn
) -> None:
    from chalicelib.api.auth import TokenVerifier

    verifier = TokenVerifier(
        issuer=f"https://cognito-idp.{local_stack.region}.amazonaws.com/{local_stack.user_pool_id}",
        audience=local_stack.app_client_id,
        jwks_url=local_stack.jwks_url,
        cache_seconds=3600,
    )
    fetches = 0
    real_fetch = verifier._jwks.fetch_data

    def counting_fetch() -> Any:
        nonlocal fetches
        fetches += 1
        return real_fetch()

    verifier._jwks.fetch_data = counting_fetch  # type: ignore[method-assign]
    assert verifier.verify(alice.token).member_id == alice.member_id
    assert verifier.verify(bob.token).member_id == bob.member_id
    assert verifier.verify(alice.token).member_id == alice.member_id
    assert fetches == 1


def test_agent_groups_are_read_from_the_token(local_stack: LocalStack, agent: SignedIn) -> None:
    from chalicelib.api.auth import verifier

    principal = verifier().verify(agent.token)
    assert principal.agent_services == {"devis", "remboursements"}
    assert principal.member_id is None


def _counting_verifier(local_stack: LocalStack, **options: Any) -> tuple[Any, list[str]]:
    """A verifier of the local pool whose full checks (signature, claims) are counted."""
    from chalicelib.api.auth import TokenVerifier

    verifier = TokenVerifier(
        issuer=f"https://cognito-idp.{local_stack.region}.amazonaws.com/{local_stack.user_pool_id}",
        audience=local_stack.app_client_id,
        jwks_url=local_stack.jwks_url,
        cache_seconds=3600,
        **options,
    )
    checked: list[str] = []
    full_check = verifier._verified

    def counted(token: str) -> Any:
        checked.append(token)
        return full_check(token)

    verifier._verified = counted  # type: ignore[method-assign]
    return verifier, checked


def test_a_verified_token_is_remembered_until_it_expires_and_no_longer(
    local_stack: LocalStack, alice: SignedIn
) -> None:
    now = time.time()
    clock = [now]
    verifier, checked = _counting_verifier(
        local_stack, remember_seconds=300, clock=lambda: clock[0]
    )
    token = _pool_signed({**_claims(alice.token), "iat": int(now), "exp": int(now) + 120})
    assert verifier.verify(token).member_id == alice.member_id
    assert verifier.verify(token).member_id == alice.member_id
    assert checked == [token]  # the second call was served from memory
    clock[0] = int(now) + 120  # the token's `exp`: never served from memory again
    verifier.verify(token)  # (the full check still runs on the real clock, still valid there)
    assert checked == [token, token]


def test_a_token_is_checked_in_full_again_after_remember_seconds(
    local_stack: LocalStack, alice: SignedIn
) -> None:
    clock = [time.time()]
    verifier, checked = _counting_verifier(local_stack, remember_seconds=60, clock=lambda: clock[0])
    verifier.verify(alice.token)
    clock[0] += 59
    verifier.verify(alice.token)
    clock[0] += 2  # a key withdrawn from the JWKS stops a remembered token after this
    verifier.verify(alice.token)
    assert len(checked) == 2


def test_only_the_exact_token_verified_is_remembered(
    local_stack: LocalStack, alice: SignedIn, bob: SignedIn
) -> None:
    from chalicelib.domain.errors import Unauthorized

    verifier, checked = _counting_verifier(local_stack, max_remembered=1)
    verifier.verify(alice.token)
    header, payload, signature = alice.token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(Unauthorized):
        verifier.verify(f"{header}.{payload}.{flipped}")
    with pytest.raises(Unauthorized):
        verifier.verify(alice.token + "x")
    assert verifier.verify(bob.token).member_id == bob.member_id  # pushes alice's out (1 kept)
    assert verifier.verify(alice.token).member_id == alice.member_id
    assert checked == [
        alice.token,
        f"{header}.{payload}.{flipped}",
        alice.token + "x",
        bob.token,
        alice.token,
    ]
