"""Every type of the catalogue, filed through the API, routed by the queue handlers and decided
by an agent with every outcome: never a 500, always the letter its registry entry names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from chalicelib.domain import catalog
from chalicelib.domain.catalog import Automatic
from chalicelib.domain.members import Beneficiary
from chalicelib.domain.states import Outcome
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, upload


def example(api: Api, who: SignedIn, request_type: str, today: date) -> dict[str, Any]:
    """A valid body for each type, from its data model's own example; the beneficiary is the
    member's first one the type may concern. Nothing here knows a type: a new one is filed
    through its model and its registry entry alone."""
    kind = catalog.REQUEST_TYPES_BY_CODE[request_type]
    data = kind.data_model.example(today)
    parsed = kind.data_model.model_validate(data, context={"today": today})
    contract = [Beneficiary.model_validate(b) for b in api.get("/me/beneficiaries", who).body[
        "beneficiaries"]]  # fmt: skip
    beneficiary = next(
        b
        for b in contract
        if not kind.beneficiary_rule or not kind.beneficiary_rule(b, today, parsed)
    )
    return {
        "type": request_type,
        "beneficiary_ids": [beneficiary.beneficiary_id],
        "data": data,
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
    body = example(api, alice, request_type, today)
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
    pump.drain()  # the service's handler renders the letter the decision owes
    documents = api.get("/documents?months=1", alice).body["documents"]
    issued = {d["document_id"]: d["kind"] for d in documents if d["request_id"] == request_id}
    assert issued[letter["document_id"]] == handling.letter(body["data"], outcome)
    assert api.get(f"/documents/{letter['document_id']}/download", alice).status == 200


@pytest.mark.parametrize("request_type", catalog.REQUEST_TYPES, ids=lambda t: t.type)
def test_every_types_example_is_valid_data(request_type: catalog.RequestType) -> None:
    today = date(2026, 11, 28)
    request_type.data_model.model_validate(request_type.data_model.example(today),
                                           context={"today": today})  # fmt: skip
