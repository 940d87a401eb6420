"""The audit trail: every change of a request and every access to a member's file, appended to
one of a Paris day's `SHARDS` chains, the member's (`shard_of`: a member's records of a day are
in one chain, in order). Each record carries its sequence number (1, 2, 3… within its chain),
the SHA-256 of its predecessor's record and the SHA-256 of its own canonical content (which
holds that predecessor's hash, its day and its chain): editing, deleting or inserting a record
breaks the chain at the first link it touches, and `verify` names that link; the chain's head
(where the writers say it ends) names a record deleted from its end.

Identifiers and codes only (member, request, action, actor kind, the agent's id for an agent,
status, times, correlation id): never a name, a text, an amount or anything of one's health.
Pure: no storage, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain import clock
from chalicelib.domain.access import AccessRecord

KEPT = timedelta(days=6 * 366)  # docs/retention.md: six years


class Kind(StrEnum):
    change = "change"  # a request changed (its domain event, or a change that has none)
    access = "access"  # an agent read or acted on a member's file (the access log)


class ActorKind(StrEnum):
    member = "member"
    service = "service"  # the service's automatic handling, or its letters
    system = "system"  # routing, deadlines
    agent = "agent"  # a named agent: `agent_id` says who


# Who causes each domain event when no agent is named on the change (`agent_id`).
EVENT_ACTORS: dict[str, ActorKind] = {
    "RequestFiled": ActorKind.member,
    "RequestRouted": ActorKind.system,
    "InformationRequested": ActorKind.service,
    "MemberReplied": ActorKind.member,
    "RequestWithdrawn": ActorKind.member,
    "RequestReclassified": ActorKind.service,
    "RequestDecided": ActorKind.service,
    "LetterIssued": ActorKind.service,
    "ComplaintDeadlineAtRisk": ActorKind.system,
}


class AuditEntry(BaseModel):
    """What is recorded of one change or access, before it takes its place in a chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    action: str = Field(description="The event's name, the change's, or the access's action")
    entry_id: str = Field(description="The event's (or outbox entry's, or access's) id: unique")
    at: str = Field(description="When it happened (UTC)")
    member_id: str
    request_id: str
    actor: ActorKind
    agent_id: str | None = None
    service: str | None = None
    status: str | None = None
    outcome: str | None = None
    correlation_id: str | None = None


SHARDS = 16  # a day's chains: writers of different members never wait for each other


def shard_of(member_id: str) -> int:
    """The chain of a member's records (the same in every process: not Python's `hash`)."""
    return int.from_bytes(hashlib.sha256(member_id.encode()).digest()[:4], "big") % SHARDS


class AuditRecord(AuditEntry):
    """A link of one of a day's chains."""

    day: str = Field(description="The Paris day of the chain (YYYY-MM-DD)")
    shard: int | None = Field(
        default=None, ge=0, description="Which of the day's chains (none: a day before shards)"
    )
    sequence: int = Field(ge=1)
    recorded_at: str = Field(description="When it was appended (UTC)")
    previous_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        """What `hash` is the SHA-256 of: every field but the hash itself, nulls left out."""
        return self.model_dump(mode="json", exclude={"hash"}, exclude_none=True)


