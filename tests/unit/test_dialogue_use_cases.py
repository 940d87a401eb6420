"""The dialogue's use cases on the in-memory unit of work: ask, answer, withdraw, hand on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.states import Outcome, Status
from chalicelib.services import decisions, dialogue, filing, sweeping
from chalicelib.services.dialogue import InformationRequestBody, ReclassificationBody
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_use_cases import (
    MEMBER,
    NOW,
    _deliver,
    _file,
    _justificatif,
    _text,
    _upload,
    uow,
)

__all__ = ["uow"]  # the fixture, shared

LATER = NOW + timedelta(hours=2)


def _waiting(uow: FakeUnitOfWork) -> str:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    question = InformationRequestBody(message="Merci d'envoyer la facture détaillée.")
    dialogue.ask(uow, record, question, NOW, agent_id="agent-7")
    _deliver(uow)  # the service's handler renders the letter the question owes
    return request_id


def test_asking_owes_the_letter_and_the_services_handler_renders_it(
    uow: FakeUnitOfWork,
) -> None:
    """The API renders no letter (the letters' layer is the services' handlers'): the question
    owes its letter in the same write and hands the request over to its service."""
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    question = InformationRequestBody(message="Merci d'envoyer la facture détaillée.")
    dialogue.ask(uow, uow.requests.get(MEMBER, request_id), question, NOW, agent_id="agent-7")
    asked = uow.requests.get(MEMBER, request_id)
    [owed] = asked.due_letters()
    assert (owed.kind, owed.title) == ("demande_pieces", "Demande de pièces complémentaires")
    assert uow.documents.records == {} or all(
        d.kind != "demande_pieces" for d in uow.documents.records.values()
    )
    _deliver(uow)
    done = uow.requests.get(MEMBER, request_id)
    assert done.letters_due == set()
    assert [d.document_id for d in done.documents] == [owed.document_id]
    assert uow.documents.get(MEMBER, owed.document_id).created_at == asked.messages[0].at
    _deliver(uow)  # a redelivery issues nothing twice
    assert len(uow.documents.records) == 1


def test_the_service_asks_and_the_request_waits_with_its_letter(uow: FakeUnitOfWork) -> None:
    request_id = _waiting(uow)
    record = uow.requests.get(MEMBER, request_id)
    assert record.status is Status.waiting_for_member
    assert record.information_request is not None
    assert record.information_request.respond_before == "2026-12-10T22:59:59.000Z"  # 30 days
    [question] = record.messages
    assert (question.author, question.agent_id) == ("service", "agent-7")
    assert "agent_id" not in record.detail().model_dump()["messages"][0]
    assert record.history[-1].by == "service" and record.history[-1].agent_id == "agent-7"
    assert "agent_id" not in record.detail().model_dump()["history"][-1]
    [letter] = [d for d in uow.documents.records.values() if d.kind == "demande_pieces"]
    assert letter.title == "Demande de pièces complémentaires"
    text = _text(uow.documents.pdf(letter)).replace("\u00a0", " ")
    # Answered all through 10 December: « avant le » said a day earlier than the portal's.
    assert "facture détaillée" in text and "au plus tard le 10 décembre 2026" in text
    assert "Alice Martin" in text.split("CE DONT NOUS AVONS BESOIN")[0].split("Madame")[1]


def test_asking_the_same_question_again_is_a_retry(uow: FakeUnitOfWork) -> None:
    request_id = _waiting(uow)
    record = uow.requests.get(MEMBER, request_id)
    question = InformationRequestBody(message="Merci d'envoyer la facture détaillée.")
    dialogue.ask(uow, record, question, LATER, agent_id="agent-7")
    assert len(uow.requests.get(MEMBER, request_id).messages) == 1
    assert len([d for d in uow.documents.records.values() if d.kind == "demande_pieces"]) == 1


def test_the_member_answers_with_a_file_and_the_service_sees_it_once(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _waiting(uow)
    upload_id = _upload(uow)
    body = {"message": "Voici la facture.", "upload_ids": [upload_id]}
    answered = dialogue.reply(uow, MEMBER, request_id, body, "r-1", LATER)
    assert answered.detail["status"] == "in_progress"
    assert answered.detail["information_request"] is None
    assert [m["author"] for m in answered.detail["messages"]] == ["service", "member"]
    assert answered.detail["messages"][1]["attachment_ids"] == [upload_id]
    assert upload_id in [a["attachment_id"] for a in answered.detail["attachments"]]

    again = dialogue.reply(uow, MEMBER, request_id, body, "r-1", LATER)  # a double click
    assert again.replayed and len(again.detail["messages"]) == 2

    _deliver(uow, LATER)
    _deliver(uow, LATER)  # SQS delivers twice
    labels = [h.label for h in uow.requests.get(MEMBER, request_id).history]
    assert labels.count("Réponse transmise au Service Remboursements") == 1


def test_an_answer_to_a_closed_request_is_refused_and_its_files_not_kept(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _waiting(uow)
    record = uow.requests.get(MEMBER, request_id)
    decisions.decide(uow, record, Outcome.refused, NOW, message="Sans facture détaillée.")
    body = {"message": "Trop tard ?", "upload_ids": [_upload(uow)]}
    with pytest.raises(Conflict):
        dialogue.reply(uow, MEMBER, request_id, body, None, LATER)
    assert not [k for k in uow.files.objects if k.startswith("requests/") and "facture" in k]


def test_a_decision_and_a_reply_racing_leave_the_request_processed(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _waiting(uow)
    stale = uow.requests.get(MEMBER, request_id)  # the reply read it waiting...
    decisions.decide(uow, stale, Outcome.accepted, NOW, amount=Decimal("42.50"))  # ...then this
    real_get = uow.requests.get
    uow.requests.get = lambda m, r: stale if r == request_id else real_get(m, r)  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        dialogue.reply(uow, MEMBER, request_id, {"message": "Voici."}, None, LATER)
    uow.requests.get = real_get  # type: ignore[method-assign]
    assert uow.requests.get(MEMBER, request_id).status is Status.processed


def test_withdrawal_is_idempotent_and_closes_the_request(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, _justificatif(uow))
    body = dialogue.WithdrawalBody(reason="Je me suis trompé de formulaire.")
    first = dialogue.withdraw(uow, MEMBER, request_id, body, NOW)
    again = dialogue.withdraw(uow, MEMBER, request_id, body, LATER)
    assert first.status is Status.withdrawn and again == first
    assert first.messages[-1].text == "Je me suis trompé de formulaire."
    _deliver(uow)  # its service is told, and does nothing with it
    record = uow.requests.get(MEMBER, request_id)
    assert record.status is Status.withdrawn and record.acknowledged_at is None
    with pytest.raises(Conflict):
        decisions.decide(uow, record, Outcome.accepted, NOW, amount=Decimal(1))


def test_a_processed_request_cannot_be_withdrawn(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, {"type": "sante.attestation_tiers_payant"})
    _deliver(uow)
    with pytest.raises(Conflict):
        dialogue.withdraw(uow, MEMBER, request_id, dialogue.WithdrawalBody(), NOW)


def test_a_request_that_is_a_complaint_moves_to_reclamations_with_clocks_from_filing(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    moved = dialogue.reclassify(
        uow, record, ReclassificationBody(complaint=True), NOW + timedelta(days=3), "agent-7"
    )
    assert (moved.service, moved.complaint, moved.label) == ("reclamations", True, "Réclamation")
    assert moved.acknowledgement_due_at == "2026-11-23T22:59:59.000Z"  # from 10 November
    _deliver(uow, NOW + timedelta(days=3))
    record = uow.requests.get(MEMBER, request_id)
    assert record.due_at == "2027-01-10T22:59:59.000Z"  # two months from the filing
    kinds = [d.kind for d in uow.documents.records.values()]
    assert "accuse_reception_reclamation" in kinds
    assert [h.label for h in record.history][-3:] == [
        "Requalifiée en réclamation",
        "Transmise au Service Réclamations",
        "Réclamation enregistrée, accusé de réception envoyé",
    ]


def test_a_request_sent_to_the_wrong_service_moves_to_the_right_one(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    body = ReclassificationBody.model_validate({"service": "devis"})
    moved = dialogue.reclassify(uow, record, body, NOW, "agent-7")
    assert moved.service == "devis"
    _deliver(uow)
    assert uow.requests.get(MEMBER, request_id).history[-1].label == ("Reçue par le Service Devis")
    for wrong in ({}, {"complaint": True, "service": "devis"}, {"complaint": False}):
        with pytest.raises(ValidationFailed):
            dialogue.reclassify(
                uow, moved, ReclassificationBody.model_validate(wrong), NOW, "agent-7"
            )


def test_an_unanswered_question_puts_the_request_back_at_the_head_of_the_list(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _waiting(uow)
    assert dialogue.watch_unanswered(uow, datetime(2026, 12, 10, 20, tzinfo=UTC)) == 0
    assert dialogue.watch_unanswered(uow, datetime(2026, 12, 11, 6, tzinfo=UTC)) == 1
    record = uow.requests.get(MEMBER, request_id)
    assert (record.status, record.unanswered) == (Status.in_progress, True)
    assert uow.requests.extra[(MEMBER, request_id)]["priority"] == "0"
    # The member may still answer: kept, and the service is told.
    dialogue.reply(uow, MEMBER, request_id, {"message": "Pardon du retard."}, None, LATER)
    assert sweeping.sweep_outbox(uow, LATER + timedelta(minutes=5)) == 0  # the router's


@pytest.mark.parametrize(
    "change",
    [
        "MemberReplied",
        "RequestWithdrawn",
        "InformationRequested",
        "RequestDecided",
        "RequestReclassified",
    ],
)
def test_a_change_whose_pointer_was_never_sent_is_swept_a_quarter_of_an_hour_later(
    uow: FakeUnitOfWork, change: str
) -> None:
    """As a filing's, the outbox of a reply, a withdrawal, an agent's question, decision or
    reclassification is handed to the consumer of its pointer (the router through intake, or
    the service's handler): the sweeper leaves it theirs while a queue may merely be busy,
    then sends it all."""
    request_id = _waiting(uow)
    sweeping.sweep_outbox(uow, LATER)  # what the question left pending
    uow.queues.sent.clear()
    uow.queues.failing = True
    record = uow.requests.get(MEMBER, request_id)
    told = uow.bus.names(request_id)
    if change == "MemberReplied":
        dialogue.reply(uow, MEMBER, request_id, {"message": "Voici."}, None, LATER)
    elif change == "RequestWithdrawn":
        dialogue.withdraw(uow, MEMBER, request_id, dialogue.WithdrawalBody(), LATER)
    elif change == "InformationRequested":
        again = InformationRequestBody(message="Et l'ordonnance, s'il vous plaît.")
        dialogue.ask(uow, record, again, LATER, agent_id="agent-7")
    elif change == "RequestDecided":
        decisions.decide(uow, record, Outcome.accepted, LATER, amount=Decimal("12.50"),
                         agent_id="agent-7", render_here=False)  # fmt: skip
    else:
        moved = ReclassificationBody(complaint=True)
        dialogue.reclassify(uow, record, moved, LATER, agent_id="agent-7")
    assert list(uow.requests.pending) == [(MEMBER, request_id)]
    assert uow.bus.names(request_id) == told

    uow.queues.failing = False
    assert sweeping.sweep_outbox(uow, LATER + timedelta(minutes=14, seconds=50)) == 0
    assert sweeping.sweep_outbox(uow, LATER + timedelta(minutes=15, seconds=10)) == 1
    assert [p.request_id for _, p in uow.queues.sent] == [request_id]
    assert uow.bus.names(request_id)[-1] == change
    assert uow.audit.actions(request_id)[-1] == change


def test_a_complaint_may_contest_one_of_the_members_requests_only(uow: FakeUnitOfWork) -> None:
    contested = _file(uow, _justificatif(uow))
    data = {"subject": "remboursements", "detail": "montant_conteste"}
    complaint = {"type": "contact.demande", "complaint": True, "data": data,
                 "description": "Montant erroné.", "related_request_id": contested}  # fmt: skip
    filed = filing.file_request(uow, MEMBER, {"beneficiary_ids": [f"{MEMBER}-01"], **complaint},
                                None, NOW)  # fmt: skip
    assert filed.detail["related_request_id"] == contested
    for wrong in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", None):
        body = {**complaint, "related_request_id": wrong}
        if wrong is None:
            body = {**complaint, "complaint": False}
            body["related_request_id"] = contested
        with pytest.raises(ValidationFailed) as refused:
            filing.file_request(uow, MEMBER, {"beneficiary_ids": [f"{MEMBER}-01"], **body},
                                None, NOW)  # fmt: skip
        assert refused.value.fields[0].field == "related_request_id"


def test_the_exchanges_count_their_files_and_history_not_only_their_text(
    uow: FakeUnitOfWork,
) -> None:
    """Replies of « ok », each with five files named with 120 emoji: the text counted alone
    never filled the exchanges, and the item reached DynamoDB's 400 KB (a 500, then every
    change to the request refused). Counted as written, the exchanges are full well before."""
    import json

    from ulid import ULID

    from chalicelib.domain.requests import AgentHistoryEntry, AgentMessage, Attachment
    from chalicelib.domain.states import Actor

    record = uow.requests.get(MEMBER, _file(uow, _justificatif(uow)))
    name = "😀" * 116 + ".pdf"
    replies = 0
    while not dialogue.exchanges_full(record, "ok", files=5):
        assert replies < 200, "never full"
        at = NOW + timedelta(minutes=replies)
        ids = [str(ULID.from_datetime(at)) for _ in range(5)]
        files = [Attachment(attachment_id=i, filename=name, content_type="application/pdf",
                            size=4_000_000, sha256="f" * 64) for i in ids]  # fmt: skip
        message = AgentMessage(message_id=str(ULID.from_datetime(at)), at=at.isoformat(),
                               author=Actor.member, text="ok", attachment_ids=ids)  # fmt: skip
        entry = AgentHistoryEntry(at=at.isoformat(), status=record.status,
                                  label="Réponse envoyée", by=Actor.member)  # fmt: skip
        record = record.model_copy(update={
            "messages": [*record.messages, message],
            "attachments": [*record.attachments, *files],
            "history": [*record.history, entry],
        })  # fmt: skip
        replies += 1
    item = json.dumps(record.model_dump(mode="json"), ensure_ascii=False).encode()
    assert 20 <= replies <= 60
    assert len(item) < 250_000  # DynamoDB's 400 KB left far off
