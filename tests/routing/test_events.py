"""Domain events on the bus, as a service team sees them: a rule of its own on the stage's bus,
an SQS queue of its own as target. Every change emits exactly its event, nothing personal in
any, and one the bus refused is put by the sweeper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.events import EVENTS_BY_NAME, SOURCE
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, upload


@pytest.fixture
def team_queue(local_stack: LocalStack) -> Iterator[str]:
    """What README's "Events" tells a service team to do: a rule, a queue of its own."""
    events, sqs = local_stack.client("events"), local_stack.client("sqs")
    bus = local_stack.outputs["EventBusName"]
    url = sqs.create_queue(QueueName="team-subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="team-all-events", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]})
    )
    events.put_targets(
        Rule="team-all-events", EventBusName=bus, Targets=[{"Id": "team", "Arn": arn}]
    )
    try:
        yield url
    finally:
        events.remove_targets(Rule="team-all-events", EventBusName=bus, Ids=["team"])
        events.delete_rule(Name="team-all-events", EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)


def _received(stack: LocalStack, url: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_every_change_emits_exactly_its_event_with_nothing_personal(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    team_queue: str,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
) -> None:
    data = {"care_date": (today - timedelta(days=2)).isoformat(), "amount": "80.00",
            "care_type": "optique"}  # fmt: skip
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": data, "upload_ids": [upload(api, alice, PDF_BYTES)]}  # fmt: skip
    request_id = api.post("/requests", alice, body=body).body["request_id"]
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    assert (
        api.post(f"{path}/information-request", agent, body={"message": "La facture ?"}).status
        == 200
    )
    assert (
        api.post(f"/requests/{request_id}/replies", alice, body={"message": "Voici."}).status == 201
    )
    pump.drain()
    decided = {"outcome": "partially_accepted", "amount": "40.00", "message": "En partie."}
    assert api.post(f"{path}/decision", agent, body=decided).status == 200
    pump.drain()  # the service's handler renders the decision's letter

    received = [e for e in _received(local_stack, team_queue)
                if e["detail"]["request_id"] == request_id]  # fmt: skip
    assert [e["detail-type"] for e in received] == [
        "RequestFiled",
        "RequestRouted",
        "InformationRequested",
        "MemberReplied",
        "LetterIssued",  # the question's: rendered by the service's handler when it next runs
        "RequestDecided",
        "LetterIssued",
    ]
    assert len({e["detail"]["event_id"] for e in received}) == len(received)
    for event in received:
        assert event["source"] == SOURCE
        EVENTS_BY_NAME[event["detail-type"]].model_validate(event["detail"])
        text = json.dumps(event["detail"], ensure_ascii=False)
        for personal in ("Alice", "Martin", "80.00", "40.00", "optique", "facture", "Voici"):
            assert personal not in text


def test_an_event_the_bus_refused_is_put_by_the_sweeper(
    api: Api,
    local_stack: LocalStack,
    pump: QueuePump,
    team_queue: str,
    alice: SignedIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.routing.sweeper import sweep_pending
    from chalicelib.store.bus import Bus

    real_put = Bus.put

    def unreachable(self: Bus, entries: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://events.eu-west-3.amazonaws.com")

    monkeypatch.setattr(Bus, "put", unreachable)
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    filed = api.post("/requests", alice, body=body)
    assert filed.status == 201  # the member's request is filed all the same
    request_id = filed.body["request_id"]
    pump.drain()  # the router and the service dispatch what they change: the bus refuses
    assert _received(local_stack, team_queue) == []
    monkeypatch.setattr(Bus, "put", real_put)
    from chalicelib.domain import clock

    sweep_pending(clock.now() + timedelta(minutes=2))
    received = _received(local_stack, team_queue)
    names = [e["detail-type"] for e in received if e["detail"]["request_id"] == request_id]
    assert names[:2] == ["RequestFiled", "RequestRouted"]  # in order
    assert (names.count("RequestFiled"), names.count("RequestRouted")) == (1, 1)
    pump.drain()  # the intake pointer, sent again with the rest: routed once all the same
