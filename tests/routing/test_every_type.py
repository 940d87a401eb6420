"""Every type of the catalogue, filed through the API, routed by the queue handlers and decided
by an agent with every outcome: never a 500, always the letter its registry entry names."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain import catalog
from chalicelib.domain.catalog import Automatic
from chalicelib.domain.states import Outcome
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, upload


def example(request_type: str, member_id: str, today: date) -> dict[str, Any]:
    """A valid body for each type, dated from `today`. A new type adds its example here (the
    test below fails until it does)."""
    me = f"{member_id}-01"
    data: dict[str, dict[str, Any]] = {
        "sante.justificatif": {
            "care_date": (today - timedelta(days=3)).isoformat(),
            "amount": "42.50",
            "care_type": "pharmacie",
        },
        "sante.devis": {"care_type": "dentaire", "amount": "690.00"},
        "sante.prise_en_charge_hospitaliere": {
            "establishment": "Hôpital Saint-Antoine",
            "finess": "750100125",
            "admission_date": (today + timedelta(days=10)).isoformat(),
            "stay_type": "ambulatoire",
        },
        "sante.attestation_tiers_payant": {},
        "vie.coordonnees": {"phone": "06 11 22 33 44"},
        "vie.coordonnees_bancaires": {
            "iban": "FR1420041010050500013M02606",
            "holder_name": "Alice Martin",
        },
        "vie.prolongation_droits_enfant": {
            "situation": "etudiant",
            "until": (today + timedelta(days=200)).isoformat(),
        },
        "vie.situation_familiale": {
            "event": "naissance",
            "event_date": (today - timedelta(days=20)).isoformat(),
            "new_beneficiary": {
                "first_name": "Noé",
                "last_name": "Martin",
                "birth_date": (today - timedelta(days=20)).isoformat(),
                "relationship": "child",
            },
        },
        "vie.autre": {},
        "contact.demande": {"subject": "remboursements", "detail": "teletransmission"},
    }
    beneficiary = f"{member_id}-03" if request_type == "vie.prolongation_droits_enfant" else me
    return {
        "type": request_type,
        "beneficiary_ids": [beneficiary],
        "data": data[request_type],
        "description": "Merci de traiter ma demande.",
    }


CASES = [
    (t.type, complaint, outcome)
    for t in catalog.REQUEST_TYPES
    for complaint in ((False, True) if t.complaint_allowed else (False,))
    for outcome in Outcome
]


@pytest.mark.parametrize(
    ("request_type", "complaint", "outcome"),
    CASES,
    ids=[f"{t}{'-complaint' if c else ''}-{o.value}" for t, c, o in CASES],
)
def test_every_type_is_filed_routed_and_decided_with_the_right_letter(
    api: Api,
    pump: QueuePump,
    alice: SignedIn,
    agent_all: SignedIn,
    today: date,
    request_type: str,
    complaint: bool,
    outcome: Outcome,
) -> None:
    assert alice.member_id is not None
    body = example(request_type, alice.member_id, today)
    kind = catalog.REQUEST_TYPES_BY_CODE[request_type]
    if kind.attachments is not catalog.Attachments.none:
        body["upload_ids"] = [upload(api, alice, PDF_BYTES)]
    if complaint:
        body["complaint"] = True
    filed = api.post("/requests", alice, body=body)
    assert filed.status == 201, filed.body
    request_id = filed.body["request_id"]
    pump.drain()

    handling = catalog.handling_for(request_type, complaint=complaint)
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    routed = api.get(path, agent_all).body
    assert routed["service"] == handling.service.value
    decision: dict[str, Any] = {"outcome": outcome.value, "message": "Voici notre réponse."}
    if handling.amount_required and outcome is not Outcome.refused:
        decision["amount"] = "30.00"
    answer = api.post(f"{path}/decision", agent_all, body=decision)

    if handling.automatic in (Automatic.accept, Automatic.issue_attestation):
        # Processed by its service already: the letter its outcome calls for, and a 409.
        assert answer.status == 409, answer.body
        assert routed["status"] == "processed"
        expected = handling.letter(body["data"], Outcome(routed["outcome"]))
        documents = api.get("/documents?months=1", alice).body["documents"]
        assert [d["kind"] for d in documents if d["request_id"] == request_id] == [expected]
        return
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "processed" and answer.body["outcome"] == outcome.value
    letter = answer.body["letter"]
    documents = api.get("/documents?months=1", alice).body["documents"]
    issued = {d["document_id"]: d["kind"] for d in documents if d["request_id"] == request_id}
    assert issued[letter["document_id"]] == handling.letter(body["data"], outcome)
    assert api.get(f"/documents/{letter['document_id']}/download", alice).status == 200


def test_every_type_of_the_catalogue_has_an_example() -> None:
    for request_type in catalog.REQUEST_TYPES:
        example(request_type.type, "X", date(2026, 11, 28))
