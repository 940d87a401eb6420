"""The audit trail's chain, on its own and as the use cases feed it: on the in-memory unit of
work (`FakeAudit`), no moto."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import audit, clock
from chalicelib.domain.access import Action
from chalicelib.domain.audit import AuditEntry, Break, Kind
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.states import Outcome
from chalicelib.services import decisions, dialogue, filing, privacy, serving, sweeping
from chalicelib.services.audit import verify_day, watch_chain
from chalicelib.services.dialogue import InformationRequestBody
from chalicelib.store.queues import INTAKE
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


def _stored(records: list[audit.AuditRecord]) -> list[tuple[int, dict[str, Any]]]:
    """As the table holds them: day, chain and sequence in the key, the rest as attributes."""
    stored = []
    for record in records:
        fields = {k: v for k, v in record.model_dump(mode="json", exclude_none=True).items()
                  if k not in ("day", "sequence", "shard")}  # fmt: skip
        stored.append((record.sequence, fields))
    return stored


def _chain(length: int = 5, shard: int | None = None) -> list[tuple[int, dict[str, Any]]]:
    return _stored(audit.seal_all([_entry(n) for n in range(length)], DAY, None, "t", shard))


def _head(chain: list[tuple[int, dict[str, Any]]]) -> audit.Link:
    """What the chain's head item says after its last append."""
    return audit.Link(chain[-1][0], chain[-1][1]["hash"])


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


def test_each_of_a_days_chains_is_bound_to_its_place() -> None:
    """A chain's first link names its day and chain, and each record holds its chain: a chain
    (or a record) moved to another chain of the day does not verify there."""
    third = _chain(3, shard=3)
    assert audit.verify(DAY, third, shard=3).intact
    assert audit.genesis(DAY, 3) not in {audit.genesis(DAY), audit.genesis(DAY, 4)}
    assert audit.verify(DAY, third, shard=4).reason is Break.content
    assert audit.verify(DAY, third).reason is Break.content  # nor as the day's one old chain
    assert audit.verify(DAY, _chain(3), shard=0).reason is Break.content


def test_a_chains_head_names_records_deleted_from_its_end() -> None:
    chain = _chain(5, shard=2)
    head = _head(chain)
    assert audit.verify(DAY, chain, shard=2, head=head).intact
    verdict = audit.verify(DAY, chain[:3], shard=2, head=head)  # the last two deleted
    assert (verdict.broken_at, verdict.reason) == (4, Break.end)
    assert verdict.describe() == (
        f"BROKEN {DAY} chain 02 at sequence 4: end mismatch: "
        "the chain's head names a record the chain does not hold"
    )
    # The last record replaced by one consistent with its predecessor: the head's hash differs.
    forged = _chain(5, shard=2)
    forged[4][1]["status"] = "withdrawn"
    content = {k: v for k, v in forged[4][1].items() if k != "hash"}
    forged[4][1]["hash"] = audit.content_hash(content | {"day": DAY, "sequence": 5, "shard": 2})
    assert audit.verify(DAY, forged, shard=2).intact  # the chain alone cannot tell
    assert audit.verify(DAY, forged, shard=2, head=head).broken_at == 5
    # Read before the records, the head may name an earlier one: writers went on meanwhile.
    assert audit.verify(DAY, chain, shard=2, head=_head(chain[:3])).intact


def test_a_members_records_go_to_one_chain_and_members_spread_over_all() -> None:
    members = [f"U{n:09d}" for n in range(1, 801)]
    shards = [audit.shard_of(member) for member in members]
    assert shards == [audit.shard_of(member) for member in members]  # stable
    counts = [shards.count(shard) for shard in range(audit.SHARDS)]
    assert min(counts) > 800 / audit.SHARDS / 2  # every chain takes its share
    # The same in every process and on every machine (Python's own `hash` of a str is not):
    # SHA-256's first four bytes, modulo the number of chains.
    assert (
        audit.shard_of("U000000001")
        == int(hashlib.sha256(b"U000000001").hexdigest()[:8], 16) % 16
        == 6
    )


