"""Two actors on one request at once: each interleaving is forced (a step patched to let the
other call run to its end first), and the end state must stay whole: no member's file lost,
every closed request's files on the purge's list, the work lists on the request's own service,
every answer said delivered, no question on a request being decided."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest
import requests

from chalicelib.domain import clock
from chalicelib.domain.requests import RequestPointer
from chalicelib.store.requests import Transitions
from chalicelib.store.unit_of_work import unit_of_work
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import (
    PDF_BYTES,
    Answer,
    Api,
    SignedIn,
    drain_queue,
    file_justificatif,
    upload,
)


def _in_another_thread(call: Callable[[], Any]) -> Any:
    """`call` run to its end on a thread of its own (its own request context), its result."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(call()))
    thread.start()
    thread.join()
    return done[0]


@contextmanager
def first_transaction_waits_for(call: Callable[[], Any], containing: str) -> Iterator[list[Any]]:
    """The first DynamoDB transaction whose body names `containing` waits, before it is sent,
    for `call` to run to its end (its answer in the list yielded): the other call wins."""
    from chalicelib import aws

    answers: list[Any] = []

    def hook(request: Any, **_: Any) -> None:
        target = str(request.headers.get("X-Amz-Target", b"").decode())
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if target.endswith(".TransactWriteItems") and containing in body and not answers:
            answers.append(None)  # taken: the other call's own transaction passes
            answers[0] = _in_another_thread(call)

    events = aws.client("dynamodb").meta.events
    events.register_first("before-send.dynamodb", hook)
    try:
        yield answers
    finally:
        events.unregister("before-send.dynamodb", hook)


def _attachment_fetched(api: Api, who: SignedIn, request_id: str, attachment_id: str) -> bytes:
    link = api.get(f"/requests/{request_id}/attachments/{attachment_id}", who)
    assert link.status == 200, link.body
    got = requests.get(link.body["url"], timeout=10)
    assert got.status_code == 200
    return got.content


@pytest.mark.parametrize("key", [None, "tab-2"], ids=["no key", "same key"])
def test_the_same_reply_sent_twice_at_once_keeps_its_file(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, today: date,
    key: str | None,
) -> None:  # fmt: skip
    """Both calls copy the file to the same key (the request's and the upload's ids); the one
    whose write loses used to remove it, and the kept reply listed a file that was gone."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    upload_id = upload(api, alice, PDF_BYTES)
    reply = {"message": "La voici.", "upload_ids": [upload_id]}
    headers = {"Idempotency-Key": key} if key else {}
    path = f"/requests/{request_id}/replies"

    def again() -> Answer:
        return api.post(path, alice, body=reply, headers=headers)

    with first_transaction_waits_for(again, upload_id) as other:
        answer = api.post(path, alice, body=reply, headers=headers)
    [winner] = other
    assert winner.status == 201, winner.body
    if key:
        assert answer.status == 201 and answer.headers["Idempotent-Replayed"] == "true"
    else:
        assert answer.status == 422 and "déjà utilisée" in str(answer.body)
    detail = api.get(f"/requests/{request_id}", alice).body
    assert [m["attachment_ids"] for m in detail["messages"]] == [[upload_id]]
    assert _attachment_fetched(api, alice, request_id, upload_id) == PDF_BYTES
    pump.drain()  # the router removes the staged upload: the request's copy is the only one
    assert _attachment_fetched(api, alice, request_id, upload_id) == PDF_BYTES


def _file_autre(api: Api, who: SignedIn) -> str:
    """A démarche with no file, on which no question was asked."""
    body = {"type": "vie.autre", "beneficiary_ids": [f"{who.member_id}-01"],
            "description": "Une question sur mon contrat.", "data": {}}  # fmt: skip
    filed = api.post("/requests", who, body=body)
    assert filed.status == 201, filed.body
    return str(filed.body["request_id"])


def _purge_entries(stack: LocalStack, member_id: str, request_id: str) -> list[str]:
    """What the retention purge will delete for the request (`PURGE#<day>` entries): their kinds."""
    from chalicelib.store.dynamo import deserialize

    table = stack.client("dynamodb")
    found = []
    for page in table.get_paginator("scan").paginate(
        TableName=stack.outputs["TableName"],
        FilterExpression="begins_with(pk, :purge) AND request_id = :request",
        ExpressionAttributeValues={":purge": {"S": "PURGE#"}, ":request": {"S": request_id}},
    ):
        found += [str(deserialize(item)["what"]) for item in page["Items"]]
    return sorted(found)


@pytest.mark.parametrize("closing", ["withdrawal", "decision"])
def test_a_file_replied_while_the_request_closes_is_purged_with_it(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, agent_all: SignedIn,
    closing: str,
) -> None:  # fmt: skip
    """A request with no file closes; between its read and its write, the member's reply with
    a file lands. The request closes listing it: the file is on the 90 days' purge list."""
    request_id = _file_autre(api, alice)
    pump.drain()
    upload_id = upload(api, alice, PDF_BYTES)
    replies: list[Answer] = []
    step = "withdraw" if closing == "withdrawal" else "claim_decision"
    real = getattr(Transitions, step)

    def reply_lands_first(self: Transitions, record: Any, *args: Any, **kwargs: Any) -> Any:
        if not replies:
            body = {"message": "Voici le document.", "upload_ids": [upload_id]}
            path = f"/requests/{request_id}/replies"
            replies.append(_in_another_thread(lambda: api.post(path, alice, body=body)))
        return real(self, record, *args, **kwargs)

    with mock.patch.object(Transitions, step, reply_lands_first):
        if closing == "withdrawal":
            closed = api.post(f"/requests/{request_id}/withdrawal", alice, body={})
        else:
            path = f"/backoffice/members/{alice.member_id}/requests/{request_id}/decision"
            closed = api.post(path, agent_all, body={"outcome": "accepted", "message": "Voici."})
    assert replies[0].status == 201 and closed.status == 200, (replies[0].body, closed.body)
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["status"] in {"withdrawn", "processed"}
    assert [a["attachment_id"] for a in detail["attachments"]] == [upload_id]
    assert "attachments" in _purge_entries(local_stack, alice.member_id, request_id)


