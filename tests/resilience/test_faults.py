"""Faults: redeliveries, poison, a dying process, throttling, S3 down. Nothing lost, nothing
done twice, nothing half done."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib.domain.catalog import Service
from chalicelib.domain.requests import RequestPointer
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import (
    PDF_BYTES,
    Api,
    SignedIn,
    count_items,
    count_objects,
    drain_queue,
    upload,
)

TODAY = datetime.now(UTC).date().isoformat()
BODIES: dict[Service, dict[str, Any]] = {
    Service.remboursements: {
        "type": "sante.justificatif",
        "upload": True,
        "data": {"care_date": TODAY, "amount": "10.00", "care_type": "pharmacie"},
    },
    Service.devis: {
        "type": "sante.devis",
        "upload": True,
        "data": {"care_type": "optique", "amount": "300.00"},
    },
    Service.hospitalisation: {
        "type": "sante.prise_en_charge_hospitaliere",
        "data": {
            "establishment": "CHU",
            "finess": "750100125",
            "admission_date": TODAY,
            "stay_type": "ambulatoire",
        },
    },
    Service.tiers_payant: {"type": "sante.attestation_tiers_payant"},
    Service.adhesion: {"type": "vie.coordonnees", "data": {"email": "nouvelle.adresse@example.fr"}},
    Service.cotisations: {
        "type": "vie.coordonnees_bancaires",
        "upload": True,
        "data": {"iban": "DE89 3704 0044 0532 0130 00", "holder_name": "Alice Martin"},
    },
    Service.reclamations: {
        "type": "contact.demande",
        "complaint": True,
        "description": "Réclamation.",
        "data": {"subject": "autre", "detail": "autre"},
    },
    Service.relation_adherent: {
        "type": "contact.demande",
        "description": "Question.",
        "data": {"subject": "autre", "detail": "autre"},
    },
}


def _file(api: Api, who: SignedIn, service: Service) -> str:
    body = {"beneficiary_ids": [f"{who.member_id}-01"], **BODIES[service]}
    if body.pop("upload", False):
        body["upload_ids"] = [upload(api, who, PDF_BYTES)]
    answer = api.post("/requests", who, body=body)
    assert answer.status == 201, answer.body
    return str(answer.body["request_id"])


def _queue_url(stack: LocalStack, queue: str) -> str:
    sqs = stack.client("sqs")
    return str(sqs.get_queue_url(QueueName=f"{stack.outputs['QueuePrefix']}{queue}")["QueueUrl"])


@pytest.mark.parametrize("service", list(Service))
def test_every_handler_given_the_same_message_twice_acts_once(
    api: Api, local_stack: LocalStack, pump: QueuePump, alice: SignedIn, service: Service
) -> None:
    request_id = _file(api, alice, service)
    pump.drain()
    before = api.get(f"/requests/{request_id}", alice).body
    profile = api.get("/me", alice).body
    documents = api.get("/documents", alice).body
    items = count_items(local_stack, alice.member_id or "")
    pointer = RequestPointer(
        request_id=request_id, member_id=alice.member_id or ""
    ).model_dump_json()
    sqs = local_stack.client("sqs")
    for queue in ("intake", f"svc-{service.value}"):
        sqs.send_message(QueueUrl=_queue_url(local_stack, queue), MessageBody=pointer)
        sqs.send_message(QueueUrl=_queue_url(local_stack, queue), MessageBody=pointer)
    pump.drain()
    assert api.get(f"/requests/{request_id}", alice).body == before
    assert api.get("/me", alice).body == profile
    assert api.get("/documents", alice).body == documents
    assert count_items(local_stack, alice.member_id or "") == items


def test_one_poison_record_in_ten_on_a_service_queue(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    from app import app
    from infra.lambda_client import Client

    good = [_file(api, alice, Service.relation_adherent) for _ in range(9)]
    bodies = [
        RequestPointer(request_id=r, member_id=alice.member_id or "").model_dump_json()
        for r in good
    ]
    bodies.insert(7, "{not json")
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(
            message_bodies=bodies, queue_name="svc-relation_adherent"
        )
        answer = client.lambda_.invoke("svc_relation_adherent", event).payload
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][7]["messageId"]}]}
    for request_id in good:
        history = api.get(f"/requests/{request_id}", alice).body["history"]
        assert history[-1]["label"] == "Reçue par le Service Relation adhérent"


def test_a_request_that_always_fails_reaches_the_dlq_flagged_for_agents(
    api: Api, local_stack: LocalStack, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    """The member's profile vanishes: the attestation can never be rendered."""
    request_id = _file(api, alice, Service.tiers_payant)
    table = local_stack.outputs["TableName"]
    dynamo = local_stack.client("dynamodb")
    profile = dynamo.get_item(
        TableName=table, Key={"pk": {"S": f"MEMBER#{alice.member_id}"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    dynamo.delete_item(TableName=table, Key={"pk": profile["pk"], "sk": profile["sk"]})
    dlq = _queue_url(local_stack, "svc-tiers_payant-dlq")
    drain_queue(local_stack, "svc-tiers_payant-dlq")
    dead: list[dict[str, Any]] = []
    deadline = time.monotonic() + 40
    while not dead and time.monotonic() < deadline:
        pump.pump_once()
        dead = local_stack.client("sqs").receive_message(QueueUrl=dlq).get("Messages", [])
        time.sleep(0.3)
    dynamo.put_item(TableName=table, Item=profile)
    assert [json.loads(m["Body"])["request_id"] for m in dead] == [request_id]
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["status"] == "in_progress"
    assert detail["history"][-1]["label"].startswith("Traitement automatique interrompu")
    listed = api.get("/backoffice/services/tiers_payant/requests", agent_all).body["requests"]
    assert listed[0]["request_id"] == request_id
    assert listed[0]["needs_attention"] is True


def test_a_process_dying_between_the_write_and_the_send_loses_nothing(
    api: Api, local_stack: LocalStack, pump: QueuePump, alice: SignedIn
) -> None:
    """The request is written (pending), the process dies before sending: the sweeper sends."""
    from chalicelib.domain.requests import new_record, parse_new_request
    from chalicelib.routing.sweeper import sweep_pending
    from chalicelib.services.filing import daily_limit
    from chalicelib.store.members import MemberRepository
    from chalicelib.store.requests import RequestRepository

    sweep_pending(datetime.now(UTC) + timedelta(minutes=2))
    pump.drain()
    now = datetime.now(UTC)
    filed = []
    for _ in range(3):
        body = {
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
        }
        people = MemberRepository().beneficiaries(alice.member_id or "")
        record = new_record(
            parse_new_request(body, now.date()), alice.member_id or "", people[:1], now
        )
        limit = daily_limit("requests", 30, now)
        commit = RequestRepository().prepare_create(record, now, limit=limit)
        commit()  # ...and the process dies here
        filed.append(record.request_id)
    assert sweep_pending(now + timedelta(minutes=2)) == 3
    pump.drain()
    routed = [api.get(f"/requests/{r}", alice).body for r in filed]
    assert [d["status"] for d in routed] == ["processed"] * 3
    assert all(len(d["documents"]) == 1 for d in routed)


def _throttled(operation: str, times: int | None) -> Any:
    """A botocore hook answering `operation` with DynamoDB throttling, `times` times (or always)."""
    calls = {"n": 0}

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if operation not in request.headers.get("X-Amz-Target", b"").decode():
            return None
        if times is not None and calls["n"] >= times:
            return None
        calls["n"] += 1
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "slow down",
            }
        ).encode()
        return AWSResponse(
            request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body)
        )

    answer.calls = calls  # type: ignore[attr-defined]
    return answer


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


