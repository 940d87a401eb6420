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


def _contract_validator(name: str) -> Any:
    """The AsyncAPI document's schema of `name`'s message (the EventBridge envelope and its
    `detail`), formats checked (`date-time` too)."""
    import jsonschema

    from scripts.write_asyncapi import asyncapi_document

    document = asyncapi_document()
    message = document["channels"]["bus"]["messages"][name]["$ref"].rsplit("/", 1)[-1]
    payload = document["components"]["messages"][message]["payload"]
    schema = {**payload, "components": document["components"]}
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_every_event_of_a_demarches_life_is_as_the_asyncapi_document_says(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    team_queue: str,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
) -> None:
    """What a service team's consumer, generated from `docs/asyncapi.json`, reads: every event
    the app puts on the bus while requests are filed, asked about, answered, decided,
    withdrawn, reclassified and watched is one of the document's messages, valid against its
    schema (formats included), with nothing personal in it."""
    from chalicelib.domain import clock
    from chalicelib.services.sweeping import watch_deadlines
    from chalicelib.store.unit_of_work import unit_of_work
    from tests.conftest import file_justificatif

    def backoffice(request_id: str, action: str) -> str:
        return f"/backoffice/members/{alice.member_id}/requests/{request_id}/{action}"

    decided = file_justificatif(api, alice, today)
    withdrawn = file_justificatif(api, alice, today)
    contested = file_justificatif(api, alice, today)
    pump.drain()
    asked = api.post(backoffice(decided, "information-request"), agent,
                     body={"message": "La facture ?"})  # fmt: skip
    assert asked.status == 200
    pump.drain()
    assert api.post(f"/requests/{decided}/replies", alice, body={"message": "Voici."}).status == 201
    pump.drain()
    decision = {"outcome": "partially_accepted", "amount": "40.00", "message": "En partie."}
    assert api.post(backoffice(decided, "decision"), agent, body=decision).status == 200
    withdrawal = api.post(f"/requests/{withdrawn}/withdrawal", alice, body={"reason": "Doublon."})
    assert withdrawal.status == 200
    moved = api.post(backoffice(contested, "reclassification"), agent, body={"complaint": True})
    assert moved.status == 200
    pump.drain()
    watch_deadlines(unit_of_work(), clock.now() + timedelta(days=56))  # the answer is near

    ours = {decided, withdrawn, contested}
    received = [e for e in _received(local_stack, team_queue)
                if e["detail"]["request_id"] in ours]  # fmt: skip
    assert {e["detail-type"] for e in received} == set(EVENTS_BY_NAME)  # each one, at least
    for event in received:
        problems = [
            f"{event['detail-type']}: {'/'.join(map(str, error.path))} {error.message}"
            for error in _contract_validator(event["detail-type"]).iter_errors(event)
        ]
        assert problems == []
        text = json.dumps(event, ensure_ascii=False)
        for personal in ("Alice", "Martin", "80.00", "40.00", "optique", "facture", "Voici",
                         "Doublon", "justificatif.pdf"):  # fmt: skip
            assert personal not in text, event["detail-type"]


def _file_complaint(api: Api, who: SignedIn) -> str:
    body = {"type": "contact.demande", "complaint": True, "description": "Je conteste.",
            "beneficiary_ids": [f"{who.member_id}-01"],
            "data": {"subject": "remboursements", "detail": "montant_conteste"}}  # fmt: skip
    answer = api.post("/requests", who, body=body)
    assert answer.status == 201, answer.body
    return str(answer.body["request_id"])


def _at_risk(stack: LocalStack, url: str, request_id: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in _received(stack, url)
            if e["detail-type"] == "ComplaintDeadlineAtRisk"
            and e["detail"]["request_id"] == request_id]  # fmt: skip


def test_a_complaint_already_before_an_agent_is_still_announced_at_risk(
    api: Api, pump: QueuePump, local_stack: LocalStack, team_queue: str, alice: SignedIn
) -> None:
    """A complaint its service's handler gave up on (flagged for agents, at the head of the
    list) whose deadline comes near: the complaints team's rule still gets its
    `ComplaintDeadlineAtRisk`, the case it matters most for. Its being at the head of the
    list already used to pass for "announced"."""
    from chalicelib.domain import clock
    from chalicelib.domain.requests import RequestPointer
    from chalicelib.services.serving import flag_for_agents
    from chalicelib.services.sweeping import watch_deadlines
    from chalicelib.store.unit_of_work import unit_of_work

    request_id = _file_complaint(api, alice)
    pump.drain()
    pointer = RequestPointer(request_id=request_id, member_id=alice.member_id or "")
    assert flag_for_agents(unit_of_work(), pointer, clock.now())  # as the 5th failure does
    _received(local_stack, team_queue)
    later = clock.now() + timedelta(days=56)  # the answer is due within 5 jours ouvrables
    watch_deadlines(unit_of_work(), later)
    watch_deadlines(unit_of_work(), later + timedelta(days=1))
    [announced] = _at_risk(local_stack, team_queue, request_id)
    assert announced["status"] == "in_progress"