def _asked_for_a_day(
    api: Api, pump: QueuePump, who: SignedIn, agent: SignedIn, today: date
) -> tuple[str, str]:
    """A reimbursement filed and routed, then a question due the next day: its id, and its
    back-office path."""
    request_id = file_justificatif(api, who, today)
    pump.drain()
    base = f"/backoffice/members/{who.member_id}/requests/{request_id}"
    question = {"message": "La facture ?", "respond_within_days": 1}
    assert api.post(f"{base}/information-request", agent, body=question).status == 200
    pump.drain()
    return request_id, base


def _lists_holding(api: Api, agent: SignedIn, request_id: str) -> set[str]:
    held = set()
    for service in ("remboursements", "devis"):
        for state in ("open", "waiting"):
            page = api.get(f"/backoffice/services/{service}/requests?state={state}", agent).body
            if request_id in [r["request_id"] for r in page["requests"]]:
                held.add(f"{service}/{state}")
    return held


def test_the_watch_leaves_a_question_handed_on_meanwhile_to_its_new_service(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, agent_all: SignedIn,
    today: date,
) -> None:  # fmt: skip
    """The daily watch read a page of overdue questions; before its write, an agent handed the
    request on to another service. The watch's write put it back on the first service's open
    list, where it no longer belongs (and on none of the new service's)."""
    from chalicelib.services.dialogue import watch_unanswered

    request_id, base = _asked_for_a_day(api, pump, alice, agent_all, today)
    real = Transitions.unanswered
    moved: list[int] = []

    def handed_on_first(self: Transitions, record: Any, label: str, now: Any) -> bool:
        if record.request_id == request_id and not moved:
            answer = api.post(f"{base}/reclassification", agent_all, body={"service": "devis"})
            moved.append(answer.status)
            pump.drain()
        return real(self, record, label, now)

    with mock.patch.object(Transitions, "unanswered", handed_on_first):
        watch_unanswered(unit_of_work(), clock.now() + timedelta(days=3))
    assert moved == [200]
    pump.drain()
    record = unit_of_work().requests.get(alice.member_id, request_id, consistent=True)
    assert record.service == "devis"
    assert _lists_holding(api, agent_all, request_id) == {f"devis/{_list_of(record)}"}


def _list_of(record: Any) -> str:
    return "waiting" if record.status.value == "waiting_for_member" else "open"


