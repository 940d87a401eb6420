"""`GET /me`, `GET /me/beneficiaries`: each member sees exactly their own data."""

from __future__ import annotations

from datetime import date

from tests.conftest import Api, SignedIn


def test_me_answers_alices_profile_with_her_iban_masked(api: Api, alice: SignedIn) -> None:
    answer = api.get("/me", alice)
    assert answer.status == 200
    me = answer.body
    assert me["member_id"] == alice.member_id
    assert (me["first_name"], me["last_name"]) == ("Alice", "Martin")
    assert me["postal_address"] == {
        "line1": "12 rue de la Roquette",
        "line2": None,
        "postal_code": "75011",
        "city": "Paris",
        "country": "FR",
    }
    assert me["contract"]["contract_number"] == "GEN-2019-004512"
    assert me["bank_account"]["holder_name"] == "Alice Martin"
    masked = me["bank_account"]["iban_masked"]
    assert masked.startswith("FR") and masked.replace(" ", "").endswith("0189")
    assert sum(c.isdigit() for c in masked) == 4
    assert "FR7630006000011234567890189" not in str(answer.body).replace(" ", "")
    assert answer.headers["Cache-Control"] == "no-store"


def test_me_answers_bobs_profile_to_bob(api: Api, alice: SignedIn, bob: SignedIn) -> None:
    me = api.get("/me", bob).body
    assert me["member_id"] == bob.member_id
    assert me["first_name"] == "Bob"
    assert me["postal_address"]["line2"] == "Bâtiment B"
    assert me["bank_account"]["iban_masked"].replace(" ", "").endswith("2606")


def test_beneficiaries_of_alice_are_her_spouse_and_children(
    api: Api, alice: SignedIn, today: date
) -> None:
    answer = api.get("/me/beneficiaries", alice)
    assert answer.status == 200
    people = answer.body["beneficiaries"]
    assert [p["relationship"] for p in people] == ["member", "spouse", "child", "child"]
    assert {p["first_name"] for p in people} == {"Alice", "Julien", "Léa", "Hugo"}
    lea = next(p for p in people if p["first_name"] == "Léa")
    birth = date.fromisoformat(lea["birth_date"])
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    assert age == 19
    assert lea["coverage_end"] == f"{today.year}-12-31"
    assert set(people[0]) == {
        "beneficiary_id",
        "first_name",
        "last_name",
        "relationship",
        "birth_date",
        "coverage_end",
    }


def test_bob_alone_sees_only_himself(api: Api, alice: SignedIn, bob: SignedIn) -> None:
    people = api.get("/me/beneficiaries", bob).body["beneficiaries"]
    assert [(p["first_name"], p["relationship"]) for p in people] == [("Bob", "member")]
    assert all(p["beneficiary_id"].startswith(bob.member_id or "?") for p in people)


def test_member_with_a_token_but_no_profile_gets_not_found(api: Api, local_stack, today) -> None:  # type: ignore[no-untyped-def]
    from infra.local_stack import create_account
    from tests.conftest import PASSWORD

    create_account(local_stack, "ghost", PASSWORD, "T-no-profile")
    token = local_stack.id_token("ghost", PASSWORD)
    answer = api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