def test_a_complaint_at_risk_is_announced_once_even_after_a_question_and_its_answer(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    team_queue: str,
    alice: SignedIn,
    agent_all: SignedIn,
) -> None:
    """At risk, then asked about and answered (which puts it back in line): the next watch
    puts it at the head of the list again, and says nothing new on the bus."""
    from chalicelib.domain import clock
    from chalicelib.domain.requests import month_of
    from chalicelib.services.sweeping import watch_deadlines
    from chalicelib.store import keys
    from chalicelib.store.requests import URGENT
    from chalicelib.store.unit_of_work import unit_of_work

    request_id = _file_complaint(api, alice)
    pump.drain()
    later = clock.now() + timedelta(days=56)
    watch_deadlines(unit_of_work(), later)
    [announced] = _at_risk(local_stack, team_queue, request_id)
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    assert announced["due_at"] == api.get(path, agent_all).body["due_at"]  # the answer's
    asked = api.post(f"{path}/information-request", agent_all, body={"message": "Quel acte ?"})
    assert asked.status == 200
    assert api.post(f"/requests/{request_id}/replies", alice, body={"message": "Ce."}).status == 201
    pump.drain()
    watch_deadlines(unit_of_work(), later + timedelta(days=1))
    assert _at_risk(local_stack, team_queue, request_id) == []
    key = keys.request_key(alice.member_id or "", month_of(request_id), request_id)
    item = local_stack.client("dynamodb").get_item(
        TableName=local_stack.outputs["TableName"],
        Key={k: {"S": v} for k, v in key.items()},
    )["Item"]
    assert item["svc_sk"]["S"].startswith(f"{URGENT}#")  # at the head of the list again


def test_an_event_put_late_is_stamped_with_the_moment_of_its_change(
    local_stack: LocalStack, team_queue: str
) -> None:
    """The sweeper puts an event a minute, or a quarter of an hour, after its change: the
    envelope's `time` (what rules, archives and replays go by, and what the AsyncAPI
    document's examples show equal to `occurred_at`) is still the change's, not the put's."""
    from types import SimpleNamespace

    from ulid import ULID

    from chalicelib.domain import clock
    from chalicelib.domain.events import RequestRouted
    from chalicelib.store import outbox
    from chalicelib.store.bus import Bus

    changed_at = clock.now().replace(microsecond=0) - timedelta(minutes=15)
    request = SimpleNamespace(
        member_id="0012345601", request_id=str(ULID.from_datetime(changed_at)),
        type="sante.justificatif", service="remboursements", status="in_progress",
        complaint=False,
    )  # fmt: skip
    event = RequestRouted.of(request, changed_at)
    Bus().put([outbox.to_bus(event)])
    [received] = [e for e in _received(local_stack, team_queue)
                  if e["detail"]["event_id"] == event.event_id]  # fmt: skip
    assert received["time"] == changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert received["detail"]["occurred_at"] == clock.iso_z(changed_at)


def test_a_complaint_waiting_for_the_member_is_announced_at_risk(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    team_queue: str,
    alice: SignedIn,
    agent_all: SignedIn,
) -> None:
    """A question does not stop the ACPR clocks: a complaint waiting for the member's answer
    whose answer is due within 5 jours ouvrables is announced as any other (the watch read
    only the complaints the service has in hand)."""
    from chalicelib.domain import clock
    from chalicelib.services.sweeping import watch_deadlines
    from chalicelib.store.unit_of_work import unit_of_work

    request_id = _file_complaint(api, alice)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    asked = api.post(f"{path}/information-request", agent_all,
                     body={"message": "Quel acte ?", "respond_within_days": 60})  # fmt: skip
    assert asked.status == 200
    pump.drain()
    watch_deadlines(unit_of_work(), clock.now() + timedelta(days=56))
    [announced] = _at_risk(local_stack, team_queue, request_id)
    assert announced["status"] == "waiting_for_member"
    assert announced["due_at"] == api.get(path, agent_all).body["due_at"]
