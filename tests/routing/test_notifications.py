"""Members' notifications through the HTTP API and moto: the bus's rule feeds the
`notifications` queue, the pump hands it to the `notifications` function, moto records what SES
and SNS sent (read as `make outbox` reads it)."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from ulid import ULID

from chalicelib.domain import clock
from chalicelib.domain.notifications import french_date
from infra import seed
from infra.local_stack import LocalStack, create_account
from infra.outbox import SentEmail, SentSms, sent
from infra.queue_pump import QueuePump
from tests.conftest import PASSWORD, PDF_BYTES, Api, SignedIn, upload
from tests.routing.test_events import _received, team_queue

__all__ = ["team_queue"]


@pytest.fixture
def member(local_stack: LocalStack, today: date) -> SignedIn:
    """A member shaped like alice, with an address and a mainland mobile of their own (to
    count): `061…`, never an overseas prefix (`0639`, `069x`), which takes its own country
    code (`_sms` would look for the SMS under +33 and find none)."""
    return _notified_member(local_stack, today)


@pytest.fixture
def another_member(local_stack: LocalStack, today: date) -> SignedIn:
    """A second one, as `member`."""
    return _notified_member(local_stack, today)


def _notified_member(local_stack: LocalStack, today: date) -> SignedIn:
    member_id = f"N{secrets.randbelow(10**9):09d}"
    profile, beneficiaries = seed.alice(today, member_id)
    number = f"061{member_id[-7:]}"
    profile = profile.model_copy(update={"email": f"{member_id}@example.fr", "phone": number})
    seed.seed_member(profile, beneficiaries)
    username = f"notified-{member_id}"
    create_account(local_stack, username, PASSWORD, member_id)
    return SignedIn(username, member_id, local_stack.id_token(username, PASSWORD))


def _emails(stack: LocalStack, who: SignedIn) -> list[SentEmail]:
    return [e for e in sent(stack.endpoint_url)[0] if e.to == f"{who.member_id}@example.fr"]


def _sms(stack: LocalStack, who: SignedIn) -> list[SentSms]:
    number = f"+3361{str(who.member_id)[-7:]}"
    return [s for s in sent(stack.endpoint_url)[1] if s.phone == number]


def _file_and_decide(api: Api, pump: QueuePump, who: SignedIn, agent: SignedIn, day: date) -> str:
    data = {"care_date": (day - timedelta(days=2)).isoformat(), "amount": "80.00",
            "care_type": "optique"}  # fmt: skip
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{who.member_id}-03"],
            "data": data, "upload_ids": [upload(api, who, PDF_BYTES)]}  # fmt: skip
    request_id = str(api.post("/requests", who, body=body).body["request_id"])
    pump.drain()
    decided = {"outcome": "partially_accepted", "amount": "40.00", "message": "En partie."}
    path = f"/backoffice/members/{who.member_id}/requests/{request_id}/decision"
    assert api.post(path, agent, body=decided).status == 200
    return request_id


def test_a_decided_request_notifies_by_e_mail_once_even_delivered_twice(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    team_queue: str,
    member: SignedIn,
    agent: SignedIn,
    today: date,
) -> None:
    request_id = _file_and_decide(api, pump, member, agent, today)
    pump.drain()
    [email] = _emails(local_stack, member)  # the decision and its letter: one e-mail
    on = french_date(clock.paris_date(ULID.from_str(request_id).datetime))
    assert email.subject == f"Du nouveau sur votre démarche du {on}"
    assert "Connectez-vous à votre espace adhérent" in email.text
    assert email.unsubscribe.startswith("<") and email.unsubscribe.endswith("/#/preferences>")
    assert email.sender.endswith("<notifications@generation-demarches.local>")
    # Nothing personal: no name, no beneficiary, no care, no amount, no outcome.
    text = f"{email.subject}\n{email.text}".lower()
    for personal in ("alice", "martin", "hugo", "léa", "optique", "80.00", "80,00", "40.00",
                     "40,00", "partiel", "rembours", "justificatif", "en partie"):  # fmt: skip
        assert personal not in text, personal

    # Delivered again (SQS and the sweeper deliver at least once): nothing more is sent.
    sqs = local_stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{local_stack.outputs['QueuePrefix']}notifications")
    decided = [e for e in _received(local_stack, team_queue)
               if e["detail"]["request_id"] == request_id
               and e["detail-type"] in ("RequestDecided", "LetterIssued")]  # fmt: skip
    assert len(decided) == 2
    for event in decided * 2:
        sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody=json.dumps(event))
    assert pump.drain() >= 4
    assert len(_emails(local_stack, member)) == 1


def _file_and_ask(
    api: Api, pump: QueuePump, member: SignedIn, agent: SignedIn, today: date, days: int = 7
) -> str:
    """A reimbursement filed and routed, then a question on it (due in `days`) notified."""
    data = {"care_date": (today - timedelta(days=2)).isoformat(), "amount": "80.00",
            "care_type": "optique"}  # fmt: skip
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{member.member_id}-01"],
            "data": data, "upload_ids": [upload(api, member, PDF_BYTES)]}  # fmt: skip
    request_id = str(api.post("/requests", member, body=body).body["request_id"])
    pump.drain()
    path = f"/backoffice/members/{member.member_id}/requests/{request_id}/information-request"
    asked = {"message": "La facture ?", "respond_within_days": days}
    assert api.post(path, agent, body=asked).status == 200
    pump.drain()
    return request_id


def test_a_decision_minutes_after_a_question_gets_its_own_e_mail(
    api: Api, pump: QueuePump, local_stack: LocalStack, member: SignedIn, agent: SignedIn,
    today: date,
) -> None:  # fmt: skip
    """The question and its letter: one e-mail; the decision a moment later and its letter:
    another. The decision was swallowed by the question's quarter of an hour."""
    request_id = _file_and_ask(api, pump, member, agent, today)
    base = f"/backoffice/members/{member.member_id}/requests/{request_id}"
    assert len(_emails(local_stack, member)) == 1
    decided = {"outcome": "accepted", "amount": "80.00"}
    assert api.post(f"{base}/decision", agent, body=decided).status == 200
    pump.drain()
    assert len(_emails(local_stack, member)) == 2


