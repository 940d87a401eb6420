"""The dialogue through the HTTP API and the queue handlers: ask, answer, withdraw, contest,
hand on; every refusal (409, 403) and the races a real queue brings."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from datetime import date
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import (
    PDF_BYTES,
    Api,
    SignedIn,
    _sign_up,
    aws_calls_made,
    drain_queue,
    file_justificatif,
    upload,
)


def _backoffice(who: SignedIn, request_id: str, action: str = "") -> str:
    path = f"/backoffice/members/{who.member_id}/requests/{request_id}"
    return f"{path}/{action}" if action else path


def _ask(api: Api, agent: SignedIn, who: SignedIn, request_id: str, **body: Any) -> Any:
    body = {"message": "Merci d'envoyer la facture détaillée.", **body}
    return api.post(_backoffice(who, request_id, "information-request"), agent, body=body)


def test_the_service_asks_the_member_answers_and_the_service_sees_it_once(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    asked = _ask(api, agent, alice, request_id, respond_within_days=10)
    assert asked.status == 200, asked.body
    assert asked.body["status"] == "waiting_for_member"
    assert asked.body["history"][-1]["agent_id"]  # the back office sees who asked

    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["status"] == "waiting_for_member"
    assert detail["information_request"]["message"] == "Merci d'envoyer la facture détaillée."
    assert "agent_id" not in json.dumps(detail)  # the member never sees who
    pump.drain()  # the service's handler renders the letter the question owes
    assert [d["title"] for d in api.get("/documents?months=1", alice).body["documents"]] == [
        "Demande de pièces complémentaires"
    ]
    timeline = api.get("/requests", alice).body["months"][0]["requests"]
    assert [r["status"] for r in timeline if r["request_id"] == request_id] == [
        "waiting_for_member"
    ]
    waiting = api.get("/backoffice/services/remboursements/requests?state=waiting", agent).body
    assert request_id in [r["request_id"] for r in waiting["requests"]]

    reply = {
        "message": "Voici la facture détaillée.",
        "upload_ids": [upload(api, alice, PDF_BYTES)],
    }
    key = {"Idempotency-Key": f"reply-{request_id}"}
    answered = api.post(f"/requests/{request_id}/replies", alice, body=reply, headers=key)
    assert answered.status == 201, answered.body
    assert answered.body["status"] == "in_progress"
    assert answered.body["information_request"] is None
    again = api.post(f"/requests/{request_id}/replies", alice, body=reply, headers=key)
    assert (again.status, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert len(again.body["messages"]) == 2
    attachment = answered.body["messages"][1]["attachment_ids"][0]
    assert api.get(f"/requests/{request_id}/attachments/{attachment}", alice).status == 200

    pump.drain()
    history = [h["label"] for h in api.get(f"/requests/{request_id}", alice).body["history"]]
    assert history.count("Réponse transmise au Service Remboursements") == 1
    assert [h["by"] for h in api.get(f"/requests/{request_id}", alice).body["history"]][:2] == [
        "member",
        "system",
    ]


def test_asking_or_answering_a_closed_request_is_a_conflict(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    decided = api.post(
        _backoffice(alice, request_id, "decision"),
        agent,
        body={"outcome": "refused", "message": "Facture illisible."},
    )
    assert decided.status == 200, decided.body
    assert _ask(api, agent, alice, request_id).status == 409
    reply = api.post(f"/requests/{request_id}/replies", alice, body={"message": "Et alors ?"})
    assert reply.status == 409
    withdrawal = api.post(f"/requests/{request_id}/withdrawal", alice, body={})
    assert withdrawal.status == 409
    for wrong in ({"respond_within_days": 0}, {"respond_within_days": 61}, {"message": ""}):
        assert _ask(api, agent, alice, request_id, **wrong).status == 422


def test_an_agents_numbers_and_flags_are_json_ones_and_refused_in_french(
    api: Api, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """`true` gave the member one day to answer, "7" seven, and `{"complaint": "yes"}` made a
    complaint: each is a 422 naming its field, worded as every field error."""
    request_id = file_justificatif(api, alice, today)
    expected = {
        True: "Nombre entier attendu.",
        "7": "Nombre entier attendu.",
        1.5: "Nombre entier attendu.",
        0: "Doit être au moins 1.",
        61: "Doit être au plus 60.",
    }
    for days, message in expected.items():
        answer = _ask(api, agent, alice, request_id, respond_within_days=days)
        assert answer.status == 422, (days, answer.body)
        assert answer.body["error"]["fields"] == [
            {"field": "respond_within_days", "message": message}
        ]
    for flag in ("yes", 1):
        moved = api.post(
            _backoffice(alice, request_id, "reclassification"), agent, body={"complaint": flag}
        )
        assert moved.status == 422, (flag, moved.body)
        assert [f["field"] for f in moved.body["error"]["fields"]] == ["complaint"]
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["status"], detail["complaint"]) == ("in_progress", False)


def test_the_same_question_asked_twice_at_once_is_asked_once(
    api: Api, pump: QueuePump, alice: SignedIn, today: date
) -> None:
    """Two calls of the agent's (a double click, a retry after a timeout) that both read the
    request before either wrote: one question, one letter (on paper for a member who is not
    paperless), and the second call answers as a retry, not a conflict."""
    from chalicelib.domain import clock
    from chalicelib.services import dialogue
    from chalicelib.store.unit_of_work import unit_of_work

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    uow = unit_of_work()
    seen = uow.requests.get(alice.member_id or "", request_id)  # what both calls read
    body = dialogue.InformationRequestBody(message="Merci d'envoyer la facture détaillée.")
    for _ in range(2):
        dialogue.ask(uow, seen, body, clock.now(), "agent-1")
    pump.drain()
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["status"] == "waiting_for_member"
    titles = [d["title"] for d in api.get("/documents?months=1", alice).body["documents"]]
    questions = [m for m in detail["messages"] if m["author"] == "service"]
    assert (len(questions), titles.count("Demande de pièces complémentaires")) == (1, 1)
    # Another question while it waits is still asked (the condition is the same question's).
    other = dialogue.InformationRequestBody(message="Et le RIB, svp.")
    dialogue.ask(uow, seen, other, clock.now(), "agent-1")
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["information_request"]["message"] == "Et le RIB, svp."


def test_the_same_reclassification_made_twice_at_once_moves_the_request_once(
    api: Api, pump: QueuePump, alice: SignedIn, today: date
) -> None:
    """Two calls of the agent's (a double click) that both read the request before either
    wrote: the second's write finds the request no longer on the service it read, and it
    answered 409 « Cette demande est déjà traitée. » for an open request, moved as it asked.
    It now answers as a retry: the request moved once, to where both asked."""
    from chalicelib.domain import clock
    from chalicelib.services import dialogue
    from chalicelib.store.unit_of_work import unit_of_work

    uow = unit_of_work()
    for wanted, service in (({"service": "devis"}, "devis"), ({"complaint": True}, "reclamations")):
        request_id = file_justificatif(api, alice, today)
        pump.drain()
        seen = uow.requests.get(alice.member_id or "", request_id)  # what both calls read
        body = dialogue.ReclassificationBody.model_validate(wanted)
        answers = [dialogue.reclassify(uow, seen, body, clock.now(), "agent-1") for _ in range(2)]
        assert [a.service for a in answers] == [service, service]
        assert answers[1].history == answers[0].history
        pump.drain()
        detail = api.get(f"/requests/{request_id}", alice).body
        assert detail["service"] == service
        moves = [
            h for h in detail["history"] if h["label"].startswith(("Réorientée", "Requalifiée"))
        ]
        assert len(moves) == 1


def _decided_undelivered(
    api: Api, pump: QueuePump, stack: LocalStack, who: SignedIn, agent: SignedIn, today: date
) -> tuple[str, str]:
    """A reimbursement filed and accepted by an agent, its pointer taken off the service's
    queue (the test delivers it): the request's id and its owed letter's."""
    request_id = file_justificatif(api, who, today)
    pump.drain()
    decided = api.post(_backoffice(who, request_id, "decision"), agent,
                       body={"outcome": "accepted", "amount": "80.00"})  # fmt: skip
    assert decided.status == 200, decided.body
    drain_queue(stack, "svc-remboursements")
    return request_id, decided.body["letter"]["document_id"]


def _delivery(
    pointer: Any, errors: list[BaseException], done: threading.Event | None = None
) -> threading.Thread:
    """A delivery of the pointer to its service's handler, in a thread the caller starts: what
    it raises goes to `errors` (each test asserts them), and `done` is set when it ends."""
    from chalicelib.domain import clock
    from chalicelib.services.serving import serve
    from chalicelib.store.unit_of_work import unit_of_work

    def deliver() -> None:
        try:
            serve(unit_of_work(), pointer, clock.now())
        except BaseException as error:
            errors.append(error)
        finally:
            if done is not None:
                done.set()

    return threading.Thread(target=deliver)


def test_two_deliveries_of_a_decisions_pointer_at_once_keep_its_letter(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decision's pointer delivered twice at once (SQS at least once, or a dispatch
    sending it again): both handlers render the owed letter under its fixed id and put its
    PDF; the one whose write loses on the letter's guard removed the object under that key,
    the letter kept's, and the member's download found nothing."""
    from chalicelib.domain.requests import RequestPointer, month_of
    from chalicelib.store import files as files_module
    from chalicelib.store import keys

    request_id, letter_id = _decided_undelivered(api, pump, local_stack, alice, agent, today)
    both_put = threading.Barrier(2, timeout=30)
    original_put = files_module.FileStore.put

    def put(self: Any, key: str, body: bytes, content_type: str, name: str | None = None,
            **condition: str) -> None:  # fmt: skip
        try:
            original_put(self, key, body, content_type, name, **condition)
        finally:  # the second's is refused (written once): it reads the first's back
            if key.endswith(f"{letter_id}.pdf"):
                both_put.wait()  # both past the guard's read, each with its PDF put

    monkeypatch.setattr(files_module.FileStore, "put", put)
    pointer = RequestPointer(request_id=request_id, member_id=alice.member_id or "")
    errors: list[BaseException] = []
    deliveries = [_delivery(pointer, errors) for _ in range(2)]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join()
    monkeypatch.undo()
    assert errors == []
    listed = [d["document_id"] for d in api.get("/documents?months=1", alice).body["documents"]]
    assert listed.count(letter_id) == 1
    link = api.get(f"/documents/{letter_id}/download", alice)
    assert link.status == 200, link.body
    assert requests.get(link.body["url"], timeout=30).status_code == 200
    key = keys.document_object(alice.member_id or "", month_of(letter_id), letter_id)
    found = local_stack.client("s3").list_objects_v2(
        Bucket=local_stack.outputs["BucketName"], Prefix=key
    )
    assert found.get("KeyCount", 0) == 1


