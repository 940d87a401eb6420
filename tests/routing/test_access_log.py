"""Who consulted a member's file: recorded before the back office answers, shown to the member
(the service, never the agent), and no record, no answer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import Api, SignedIn, file_justificatif


def test_a_back_office_read_and_action_show_in_the_members_access_log(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, agent: SignedIn, today: date
) -> None:
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    assert api.get("/me/access-log", alice).body == {"entries": [], "next_cursor": None}
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    assert api.get(path, agent).status == 200
    decided = {"outcome": "refused", "message": "Facture illisible."}
    assert api.post(f"{path}/decision", agent, body=decided).status == 200

    log = api.get("/me/access-log", alice).body
    assert [(e["service"], e["action"], e["request_id"]) for e in log["entries"]] == [
        ("remboursements", "decided", request_id),
        ("remboursements", "consulted", request_id),
    ]
    assert log["entries"][1]["label"] == "Consultation de votre demande"
    assert agent.username not in json.dumps(log) and "agent_id" not in json.dumps(log)
    assert api.get("/me/access-log", bob).body["entries"] == []  # bob's file untouched

    page = api.get("/me/access-log?limit=1", alice).body
    assert len(page["entries"]) == 1 and page["next_cursor"]
    rest = api.get(f"/me/access-log?limit=1&cursor={page['next_cursor']}", alice).body
    assert rest["entries"][0]["action"] == "consulted"
    foreign = api.get(f"/me/access-log?cursor={page['next_cursor']}", bob)
    assert foreign.status == 400
    assert api.get("/me/access-log", agent).status == 403


def test_an_information_request_and_a_reclassification_show_with_the_service_that_acted(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date
) -> None:
    """Every agent action is in the log, not only reads and decisions; the service is the one
    whose agent acted, which a reclassification changes."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    asked = api.post(f"{path}/information-request", agent_all, body={"message": "La facture ?"})
    assert asked.status == 200, asked.body
    moved = api.post(f"{path}/reclassification", agent_all, body={"complaint": True})
    assert moved.status == 200, moved.body
    pump.drain()
    assert api.get(path, agent_all).status == 200

    log = api.get("/me/access-log", alice).body["entries"]
    assert [(e["service"], e["action"], e["label"]) for e in log] == [
        ("reclamations", "consulted", "Consultation de votre demande"),
        ("remboursements", "reclassified", "Réorientation de votre demande"),
        ("remboursements", "asked", "Demande de pièces complémentaires"),
    ]


def test_a_change_refused_is_not_in_the_log_as_made(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date
) -> None:
    """An acceptance without its amount (422) showed the member « Décision sur votre demande »
    on a request still in progress, and a second decision on a processed one (409) a second
    « Décision »: the log said what had not happened. A change is recorded once it may be
    made; refused by its own rules or on a closed request, it is not."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    refused = [
        api.post(f"{path}/decision", agent_all, body={"outcome": "accepted"}),  # no amount
        api.post(f"{path}/decision", agent_all, body={"outcome": "refused"}),  # no message
        api.post(f"{path}/reclassification", agent_all, body={"service": "reclamations"}),
    ]
    assert [answer.status for answer in refused] == [422, 422, 422]
    assert api.get("/me/access-log", alice).body["entries"] == []
    decided = {"outcome": "accepted", "amount": "80.00"}
    assert api.post(f"{path}/decision", agent_all, body=decided).status == 200
    closed = [
        api.post(f"{path}/decision", agent_all, body=decided),
        api.post(f"{path}/information-request", agent_all, body={"message": "La facture ?"}),
        api.post(f"{path}/reclassification", agent_all, body={"complaint": True}),
    ]
    assert [answer.status for answer in closed] == [409, 409, 409]
    log = api.get("/me/access-log", alice).body["entries"]
    assert [(e["action"], e["label"]) for e in log] == [("decided", "Décision sur votre demande")]


def test_a_change_the_request_s_state_refuses_is_not_in_the_log_either(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date
) -> None:
    """Two more refusals the member's log showed as done: a refusal while an acceptance is
    under way (its claim on the request read), twice « Décision » for one decision; and a
    question when the exchanges are full, « Demande de pièces complémentaires » never sent."""
    from chalicelib.domain import clock
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    uow = DynamoUnitOfWork()
    record = uow.requests.get(alice.member_id or "", request_id, consistent=True)
    assert uow.transitions.claim_decision(record, "accepted", clock.now())  # then it died
    refusal = {"outcome": "refused", "message": "Non."}
    assert api.post(f"{path}/decision", agent_all, body=refusal).status == 409
    assert api.get("/me/access-log", alice).body["entries"] == []

    other = file_justificatif(api, alice, today)
    long = "€" * 4000
    while api.post(f"/requests/{other}/replies", alice, body={"message": long}).status == 201:
        pass
    question = {"message": long}
    other_path = f"/backoffice/members/{alice.member_id}/requests/{other}"
    assert api.post(f"{other_path}/information-request", agent_all, body=question).status == 409
    assert api.get("/me/access-log", alice).body["entries"] == []


def test_an_access_is_kept_six_years_and_no_longer(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/retention.md: six years (the requests' five and one), the member's evidence of
    who read their file; its TTL is what holds it."""
    from chalicelib.domain import clock
    from chalicelib.store import keys

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    assert alice.member_id is not None
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    assert api.get(path, agent).status == 200
    [item] = local_stack.client("dynamodb").query(
        TableName=local_stack.outputs["TableName"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :access)",
        ExpressionAttributeValues={
            ":pk": {"S": keys.member_pk(alice.member_id)},
            ":access": {"S": keys.ACCESS},
        },
    )["Items"]
    kept_until = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
    six_years = datetime.combine(clock.add_years(now.date(), 6), now.timetz())
    assert six_years <= kept_until + timedelta(seconds=1) < six_years + timedelta(days=7)


def test_no_record_no_answer(
    api: Api,
    pump: QueuePump,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.store.access import AccessLog

    request_id = file_justificatif(api, alice, today)
    pump.drain()

    def unrecordable(self: AccessLog, *args: object) -> None:
        error = {"Error": {"Code": "InternalServerError", "Message": "unavailable"}}
        raise ClientError(error, "PutItem")

    monkeypatch.setattr(AccessLog, "record", unrecordable)
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    read = api.get(path, agent)
    assert read.status == 503 and request_id not in json.dumps(read.body)
    decided = api.post(f"{path}/decision", agent, body={"outcome": "refused", "message": "Non."})
    assert decided.status == 503
    assert api.get(f"/requests/{request_id}", alice).body["status"] == "in_progress"
