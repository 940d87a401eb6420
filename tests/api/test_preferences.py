"""`GET`/`PUT /me/preferences`: stored on the member's profile, validated like any body."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from chalicelib.domain.members import Preferences
from chalicelib.services.preferences import NO_MOBILE
from chalicelib.store.members import MemberRepository
from infra import seed
from infra.local_stack import LocalStack, create_account
from tests.conftest import PASSWORD, Api, SignedIn

SMS_ON = {"email": True, "sms": True, "paperless": True}
SMS_OFF = {"email": True, "sms": False, "paperless": True}


def _member_with(stack: LocalStack, today: date, phone: str, sms: bool = False) -> SignedIn:
    """A member shaped like alice, with this number on file and SMS on or off."""
    member_id = f"P{uuid4().int % 10**9:09d}"
    profile, beneficiaries = seed.alice(today, member_id)
    preferences = Preferences(sms=sms)
    seed.seed_member(profile.model_copy(update={"phone": phone, "preferences": preferences}),
                     beneficiaries)  # fmt: skip
    username = f"preferences-{member_id}"
    create_account(stack, username, PASSWORD, member_id)
    return SignedIn(username, member_id, stack.id_token(username, PASSWORD))


def test_a_new_member_gets_e_mails_no_sms_and_no_paper(api: Api, alice: SignedIn) -> None:
    answer = api.get("/me/preferences", alice)
    assert answer.status == 200
    assert answer.body == {"email": True, "sms": False, "paperless": True}


def test_put_stores_the_three_choices_on_the_profile(
    api: Api, alice: SignedIn, bob: SignedIn
) -> None:
    chosen = {"email": False, "sms": True, "paperless": False}
    answer = api.request("PUT", "/me/preferences", alice, body=chosen)
    assert (answer.status, answer.body) == (200, chosen)
    assert api.get("/me/preferences", alice).body == chosen
    assert api.get("/me/preferences", bob).body == {"email": True, "sms": False, "paperless": True}
    assert "preferences" not in api.get("/me", alice).body


def test_an_unknown_field_is_a_400(api: Api, alice: SignedIn) -> None:
    body = {"email": True, "sms": False, "paperless": True, "fax": True}
    answer = api.request("PUT", "/me/preferences", alice, body=body)
    assert answer.status == 400
    assert answer.body["error"]["code"] == "bad_request"
    assert api.get("/me/preferences", alice).body["email"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"email": "true", "sms": False, "paperless": True},
        {"email": 1, "sms": False, "paperless": True},
        {"email": True, "sms": None, "paperless": True},
        {"email": True, "sms": False},
    ],
)
def test_a_wrong_type_or_a_missing_field_is_a_422(
    api: Api, alice: SignedIn, body: dict[str, object]
) -> None:
    answer = api.request("PUT", "/me/preferences", alice, body=body)
    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert answer.body["error"]["fields"]


def test_not_json_is_a_400(api: Api, alice: SignedIn) -> None:
    assert api.request("PUT", "/me/preferences", alice, raw="[]").status == 400
    assert api.request("PUT", "/me/preferences", alice, raw="{").status == 400


def test_an_agent_has_no_preferences(api: Api, agent: SignedIn) -> None:
    assert api.get("/me/preferences", agent).status == 403


NO_MOBILES = [
    pytest.param("", id="no number"),
    pytest.param("01 23 45 67 89", id="a landline"),
    pytest.param("0262 12 34 56", id="an overseas landline"),
    pytest.param("09 12 34 56 78", id="a box's number"),
]
MOBILES = [
    pytest.param("06 12 34 56 78", id="a mobile"),
    pytest.param("07 98 76 54 32", id="a 07 mobile"),
    pytest.param("0692 12 34 56", id="a Réunion mobile"),
    pytest.param("+590 690 12 34 56", id="a Guadeloupe mobile in E.164"),
]


@pytest.mark.parametrize("phone", NO_MOBILES)
def test_sms_cannot_be_turned_on_without_a_mobile(
    api: Api, local_stack: LocalStack, today: date, phone: str
) -> None:
    """Nothing would ever arrive, and the member would never know: refused, on `sms`."""
    member = _member_with(local_stack, today, phone)
    assert api.get("/me", member).body["sms_reachable"] is False
    answer = api.request("PUT", "/me/preferences", member, body=SMS_ON)
    assert answer.status == 422
    assert answer.body == {
        "error": {
            "code": "validation_error",
            "message": NO_MOBILE,
            "fields": [{"field": "sms", "message": NO_MOBILE}],
        }
    }
    assert api.get("/me/preferences", member).body == SMS_OFF


@pytest.mark.parametrize("phone", MOBILES)
def test_sms_is_turned_on_with_a_mobile_mainland_or_overseas(
    api: Api, local_stack: LocalStack, today: date, phone: str
) -> None:
    member = _member_with(local_stack, today, phone)
    assert api.get("/me", member).body["sms_reachable"] is True
    answer = api.request("PUT", "/me/preferences", member, body=SMS_ON)
    assert (answer.status, answer.body) == (200, SMS_ON)


@pytest.mark.parametrize("phone", NO_MOBILES)
def test_sms_can_always_be_turned_off(
    api: Api, local_stack: LocalStack, today: date, phone: str
) -> None:
    member = _member_with(local_stack, today, phone, sms=True)
    answer = api.request("PUT", "/me/preferences", member, body=SMS_OFF)
    assert (answer.status, answer.body) == (200, SMS_OFF)


def test_the_page_re_saved_after_the_mobile_went_keeps_sms_on(
    api: Api, local_stack: LocalStack, today: date
) -> None:
    """SMS on, then the number became a landline: saving another choice with `sms: true` sent
    again is not refused (the member changed nothing about SMS); once turned off, it cannot
    be turned on again until a mobile is on file."""
    member = _member_with(local_stack, today, "06 12 34 56 78")
    assert api.request("PUT", "/me/preferences", member, body=SMS_ON).status == 200
    MemberRepository().apply_contact(str(member.member_id), {"phone": "01 23 45 67 89"})
    papers = {**SMS_ON, "paperless": False}
    answer = api.request("PUT", "/me/preferences", member, body=papers)
    assert (answer.status, answer.body) == (200, papers)
    assert api.request("PUT", "/me/preferences", member, body=SMS_OFF).status == 200
    assert api.request("PUT", "/me/preferences", member, body=SMS_ON).status == 422
    MemberRepository().apply_contact(str(member.member_id), {"phone": "07 98 76 54 32"})
    assert api.request("PUT", "/me/preferences", member, body=SMS_ON).status == 200
