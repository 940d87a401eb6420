"""The audit trail: every change of a request and every access to a member's file, appended to
one chain per Paris day. Each record carries its sequence number (1, 2, 3… within the day), the
SHA-256 of its predecessor's record and the SHA-256 of its own canonical content (which holds
that predecessor's hash): editing, deleting or inserting a record breaks the chain at the first
link it touches, and `verify` names that link.

Identifiers and codes only (member, request, action, actor kind, the agent's id for an agent,
status, times, correlation id): never a name, a text, an amount or anything of one's health.
Pure: no storage, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.access import AccessRecord


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


class AuditRecord(AuditEntry):
    """A link of a day's chain."""

    day: str = Field(description="The Paris day of the chain (YYYY-MM-DD)")
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


def genesis(day: str) -> str:
    """The "predecessor" of a day's first record: bound to the day, so a whole chain copied
    under another day does not verify."""
    return hashlib.sha256(f"AUDIT#{day}".encode()).hexdigest()


class Link(NamedTuple):
    """What a record needs of its predecessor."""

    sequence: int
    hash: str


def seal(entry: AuditEntry, day: str, previous: Link | None, recorded_at: str) -> AuditRecord:
    """`entry` as the record that follows `previous` (None: the day's first)."""
    unsealed = {
        **entry.model_dump(mode="json"),
        "day": day,
        "sequence": previous.sequence + 1 if previous else 1,
        "recorded_at": recorded_at,
        "previous_hash": previous.hash if previous else genesis(day),
        "hash": "",
    }
    record = AuditRecord.model_validate(unsealed)
    return record.model_copy(update={"hash": content_hash(record.content())})


def seal_all(
    entries: Iterable[AuditEntry], day: str, previous: Link | None, recorded_at: str
) -> list[AuditRecord]:
    """Consecutive records after `previous`."""
    sealed: list[AuditRecord] = []
    for entry in entries:
        record = seal(entry, day, previous, recorded_at)
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


@dataclass(frozen=True)
class Verdict:
    """A day's chain checked: intact (with how many records), or its first broken link."""

    day: str
    count: int
    broken_at: int | None = None
    reason: Break | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def describe(self) -> str:
        if self.intact:
            return f"OK {self.day}: {self.count} records, chain intact"
        return f"BROKEN {self.day} at sequence {self.broken_at}: {self.reason}"


def verify(day: str, stored: Iterable[tuple[int, Mapping[str, Any]]]) -> Verdict:
    """Check a day's chain from its stored records: (sequence from the item's key, the item's
    own fields). The first broken link is named: a sequence number missing (gap), a record
    whose content does not hash to its `hash` (edited), or one whose `previous_hash` is not its
    predecessor's `hash` (a record replaced, inserted or moved)."""
    expected, previous_hash, count = 1, genesis(day), 0
    for sequence, fields in sorted(stored, key=lambda pair: pair[0]):
        if sequence < expected:  # a key no writer makes (a chain's keys are 1, 2, 3…)
            return Verdict(day, count, sequence, Break.unreadable)
        if sequence > expected:
            return Verdict(day, count, expected, Break.gap)
        content = {k: v for k, v in fields.items() if k != "hash"} | {
            "day": day,
            "sequence": sequence,
        }
        try:
            digest = content_hash(content)
        except (TypeError, ValueError):  # a value JSON cannot hold: not what was written
            return Verdict(day, count, sequence, Break.content)
        if digest != fields.get("hash"):
            return Verdict(day, count, sequence, Break.content)
        try:
            record = AuditRecord.model_validate({**content, "hash": digest})
        except ValidationError:
            return Verdict(day, count, sequence, Break.unreadable)
        if record.previous_hash != previous_hash:
            return Verdict(day, count, sequence, Break.predecessor)
        expected, previous_hash, count = sequence + 1, record.hash, count + 1
    return Verdict(day, count)
