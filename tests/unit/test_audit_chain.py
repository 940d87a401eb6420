"""The audit trail's chain, on its own and as the use cases feed it: on the in-memory unit of
work (`FakeAudit`), no moto."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import audit, clock
from chalicelib.domain.access import Action
from chalicelib.domain.audit import AuditEntry, Break, Kind
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.states import Outcome
from chalicelib.services import decisions, dialogue, filing, privacy, sweeping
from chalicelib.services.audit import verify_day, watch_chain
from chalicelib.services.dialogue import InformationRequestBody
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_use_cases import ME, MEMBER, NOW, _deliver, _justificatif, uow

__all__ = ["uow"]
DAY = "2026-11-10"  # NOW's Paris day


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain's day is the real moment of the append: here, NOW's."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _entry(n: int, action: str = "RequestFiled") -> AuditEntry:
    return AuditEntry(
        kind=Kind.change,
        action=action,
        entry_id=f"01JD0000000000000000000{n:03d}",
        at="2026-11-10T08:00:00.000Z",
        member_id="U000000001",
        request_id="01JD0000000000000000000REQ",
        actor=audit.ActorKind.member,
        status="in_progress",
    )


def _stored(records: list[audit.AuditRecord]) -> list[tuple[int, dict[str, object]]]:
    """As the table holds them: day and sequence in the key, the rest as attributes."""
    stored = []
    for record in records:
        fields = {k: v for k, v in record.model_dump(mode="json", exclude_none=True).items()
                  if k not in ("day", "sequence")}  # fmt: skip
        stored.append((record.sequence, fields))
    return stored


def _chain(length: int = 5) -> list[tuple[int, dict[str, object]]]:
    return _stored(audit.seal_all([_entry(n) for n in range(length)], DAY, None, "t"))


def test_each_record_hashes_its_canonical_content_and_names_its_predecessor() -> None:
    first, second = audit.seal_all([_entry(1), _entry(2)], DAY, None, "2026-11-10T08:00:01.000Z")
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash == audit.genesis(DAY)
    assert second.previous_hash == first.hash
    # Canonical JSON: keys sorted, no spaces, UTF-8 as is; the hash covers all but itself.
    content = first.content()
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert audit.canonical(content) == text.encode("utf-8")
    assert '", "' not in text and "hash" not in json.loads(text)
    assert first.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert audit.canonical({"b": "é", "a": 1}) == '{"a":1,"b":"é"}'.encode()


def test_an_intact_chain_verifies_with_its_count() -> None:
    verdict = audit.verify(DAY, _chain(5))
    assert verdict.intact and verdict.count == 5
    assert verdict.describe() == f"OK {DAY}: 5 records, chain intact"
    assert audit.verify(DAY, []).intact  # a day with nothing recorded


def test_an_edited_record_breaks_the_chain_at_that_record() -> None:
    chain = _chain(5)
    chain[2][1]["agent_id"] = "someone-else"  # sequence 3
    verdict = audit.verify(DAY, chain)
    assert (verdict.broken_at, verdict.reason) == (3, Break.content)
    assert verdict.describe() == f"BROKEN {DAY} at sequence 3: content hash mismatch"


def test_a_record_edited_and_rehashed_breaks_the_chain_at_its_successor() -> None:
    chain = _chain(5)
    fields = chain[1][1]
    fields["status"] = "processed"
    content = {k: v for k, v in fields.items() if k != "hash"} | {"day": DAY, "sequence": 2}
    fields["hash"] = audit.content_hash(content)  # the forger's own hash: 2 is consistent
    verdict = audit.verify(DAY, chain)
    assert (verdict.broken_at, verdict.reason) == (3, Break.predecessor)


def test_a_deleted_record_is_a_gap_and_a_foreign_one_is_not_a_record() -> None:
    chain = _chain(5)
    del chain[3]  # sequence 4
    assert (audit.verify(DAY, chain).broken_at, audit.verify(DAY, chain).reason) == (4, Break.gap)
    moved = _chain(3)  # another day's chain, copied here: its first link is not this day's
    assert audit.verify("2026-11-11", moved).reason is Break.content
    odd = [*_chain(2), (0, {"hash": "x"})]
    assert audit.verify(DAY, odd).reason is Break.unreadable


def test_a_requests_changes_land_in_the_chain_in_order(uow: FakeUnitOfWork) -> None:
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)}, None, NOW
    ).request_id
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    privacy.record_access(uow, record, Action.asked, "agent-7", NOW)
    dialogue.ask(uow, record, InformationRequestBody(message="La facture ?"), NOW, "agent-7")
    dialogue.reply(uow, MEMBER, request_id, {"message": "Voici."}, None, NOW)
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    decisions.decide(uow, record, Outcome.accepted, NOW, amount=Decimal("42.50"))
    assert uow.audit.actions(request_id) == [
        "RequestFiled",
        "RequestRouted",
        "RequestAcknowledged",  # no event on the bus for it: an audit-only entry
        "asked",  # the access record, written before the change it precedes
        "InformationRequested",
        "MemberReplied",
        "LetterIssued",  # the question's, rendered by the service's handler when it runs
        "RepliesDelivered",
        "RequestDecided",
        "LetterIssued",
    ]
    assert list(uow.audit.chains) == [DAY]
    assert verify_day(uow, NOW.date()).intact
    records = [fields for _, fields in uow.audit.day(DAY)]
    asked = next(r for r in records if r["action"] == "asked")
    assert (asked["kind"], asked["actor"], asked["agent_id"]) == ("access", "agent", "agent-7")
    text = json.dumps(records, ensure_ascii=False)
    for personal in ("Alice", "Martin", "42.50", "pharmacie", "La facture", "Voici"):
        assert personal not in text
    assert uow.requests.pending == {}


def test_a_redelivered_outbox_entry_is_recorded_once(uow: FakeUnitOfWork) -> None:
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)}, None, NOW
    ).request_id
    filed = uow.bus.events[0]
    entry = {"id": filed["detail"]["event_id"], "to": "bus", **filed}
    # The process died after recording but before clearing: the sweeper dispatches it again.
    uow.requests.outboxes[(MEMBER, request_id)] = [entry]
    uow.requests.pending[(MEMBER, request_id)] = clock.iso_z(NOW)
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=2)) == 1
    assert uow.audit.actions(request_id) == ["RequestFiled"]
    assert uow.bus.names(request_id) == ["RequestFiled", "RequestFiled"]  # the bus: at least once


def test_an_unavailable_trail_leaves_the_change_pending_and_sends_nothing(
    uow: FakeUnitOfWork,
) -> None:
    uow.audit.failing = True
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], "type": "sante.attestation_tiers_payant"}, None, NOW
    ).request_id
    assert uow.bus.events == [] and uow.queues.sent == []  # not told before it is recorded
    assert list(uow.requests.pending) == [(MEMBER, request_id)]
    uow.audit.failing = False
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=2)) == 1
    assert uow.audit.actions(request_id) == ["RequestFiled"]


def test_no_audit_record_no_access_record_and_no_answer(uow: FakeUnitOfWork) -> None:
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)}, None, NOW
    ).request_id
    record = uow.requests.get(MEMBER, request_id)
    uow.audit.failing = True
    with pytest.raises(ServiceUnavailable):
        privacy.record_access(uow, record, Action.consulted, "agent-7", NOW)
    assert uow.access.records == {}


def test_the_daily_watch_checks_yesterdays_chain_and_says_so_in_a_metric(
    uow: FakeUnitOfWork, capsys: pytest.CaptureFixture[str]
) -> None:
    yesterday = NOW - timedelta(days=1)
    uow.audit.append([_entry(n) for n in range(3)], yesterday)
    uow.audit.append([_entry(9)], NOW)  # today's: not yet closed, not checked
    capsys.readouterr()
    assert watch_chain(uow, NOW).count == 3
    assert _metric(capsys.readouterr().out, "AuditChainBroken") == 0
    uow.audit.chains["2026-11-09"][2]["member_id"] = "U000000002"
    verdict = watch_chain(uow, NOW)
    assert (verdict.day, verdict.broken_at, verdict.reason) == ("2026-11-09", 2, Break.content)
    assert _metric(capsys.readouterr().out, "AuditChainBroken") == 1


def _metric(out: str, name: str) -> float:
    """The value of the one EMF line that carries `name`."""
    [value] = [json.loads(line)[name] for line in out.splitlines() if f'"{name}"' in line]
    return float(value[0] if isinstance(value, list) else value)
