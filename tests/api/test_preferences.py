"""`GET`/`PUT /me/preferences`: stored on the member's profile, validated like any body."""

from __future__ import annotations

import pytest

from tests.conftest import Api, SignedIn


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