def test_two_answers_delivered_at_overlapping_moments_are_each_said_delivered(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, today: date
) -> None:
    """The service's handler for the first answer read the request before the second answer
    came; the handler for the second read both. The first wrote first: the second's write was
    refused (one of its answers already said), and the second answer was never said delivered."""
    from chalicelib.services.dispatching import dispatch
    from chalicelib.services.serving import serve

    request_id = file_justificatif(api, alice, today)
    pump.drain()

    def replied(text: str) -> None:
        answer = api.post(f"/requests/{request_id}/replies", alice, body={"message": text})
        assert answer.status == 201, answer.body
        # What the router does with the reply's pointer, the service's queue left to the test.
        dispatch(unit_of_work(), alice.member_id, request_id, clock.now())
        for queue in ("intake", f"svc-{_service(request_id, alice)}", "notifications"):
            drain_queue(local_stack, queue)

    replied("Première réponse.")
    pointer = RequestPointer(request_id=request_id, member_id=alice.member_id)
    real = Transitions.deliver_replies
    first = threading.local()
    second_at_its_write, first_written = threading.Event(), threading.Event()

    def overlapping(self: Transitions, record: Any, ids: set[str], label: str, now: Any) -> bool:
        if not getattr(first, "handler", False):  # the second handler: it writes second
            second_at_its_write.set()
            assert first_written.wait(30)
            return real(self, record, ids, label, now)
        # The first handler read one answer; the second lands and its handler reads both.
        replied("Seconde réponse.")
        second = threading.Thread(target=lambda: serve(unit_of_work(), pointer, clock.now()))
        second.start()
        assert second_at_its_write.wait(30)
        try:
            return real(self, record, ids, label, now)
        finally:
            first_written.set()
            second.join()

    with mock.patch.object(Transitions, "deliver_replies", overlapping):
        first.handler = True
        serve(unit_of_work(), pointer, clock.now())
    record = unit_of_work().requests.get(alice.member_id, request_id, consistent=True)
    answers = {m.message_id for m in record.messages if m.author.value == "member"}
    assert len(answers) == 2
    assert record.replies_delivered == answers
    said = [h.label for h in record.history if h.label.startswith("Réponse transmise")]
    assert len(said) == 2  # each handler said the answer it brought, once


def _service(request_id: str, who: SignedIn) -> str:
    return unit_of_work().requests.get(who.member_id, request_id, consistent=True).service


def _while_a_decision_is_made(
    api: Api, member: SignedIn, agent: SignedIn, request_id: str, action: str, body: Any
) -> Answer:
    """An agent's `action` on the request made while another's decision, its outcome claimed,
    is closing it (`Transitions.finish`): the decision succeeds, the action is refused (409),
    and its answer is returned."""
    base = f"/backoffice/members/{member.member_id}/requests/{request_id}"
    real = Transitions.finish
    meanwhile: list[Answer] = []

    def acted_meanwhile(self: Transitions, record: Any, *args: Any, **kwargs: Any) -> Any:
        meanwhile.append(api.post(f"{base}/{action}", agent, body=body))
        return real(self, record, *args, **kwargs)

    with mock.patch.object(Transitions, "finish", acted_meanwhile):
        decided = api.post(f"{base}/decision", agent,
                           body={"outcome": "accepted", "amount": "50.00"})  # fmt: skip
    assert decided.status == 200, decided.body
    assert meanwhile[0].status == 409, meanwhile[0].body
    return meanwhile[0]