def test_a_day_is_intact_when_every_chain_is_and_each_broken_one_is_named() -> None:
    chains = [audit.StoredChain(1, _chain(2, shard=1)), audit.StoredChain(5, _chain(3, shard=5))]
    verdict = audit.verify_day(DAY, chains)
    assert (verdict.intact, verdict.count) == (True, 5)
    assert verdict.describe() == f"OK {DAY}: 5 records in 2 chains, every chain intact"
    del chains[1].records[1]
    verdict = audit.verify_day(DAY, chains)
    assert [(v.shard, v.broken_at, v.reason) for v in verdict.broken] == [(5, 2, Break.gap)]
    assert verdict.describe() == f"BROKEN {DAY} chain 05 at sequence 2: gap: a record is missing"


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
    assert list(uow.audit.chains) == [(DAY, audit.shard_of(MEMBER))]  # the member's chain
    assert verify_day(uow, NOW.date()).intact
    records = [fields for chain in uow.audit.day(DAY) for _, fields in chain.records]
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
    [_, filed] = uow.requests.outbox(MEMBER, request_id)
    _deliver(uow)
    assert uow.audit.actions(request_id)[:2] == ["RequestFiled", "RequestRouted"]
    # The process died after recording but before clearing: the sweeper dispatches it again.
    uow.requests.outboxes[(MEMBER, request_id)] = [filed]
    uow.requests.pending[(MEMBER, request_id)] = clock.iso_z(NOW)
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=2)) == 1
    assert uow.audit.actions(request_id).count("RequestFiled") == 1
    assert uow.bus.names(request_id).count("RequestFiled") == 2  # the bus: at least once


def test_an_unavailable_trail_leaves_the_change_pending_and_sends_nothing(
    uow: FakeUnitOfWork,
) -> None:
    uow.audit.failing = True
    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], "type": "sante.attestation_tiers_payant"}, None, NOW
    ).request_id
    # Filing does not wait on the trail: its pointer goes to intake, the router dispatches.
    assert [p.request_id for _, p in uow.queues.sent] == [request_id]
    for pointer, entry in uow.queues.take_delivered(INTAKE):
        serving.route(uow, pointer, NOW, delivered=entry)
    assert uow.bus.events == []  # not told before it is recorded
    assert list(uow.requests.pending) == [(MEMBER, request_id)]
    uow.audit.failing = False
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=2)) == 1
    assert uow.audit.actions(request_id) == ["RequestFiled", "RequestRouted"]
    assert uow.bus.names(request_id) == ["RequestFiled", "RequestRouted"]


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
    uow.audit.chains[("2026-11-09", audit.shard_of("U000000001"))][2]["status"] = "processed"
    [broken] = watch_chain(uow, NOW).broken
    assert (broken.day, broken.broken_at, broken.reason) == ("2026-11-09", 2, Break.content)
    assert _metric(capsys.readouterr().out, "AuditChainBroken") == 1


def _metric(out: str, name: str) -> float:
    """The value of the one EMF line that carries `name`."""
    [value] = [json.loads(line)[name] for line in out.splitlines() if f'"{name}"' in line]
    return float(value[0] if isinstance(value, list) else value)


def test_a_day_is_checked_one_chain_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily watch read a day's sixteen chains at once, then checked them: a national day
    (some 600,000 records) would hold a gigabyte in a 512 MB watch. Each chain is checked as it
    comes, before the next is read, and the verdicts keep the shards' order."""
    from chalicelib.domain import audit as chain_rules
    from chalicelib.domain.audit import StoredChain

    checked: list[int | None] = []
    real = chain_rules.verify

    def counted(*args: Any, **kwargs: Any) -> Any:
        checked.append(kwargs.get("shard"))
        return real(*args, **kwargs)

    monkeypatch.setattr(chain_rules, "verify", counted)
    read: list[int | None] = []

    def one_by_one() -> Any:
        for shard in (None, 1, 0):
            assert checked == read  # the chain before checked before this one is read
            read.append(shard)
            yield StoredChain(shard, [])

    verdict = chain_rules.verify_day("2020-01-01", one_by_one())
    assert checked == [None, 1, 0]
    assert [v.shard for v in verdict.chains] == [None, 0, 1]
    assert verdict.intact