def canonical(content: Mapping[str, Any]) -> bytes:
    """Canonical JSON: keys sorted, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def chain_name(day: str, shard: int | None) -> str:
    """`2026-11-10#03`: a day's chain as keys and reports name it (the day alone for a day
    written before the chains were sharded)."""
    return day if shard is None else f"{day}#{shard:02d}"


def genesis(day: str, shard: int | None = None) -> str:
    """The "predecessor" of a chain's first record: bound to the day and the chain, so a whole
    chain copied under another day or chain does not verify."""
    return hashlib.sha256(f"AUDIT#{chain_name(day, shard)}".encode()).hexdigest()


class Link(NamedTuple):
    """What a record needs of its predecessor."""

    sequence: int
    hash: str


def seal(
    entry: AuditEntry, day: str, previous: Link | None, recorded_at: str, shard: int | None = None
) -> AuditRecord:
    """`entry` as the record that follows `previous` (None: the chain's first)."""
    unsealed = {
        **entry.model_dump(mode="json"),
        "day": day,
        "shard": shard,
        "sequence": previous.sequence + 1 if previous else 1,
        "recorded_at": recorded_at,
        "previous_hash": previous.hash if previous else genesis(day, shard),
        "hash": "",
    }
    record = AuditRecord.model_validate(unsealed)
    return record.model_copy(update={"hash": content_hash(record.content())})


def seal_all(
    entries: Iterable[AuditEntry],
    day: str,
    previous: Link | None,
    recorded_at: str,
    shard: int | None = None,
) -> list[AuditRecord]:
    """Consecutive records after `previous`."""
    sealed: list[AuditRecord] = []
    for entry in entries:
        record = seal(entry, day, previous, recorded_at, shard)
        sealed.append(record)
        previous = Link(record.sequence, record.hash)
    return sealed


def of_event(
    detail_type: str,
    detail: Mapping[str, Any],
    *,
    agent_id: str | None = None,
    correlation_id: str | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """A domain event (`events.EventDetail`, as kept in the outbox), or a change no event
    announces (`store/outbox.to_audit`, which says its `actor`), as audited: its codes."""
    return AuditEntry(
        kind=Kind.change,
        action=detail_type,
        entry_id=str(detail["event_id"]),
        at=str(detail["occurred_at"]),
        member_id=str(detail["member_id"]),
        request_id=str(detail["request_id"]),
        actor=ActorKind.agent
        if agent_id
        else ActorKind(actor or EVENT_ACTORS.get(detail_type, ActorKind.system)),
        agent_id=agent_id,
        service=detail.get("service"),
        status=detail.get("status"),
        outcome=detail.get("outcome"),
        correlation_id=correlation_id,
    )


def of_access(member_id: str, access_id: str, record: AccessRecord) -> AuditEntry:
    """An agent's read or action on a member's file (`access.AccessRecord`)."""
    return AuditEntry(
        kind=Kind.access,
        action=record.action.value,
        entry_id=access_id,
        at=record.at,
        member_id=member_id,
        request_id=record.request_id,
        actor=ActorKind.agent,
        agent_id=record.agent_id,
        service=record.service,
        correlation_id=record.correlation_id,
    )


class Break(StrEnum):
    gap = "gap: a record is missing"
    content = "content hash mismatch"
    predecessor = "predecessor mismatch"
    unreadable = "not an audit record"
    end = "end mismatch: the chain's head names a record the chain does not hold"
    retention = "retention changed: the record's TTL is not the six years from its writing"


class StoredChain(NamedTuple):
    """One of a day's chains as stored: its records (sequence from the item's key, the item's
    own fields) and its head (read before the records), if any."""

    shard: int | None
    records: list[tuple[int, dict[str, Any]]]
    head: Link | None = None


@dataclass(frozen=True)
class Verdict:
    """A chain checked: intact (with how many records), or its first broken link."""

    day: str
    count: int
    broken_at: int | None = None
    reason: Break | None = None
    shard: int | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def describe(self) -> str:
        where = self.day if self.shard is None else f"{self.day} chain {self.shard:02d}"
        if self.intact:
            return f"OK {where}: {self.count} records, chain intact"
        return f"BROKEN {where} at sequence {self.broken_at}: {self.reason}"


@dataclass(frozen=True)
class DayVerdict:
    """Every chain of a day checked."""

    day: str
    chains: tuple[Verdict, ...]

    @property
    def intact(self) -> bool:
        return all(chain.intact for chain in self.chains)

    @property
    def count(self) -> int:
        return sum(chain.count for chain in self.chains)

    @property
    def broken(self) -> list[Verdict]:
        return [chain for chain in self.chains if not chain.intact]

    def describe(self) -> str:
        """One line if every chain is intact; else one line per broken chain."""
        if self.intact:
            return (f"OK {self.day}: {self.count} records in {len(self.chains)} chains, "
                    "every chain intact")  # fmt: skip
        return "\n".join(chain.describe() for chain in self.broken)


def verify(
    day: str,
    stored: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    shard: int | None = None,
    head: Link | None = None,
) -> Verdict:
    """Check one of a day's chains from its stored records: (sequence from the item's key, the
    item's own fields). The first broken link is named: a sequence number missing (gap), a
    record whose content does not hash to its `hash` (edited), one whose `previous_hash` is not
    its predecessor's `hash` (a record replaced, inserted or moved), or, the chain intact, a
    head naming a record it does not hold (records deleted from its end, or the last one
    replaced). A head read before the records may name an earlier one: writers went on."""
    expected, previous_hash, count = 1, genesis(day, shard), 0
    hashes: dict[int, str] = {}
    for sequence, fields in sorted(stored, key=lambda pair: pair[0]):
        if sequence < expected:  # a key no writer makes (a chain's keys are 1, 2, 3…)
            return Verdict(day, count, sequence, Break.unreadable, shard)
        if sequence > expected:
            return Verdict(day, count, expected, Break.gap, shard)
        content = {k: v for k, v in fields.items() if k not in ("hash", "expires_at")} | {
            "day": day,
            "sequence": sequence,
        }
        if shard is not None:
            content["shard"] = shard
        try:
            digest = content_hash(content)
        except (TypeError, ValueError):  # a value JSON cannot hold: not what was written
            return Verdict(day, count, sequence, Break.content, shard)
        if digest != fields.get("hash"):
            return Verdict(day, count, sequence, Break.content, shard)
        try:
            record = AuditRecord.model_validate({**content, "hash": digest})
        except ValidationError:
            return Verdict(day, count, sequence, Break.unreadable, shard)
        if record.previous_hash != previous_hash:
            return Verdict(day, count, sequence, Break.predecessor, shard)
        if not _kept_as_written(record, fields.get("expires_at")):
            return Verdict(day, count, sequence, Break.retention, shard)
        expected, previous_hash, count = sequence + 1, record.hash, count + 1
        hashes[sequence] = record.hash
    if head is not None and hashes.get(head.sequence) != head.hash:
        return Verdict(day, count, min(head.sequence, count + 1), Break.end, shard)
    return Verdict(day, count, shard=shard)


def expires_at(recorded_at: datetime) -> int:
    """A record's TTL (epoch seconds): `KEPT` from its writing."""
    return int((recorded_at + KEPT).timestamp())


def _kept_as_written(record: AuditRecord, stored: Any) -> bool:
    """The TTL outside the hash is still the one its writer set: a writer's role may put a
    record again (the chain says if its content changed), and one put with a TTL of the past
    would be deleted by DynamoDB, past the roles' denial of DeleteItem. None: read with its
    TTL left out (the chain alone is checked)."""
    if stored is None:
        return True
    try:
        written = expires_at(clock.parse_timestamp(record.recorded_at))
        return abs(int(stored) - written) <= 1  # the writer's moment, to the millisecond
    except (TypeError, ValueError):
        return False


def verify_day(day: str, chains: Iterable[StoredChain]) -> DayVerdict:
    """Every chain of a Paris day, each checked on its own as it comes (a chain is dropped
    before the next is read: `AuditTrail.read_chains`), the verdicts in the shards' order."""
    verdicts = [verify(day, chain.records, shard=chain.shard, head=chain.head) for chain in chains]
    return DayVerdict(
        day, tuple(sorted(verdicts, key=lambda v: -1 if v.shard is None else v.shard))
    )