def test_no_question_on_a_request_whose_decision_is_under_way(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date
) -> None:
    """The decision claimed its outcome and is closing the request; another agent's question
    at that moment was accepted, and the member got « Demande de pièces complémentaires » with
    a deadline for a request accepted the next second."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    question = {"message": "Merci d'envoyer la facture."}
    asked = _while_a_decision_is_made(
        api, alice, agent_all, request_id, "information-request", question
    )
    assert "Une décision est en cours" in asked.body["error"]["message"]
    pump.drain()
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["status"] == "processed" and detail["information_request"] is None
    assert [m["author"] for m in detail["messages"]] == []
    titles = [d["title"] for d in api.get("/documents?months=1", alice).body["documents"]
              if d["request_id"] == request_id]  # fmt: skip
    assert "Demande de pièces complémentaires" not in titles
    # A refused question leaves no trace in the member's « Qui a consulté mon dossier ».
    log = api.get("/me/access-log?limit=50", alice).body["entries"]
    asked = [e for e in log if e.get("request_id") == request_id and e["action"] == "asked"]
    assert asked == []


@pytest.mark.parametrize(
    "handed_on", [{"complaint": True}, {"service": "devis"}], ids=["made a complaint", "to devis"]
)
def test_a_request_handed_on_while_its_service_acknowledges_it_is_the_new_services(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date,
    handed_on: dict[str, Any],
) -> None:  # fmt: skip
    """The first service's handler read the new request; before its acknowledgement, an agent
    made it a complaint (or handed it to Devis). The old service's acknowledgement landed on the
    request as it now was: the complaint's acknowledgement then found it acknowledged, and its
    two months (`due_at`) were never set, nor watched."""
    request_id = file_justificatif(api, alice, today)
    base = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    real = Transitions.acknowledge
    moved: list[Answer] = []

    def handed_on_first(self: Transitions, record: Any, label: str, now: Any, **extra: Any) -> bool:
        if not moved:
            path = f"{base}/reclassification"
            moved.append(_in_another_thread(lambda: api.post(path, agent_all, body=handed_on)))
        return real(self, record, label, now, **extra)

    with mock.patch.object(Transitions, "acknowledge", handed_on_first):
        pump.drain()
    assert moved[0].status == 200, moved[0].body
    pump.drain()
    record = unit_of_work().requests.get(alice.member_id, request_id, consistent=True)
    labels = [h.label for h in record.history]
    if handed_on.get("complaint"):
        assert record.due_at is not None and record.acknowledged_at is not None
        assert "Réclamation enregistrée, accusé de réception envoyé" in labels
    else:
        assert record.service == "devis" and labels[-1] == "Reçue par le Service Devis", labels


def test_a_reply_as_the_watch_flags_its_question_unanswered_keeps_the_request_at_the_head(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, agent_all: SignedIn,
    today: date,
) -> None:  # fmt: skip
    """The member's reply read the request waiting; before its write, the daily watch marked
    the question unanswered (the head of the open list). The reply put it back in line, still
    saying « sans réponse »: its place came from the flags it had read."""
    from chalicelib.services.dialogue import watch_unanswered
    from chalicelib.store import keys
    from chalicelib.store.dynamo import deserialize
    from chalicelib.store.requests import RequestRepository, priority

    request_id, _ = _asked_for_a_day(api, pump, alice, agent_all, today)
    real = RequestRepository.prepare_reply
    flagged: list[int] = []

    def watch_first(self: RequestRepository, record: Any, *args: Any, **kwargs: Any) -> Any:
        commit = real(self, record, *args, **kwargs)  # built on the request as read

        def flagged_then_written() -> Any:
            if not flagged:
                later = clock.now() + timedelta(days=3)
                flagged.append(_in_another_thread(lambda: watch_unanswered(unit_of_work(), later)))
            return commit()

        return flagged_then_written

    with mock.patch.object(RequestRepository, "prepare_reply", watch_first):
        answer = api.post(f"/requests/{request_id}/replies", alice, body={"message": "La voici."})
    assert flagged == [1] and answer.status == 201, answer.body
    record = unit_of_work().requests.get(alice.member_id, request_id, consistent=True)
    assert record.unanswered and record.status.value == "in_progress"
    key = {
        k: {"S": v} for k, v in keys.request_key(alice.member_id, record.month, request_id).items()
    }
    table = local_stack.outputs["TableName"]
    read = local_stack.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)
    item = deserialize(read["Item"])
    assert item["svc_sk"].startswith(f"{priority(record)}#") and priority(record) == "0"


def test_no_reclassification_recorded_while_a_decision_is_under_way(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date
) -> None:
    """Refused (409: the decision completes where it is), the reclassification was still in
    the member's access log: the refusal came after the access was recorded."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    moved = _while_a_decision_is_made(
        api, alice, agent_all, request_id, "reclassification", {"service": "devis"}
    )
    assert "Une décision est en cours" in moved.body["error"]["message"]
    log = api.get("/me/access-log?limit=50", alice).body["entries"]
    assert [e["action"] for e in log if e.get("request_id") == request_id].count("decided") == 1
    assert not [e for e in log if e.get("request_id") == request_id and e["action"] != "decided"
                and e["action"] != "consulted"]  # fmt: skip