def test_throttling_within_the_retry_budget_is_absorbed_then_503_with_nothing_half_done(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    from chalicelib import aws

    events = aws.client("dynamodb").meta.events
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    twice = _throttled("TransactWriteItems", 2)
    events.register_first("before-send.dynamodb", twice)
    try:
        assert api.post("/requests", alice, body=body).status == 201
    finally:
        events.unregister("before-send.dynamodb", twice)
    assert twice.calls["n"] == 2
    before = count_items(local_stack, alice.member_id or "")
    always = _throttled("TransactWriteItems", None)
    events.register_first("before-send.dynamodb", always)
    try:
        answer = api.post("/requests", alice, body=body)
    finally:
        events.unregister("before-send.dynamodb", always)
    assert (answer.status, answer.body["error"]["code"]) == (503, "service_unavailable")
    assert int(answer.headers["Retry-After"]) >= 1
    assert count_items(local_stack, alice.member_id or "") == before


def test_s3_down_while_copying_is_503_and_no_request_is_created(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    from chalicelib import aws

    upload_id = upload(api, alice, PDF_BYTES)
    items = count_items(local_stack, alice.member_id or "")
    objects = count_objects(local_stack, "requests/")

    def down(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(
            request.url, 503, {}, _Raw(b"<Error><Code>ServiceUnavailable</Code></Error>")
        )

    events = aws.client("s3").meta.events
    events.register_first("before-send.s3.CopyObject", down)
    try:
        answer = api.post(
            "/requests",
            alice,
            body={
                "type": "sante.justificatif",
                "beneficiary_ids": [f"{alice.member_id}-01"],
                "upload_ids": [upload_id],
                "data": {"care_date": TODAY, "amount": "10.00", "care_type": "pharmacie"},
            },
        )
    finally:
        events.unregister("before-send.s3.CopyObject", down)
    assert (answer.status, answer.body["error"]["code"]) == (503, "service_unavailable")
    assert count_items(local_stack, alice.member_id or "") == items
    assert count_objects(local_stack, "requests/") == objects
    assert count_objects(local_stack, f"uploads/{alice.member_id}/{upload_id}") == 1  # retry later


def test_presign_failing_is_503(
    api: Api, local_stack: LocalStack, alice: SignedIn, monkeypatch: Any
) -> None:
    from botocore.exceptions import NoCredentialsError

    from chalicelib import aws

    items = count_items(local_stack, alice.member_id or "")

    def no_credentials(*_: Any, **__: Any) -> Any:
        raise NoCredentialsError()

    monkeypatch.setattr(aws.client("s3"), "generate_presigned_post", no_credentials)
    answer = api.post(
        "/uploads", alice, body={"filename": "a.pdf", "content_type": "application/pdf", "size": 9}
    )
    assert (answer.status, answer.body["error"]["code"]) == (503, "service_unavailable")
    assert count_items(local_stack, alice.member_id or "") == items
