"""Member B against member A's things: nothing readable, nothing usable, nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, count_items, count_objects, upload


@pytest.fixture
def alices_things(api: Api, pump: QueuePump, alice: SignedIn) -> dict[str, Any]:
    """A request with an attachment, a letter, and a spare upload, all alice's."""
    attachment = upload(api, alice, PDF_BYTES)
    request = api.post("/requests", alice, body={
        "type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
        "upload_ids": [attachment],
        "data": {"care_date": datetime.now(UTC).date().isoformat(), "amount": "12.00",
                 "care_type": "pharmacie"}}).body  # fmt: skip
    letter = api.post(
        "/requests",
        alice,
        body={
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
        },
    ).body
    pump.drain()
    document = api.get(f"/requests/{letter['request_id']}", alice).body["documents"][0]
    return {
        "request": request["request_id"],
        "attachment": attachment,
        "document": document["document_id"],
        "spare_upload": upload(api, alice, PDF_BYTES),
    }


def _snapshot(api: Api, who: SignedIn, things: dict[str, Any]) -> Any:
    return (
        api.get(f"/requests/{things['request']}", who).body,
        api.get("/documents", who).body,
        api.get("/me", who).body,
        api.get("/me/beneficiaries", who).body,
    )


def _leaks_nothing(answer: Any, alice: SignedIn) -> None:
    text = str(answer.body)
    for secret in ("Alice", "Martin", alice.member_id or "?", "facture", "pharmacie"):
        assert secret not in text


def test_reads_and_downloads_answer_404_as_if_nothing_existed(
    api: Api, local_stack: LocalStack, alice: SignedIn, bob: SignedIn, alices_things: dict[str, Any]
) -> None:
    before = _snapshot(api, alice, alices_things)
    t = alices_things
    unknown = api.get("/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV", bob)
    for path in (
        f"/requests/{t['request']}",
        f"/requests/{t['request']}/attachments/{t['attachment']}",
        f"/documents/{t['document']}/download",
    ):
        answer = api.get(path, bob)
        assert answer.status == 404, path
        assert answer.body["error"]["code"] == "not_found"
        _leaks_nothing(answer, alice)
    assert unknown.status == 404
    for document_id in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "pas-un-document"):
        answer = api.get(f"/documents/{document_id}/download", bob)
        assert (answer.status, answer.body["error"]["message"]) == (404, "Document introuvable.")
    assert api.get("/documents", bob).body == {"documents": []}
    assert _snapshot(api, alice, alices_things) == before


def test_filing_with_someone_elses_upload_or_beneficiary_is_422_and_creates_nothing(
    api: Api, local_stack: LocalStack, alice: SignedIn, bob: SignedIn, alices_things: dict[str, Any]
) -> None:
    items, objects = (
        count_items(local_stack, bob.member_id or ""),
        count_objects(local_stack, "requests/"),
    )
    with_upload = api.post("/requests", bob, body={
        "type": "sante.justificatif", "beneficiary_ids": [f"{bob.member_id}-01"],
        "upload_ids": [alices_things["spare_upload"]],
        "data": {"care_date": datetime.now(UTC).date().isoformat(), "amount": "12.00",
                 "care_type": "pharmacie"}})  # fmt: skip
    with_beneficiary = api.post(
        "/requests",
        bob,
        body={
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-03"],
        },
    )
    for answer, field in ((with_upload, "upload_ids[0]"), (with_beneficiary, "beneficiary_ids[0]")):
        assert answer.status == 422
        assert [f["field"] for f in answer.body["error"]["fields"]] == [field]
        _leaks_nothing(answer, alice)
    assert count_items(local_stack, bob.member_id or "") == items
    assert count_objects(local_stack, "requests/") == objects
    assert (
        count_objects(local_stack, f"uploads/{alice.member_id}/{alices_things['spare_upload']}")
        == 1
    )


def test_a_member_cannot_decide(
    api: Api, alice: SignedIn, bob: SignedIn, alices_things: dict[str, Any]
) -> None:
    before = api.get(f"/requests/{alices_things['request']}", alice).body
    for who in (bob, alice):
        answer = api.post(
            f"/backoffice/members/{alice.member_id}/requests/{alices_things['request']}/decision",
            who,
            body={"outcome": "accepted", "message": ""},
        )
        assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden")
    assert api.get(f"/requests/{alices_things['request']}", alice).body == before