def test_no_e_mail_when_the_member_turned_them_off(
    api: Api, pump: QueuePump, local_stack: LocalStack, member: SignedIn, agent: SignedIn,
    today: date,
) -> None:  # fmt: skip
    chosen = {"email": False, "sms": False, "paperless": True}
    assert api.request("PUT", "/me/preferences", member, body=chosen).status == 200
    _file_and_decide(api, pump, member, agent, today)
    pump.drain()
    assert _emails(local_stack, member) == []
    assert _sms(local_stack, member) == []


def test_an_sms_at_21_00_paris_waits_for_08_00(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    member: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.routing.notifications import morning_sms

    chosen = {"email": True, "sms": True, "paperless": True}
    assert api.request("PUT", "/me/preferences", member, body=chosen).status == 200
    _file_and_decide(api, pump, member, agent, today)
    evening = datetime.combine(clock.today(), time(21, 0), tzinfo=clock.PARIS)
    monkeypatch.setattr(clock, "now", lambda: evening)
    pump.drain()
    assert len(_emails(local_stack, member)) == 1  # e-mail at any hour
    assert _sms(local_stack, member) == []
    morning = datetime.combine(clock.today() + timedelta(days=1), time(7, 59), tzinfo=clock.PARIS)
    monkeypatch.setattr(clock, "now", lambda: morning)
    morning_sms()
    assert _sms(local_stack, member) == []
    monkeypatch.setattr(clock, "now", lambda: morning + timedelta(minutes=1))
    morning_sms()
    morning_sms()  # a second run sends nothing again
    [sms] = _sms(local_stack, member)
    assert "Connectez-vous à votre espace adhérent" in sms.text
    for personal in ("Alice", "Martin", "optique", "80,00", "40,00", "80.00", "40.00"):
        assert personal not in sms.text


def test_a_question_of_the_evening_answered_before_08_00_sends_no_sms(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    member: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The e-mail goes at once; the member answers it at night: the SMS kept for 08:00 would
    tell them that something awaits them."""
    from chalicelib.routing.notifications import morning_sms

    chosen = {"email": True, "sms": True, "paperless": True}
    assert api.request("PUT", "/me/preferences", member, body=chosen).status == 200
    evening = datetime.combine(clock.today(), time(21, 0), tzinfo=clock.PARIS)
    monkeypatch.setattr(clock, "now", lambda: evening)
    request_id = _file_and_ask(api, pump, member, agent, today, days=10)
    assert len(_emails(local_stack, member)) == 1 and _sms(local_stack, member) == []
    answer = {"message": "La voici."}
    assert api.post(f"/requests/{request_id}/replies", member, body=answer).status == 201
    pump.drain()
    morning = datetime.combine(clock.today() + timedelta(days=1), time(8, 0), tzinfo=clock.PARIS)
    monkeypatch.setattr(clock, "now", lambda: morning)
    morning_sms()
    assert _sms(local_stack, member) == []


def test_the_daily_watch_reminds_the_member_7_days_before_the_answer_is_due(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    member: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.routing.sla import watch

    request_id = _file_and_ask(api, pump, member, agent, today, days=10)
    asked = api.get(f"/requests/{request_id}", member).body["information_request"]
    due = french_date(clock.paris_date(asked["respond_before"]))
    assert len(_emails(local_stack, member)) == 1  # asked (and its letter): one e-mail
    run = clock.now() + timedelta(days=3)  # 7 days before the answer is due
    watch(run)
    watch(run)  # twice: one reminder all the same
    monkeypatch.setattr(clock, "now", lambda: run + timedelta(hours=1))
    pump.drain()
    emails = _emails(local_stack, member)
    assert len(emails) == 2
    assert emails[0].subject.startswith("Rappel : votre réponse est attendue sur votre démarche")
    assert f"au plus tard le {due}." in emails[0].text  # newest first: the reminder


@pytest.mark.parametrize("then", ["reply", "withdrawal"])
def test_no_reminder_once_the_member_has_answered_or_withdrawn(
    api: Api, pump: QueuePump, local_stack: LocalStack, member: SignedIn, agent: SignedIn,
    today: date, monkeypatch: pytest.MonkeyPatch, then: str,
) -> None:  # fmt: skip
    """The watch queued the reminder; the member answered (or withdrew) before the
    notifications function took it: « Rappel : votre réponse est attendue » went all the same,
    to a member who owed nothing."""
    from chalicelib.routing.sla import watch

    request_id = _file_and_ask(api, pump, member, agent, today, days=10)
    run = clock.now() + timedelta(days=3)
    watch(run)  # the reminder queued
    if then == "reply":
        done = api.post(f"/requests/{request_id}/replies", member, body={"message": "Voici."})
    else:
        done = api.post(f"/requests/{request_id}/withdrawal", member, body={})
    assert done.status in {200, 201}, done.body
    monkeypatch.setattr(clock, "now", lambda: run + timedelta(hours=1))
    pump.drain()
    subjects = [e.subject for e in _emails(local_stack, member)]
    assert not any(s.startswith("Rappel") for s in subjects), subjects
    assert not any("attend votre réponse" in s.message for s in _sms(local_stack, member))


def _held_notifications(pump: QueuePump, stack: LocalStack) -> list[dict[str, Any]]:
    """Drain every queue but the notifications one, and take what reached it off it: the
    test then hands it over in the order it chooses (the queue keeps none)."""
    from infra import queue_pump

    with pytest.MonkeyPatch.context() as patch:
        held = {q: f for q, f in queue_pump.FUNCTIONS.items() if q != "notifications"}
        patch.setattr(queue_pump, "FUNCTIONS", held)
        pump.drain()
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{stack.outputs['QueuePrefix']}notifications")["QueueUrl"]
    return _received(stack, url)


@pytest.mark.parametrize("letter_first", [False, True], ids=["decision-first", "letter-first"])
def test_a_decision_minutes_after_a_complaint_s_acknowledgement_gets_its_own_e_mail(
    api: Api, pump: QueuePump, local_stack: LocalStack, member: SignedIn, agent_all: SignedIn,
    monkeypatch: pytest.MonkeyPatch, letter_first: bool,
) -> None:  # fmt: skip
    """The acknowledgement letter is a message of its own; the decision five minutes later and
    its answering letter, in either order, another. The acknowledgement was taken for the
    decision's letter: the decision was swallowed, or its letter a message after it."""
    body = {"type": "contact.demande", "complaint": True,
            "beneficiary_ids": [f"{member.member_id}-01"],
            "description": "Le remboursement est incomplet.",
            "data": {"subject": "remboursements", "detail": "montant_conteste"}}  # fmt: skip
    request_id = str(api.post("/requests", member, body=body).body["request_id"])
    pump.drain()
    assert len(_emails(local_stack, member)) == 1  # the acknowledgement letter
    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    path = f"/backoffice/members/{member.member_id}/requests/{request_id}/decision"
    decided = {"outcome": "accepted", "message": "Nous régularisons."}
    assert api.post(path, agent_all, body=decided).status == 200
    held = _held_notifications(pump, local_stack)
    kinds = {e["detail-type"]: e["detail"].get("kind") for e in held}
    assert kinds == {"RequestDecided": None, "LetterIssued": "reponse_reclamation"}
    held.sort(key=lambda e: e["detail-type"] == "LetterIssued", reverse=letter_first)
    sqs = local_stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{local_stack.outputs['QueuePrefix']}notifications")
    for event in held:
        sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody=json.dumps(event))
        assert pump.drain() == 1
    assert len(_emails(local_stack, member)) == 2


def test_an_automatic_decision_and_its_attestation_make_one_e_mail(
    api: Api, pump: QueuePump, local_stack: LocalStack, member: SignedIn
) -> None:
    """Decided by the service itself at once: the decision and its letter (the attestation,
    which says no outcome) are one message."""
    body = {"type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{member.member_id}-01"]}  # fmt: skip
    assert api.post("/requests", member, body=body).status == 201
    pump.drain()
    assert len(_emails(local_stack, member)) == 1