def _downloaded(api: Api, who: SignedIn, document_id: str) -> bytes:
    """The bytes a member's download of the document gets."""
    link = api.get(f"/documents/{document_id}/download", who)
    assert link.status == 200, link.body
    answer = requests.get(link.body["url"], timeout=30)
    assert answer.status_code == 200
    return answer.content


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _moved(member_id: str) -> str:
    """The member's postal address changes (a change of contact details applied): a letter
    rendered from now on is not the same bytes. The new first line."""
    from chalicelib.store.unit_of_work import unit_of_work

    members = unit_of_work().members
    address = members.get(member_id).postal_address.model_dump(mode="json")
    members.apply_contact(member_id, {"postal_address": {**address, "line1": "4 rue Oberkampf"}})
    return "4 rue Oberkampf"


def test_two_deliveries_rendering_a_letter_differently_store_the_pdf_its_item_describes(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decision's pointer delivered twice at once, the member's address changed between
    the two renders: the later `PutObject` replaced the earlier's bytes under the letter's
    fixed key, while its item kept the sha256 of the delivery that won the letter's guard,
    the earlier. The member downloaded a PDF its item does not describe. (The same letter
    renders to the same bytes, `tests/letters`: only what it is rendered from can differ.)"""
    from chalicelib.domain.requests import RequestPointer
    from chalicelib.store import files as files_module
    from chalicelib.store.unit_of_work import unit_of_work

    member_id = alice.member_id or ""
    request_id, letter_id = _decided_undelivered(api, pump, local_stack, alice, agent, today)
    first_put, second_put, first_done = threading.Event(), threading.Event(), threading.Event()
    original_put = files_module.FileStore.put

    def put(self: Any, key: str, body: bytes, content_type: str, name: str | None = None,
            **condition: str) -> None:  # fmt: skip
        try:
            original_put(self, key, body, content_type, name, **condition)
        finally:
            if key.endswith(f"{letter_id}.pdf") and not first_put.is_set():
                first_put.set()  # the first's PDF is put: the address changes, the second runs
                assert second_put.wait(30)
            elif key.endswith(f"{letter_id}.pdf"):
                second_put.set()  # the second's put made: it writes its item once the first's
                assert first_done.wait(30)  # is written (the first wins the letter's guard)

    monkeypatch.setattr(files_module.FileStore, "put", put)
    pointer = RequestPointer(request_id=request_id, member_id=member_id)
    errors: list[BaseException] = []
    first = _delivery(pointer, errors, first_done)
    first.start()
    assert first_put.wait(30)
    moved_to = _moved(member_id)
    second = _delivery(pointer, errors)
    second.start()
    first.join()
    second.join()
    monkeypatch.undo()
    assert errors == []
    record = unit_of_work().documents.get(member_id, letter_id)
    pdf = _downloaded(api, alice, letter_id)
    assert (hashlib.sha256(pdf).hexdigest(), len(pdf)) == (record.sha256, record.size)
    assert moved_to not in _text(pdf)  # the letter as first rendered, which the item describes


def test_a_letter_whose_delivery_died_after_its_pdf_is_issued_from_that_pdf(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A delivery that dies between the owed letter's PDF and its item leaves the PDF under
    the letter's fixed key, which is written once: the redelivery takes it over (its item
    describes it) rather than being refused for ever."""
    from chalicelib.domain import clock
    from chalicelib.domain.requests import RequestPointer
    from chalicelib.services.serving import serve
    from chalicelib.store import files as files_module
    from chalicelib.store.unit_of_work import unit_of_work

    member_id = alice.member_id or ""
    request_id, letter_id = _decided_undelivered(api, pump, local_stack, alice, agent, today)
    original_put = files_module.FileStore.put

    def put(self: Any, key: str, body: bytes, content_type: str, name: str | None = None,
            **condition: str) -> None:  # fmt: skip
        original_put(self, key, body, content_type, name, **condition)
        raise TimeoutError("the function's time is up")

    monkeypatch.setattr(files_module.FileStore, "put", put)
    pointer = RequestPointer(request_id=request_id, member_id=member_id)
    with pytest.raises(TimeoutError):
        serve(unit_of_work(), pointer, clock.now())
    monkeypatch.undo()
    moved_to = _moved(member_id)
    serve(unit_of_work(), pointer, clock.now())  # the redelivery

    listed = [d["document_id"] for d in api.get("/documents?months=1", alice).body["documents"]]
    assert listed == [letter_id]
    record = unit_of_work().documents.get(member_id, letter_id)
    pdf = _downloaded(api, alice, letter_id)
    assert (hashlib.sha256(pdf).hexdigest(), len(pdf)) == (record.sha256, record.size)
    assert moved_to not in _text(pdf)  # the PDF the dead attempt left


def test_a_letter_stored_by_one_delivery_keeps_its_pdf_when_the_other_fails(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A question's pointer delivered twice at once, the member withdrawing between the two
    reads of the request: the first delivery's write fails on the request (closed since it
    read it), the second's, which read it closed, stores the letter. The first then deleted
    the PDF under the letter's fixed key: the item of the letter kept, the member's, described
    nothing. (It removed it only when it lost on the letter's guard, not on the request.)"""
    from chalicelib.domain import clock
    from chalicelib.domain.requests import RequestPointer
    from chalicelib.services.serving import serve
    from chalicelib.store import files as files_module
    from chalicelib.store.unit_of_work import unit_of_work

    member_id = alice.member_id or ""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    asked = _ask(api, agent, alice, request_id)
    assert asked.status == 200, asked.body
    (owed,) = unit_of_work().requests.get(member_id, request_id, consistent=True).due_letters()
    letter_id = owed.document_id
    drain_queue(local_stack, "svc-remboursements")  # its two deliveries are made below
    first_put, second_put = threading.Event(), threading.Event()
    first_failed, second_done = threading.Event(), threading.Event()
    original_put, original_delete = files_module.FileStore.put, files_module.FileStore.delete

    def put(self: Any, key: str, body: bytes, content_type: str, name: str | None = None,
            **condition: str) -> None:  # fmt: skip
        try:
            original_put(self, key, body, content_type, name, **condition)
        finally:
            if key.endswith(f"{letter_id}.pdf") and not first_put.is_set():
                first_put.set()  # the member withdraws, then the second delivery runs
                assert second_put.wait(30)
            elif key.endswith(f"{letter_id}.pdf"):
                second_put.set()  # the second writes its item once the first's write failed
                assert first_failed.wait(30)

    def delete(self: Any, keys: list[str]) -> None:
        if any(k.endswith(f"{letter_id}.pdf") for k in keys):
            first_failed.set()  # its write failed: it deletes once the letter is stored
            assert second_done.wait(30)
        original_delete(self, keys)

    monkeypatch.setattr(files_module.FileStore, "put", put)
    monkeypatch.setattr(files_module.FileStore, "delete", delete)
    pointer = RequestPointer(request_id=request_id, member_id=member_id)
    errors: list[BaseException] = []
    first = _delivery(pointer, errors, first_failed)
    first.start()
    assert first_put.wait(30)
    withdrawn = api.post(f"/requests/{request_id}/withdrawal", alice, body={})
    assert withdrawn.status == 200, withdrawn.body
    second = _delivery(pointer, errors, second_done)
    second.start()
    first.join()
    second.join()
    monkeypatch.undo()
    assert [type(e).__name__ for e in errors] == ["TransactionCanceledException"]
    serve(unit_of_work(), pointer, clock.now())  # the first's redelivery: nothing more
    listed = [d["document_id"] for d in api.get("/documents?months=1", alice).body["documents"]]
    assert listed == [letter_id]
    record = unit_of_work().documents.get(member_id, letter_id)
    pdf = _downloaded(api, alice, letter_id)
    assert (hashlib.sha256(pdf).hexdigest(), len(pdf)) == (record.sha256, record.size)


def test_a_change_is_decided_on_the_request_as_it_is(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """The withdrawal and an agent's question, decision and reclassification read the request
    consistently before they change it: a closing schedules the purge of the files a reply
    added a moment before from what it read, and a stale read left them held for ever. (moto
    reads consistently whatever is asked: the calls are checked.)"""
    changes = {
        "withdrawal": ("/requests/{}/withdrawal", alice, {}),
        "question": (_backoffice(alice, "{}", "information-request"), agent, {"message": "?"}),
        "decision": (_backoffice(alice, "{}", "decision"), agent, {"outcome": "accepted",
                                                                  "amount": "10.00"}),
        "reclassification": (_backoffice(alice, "{}", "reclassification"), agent,
                             {"service": "devis"}),
    }  # fmt: skip
    for name, (path, who, body) in changes.items():
        request_id = file_justificatif(api, alice, today)
        pump.drain()
        with aws_calls_made() as calls:
            answer = api.post(path.format(request_id), who, body=body)
        assert answer.status == 200, (name, answer.body)
        reads = [p for n, p in calls if n == "GetItem" and request_id in json.dumps(p)]
        assert reads[0].get("ConsistentRead") is True, name


def test_a_withdrawn_request_leaves_its_work_list_and_its_files_are_closed(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    request_id = file_justificatif(api, alice, today)
    detail = api.get(f"/requests/{request_id}", alice).body
    attachment = detail["attachments"][0]["attachment_id"]
    withdrawn = api.post(f"/requests/{request_id}/withdrawal", alice, body={"reason": "Doublon."})
    assert (withdrawn.status, withdrawn.body["status"]) == (200, "withdrawn")
    again = api.post(f"/requests/{request_id}/withdrawal", alice, body={})
    assert (again.status, again.body) == (200, withdrawn.body)
    pump.drain()  # the service is told, while the handler would have acknowledged it
    after = api.get(f"/requests/{request_id}", alice).body
    assert after["status"] == "withdrawn"
    assert "Reçue par le Service Remboursements" not in [h["label"] for h in after["history"]]
    assert api.get(f"/requests/{request_id}/attachments/{attachment}", alice).status == 409
    lists = {
        state: [r["request_id"] for r in api.get(
            f"/backoffice/services/remboursements/requests?state={state}&limit=100", agent
        ).body["requests"]]
        for state in ("open", "withdrawn")
    }  # fmt: skip
    assert request_id not in lists["open"] and request_id in lists["withdrawn"]
    decided = api.post(
        _backoffice(alice, request_id, "decision"),
        agent,
        body={"outcome": "refused", "message": "Non."},
    )
    assert decided.status == 409
    assert api.post(f"/requests/{request_id}/withdrawal", alice, body={"why": "x"}).status == 400


def test_an_agent_never_acts_on_their_own_file(
    api: Api, pump: QueuePump, local_stack: LocalStack, today: date
) -> None:
    from infra import seed

    member_id = f"C{today.toordinal()}{threading.get_ident() % 1000:03d}"
    seed.seed_member(*seed.claire(today, member_id))
    claire = _sign_up(local_stack, member_id, ("agent-remboursements",))
    request_id = file_justificatif(api, claire, today)
    pump.drain()
    # Nor reads it as an agent: the detail is the same 403, and no access is recorded.
    read = api.get(_backoffice(claire, request_id), claire)
    assert (read.status, read.body["error"]["code"]) == (403, "forbidden")
    assert api.get("/me/access-log", claire).body["entries"] == []
    for action, body in (
        ("decision", {"outcome": "accepted", "amount": "80.00"}),
        ("information-request", {"message": "Un justificatif."}),
        ("reclassification", {"complaint": True}),
    ):
        answer = api.post(_backoffice(claire, request_id, action), claire, body=body)
        assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden"), action
    assert api.get(f"/requests/{request_id}", claire).body["status"] == "in_progress"


def test_an_agent_reclassifies_a_request_as_a_complaint(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, today: date
) -> None:
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    moved = api.post(
        _backoffice(alice, request_id, "reclassification"), agent_all, body={"complaint": True}
    )
    assert moved.status == 200, moved.body
    assert (moved.body["service"], moved.body["complaint"]) == ("reclamations", True)
    assert moved.body["acknowledgement_due_at"]
    pump.drain()
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["label"] == "Réclamation" and detail["due_at"]
    kinds = {d["kind"] for d in api.get("/documents?months=1", alice).body["documents"]}
    assert "accuse_reception_reclamation" in kinds
    wrong = api.post(
        _backoffice(alice, request_id, "reclassification"), agent_all, body={"service": "inconnu"}
    )
    assert wrong.status == 422
    # A complaint stays with the complaints service, whose daily watch keeps its deadlines:
    # moved to another, it would have left that watch's lists (and an agent's retry of the
    # move where it already is is still a success).
    away = api.post(
        _backoffice(alice, request_id, "reclassification"), agent_all, body={"service": "devis"}
    )
    assert away.status == 422, away.body
    assert [e["field"] for e in away.body["error"]["fields"]] == ["service"]
    stays = api.post(
        _backoffice(alice, request_id, "reclassification"),
        agent_all,
        body={"service": "reclamations"},
    )
    assert stays.status == 200, stays.body
    pump.drain()
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["service"], detail["complaint"]) == ("reclamations", True)


def test_a_complaint_contests_one_of_the_members_own_requests(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, agent_all: SignedIn, today: date
) -> None:
    contested = file_justificatif(api, alice, today)
    bobs = file_justificatif(api, bob, today)
    body = {
        "type": "contact.demande",
        "complaint": True,
        "beneficiary_ids": [f"{alice.member_id}-01"],
        "description": "Le remboursement est incomplet.",
        "data": {"subject": "remboursements", "detail": "montant_conteste"},
    }
    filed = api.post("/requests", alice, body={**body, "related_request_id": contested})
    assert filed.status == 201, filed.body
    assert filed.body["related_request_id"] == contested
    for other in (bobs, "01ARZ3NDEKTSV4RRFFQ69G5FAV"):
        refused = api.post("/requests", alice, body={**body, "related_request_id": other})
        assert refused.status == 422
        assert refused.body["error"]["fields"][0]["field"] == "related_request_id"
    pump.drain()
    seen = api.get(_backoffice(alice, filed.body["request_id"]), agent_all).body
    complaint = filed.body["request_id"]
    assert seen["related_request"] == f"{_backoffice(alice, contested)}?complaint={complaint}"


def test_the_complaints_service_reads_the_request_a_complaint_contests(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, bob: SignedIn,
    agent: SignedIn, today: date,
) -> None:  # fmt: skip
    """An agent of the complaints service only, answering a complaint about a refusal, opened
    its `related_request` and the refusal's letter: 403 « Vous n'êtes pas agent de ce
    service. », the decision contested out of their reach. Through the complaint they read
    both, as the complaints service in the member's access log; nothing else opens that way."""
    from tests.conftest import _sign_up

    complaints = _sign_up(local_stack, None, ("agent-reclamations",))
    contested = file_justificatif(api, alice, today)
    other = file_justificatif(api, alice, today)
    pump.drain()
    refusal = {"outcome": "refused", "message": "Le justificatif est illisible."}
    letter = api.post(_backoffice(alice, contested, "decision"), agent, body=refusal).body["letter"]
    pump.drain()
    body = {"type": "contact.demande", "complaint": True, "related_request_id": contested,
            "beneficiary_ids": [f"{alice.member_id}-01"], "description": "Je conteste le refus.",
            "data": {"subject": "remboursements", "detail": "montant_conteste"}}  # fmt: skip
    complaint = api.post("/requests", alice, body=body).body["request_id"]
    pump.drain()
    related = api.get(_backoffice(alice, complaint), complaints).body["related_request"]

    assert api.get(_backoffice(alice, contested), complaints).status == 403  # not on its own
    read = api.get(related, complaints)
    assert read.status == 200, read.body
    assert (read.body["request_id"], read.body["outcome"]) == (contested, "refused")
    download = f"{_backoffice(alice, contested)}/documents/{letter['document_id']}/download"
    assert api.get(f"{download}?complaint={complaint}", complaints).status == 200
    assert api.get(download, complaints).status == 403
    # Only the request the complaint names, of the complaint's member.
    assert api.get(f"{_backoffice(alice, other)}?complaint={complaint}", complaints).status == 403
    bobs = file_justificatif(api, bob, today)
    assert api.get(f"{_backoffice(bob, bobs)}?complaint={complaint}", complaints).status == 404
    assert api.get(f"{_backoffice(alice, contested)}?complaint=x", complaints).status == 422
    log = api.get("/me/access-log", alice).body["entries"]
    assert [(e["service"], e["action"], e["request_id"]) for e in log[:2]] == [
        ("reclamations", "consulted", contested),
        ("reclamations", "consulted", contested),
    ]


def test_the_timeline_filters_on_status_and_type(
    api: Api, pump: QueuePump, alice: SignedIn, today: date
) -> None:
    reimbursement = file_justificatif(api, alice, today)
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    attestation = api.post("/requests", alice, body=body).body["request_id"]
    pump.drain()

    def listed(query: str) -> list[str]:
        answer = api.get(f"/requests?{query}", alice)
        assert answer.status == 200, answer.body
        return [r["request_id"] for m in answer.body["months"] for r in m["requests"]]

    assert listed("status=processed") == [attestation]
    assert listed("status=in_progress") == [reimbursement]
    assert listed("type=sante.justificatif") == [reimbursement]
    assert listed("type=sante.justificatif&status=processed") == []
    for wrong in ("status=done", "type=sante.inconnu"):
        answer = api.get(f"/requests?{wrong}", alice)
        assert answer.status == 422, answer.body


def test_a_reply_and_a_decision_arriving_together_lose_nothing(
    api: Api, http_api: str, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    for _ in range(3):
        request_id = file_justificatif(api, alice, today)
        pump.drain()
        assert _ask(api, agent, alice, request_id).status == 200
        answers: dict[str, int] = {}

        def reply(request_id: str = request_id, answers: dict[str, int] = answers) -> None:
            answers["reply"] = requests.post(
                f"{http_api}/requests/{request_id}/replies",
                headers=alice.headers,
                json={"message": "Voici."},
                timeout=30,
            ).status_code

        def decide(request_id: str = request_id, answers: dict[str, int] = answers) -> None:
            answers["decision"] = requests.post(
                f"{http_api}{_backoffice(alice, request_id, 'decision')}",
                headers=agent.headers,
                json={"outcome": "refused", "message": "Sans réponse."},
                timeout=30,
            ).status_code

        threads = [threading.Thread(target=reply), threading.Thread(target=decide)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        detail = api.get(f"/requests/{request_id}", alice).body
        assert answers["decision"] == 200 and detail["status"] == "processed"
        assert answers["reply"] in (201, 409)
        replied = [m for m in detail["messages"] if m["author"] == "member"]
        assert len(replied) == (1 if answers["reply"] == 201 else 0)


def test_a_reply_delivered_twice_by_sqs_is_seen_once(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, agent: SignedIn,
    today: date,
) -> None:  # fmt: skip
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    assert _ask(api, agent, alice, request_id).status == 200
    assert (
        api.post(f"/requests/{request_id}/replies", alice, body={"message": "Voici."}).status == 201
    )
    sqs = local_stack.client("sqs")
    queue = f"{local_stack.outputs['QueuePrefix']}svc-remboursements"
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    pointer = json.dumps({"request_id": request_id, "member_id": alice.member_id})
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=pointer)
    pump.drain()
    history = [h["label"] for h in api.get(f"/requests/{request_id}", alice).body["history"]]
    assert history.count("Réponse transmise au Service Remboursements") == 1


def test_the_catalogue_publishes_each_state_with_its_label_and_icon(
    api: Api, alice: SignedIn
) -> None:
    statuses = api.get("/catalog", alice).body["statuses"]
    assert [(s["code"], s["icon"], s["color"]) for s in statuses] == [
        ("in_progress", "sablier", "orange"),
        ("waiting_for_member", "action", "orange"),
        ("processed", "coche", "green"),
        ("withdrawn", "retire", "grey"),
    ]


def test_a_reply_reads_what_it_checks_in_one_batch_and_hands_its_outbox_to_the_router(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, today: date
) -> None:
    """Before its write, the reply reads the key's record, the day's count, the request and the
    uploads' records in one BatchGetItem, and each file once: no other read goes before the
    write (it made three reads one after the other, then the uploads' and the files'). After
    it, as a filing, only the pointer to intake and a consistent read of the answer: no audit
    record, no event, no delete of the staged uploads. The router, handed the pointer,
    dispatches the rest (`MemberReplied` on the bus, the audit record), clears the outbox,
    removes the staged uploads and passes the request to its service, which sees the answer."""
    from chalicelib.domain import clock
    from chalicelib.store import keys
    from chalicelib.store.audit import AuditTrail
    from chalicelib.store.requests import RequestRepository
    from tests.aws_expiry import current_objects

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    files = [upload(api, alice, PDF_BYTES), upload(api, alice, PDF_BYTES)]
    with aws_calls_made() as calls:
        answered = api.post(
            f"/requests/{request_id}/replies",
            alice,
            body={"message": "Les deux factures.", "upload_ids": files},
            headers={"Idempotency-Key": "one-batch"},
        )
    assert answered.status == 201, answered.body
    names = [name for name, _ in calls]
    before_write = names[: names.index("TransactWriteItems")]
    assert sorted(before_write) == ["BatchGetItem", "CopyObject", "CopyObject",
                                    "GetObject", "GetObject"]  # fmt: skip
    [batch] = [p for n, p in calls if n == "BatchGetItem"]
    [wanted] = batch["RequestItems"].values()
    assert len(wanted["Keys"]) == 5  # the request, two uploads, the day's count, the key's
    assert f"REQ#{request_id}" in json.dumps(wanted["Keys"])
    after_write = names[names.index("TransactWriteItems") + 1 :]
    assert after_write == ["SendMessage", "GetItem"]
    assert calls[-1][1]["ConsistentRead"] is True
    assert answered.body["messages"][-1]["text"] == "Les deux factures."
    member = alice.member_id or ""
    staged = [keys.staged_object(member, f) for f in files]
    assert [k for k in staged if current_objects(local_stack, k)] == staged
    pending = RequestRepository().outbox(member, request_id)
    assert sorted(e.get("detail_type", e.get("queue")) for e in pending) == [
        "MemberReplied",
        "intake",
    ]

    pump.drain()  # the router, then the service's handler
    assert RequestRepository().outbox(member, request_id) == []
    assert [k for k in staged if current_objects(local_stack, k)] == []
    day = clock.paris_date(clock.now()).isoformat()
    audited = [e["action"] for c in AuditTrail().day(day) for _, e in c.records
               if e["request_id"] == request_id]  # fmt: skip
    assert audited.count("MemberReplied") == 1
    history = [h["label"] for h in api.get(f"/requests/{request_id}", alice).body["history"]]
    assert history.count("Réponse transmise au Service Remboursements") == 1


def _reads_after_the_first_write(calls: list[tuple[str, dict[str, Any]]], request_id: str) -> Any:
    """The request's item read back after the call's first write (its outbox, its answer),
    each read consistent or not: DynamoDB's default read may not show a write just made
    (moto's always does)."""
    writes = {"TransactWriteItems", "UpdateItem", "PutItem"}
    first = next(i for i, (name, _) in enumerate(calls) if name in writes)
    return {params.get("ConsistentRead", False) for name, params in calls[first:]
            if name == "GetItem" and f"REQ#{request_id}" in json.dumps(params["Key"])}  # fmt: skip


def test_an_answer_after_a_write_reads_the_request_consistently(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """The agent's question, the member's withdrawal, the agent's decision and reclassification
    answer the request as their write left it: each reads it back consistently."""
    asked, decided, withdrawn, moved = (file_justificatif(api, alice, today) for _ in range(4))
    pump.drain()
    with aws_calls_made() as calls:
        assert _ask(api, agent, alice, asked).status == 200
    assert _reads_after_the_first_write(calls, asked) == {True}
    with aws_calls_made() as calls:
        answer = api.post(f"/requests/{withdrawn}/withdrawal", alice, body={})
    assert answer.status == 200 and answer.body["status"] == "withdrawn"
    assert _reads_after_the_first_write(calls, withdrawn) == {True}
    # As a filing's and a reply's, its outbox is handed to the router: only the pointer is
    # sent on the member's call (`test_a_withdrawn_request_leaves_its_work_list…` follows it
    # to the service).
    names = [name for name, _ in calls]
    assert names[names.index("TransactWriteItems") + 1 :] == ["SendMessage", "GetItem"]
    with aws_calls_made() as calls:
        body = {"outcome": "accepted", "amount": "80.00", "message": "Remboursement accordé."}
        assert api.post(_backoffice(alice, decided, "decision"), agent, body=body).status == 200
    assert _reads_after_the_first_write(calls, decided) == {True}
    with aws_calls_made() as calls:
        answer = api.post(_backoffice(alice, moved, "reclassification"), agent,
                          body={"complaint": True})  # fmt: skip
    assert answer.status == 200, answer.body
    assert _reads_after_the_first_write(calls, moved) == {True}


def test_an_agents_question_decision_and_reclassification_hand_their_outbox_over(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """As a member's filing, reply and withdrawal, an agent's change sends only its pointer on
    the call: to the service's handler for a question or a decision (which renders the letter
    it owes), to intake for a reclassification (the router sends the request to its new
    service). No audit record, no event, no clearing on the agent's call (they waited on the
    audit trail's chains: 2.5 to 3.6 s p99 in `make load`); the consumer dispatches them, once."""
    from chalicelib.domain import clock
    from chalicelib.store.audit import AuditTrail
    from chalicelib.store.requests import RequestRepository

    asked, decided, moved = (file_justificatif(api, alice, today) for _ in range(3))
    pump.drain()
    member = alice.member_id or ""
    calls_of = {
        asked: lambda: _ask(api, agent, alice, asked),
        decided: lambda: api.post(_backoffice(alice, decided, "decision"), agent,
                                  body={"outcome": "accepted", "amount": "80.00"}),
        moved: lambda: api.post(_backoffice(alice, moved, "reclassification"), agent,
                                body={"complaint": True}),
    }  # fmt: skip
    expected = {
        asked: ("InformationRequested", "svc-remboursements"),
        decided: ("RequestDecided", "svc-remboursements"),
        moved: ("RequestReclassified", "intake"),
    }
    for request_id, call in calls_of.items():
        with aws_calls_made() as calls:
            answer = call()
        assert answer.status == 200, answer.body
        names = [name for name, _ in calls]
        assert "PutEvents" not in names
        sent = [params for name, params in calls if name == "SendMessage"]
        assert len(sent) == 1 and sent[0]["QueueUrl"].endswith(expected[request_id][1])
        # After the pointer, only the answer: the request read consistently (the agent's
        # answer presigns its attachments' links: no call).
        after = [(n, p) for n, p in calls[names.index("SendMessage") + 1 :] if n != "GetObject"]
        assert after and {(n, p.get("ConsistentRead")) for n, p in after} == {("GetItem", True)}
        pending = RequestRepository().outbox(member, request_id)
        assert sorted(e.get("detail_type", e.get("queue")) for e in pending) == sorted(
            expected[request_id]
        )

    with aws_calls_made() as calls:
        pump.drain()  # the service's handlers, the router, the new service's handler
    # The consumers read the request as the change that sent them left it: a stale read could
    # skip a decision's letter, or route a reclassified request to the service it left.
    for request_id in expected:
        reads = {p.get("ConsistentRead", False) for n, p in calls
                 if n == "GetItem" and f"REQ#{request_id}" in json.dumps(p["Key"])}  # fmt: skip
        assert reads == {True}, request_id
    # The service's handler clears the entry its pointer came for: it does not send it again.
    again = [p for n, p in calls if n == "SendMessage" and p["QueueUrl"].endswith("remboursements")]
    assert again == []
    day = clock.paris_date(clock.now()).isoformat()
    audited = [(e["request_id"], e["action"]) for c in AuditTrail().day(day) for _, e in c.records]
    for request_id, (change, _) in expected.items():
        assert RequestRepository().outbox(member, request_id) == []
        assert audited.count((request_id, change)) == 1, change
    titles = [d["title"] for d in api.get("/documents?months=1", alice).body["documents"]]
    assert titles.count("Demande de pièces complémentaires") == 1
    moved_to = api.get(f"/requests/{moved}", alice).body
    assert moved_to["complaint"] is True
    assert [h["label"] for h in moved_to["history"]].count("Requalifiée en réclamation") == 1


@pytest.mark.parametrize(
    ("wanted", "service", "label"),
    [
        ({"service": "devis"}, "devis", "Réorientée vers le Service Devis"),
        ({"complaint": True}, "reclamations", "Requalifiée en réclamation"),
    ],
    ids=["service", "complaint"],
)
def test_a_reclassification_retried_after_its_hand_over_failed_sends_its_pointer(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent_all: SignedIn,
    today: date,
    wanted: dict[str, Any],
    service: str,
    label: str,
) -> None:
    """The pointer of an agent's reclassification not sent (SQS unreachable), the agent tries
    again (their call timed out): the retry answered 200 as the first call, and sent nothing
    but left the request on the service it left until the sweeper sent its pointer, a quarter
    of an hour later. It now answers the same and hands over what the first left pending: the
    router sends the request on to its new service at once, with no second move, audit record
    or event."""
    from botocore.exceptions import EndpointConnectionError

    from chalicelib import aws
    from chalicelib.domain import catalog, clock
    from chalicelib.domain.catalog import Service
    from chalicelib.store.audit import AuditTrail
    from chalicelib.store.requests import RequestRepository

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    sqs = aws.client("sqs")

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://sqs.unreachable")

    def moves(calls: list[tuple[str, dict[str, Any]]]) -> int:
        """The request's writes that move it (its history's label)."""
        return sum(1 for n, p in calls if n in {"UpdateItem", "TransactWriteItems"}
                   and label in json.dumps(p, ensure_ascii=False))  # fmt: skip

    path = _backoffice(alice, request_id, "reclassification")
    sqs.meta.events.register("before-call.sqs.SendMessage", unreachable)
    try:
        with aws_calls_made() as calls:
            first = api.post(path, agent_all, body=wanted)
    finally:
        sqs.meta.events.unregister("before-call.sqs.SendMessage", unreachable)
    assert first.status == 200, first.body
    assert moves(calls) == 1
    assert first.body["service"] == service
    pending = RequestRepository().outbox(alice.member_id or "", request_id)
    assert sorted(e.get("detail_type", e.get("queue")) for e in pending) == [
        "RequestReclassified",
        "intake",
    ]

    with aws_calls_made() as calls:
        again = api.post(path, agent_all, body=wanted)
    assert again.status == 200, again.body

    def without_links(view: dict[str, Any]) -> dict[str, Any]:
        attachments = [{k: v for k, v in a.items() if k != "download"} for a in view["attachments"]]
        return {**view, "attachments": attachments}

    assert without_links(again.body) == without_links(first.body)
    names = [name for name, _ in calls]
    # Not moved again (the only writes are the access log's), nothing put on the bus: only the
    # pointer the first call left, to intake.
    assert "PutEvents" not in names
    assert moves(calls) == 0
    sent = [params for name, params in calls if name == "SendMessage"]
    assert len(sent) == 1 and sent[0]["QueueUrl"].endswith("intake")

    with aws_calls_made() as calls:
        pump.drain()  # the router, then the new service's handler: no sweeper
    put = [e for n, p in calls if n == "PutEvents" for e in p["Entries"]]
    told = [e["DetailType"] for e in put if request_id in e["Detail"]]
    assert told.count("RequestReclassified") == 1
    assert RequestRepository().outbox(alice.member_id or "", request_id) == []
    detail = api.get(_backoffice(alice, request_id), agent_all).body
    history = [h["label"] for h in detail["history"]]
    assert history.count(label) == 1
    # Routed to its new service, which has it (its acknowledgement follows).
    assert history[history.index(label) + 1] == catalog.routed_label(Service(service))
    assert detail["history"][-1]["by"] == "service"
    day = clock.paris_date(clock.now()).isoformat()
    audited = [(e["request_id"], e["action"]) for c in AuditTrail().day(day) for _, e in c.records]
    assert audited.count((request_id, "RequestReclassified")) == 1


def test_a_decision_retried_after_its_hand_over_failed_sends_its_pointer(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """The pointer of an agent's decision not sent (SQS unreachable), the agent tries again
    (their call timed out): the retry answered 409 (processed) and sent nothing, and the
    member's letter waited for the sweeper, a quarter of an hour later. It still answers 409,
    and hands over what the decision left pending: the service's handler renders the letter
    and tells the member at once, once."""
    from botocore.exceptions import EndpointConnectionError

    from chalicelib import aws
    from chalicelib.domain import clock
    from chalicelib.store.audit import AuditTrail
    from chalicelib.store.requests import RequestRepository

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    member = alice.member_id or ""
    sqs = aws.client("sqs")

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://sqs.unreachable")

    path = _backoffice(alice, request_id, "decision")
    decision = {"outcome": "accepted", "amount": "80.00"}
    sqs.meta.events.register("before-call.sqs.SendMessage", unreachable)
    try:
        first = api.post(path, agent, body=decision)
    finally:
        sqs.meta.events.unregister("before-call.sqs.SendMessage", unreachable)
    assert first.status == 200, first.body
    letter_id = first.body["letter"]["document_id"]
    pending = RequestRepository().outbox(member, request_id)
    assert sorted(e.get("detail_type", e.get("queue")) for e in pending) == [
        "RequestDecided",
        "svc-remboursements",
    ]

    with aws_calls_made() as calls:
        again = api.post(path, agent, body=decision)
    assert again.status == 409, again.body
    names = [name for name, _ in calls]
    assert "PutEvents" not in names  # the handler dispatches them
    sent = [params for name, params in calls if name == "SendMessage"]
    assert len(sent) == 1 and sent[0]["QueueUrl"].endswith("svc-remboursements")

    with aws_calls_made() as calls:
        pump.drain()  # the service's handler: no sweeper
    rendered = [p for n, p in calls if n == "PutObject" and letter_id in p["Key"]]
    assert len(rendered) == 1
    put = [e for n, p in calls if n == "PutEvents" for e in p["Entries"]]
    told = [e["DetailType"] for e in put if request_id in e["Detail"]]
    assert told.count("RequestDecided") == 1
    assert told.count("LetterIssued") == 1
    assert RequestRepository().outbox(member, request_id) == []
    listed = [d["document_id"] for d in api.get("/documents?months=1", alice).body["documents"]]
    assert listed.count(letter_id) == 1
    day = clock.paris_date(clock.now()).isoformat()
    audited = [(e["request_id"], e["action"]) for c in AuditTrail().day(day) for _, e in c.records]
    assert audited.count((request_id, "RequestDecided")) == 1

    with aws_calls_made() as calls:
        third = api.post(path, agent, body=decision)
    assert third.status == 409, third.body
    assert "SendMessage" not in [name for name, _ in calls]  # nothing pending any more


def test_a_withdrawal_retried_after_its_hand_over_failed_sends_its_pointer(
    api: Api, pump: QueuePump, alice: SignedIn, today: date
) -> None:
    """The pointer of a member's withdrawal not sent (SQS unreachable), the portal tries again
    (its call failed): the retry answered the withdrawn detail and sent nothing, and the
    request's service heard of it only from the sweeper, a quarter of an hour later. It still
    answers the same, and hands over what the withdrawal left pending, once."""
    from botocore.exceptions import EndpointConnectionError

    from chalicelib import aws
    from chalicelib.store.requests import RequestRepository

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    member = alice.member_id or ""
    sqs = aws.client("sqs")

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://sqs.unreachable")

    path = f"/requests/{request_id}/withdrawal"
    sqs.meta.events.register("before-call.sqs.SendMessage", unreachable)
    try:
        first = api.post(path, alice, body={})
    finally:
        sqs.meta.events.unregister("before-call.sqs.SendMessage", unreachable)
    assert (first.status, first.body["status"]) == (200, "withdrawn"), first.body
    assert RequestRepository().outbox(member, request_id)  # left for the sweeper

    with aws_calls_made() as calls:
        again = api.post(path, alice, body={})
    assert again.status == 200 and again.body == first.body
    sent = [params for name, params in calls if name == "SendMessage"]
    assert len(sent) == 1 and sent[0]["QueueUrl"].endswith("intake")

    with aws_calls_made() as calls:
        pump.drain()  # the router, then the service's handler: no sweeper
    put = [e for n, p in calls if n == "PutEvents" for e in p["Entries"]]
    assert [e["DetailType"] for e in put if request_id in e["Detail"]] == ["RequestWithdrawn"]
    assert RequestRepository().outbox(member, request_id) == []

    with aws_calls_made() as calls:
        third = api.post(path, alice, body={})
    assert third.body == first.body
    assert "SendMessage" not in [name for name, _ in calls]  # nothing pending any more


def _request_item(stack: LocalStack, who: SignedIn, request_id: str) -> dict[str, Any]:
    """The request's item as stored (the work list it is on: `svc_pk`)."""
    from chalicelib.domain.requests import month_of
    from chalicelib.store import keys

    key = keys.request_key(who.member_id or "", month_of(request_id), request_id)
    answer = stack.client("dynamodb").get_item(
        TableName=stack.outputs["TableName"],
        Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}},
        ConsistentRead=True,
    )
    item: dict[str, Any] = answer["Item"]
    return item


def test_a_request_made_a_complaint_while_its_router_runs_stays_a_complaints_one(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The router read the new request, then an agent made it a complaint, then the router
    recorded its routing: the routing wrote back the service it had read, so the complaint
    stayed with the reimbursements service, on its list, where neither the complaints' agents
    nor the daily watch of the ACPR deadlines read. The routing now holds only on the service
    read; refused, it routes the request where it now is."""
    from chalicelib.domain import clock
    from chalicelib.domain.requests import RequestPointer
    from chalicelib.services import serving
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = file_justificatif(api, alice, today)
    drain_queue(local_stack, "intake")  # the filing's pointer: delivered below, by hand
    router = DynamoUnitOfWork()
    read = router.requests.get
    moved: list[int] = []

    def read_then_made_a_complaint(member_id: str, wanted: str, **options: Any) -> Any:
        found = read(member_id, wanted, **options)
        if not moved:
            moved.append(0)
            answer = api.post(_backoffice(alice, request_id, "reclassification"), agent,
                              body={"complaint": True})  # fmt: skip
            moved[0] = answer.status
        return found

    monkeypatch.setattr(router.requests, "get", read_then_made_a_complaint)
    pointer = RequestPointer(request_id=request_id, member_id=alice.member_id or "")
    serving.route(router, pointer, clock.now())
    assert moved == [200]
    pump.drain()
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["service"], detail["complaint"]) == ("reclamations", True)
    assert _request_item(local_stack, alice, request_id)["svc_pk"]["S"] == "SVC#reclamations#open"
    labels = [h["label"] for h in detail["history"]]
    assert "Réclamation enregistrée, accusé de réception envoyé" in labels


def _handed_on_after(
    uow: Any,
    read: str,
    api: Api,
    pump: QueuePump,
    who: SignedIn,
    agent: SignedIn,
    request_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> list[int]:
    """`uow.requests.<read>` patched: right after its first call, an agent hands the request on
    to the quotes service and the router routes it there. The list gets the move's status."""
    original = getattr(uow.requests, read)
    moved: list[int] = []

    def read_then_handed_on(*args: Any, **options: Any) -> Any:
        found = original(*args, **options)
        if not moved:
            moved.append(0)
            answer = api.post(_backoffice(who, request_id, "reclassification"), agent,
                              body={"service": "devis"})  # fmt: skip
            moved[0] = answer.status
            pump.drain()  # routed to the quotes service
        return found

    monkeypatch.setattr(uow.requests, read, read_then_handed_on)
    return moved


def test_a_reply_written_after_its_request_was_handed_on_reaches_the_new_service(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The member's answer read the request (the reimbursements service's, waiting for them),
    then an agent handed it on to the quotes service and the router routed it there, then the
    answer was written: it put the request back on the reimbursements' open list (the service
    it had read), where the quotes' agents never saw the answer they were waiting for. The
    answer now holds only on the service read; refused, it is written on the request as it
    is, once."""
    from chalicelib.domain import clock
    from chalicelib.services import dialogue
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    assert _ask(api, agent, alice, request_id).status == 200
    pump.drain()
    member = DynamoUnitOfWork()
    moved = _handed_on_after(member, "checks", api, pump, alice, agent, request_id, monkeypatch)
    dialogue.reply(member, alice.member_id or "", request_id, {"message": "Voici."}, None,
                   clock.now())  # fmt: skip
    assert moved == [200]
    pump.drain()
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["service"], detail["status"]) == ("devis", "in_progress")
    assert [m["text"] for m in detail["messages"] if m["author"] == "member"] == ["Voici."]
    assert _request_item(local_stack, alice, request_id)["svc_pk"]["S"] == "SVC#devis#open"
    assert "Réponse transmise au Service Devis" in [h["label"] for h in detail["history"]]


def test_a_withdrawal_written_after_its_request_was_handed_on_is_the_new_services(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The withdrawal read the request (the reimbursements service's), then an agent handed it
    on to the quotes service, then the withdrawal was written: it went on the reimbursements'
    withdrawn list, the service it had read, a quotes request the quotes' agents never saw
    withdrawn. It now holds only on the service read; refused, it is written on the request
    as it is."""
    from chalicelib.domain import clock
    from chalicelib.services import dialogue
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    member = DynamoUnitOfWork()
    moved = _handed_on_after(member, "get", api, pump, alice, agent, request_id, monkeypatch)
    body = dialogue.WithdrawalBody(reason="Je me suis trompée.")
    withdrawn = dialogue.withdraw(member, alice.member_id or "", request_id, body, clock.now())
    assert moved == [200]
    assert (withdrawn.service, withdrawn.status) == ("devis", "withdrawn")
    pump.drain()
    assert _request_item(local_stack, alice, request_id)["svc_pk"]["S"] == "SVC#devis#withdrawn"
    listed = api.get("/backoffice/services/devis/requests?state=withdrawn", agent).body
    assert request_id in [r["request_id"] for r in listed["requests"]]


def test_the_exchanges_stop_before_the_request_outgrows_its_item(
    api: Api, alice: SignedIn, agent_all: SignedIn
) -> None:
    """Replies of 4,000 « € » (12 KB each) grew the request's item until DynamoDB refused it
    (400 KB; moto sooner): the reply answered 500, and so did every later write to the
    request, a question and a withdrawal with its reason, the request stuck. The exchanges
    stop first, said so to each side; the withdrawal still goes."""
    from chalicelib.services.dialogue import MAX_EXCHANGES_BYTES

    body = {"type": "vie.autre", "beneficiary_ids": [f"{alice.member_id}-01"],
            "description": "Une question."}  # fmt: skip
    request_id = api.post("/requests", alice, body=body).body["request_id"]
    long = "€" * 4000
    replies = f"/requests/{request_id}/replies"
    sent = 0
    while (answer := api.post(replies, alice, body={"message": long})).status == 201:
        sent += 1
    assert 12 <= sent <= MAX_EXCHANGES_BYTES // len(long.encode())  # with what each adds
    assert answer.status == 409, answer.body
    assert "nouvelle demande" in answer.body["error"]["message"]
    asked = api.post(_backoffice(alice, request_id, "information-request"), agent_all,
                     body={"message": long})  # fmt: skip
    assert asked.status == 409, asked.body
    assert api.post(replies, alice, body={"message": "Court."}).status == 201  # still room
    withdrawn = api.post(f"/requests/{request_id}/withdrawal", alice,
                         body={"reason": "x" * 1000})  # fmt: skip
    assert (withdrawn.status, withdrawn.body["status"]) == (200, "withdrawn")
