"""Nobody chooses which member they are: a token counts for a member only from that member's own
account, the one whose `sub` the insurer recorded when it created it.

The template forbids self sign-up and writing `custom:member_id` (tests/infra/test_user_pool.py),
but moto enforces neither: here both attacks succeed at Cognito, as they would on a pool
misconfigured one day, and the API still reads nothing of alice's.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from chalicelib.store.accounts import MemberAccounts
from infra.local_stack import LocalStack
from tests.conftest import PASSWORD, Api, SignedIn, count_items

MEMBER_READS = ["/me", "/me/beneficiaries", "/requests", "/documents"]


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _reads_nothing(
    api: Api, local_stack: LocalStack, token: str, alice: SignedIn, aws_calls: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    items = count_items(local_stack, alice.member_id or "")
    aws_calls.clear()
    answers = [api.get(path, headers=headers) for path in MEMBER_READS]
    filing = {
        "type": "sante.attestation_tiers_payant",
        "beneficiary_ids": [f"{alice.member_id}-01"],
    }
    answers.append(api.post("/requests", headers=headers, body=filing))
    for answer in answers:
        assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden"), answer.body
        assert "Alice" not in str(answer.body) and "Martin" not in str(answer.body)
    # Only the binding was read, never the member's file; nothing was written.
    assert set(aws_calls) <= {"dynamodb.GetItem"}
    assert count_items(local_stack, alice.member_id or "") == items


def test_an_account_signed_up_by_itself_with_alices_member_id_reads_nothing(
    api: Api, local_stack: LocalStack, alice: SignedIn, aws_calls: list[str]
) -> None:
    assert api.get("/me", alice).status == 200  # alice's binding is now in the warm cache
    cognito = local_stack.client("cognito-idp")
    cognito.sign_up(
        ClientId=local_stack.app_client_id,
        Username="mallory-signs-up",
        Password=PASSWORD,
        UserAttributes=[
            {"Name": "email", "Value": "mallory@example.net"},
            {"Name": "custom:member_id", "Value": alice.member_id or ""},
        ],
    )
    cognito.confirm_sign_up(
        ClientId=local_stack.app_client_id, Username="mallory-signs-up", ConfirmationCode="123456"
    )
    token = local_stack.id_token("mallory-signs-up", PASSWORD)
    assert _claims(token)["custom:member_id"] == alice.member_id  # moto let it happen
    _reads_nothing(api, local_stack, token, alice, aws_calls)


def test_an_account_that_rewrote_its_member_id_to_alices_reads_nothing(
    api: Api, local_stack: LocalStack, alice: SignedIn, bob: SignedIn, aws_calls: list[str]
) -> None:
    cognito = local_stack.client("cognito-idp")
    access = cognito.initiate_auth(
        ClientId=local_stack.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": bob.username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    cognito.update_user_attributes(
        AccessToken=access,
        UserAttributes=[{"Name": "custom:member_id", "Value": alice.member_id or ""}],
    )
    token = local_stack.id_token(bob.username, PASSWORD)
    assert _claims(token)["custom:member_id"] == alice.member_id  # moto let it happen
    _reads_nothing(api, local_stack, token, alice, aws_calls)


def test_a_member_without_a_recorded_account_reads_nothing(
    api: Api, local_stack: LocalStack, alice: SignedIn, aws_calls: list[str]
) -> None:
    from infra.local_stack import create_cognito_user

    # An administrator created the user in Cognito but nothing recorded it as alice's.
    create_cognito_user(local_stack, "unrecorded", PASSWORD, alice.member_id)
    token = local_stack.id_token("unrecorded", PASSWORD)
    _reads_nothing(api, local_stack, token, alice, aws_calls)


def test_the_members_own_account_reads_the_binding_once_per_warm_container(
    api: Api, alice: SignedIn, aws_calls: list[str]
) -> None:
    from chalicelib.api.auth import account_bindings

    account_bindings.cache_clear()  # a cold container
    aws_calls.clear()
    assert api.get("/me", alice).status == 200
    cold = list(aws_calls)
    aws_calls.clear()
    assert api.get("/me", alice).status == 200
    assert cold == ["dynamodb.GetItem", "dynamodb.GetItem"]  # the binding, then the profile
    assert aws_calls == ["dynamodb.GetItem"]  # the profile only


def test_a_member_is_bound_to_one_account_for_good(
    local_stack: LocalStack, alice: SignedIn
) -> None:
    from chalicelib.domain.errors import Conflict

    accounts = MemberAccounts()
    sub = accounts.bound_sub(alice.member_id or "")
    assert sub is not None
    accounts.bind(alice.member_id or "", sub)  # the same account again: nothing changes
    with pytest.raises(Conflict):
        accounts.bind(alice.member_id or "", "another-sub")
    assert accounts.bound_sub(alice.member_id or "") == sub


def test_a_binding_cached_for_one_account_never_admits_another() -> None:
    from chalicelib.api.auth import AccountBindings
    from chalicelib.domain.errors import Forbidden

    table = {"M1": "sub-alice"}
    reads: list[str] = []
    now = [0.0]

    def lookup(member_id: str) -> str | None:
        reads.append(member_id)
        return table.get(member_id)

    bindings = AccountBindings(lookup, ttl_seconds=300, clock=lambda: now[0])
    bindings.hold("M1", "sub-alice")
    bindings.hold("M1", "sub-alice")
    assert reads == ["M1"]
    with pytest.raises(Forbidden):
        bindings.hold("M1", "sub-mallory")  # checked against the table, then refused
    assert reads == ["M1", "M1"]
    table["M1"] = "sub-new-account"  # an administrator replaced the account
    now[0] = 301.0
    with pytest.raises(Forbidden):
        bindings.hold("M1", "sub-alice")
    bindings.hold("M1", "sub-new-account")
    with pytest.raises(Forbidden):
        bindings.hold("M2", "sub-alice")  # nobody recorded: refused