def test_a_number_sns_would_refuse_stops_no_one_else_s_morning_sms(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    member: SignedIn,
    another_member: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A profile's number as the insurer's data may hold it, `+06 12 34 56 78`, was read as an
    E.164 number; SNS refused it at 08:00 and the run ended there, every hour: the SMS kept
    after it, another member's here, never went. It is no number: nothing is sent to it, the
    profile says SMS cannot reach it, and the others go."""
    from chalicelib.routing.notifications import morning_sms

    sent_before = len(sent(local_stack.endpoint_url)[1])  # other tests' SMS: alice's own number
    chosen = {"email": True, "sms": True, "paperless": True}
    for who in (another_member, member):
        assert api.request("PUT", "/me/preferences", who, body=chosen).status == 200
    profile, beneficiaries = seed.alice(today, another_member.member_id or "")
    seed.seed_member(profile.model_copy(update={"phone": "+06 12 34 56 78"}), beneficiaries)
    assert api.get("/me", another_member).body["sms_reachable"] is False
    evening = datetime.combine(clock.today(), time(21, 0), tzinfo=clock.PARIS)
    monkeypatch.setattr(clock, "now", lambda: evening)
    for who in (another_member, member):  # the unusable number's SMS kept first
        _file_and_decide(api, pump, who, agent, today)
    pump.drain()
    morning = datetime.combine(clock.today() + timedelta(days=1), time(8, 0), tzinfo=clock.PARIS)
    monkeypatch.setattr(clock, "now", lambda: morning)
    morning_sms()
    assert len(_sms(local_stack, member)) == 1
    texts = sent(local_stack.endpoint_url)[1]  # newest first
    assert [s for s in texts[: len(texts) - sent_before] if "612345678" in s.phone] == []


def test_a_kept_sms_keeps_its_failed_attempts(local_stack: LocalStack) -> None:
    """What the morning run counts to stop retrying an SMS is stored with it."""
    from chalicelib.store.notifications import DeferredSms, NotificationRecords

    records = NotificationRecords()
    kept = DeferredSms("2001-01-01T07:30:00.000Z", str(ULID()), "T000000001", str(ULID()),
                       attempts=2)  # fmt: skip
    records.defer_sms(kept)
    due = [d for d in records.due_sms(datetime(2001, 1, 1, 9, tzinfo=clock.PARIS))
           if d.event_id == kept.event_id]  # fmt: skip
    assert due == [kept]
    assert records.take_sms(kept, datetime(2001, 1, 1, 9, tzinfo=clock.PARIS))
