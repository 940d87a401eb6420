"""Every change records its event with it, and the dispatcher (or the sweeper) puts it on the
bus: on the in-memory unit of work."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from chalicelib.domain.events import EVENTS_BY_NAME
from chalicelib.domain.states import Outcome
from chalicelib.services import decisions, dialogue, filing, serving, sweeping
from chalicelib.services.dialogue import InformationRequestBody, ReclassificationBody
from chalicelib.store.queues import INTAKE, service_queue
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_use_cases import ME, MEMBER, NOW, _deliver, _justificatif, uow

__all__ = ["uow"]


def test_each_change_puts_exactly_its_event_on_the_bus(uow: FakeUnitOfWork) -> None:
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)}, None, NOW
    ).request_id
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    dialogue.ask(uow, record, InformationRequestBody(message="La facture ?"), NOW, "agent-1")
    dialogue.reply(uow, MEMBER, request_id, {"message": "Voici."}, None, NOW)
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    decisions.decide(uow, record, Outcome.accepted, NOW, amount=Decimal("42.50"))
    assert uow.bus.names(request_id) == [
        "RequestFiled",
        "RequestRouted",
        "InformationRequested",
        "MemberReplied",
        "LetterIssued",  # the question's, rendered by the service's handler
        "RequestDecided",
        "LetterIssued",
    ]
    for entry in uow.bus.events:  # each one its model's, and nothing personal in any
        EVENTS_BY_NAME[entry["detail_type"]].model_validate(entry["detail"])
        text = json.dumps(entry["detail"], ensure_ascii=False)
        for personal in ("Alice", "Martin", "42.50", "pharmacie", "La facture", "Voici"):
            assert personal not in text
    assert uow.requests.pending == {}  # everything sent, nothing left to sweep
    [decided] = [e["detail"] for e in uow.bus.events if e["detail_type"] == "RequestDecided"]
    assert (decided["status"], decided["outcome"]) == ("processed", "accepted")


def test_an_event_the_bus_refused_is_swept_with_its_change(uow: FakeUnitOfWork) -> None:
    uow.bus.failing = True
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], "type": "sante.attestation_tiers_payant"}, None, NOW
    ).request_id
    [(pointer, entry)] = uow.queues.take_delivered(INTAKE)  # the filing's pointer
    serving.route(uow, pointer, NOW, delivered=entry)  # its dispatch: the bus refuses
    assert uow.bus.events == []  # nothing half sent
    assert list(uow.requests.pending) == [(MEMBER, request_id)]
    uow.queues.take(service_queue("tiers_payant"))  # the service has it, whatever the bus
    uow.bus.failing = False
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=2)) == 1
    assert uow.bus.names(request_id) == ["RequestFiled", "RequestRouted"]
    # All of the outbox, the intake pointer again too (at least once: the router routes once).
    assert [q for q, _ in uow.queues.sent] == [INTAKE]
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=3)) == 0


def test_withdrawal_reclassification_and_deadlines_say_so_on_the_bus(uow: FakeUnitOfWork) -> None:
    first = filing.file_request(uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)},
                                None, NOW).request_id  # fmt: skip
    second = filing.file_request(uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)},
                                 None, NOW).request_id  # fmt: skip
    _deliver(uow)
    dialogue.withdraw(uow, MEMBER, first, dialogue.WithdrawalBody(), NOW)
    record = uow.requests.get(MEMBER, second)
    dialogue.reclassify(uow, record, ReclassificationBody(complaint=True), NOW, "agent-1")
    _deliver(uow)
    later = NOW + timedelta(days=56)  # 5 January 2027: the answer is due on the 10th
    sweeping.watch_deadlines(uow, later)
    sweeping.watch_deadlines(uow, later + timedelta(days=1))  # still at risk: said once
    assert uow.bus.names(first)[-1] == "RequestWithdrawn"
    assert uow.bus.names(second)[2:] == [
        "RequestReclassified",
        "RequestRouted",
        "LetterIssued",
        "ComplaintDeadlineAtRisk",
    ]
    moved = next(e for e in uow.bus.events if e["detail_type"] == "RequestReclassified")
    assert (moved["detail"]["previous_service"], moved["detail"]["service"]) == (
        "remboursements",
        "reclamations",
    )
