"""In-memory implementations of the use cases' unit of work (`chalicelib/services/ports.py`), as
cosmicpython's `FakeUnitOfWork`: the service layer's unit tests run on these, with no moto.

They keep the adapters' promises that the use cases rely on: a transition happens once, a
request is created with its idempotency claim, its uploads and the day's count in one step (or
not at all), a member's limits hold, one letter of a kind per request, a month's requests newest
first.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from ulid import ULID

from chalicelib.domain import audit, clock, events, retention
from chalicelib.domain.access import AccessRecord
from chalicelib.domain.audit import AuditEntry, AuditRecord, Link, StoredChain
from chalicelib.domain.documents import DocumentRecord, DocumentSummary, pdf_filename
from chalicelib.domain.errors import NotFound
from chalicelib.domain.exports import (
    BUILD_CLAIM,
    ZIP,
    ExportPointer,
    ExportRecord,
    ExportStatus,
)
from chalicelib.domain.limits import MemberLimits
from chalicelib.domain.members import BankAccount, Beneficiary, Member, Preferences
from chalicelib.domain.notifications import Email
from chalicelib.domain.requests import (
    AgentHistoryEntry,
    AgentMessage,
    Attachment,
    DocumentRef,
    DueLetter,
    InformationRequest,
    RequestPointer,
    RequestRecord,
    RequestSummary,
    Status,
    month_of,
)
from chalicelib.domain.states import OPEN_STATUSES, Actor, Outcome
from chalicelib.domain.uploads import Upload
from chalicelib.store import outbox
from chalicelib.store.files import Inspected
from chalicelib.store.notifications import DeferredSms
from chalicelib.store.queues import INTAKE, service_queue
from chalicelib.store.requests import (
    DailyLimit,
    DailyLimitReached,
    FilingChecks,
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    RequestClosed,
    UploadTaken,
)
from chalicelib.store.retention import PurgeEntry
from chalicelib.store.uploads import TooManyUnusedUploads


class FakeMembers:
    def __init__(self) -> None:
        self.profiles: dict[str, Member] = {}
        self.contracts: dict[str, dict[str, Beneficiary]] = {}
        self.held: dict[tuple[str, str], str] = {}

    def put(self, member: Member) -> None:
        self.profiles[member.member_id] = member

    def get(self, member_id: str) -> Member:
        if member_id not in self.profiles:
            raise NotFound("Adhérent inconnu.")
        return self.profiles[member_id]

    def beneficiaries(self, member_id: str) -> list[Beneficiary]:
        return list(self.contracts.get(member_id, {}).values())

    def put_beneficiary(self, member_id: str, beneficiary: Beneficiary) -> None:
        self.contracts.setdefault(member_id, {})[beneficiary.beneficiary_id] = beneficiary

    def apply_contact(self, member_id: str, changes: Mapping[str, Any]) -> None:
        allowed = {k: v for k, v in changes.items() if k in {"email", "phone", "postal_address"}}
        self.profiles[member_id] = Member.model_validate(
            {**self.get(member_id).model_dump(), **allowed}
        )

    def held_iban(self, member_id: str, request_id: str) -> str | None:
        return self.held.get((member_id, request_id))

    def set_preferences(self, member_id: str, preferences: Preferences) -> None:
        self.profiles[member_id] = self.get(member_id).model_copy(
            update={"preferences": preferences}
        )

    def apply_bank_account(self, member_id: str, iban: str, holder_name: str) -> None:
        account = BankAccount(iban=iban, holder_name=holder_name)
        self.profiles[member_id] = self.get(member_id).model_copy(update={"bank_account": account})

    def set_coverage_end(self, member_id: str, beneficiary_id: str, until: str) -> None:
        contract = self.contracts[member_id]
        contract[beneficiary_id] = contract[beneficiary_id].model_copy(
            update={"coverage_end": datetime.fromisoformat(until).date()}
        )


class FakeUploads:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Upload] = {}
        self.released: set[tuple[str, str]] = set()  # places given back (`release`)

    def record(self, upload: Upload, now: datetime, limit: int) -> None:
        unused = {
            u.upload_id: u.expires_at
            for key, u in self.records.items()
            if key[0] == upload.member_id
            and key not in self.released
            and u.used_by is None
            and u.expires_at > int(now.timestamp())
        }
        if len(unused) >= limit:
            raise TooManyUnusedUploads(unused)
        self.records[(upload.member_id, upload.upload_id)] = upload

    def release(self, member_id: str, unused: Mapping[str, int]) -> None:
        self.released |= {(member_id, u) for u in unused}

    def get_many(self, member_id: str, upload_ids: Sequence[str]) -> dict[str, Upload]:
        return {
            u: self.records[(member_id, u)] for u in upload_ids if (member_id, u) in self.records
        }


class FakeRequests:
    def __init__(self, members: FakeMembers, uploads: FakeUploads) -> None:
        self._members = members
        self._uploads = uploads
        self.records: dict[tuple[str, str], RequestRecord] = {}
        self.extra: dict[tuple[str, str], dict[str, Any]] = {}  # what the table adds to a record
        self.claims: dict[tuple[str, str], tuple[IdempotencyRecord, int]] = {}
        self.pending: dict[tuple[str, str], str] = {}  # → since when something waits to be sent
        self.outboxes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.counts: dict[tuple[str, str, str], int] = {}  # (member, counted, day) → count
        self.fail_creates = 0  # the next creations fail, as a throttled transaction would

    def _day_count(self, member_id: str, limit: DailyLimit) -> int:
        return self.counts.get((member_id, limit.counted, limit.day), 0)

    def _count(self, member_id: str, limit: DailyLimit) -> None:
        """Checked with the transaction's other conditions, written with its other items."""
        if self.counts.get((member_id, limit.counted, limit.day), 0) >= limit.limit:
            raise DailyLimitReached

    def checks(
        self,
        member_id: str,
        limit: DailyLimit,
        beneficiary_ids: Sequence[str],
        upload_ids: Sequence[str],
        idempotency_key: str | None,
        now: datetime,
        request_id: str | None = None,
    ) -> FilingChecks:
        previous = self.idempotency(member_id, idempotency_key, now) if idempotency_key else None
        contract = self._members.contracts.get(member_id, {})
        return FilingChecks(
            {b: contract[b] for b in beneficiary_ids if b in contract},
            self._uploads.get_many(member_id, upload_ids),
            self._day_count(member_id, limit),
            previous,
            self._found(member_id, request_id),
        )

    def idempotency(self, member_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        found = self.claims.get((member_id, key))
        if found is None or found[1] <= int(now.timestamp()):
            return None
        return found[0]

    def prepare_create(
        self,
        record: RequestRecord,
        now: datetime,
        *,
        limit: DailyLimit,
        idempotency: IdempotencyClaim | None = None,
        bank_iban: str | None = None,
        pending_from: datetime | None = None,
    ) -> Callable[[], list[dict[str, Any]]]:
        built = record.model_copy(deep=True)  # the write as built, whatever the caller does next
        return functools.partial(
            self._write, built, now, limit, idempotency, bank_iban, pending_from
        )

    def _write(
        self,
        record: RequestRecord,
        now: datetime,
        limit: DailyLimit,
        idempotency: IdempotencyClaim | None,
        bank_iban: str | None,
        pending_from: datetime | None,
    ) -> list[dict[str, Any]]:
        if self.fail_creates:
            self.fail_creates -= 1
            raise RuntimeError("transaction failed")
        if idempotency is not None and self.idempotency(record.member_id, idempotency.key, now):
            raise IdempotencyKeyTaken
        for attachment in record.attachments:
            upload = self._uploads.records.get((record.member_id, attachment.attachment_id))
            if upload is None or upload.used_by is not None:
                raise UploadTaken(attachment.attachment_id)
        self._count(record.member_id, limit)
        # All checked: now everything at once, as one transaction.
        counted = (record.member_id, limit.counted, limit.day)
        self.counts[counted] = self.counts.get(counted, 0) + 1
        key = (record.member_id, record.request_id)
        self.records[key] = record.model_copy(deep=True)
        self.extra[key] = {}
        self.pending[key] = clock.iso_z(pending_from or now)
        self.outboxes[key] = [
            outbox.to_queue(INTAKE, now),
            outbox.to_bus(events.RequestFiled.of(record, now)),
        ]
        if idempotency is not None:
            claim = IdempotencyRecord(
                idempotency.fingerprint, record.request_id, dict(idempotency.response)
            )
            expires = int(now.timestamp()) + 24 * 3600
            self.claims[(record.member_id, idempotency.key)] = (claim, expires)
        for attachment in record.attachments:
            upload_key = (record.member_id, attachment.attachment_id)
            used = self._uploads.records[upload_key].model_copy(
                update={"used_by": record.request_id}
            )
            self._uploads.records[upload_key] = used
        if bank_iban is not None:
            self._members.held[key] = bank_iban
        return self.outbox(record.member_id, record.request_id)

    def prepare_reply(
        self,
        record: RequestRecord,
        message: AgentMessage,
        attachments: list[Attachment],
        now: datetime,
        idempotency: IdempotencyClaim | None = None,
        *,
        limit: DailyLimit,
        pending_from: datetime | None = None,
    ) -> Callable[[], list[dict[str, Any]]]:
        return functools.partial(
            self._reply, record, message, attachments, now, idempotency, limit, pending_from
        )

    def _reply(
        self,
        record: RequestRecord,
        message: AgentMessage,
        attachments: list[Attachment],
        now: datetime,
        idempotency: IdempotencyClaim | None,
        limit: DailyLimit,
        pending_from: datetime | None,
    ) -> list[dict[str, Any]]:
        key = (record.member_id, record.request_id)
        stored = self.records[key]
        if idempotency is not None and self.idempotency(record.member_id, idempotency.key, now):
            raise IdempotencyKeyTaken
        for attachment in attachments:
            upload = self._uploads.records.get((record.member_id, attachment.attachment_id))
            if upload is None or upload.used_by is not None:
                raise UploadTaken(attachment.attachment_id)
        if stored.status not in OPEN_STATUSES or stored.service != record.service:
            raise RequestClosed
        self._count(record.member_id, limit)
        counted = (record.member_id, limit.counted, limit.day)
        self.counts[counted] = self.counts.get(counted, 0) + 1
        entry = AgentHistoryEntry(
            at=clock.iso_z(now), status=Status.in_progress, label="Réponse envoyée", by=Actor.member
        )
        self.records[key] = stored.model_copy(
            update={
                "status": Status.in_progress,
                "information_request": None,
                "messages": [*stored.messages, message],
                "attachments": [*stored.attachments, *attachments],
                "history": [*stored.history, entry],
            }
        )
        added = [outbox.to_queue(INTAKE, now)]
        replied = events.MemberReplied.of(self.records[key], now, message_id=message.message_id)
        added.append(outbox.to_bus(replied))
        for pending in added:
            self.emit(key, now, pending)
        self.pending[key] = clock.iso_z(pending_from or now)
        if idempotency is not None:
            claim = IdempotencyRecord(
                idempotency.fingerprint, record.request_id, dict(idempotency.response)
            )
            self.claims[(record.member_id, idempotency.key)] = (claim, int(now.timestamp()) + 86400)
        for attachment in attachments:
            upload_key = (record.member_id, attachment.attachment_id)
            self._uploads.records[upload_key] = self._uploads.records[upload_key].model_copy(
                update={"used_by": record.request_id}
            )
        return added

    def emit(self, key: tuple[str, str], now: datetime, entry: dict[str, Any]) -> None:
        self.outboxes.setdefault(key, []).append(entry)
        self.pending[key] = clock.iso_z(now)  # as the table's `Change.pend`: the latest change

    def outbox(self, member_id: str, request_id: str) -> list[dict[str, Any]]:
        return list(self.outboxes.get((member_id, request_id), []))

    def clear_outbox(
        self, member_id: str, request_id: str, sent: list[dict[str, Any]], now: datetime
    ) -> bool:
        key = (member_id, request_id)
        kept = self.outboxes.get(key, [])
        if [e["id"] for e in kept[: len(sent)]] != [e["id"] for e in sent]:
            return False
        self.outboxes[key] = kept[len(sent) :]
        if not self.outboxes[key]:
            self.pending.pop(key, None)
        return True

    def pending_pages(
        self, cutoff: datetime, page: int = 100
    ) -> Iterator[list[tuple[str, str, str | None]]]:
        stamp = clock.iso_z(cutoff)
        found = sorted((created, key) for key, created in self.pending.items() if created < stamp)
        listed = [(member, request, None) for _, (member, request) in found]
        for start in range(0, len(listed), page):
            yield listed[start : start + page]

    def get(self, member_id: str, request_id: str, *, consistent: bool = False) -> RequestRecord:
        record = self._found(member_id, request_id)
        if record is None:
            raise NotFound("Demande introuvable.")
        return record

    def _found(self, member_id: str, request_id: str | None) -> RequestRecord | None:
        if request_id is None:
            return None
        month_of(request_id)  # a malformed id is not found, as in the table
        record = self.records.get((member_id, request_id.upper()))
        return None if record is None else record.model_copy(deep=True)

    def mark_contested(self, complaint: RequestRecord, now: datetime) -> None:
        pass  # the fake reads `related_request_id` itself (`contesting`)

    def contesting(self, member_id: str, request_id: str) -> list[RequestRecord]:
        return [
            r
            for (m, _), r in self.records.items()
            if m == member_id and r.related_request_id == request_id
        ]

    def newest_first(
        self, member_id: str, *, month: str | None, before: str | None, first_read: int
    ) -> Iterator[tuple[str, RequestSummary]]:
        def wanted(record: RequestRecord) -> bool:
            if retention.expired(record.expires_at, clock.now()):  # as the Query's filter
                return False
            if month is not None:
                return record.month == month
            return before is None or record.month < before

        for (member, _), record in sorted(self.records.items(), reverse=True):
            if member == member_id and wanted(record):
                yield record.month, record.summary()


def _entry(
    now: datetime, status: Status, label: str, by: Actor, agent_id: str | None = None
) -> AgentHistoryEntry:
    return AgentHistoryEntry(
        at=clock.iso_z(now), status=status, label=label, by=by, agent_id=agent_id
    )


class FakeTransitions:
    """The table's conditional updates, on the fake requests' records."""

    def __init__(self, requests: FakeRequests) -> None:
        self._requests = requests

    def _change(
        self,
        record: RequestRecord,
        updates: dict[str, Any],
        history: AgentHistoryEntry | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        key = (record.member_id, record.request_id)
        stored = self._requests.records[key]
        fields = {k: v for k, v in updates.items() if k in RequestRecord.model_fields}
        if history is not None:
            fields["history"] = [*stored.history, history]
        self._requests.records[key] = stored.model_copy(update=fields)
        self._requests.extra[key].update({k: v for k, v in updates.items() if k not in fields})
        self._requests.extra[key].update(extra or {})

    def _state(self, record: RequestRecord) -> tuple[RequestRecord, dict[str, Any]]:
        key = (record.member_id, record.request_id)
        return self._requests.records[key], self._requests.extra[key]

    def route(self, record: RequestRecord, service: str, label: str, now: datetime) -> bool:
        stored, _ = self._state(record)
        if stored.routed_at is not None or (stored.service, stored.status) != (
            record.service,
            record.status,
        ):
            return False  # routed already, or changed since it was read (the table's condition)
        entry = _entry(now, record.status, label, Actor.system)
        self._change(record, {"service": service, "routed_at": clock.iso_z(now)}, entry)
        self._emit(record, now, events.RequestRouted)
        return True

    def acknowledge(self, record: RequestRecord, label: str, now: datetime, **extra: Any) -> bool:
        stored, _ = self._state(record)
        if (
            stored.acknowledged_at is not None
            or stored.status not in OPEN_STATUSES
            or (stored.service, stored.complaint) != (record.service, record.complaint)
        ):
            return False
        entry = _entry(now, stored.status, label, Actor.service)
        self._change(record, {"acknowledged_at": clock.iso_z(now), **extra}, entry)
        self._audit(record, now, "RequestAcknowledged", Actor.service)
        return True

    def keep_attachments_until(self, record: RequestRecord, day: date) -> bool:
        stored, _ = self._state(record)
        if stored.attachments_deleted_at is not None:
            return False
        self._requests.records[(record.member_id, record.request_id)] = stored.model_copy(
            update={"attachments_kept_until": day.isoformat()}
        )
        return True

    def attachments_deleted(self, record: RequestRecord, label: str, now: datetime) -> bool:
        stored, _ = self._state(record)
        if stored.attachments_deleted_at is not None:
            return False
        entry = _entry(now, stored.status, label, Actor.system)
        gone = {"attachments": [], "attachments_deleted_at": clock.iso_z(now),
                "attachments_kept_until": None,
                "messages": [m.model_copy(update={"attachment_ids": []})
                             for m in stored.messages]}  # fmt: skip
        self._change(record, gone, entry)
        self._audit(record, now, "AttachmentsDeleted", Actor.system)
        return True

    def claim_decision(self, record: RequestRecord, outcome: str, now: datetime) -> bool:
        stored, extra = self._state(record)
        if stored.status not in OPEN_STATUSES:
            return False
        if extra.get("decided_outcome", outcome) != outcome:
            return False
        extra["decided_outcome"] = outcome
        return True

    def release_decision(self, record: RequestRecord, outcome: str) -> bool:
        stored, extra = self._state(record)
        if stored.status not in OPEN_STATUSES or extra.get("decided_outcome") != outcome:
            return False
        del extra["decided_outcome"]
        return True

    def finish(
        self,
        record: RequestRecord,
        outcome: str,
        label: str,
        now: datetime,
        agent_id: str | None = None,
        *,
        letter: DueLetter | None = None,
        hand_over: bool = False,
        pending_from: datetime | None = None,
        **extra: Any,
    ) -> list[dict[str, Any]] | None:
        stored, _ = self._state(record)
        if stored.status not in OPEN_STATUSES:
            return None
        before = self._outbox_size(record)
        entry = _entry(now, Status.processed, label, Actor.service, agent_id)
        updates = {
            "status": Status.processed,
            "outcome": Outcome(outcome),  # stored as the table holds it: a valid outcome
            "information_request": None,
            "due_at": None,  # closed: no answer owed any more
            **extra,
        }
        self._change(record, updates, entry, {"processed_at": clock.iso_z(now)})
        self._closing(record)
        self._emit(record, now, events.RequestDecided, outcome=outcome)
        self._owe(record, now, letter, hand_over)
        return self._added(record, before, now, pending_from)

    def ask(
        self,
        record: RequestRecord,
        question: InformationRequest,
        message: AgentMessage,
        label: str,
        now: datetime,
        *,
        letter: DueLetter | None = None,
        hand_over: bool = False,
        pending_from: datetime | None = None,
    ) -> list[dict[str, Any]] | None:
        stored, extra = self._state(record)
        if stored.status not in OPEN_STATUSES or "decided_outcome" in extra:
            return None
        waiting = stored.information_request
        if (
            stored.status is Status.waiting_for_member
            and waiting is not None
            and (waiting.message == question.message)
        ):
            return None  # the same question waits already (the table's condition)
        before = self._outbox_size(record)
        entry = _entry(now, Status.waiting_for_member, label, Actor.service, message.agent_id)
        updates = {
            "status": Status.waiting_for_member,
            "information_request": question,
            "messages": [*stored.messages, message],
            "unanswered": False,
        }
        self._change(record, updates, entry, {"priority": "1"})
        respond_before = question.respond_before
        self._emit(record, now, events.InformationRequested, respond_before=respond_before)
        self._owe(record, now, letter, hand_over)
        return self._added(record, before, now, pending_from)

    def unanswered(self, record: RequestRecord, label: str, now: datetime) -> bool:
        stored, _ = self._state(record)
        if (
            stored.status is not Status.waiting_for_member
            or stored.service != record.service
            or stored.information_request != record.information_request
        ):
            return False
        updates = {"status": Status.in_progress, "unanswered": True, "information_request": None}
        entry = _entry(now, Status.in_progress, label, Actor.system)
        self._change(record, updates, entry, {"priority": "0"})
        self._audit(record, now, "QuestionUnanswered", Actor.system)
        return True

    def withdraw(
        self,
        record: RequestRecord,
        message: AgentMessage | None,
        label: str,
        now: datetime,
        *,
        pending_from: datetime | None = None,
    ) -> list[dict[str, Any]] | None:
        stored, extra = self._state(record)
        if stored.status not in OPEN_STATUSES or stored.service != record.service:
            return None
        if "decided_outcome" in extra:  # a decision under way completes
            return None
        updates: dict[str, Any] = {
            "status": Status.withdrawn,
            "information_request": None,
            "due_at": None,
        }
        if message is not None:
            updates["messages"] = [*stored.messages, message]
        self._change(record, updates, _entry(now, Status.withdrawn, label, Actor.member))
        self._closing(record)
        before = self._outbox_size(record)
        key = (record.member_id, record.request_id)
        self._requests.emit(key, now, outbox.to_queue(INTAKE, now))
        self._emit(record, now, events.RequestWithdrawn)
        return self._added(record, before, now, pending_from)

    def reclassify(
        self,
        record: RequestRecord,
        *,
        service: str,
        complaint: bool,
        label: str,
        history_label: str,
        now: datetime,
        agent_id: str | None,
        pending_from: datetime | None = None,
        **extra: Any,
    ) -> list[dict[str, Any]] | None:
        stored, state = self._state(record)
        if stored.status not in OPEN_STATUSES or stored.service != record.service:
            return None
        if "decided_outcome" in state:  # a decision under way completes
            return None
        before = self._outbox_size(record)
        updates = {"service": service, "complaint": complaint, "label": label,
                   "acknowledged_at": None, "routed_at": None, **extra}  # fmt: skip
        entry = _entry(now, stored.status, history_label, Actor.service, agent_id)
        self._change(record, updates, entry)
        key = (record.member_id, record.request_id)
        self._requests.emit(key, now, outbox.to_queue(INTAKE, now))
        self._emit(record, now, events.RequestReclassified, previous_service=record.service)
        return self._added(record, before, now, pending_from)

    def deliver_replies(
        self, record: RequestRecord, message_ids: set[str], label: str, now: datetime
    ) -> bool:
        stored, _ = self._state(record)
        if message_ids <= stored.replies_delivered:
            return False
        updates = {"replies_delivered": stored.replies_delivered | message_ids}
        self._change(record, updates, _entry(now, stored.status, label, Actor.service))
        self._audit(record, now, "RepliesDelivered", Actor.service)
        return True

    def flag_for_agents(self, record: RequestRecord, now: datetime) -> bool:
        stored, _ = self._state(record)
        if stored.needs_attention:
            return False
        label = "Traitement automatique interrompu : un conseiller reprend votre demande"
        entry = _entry(now, stored.status, label, Actor.system)
        self._change(record, {"needs_attention": True}, entry, {"priority": "0"})
        self._audit(record, now, "FlaggedForAgents", Actor.system)
        return True

    def deadline_at_risk(self, record: RequestRecord, due_at: str, now: datetime) -> bool:
        stored, _ = self._state(record)
        if stored.status not in OPEN_STATUSES or stored.at_risk_due_at == due_at:
            return False
        self._change(record, {"at_risk_due_at": due_at}, None, {"priority": "0"})
        self._emit(record, now, events.ComplaintDeadlineAtRisk, due_at=due_at)
        return True

    def _owe(
        self, record: RequestRecord, now: datetime, letter: DueLetter | None, hand_over: bool
    ) -> None:
        key = (record.member_id, record.request_id)
        stored = self._requests.records[key]
        if letter is not None:
            due = stored.letters_due | {letter.encoded()}
            self._requests.records[key] = stored.model_copy(update={"letters_due": due})
        if hand_over:
            self._requests.emit(key, now, outbox.to_queue(service_queue(stored.service), now))

    def _closing(self, record: RequestRecord) -> None:
        """As the table's closing transaction (`store/retention.closing`): the full IBAN a
        request held for review is deleted with the change that closes it."""
        self._requests._members.held.pop((record.member_id, record.request_id), None)

    def _outbox_size(self, record: RequestRecord) -> int:
        return len(self._requests.outbox(record.member_id, record.request_id))

    def _added(
        self, record: RequestRecord, before: int, now: datetime, pending_from: datetime | None
    ) -> list[dict[str, Any]]:
        """What the change added to the outbox, pending from `pending_from` (as
        `Change.handed_over`)."""
        key = (record.member_id, record.request_id)
        self._requests.pending[key] = clock.iso_z(pending_from or now)
        return self._requests.outbox(*key)[before:]

    def _audit(self, record: RequestRecord, now: datetime, action: str, by: Actor) -> None:
        """A change no event announces: for the audit trail alone (`outbox.to_audit`)."""
        key = (record.member_id, record.request_id)
        entry = outbox.to_audit(action, self._requests.records[key], now, by.value)
        self._requests.emit(key, now, entry)

    def _emit(
        self, record: RequestRecord, now: datetime, event: type[events.EventDetail], **added: Any
    ) -> None:
        """The event of the change just made, from the request as it left it."""
        key = (record.member_id, record.request_id)
        self._requests.emit(key, now, outbox.to_bus(event.of(self._requests.records[key], now,
                                                                **added)))  # fmt: skip

    def prioritise(self, record: RequestRecord, place: str) -> bool:
        stored, extra = self._state(record)
        if stored.status not in OPEN_STATUSES:
            return False
        if place != "0" and (stored.needs_attention or stored.unanswered):
            return False  # the table's condition: a flag keeps it at the head
        extra["priority"] = place
        return True

    def work_list(
        self, service: str, state: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[RequestRecord], dict[str, Any] | None]:
        lists = {"open": Status.in_progress, "waiting": Status.waiting_for_member}
        wanted = lists[state] if state in lists else Status(state)
        rows = sorted(
            (extra.get("priority", "1"), record.created_at, record.request_id, key)
            for key, record in self._requests.records.items()
            if record.service == service and record.status is wanted
            for extra in [self._requests.extra[key]]
        )
        offset = int(start["offset"]) if start else 0
        page = rows[offset : offset + limit]
        records = [self._requests.records[row[3]].model_copy(deep=True) for row in page]
        more = offset + limit < len(rows)
        return records, ({"offset": offset + limit} if more else None)


class FakeDocuments:
    def __init__(self, requests: FakeRequests, files: FakeFiles) -> None:
        self._requests = requests
        self._files = files
        self.records: dict[tuple[str, str], DocumentRecord] = {}
        self.guards: dict[tuple[str, str, str], str] = {}

    def existing_letter(
        self, member_id: str, request_id: str, kind: str, occurrence: str | None = None
    ) -> DocumentRecord | None:
        document_id = self.guards.get((member_id, request_id, f"{kind}#{occurrence}"))
        return self.records[(member_id, document_id)] if document_id else None

    def store(
        self,
        member_id: str,
        kind: str,
        title: str,
        pdf: bytes,
        now: datetime,
        request_id: str | None = None,
        occurrence: str | None = None,
        *,
        document_id: str | None = None,
        postal_dispatch: bool = False,
        announce: dict[str, Any] | None = None,
        settles: str | None = None,
        request_expires_at: int | None = None,
    ) -> DocumentRecord:
        if request_id is not None and (
            existing := self.existing_letter(member_id, request_id, kind, occurrence)
        ):
            return existing
        document_id = document_id or str(ULID.from_datetime(now))
        record = DocumentRecord(
            document_id=document_id,
            member_id=member_id,
            kind=kind,
            title=title,
            created_at=clock.iso_z(now),
            request_id=request_id,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            postal_dispatch=postal_dispatch,
        )
        name = pdf_filename(title, record.created_at)
        self._files.put(self.object_key(record), pdf, "application/pdf", name)
        self.records[(member_id, document_id)] = record
        if request_id is not None:
            self.guards[(member_id, request_id, f"{kind}#{occurrence}")] = document_id
            key = (member_id, request_id)
            stored = self._requests.records[key]
            documents = [*stored.documents, DocumentRef(document_id=document_id, title=title)]
            due = stored.letters_due - {settles}
            self._requests.records[key] = stored.model_copy(
                update={"documents": documents, "letters_due": due}
            )
            if announce is not None:
                self._requests.emit(key, now, announce)
        return record

    def get(self, member_id: str, document_id: str) -> DocumentRecord:
        record = self.records.get((member_id, document_id.upper()))
        if record is None:
            raise NotFound("Document introuvable.")
        return record

    def since(self, member_id: str, cutoff: str) -> list[DocumentSummary]:
        since = clock.start_of_day(datetime.fromisoformat(cutoff).date())
        found = [
            r.summary()
            for (m, _), r in self.records.items()
            if m == member_id and r.created_at >= since
        ]
        return sorted(found, key=lambda d: d.created_at, reverse=True)

    def object_key(self, record: DocumentRecord) -> str:
        return f"documents/{record.member_id}/{record.document_id}.pdf"

    def pdf(self, record: DocumentRecord) -> bytes:
        return self._files.objects[self.object_key(record)][0]


class FakeFiles:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.download_names: dict[str, str] = {}  # the object's own Content-Disposition name

    def presigned_post(
        self, key: str, content_type: str, max_size: int, seconds: int
    ) -> dict[str, Any]:
        return {"url": "memory://uploads", "fields": {"key": key, "Content-Type": content_type}}

    def keys_under(self, prefix: str) -> set[str]:
        return {key for key in self.objects if key.startswith(prefix)}

    def inspect(self, key: str, max_size: int) -> Inspected | None:
        if key not in self.objects:
            return None
        body = self.objects[key][0]
        etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        if len(body) > max_size:
            return Inspected(len(body), b"", "", etag)
        return Inspected(len(body), body[:8], hashlib.sha256(body).hexdigest(), etag)

    def copy(
        self, source: str, destination: str, etag: str, content_type: str, download_name: str
    ) -> None:
        self.objects[destination] = (self.objects[source][0], content_type)
        self.download_names[destination] = download_name

    def put(
        self, key: str, body: bytes, content_type: str, download_name: str | None = None
    ) -> None:
        self.objects[key] = (body, content_type)
        if download_name is not None:
            self.download_names[key] = download_name

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)
            self.download_names.pop(key, None)

    def purge(self, prefixes: Sequence[str]) -> int:
        gone = [k for k in self.objects if any(k.startswith(p) for p in prefixes)]
        self.delete(gone)
        return len(gone)

    def presigned_download(self, key: str, content_type: str, now: datetime) -> dict[str, str]:
        return {"url": f"memory://{key}", "expires_at": clock.iso_z(now + timedelta(minutes=5))}


class FakeBus:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failing = False  # as EventBridge unreachable

    def put(self, entries: Sequence[dict[str, Any]]) -> None:
        if self.failing:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="memory://events")
        self.events += [dict(e) for e in entries]

    def names(self, request_id: str | None = None) -> list[str]:
        return [
            e["detail_type"]
            for e in self.events
            if request_id is None or e["detail"]["request_id"] == request_id
        ]


class FakeQueues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, RequestPointer]] = []
        self.entries: list[str | None] = []  # the outbox entry each of `sent` was sent for
        self.failing = False  # as SQS unreachable

    def send(
        self,
        queue: str,
        pointer: RequestPointer,
        correlation: str | None = None,
        entry_id: str | None = None,
    ) -> None:
        if self.failing:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="memory://sqs")
        self.sent.append((queue, pointer))
        self.entries.append(entry_id)

    def take(self, queue: str) -> list[RequestPointer]:
        return [pointer for pointer, _ in self.take_delivered(queue)]

    def take_delivered(self, queue: str) -> list[tuple[RequestPointer, str | None]]:
        """The queue's messages, each with the outbox entry it names, taken off the queue."""
        taken = [(p, e) for (name, p), e in zip(self.sent, self.entries, strict=True)
                 if name == queue]  # fmt: skip
        kept = [(s, e) for s, e in zip(self.sent, self.entries, strict=True) if s[0] != queue]
        self.sent, self.entries = [s for s, _ in kept], [e for _, e in kept]
        return taken


class FakeNotifications:
    def __init__(self) -> None:
        self.claimed: set[tuple[str, str, str]] = set()
        # (member, request, change, channel) → (quiet until, opened by the change, paired)
        self.quiet: dict[tuple[str, str, str, str], tuple[datetime, bool, bool]] = {}
        self.deferred: dict[tuple[str, str], DeferredSms] = {}
        self.queued: list[tuple[str, dict[str, Any]]] = []

    def claim(self, member_id: str, event_id: str, channel: str, now: datetime) -> bool:
        if (member_id, event_id, channel) in self.claimed:
            return False
        self.claimed.add((member_id, event_id, channel))
        return True

    def release(self, member_id: str, event_id: str, channel: str) -> None:
        self.claimed.discard((member_id, event_id, channel))

    def claim_request(
        self,
        member_id: str,
        request_id: str,
        change: str,
        channel: str,
        now: datetime,
        seconds: int,
        *,
        letter: bool,
    ) -> bool:
        """As the table's (`store/notifications.claim_request`)."""
        key = (member_id, request_id, change, channel)
        opened = (now + timedelta(seconds=seconds), not letter, False)
        if key not in self.quiet or self.quiet[key][0] <= now:
            self.quiet[key] = opened
            return True
        if letter:
            return False
        until, by_change, paired = self.quiet[key]
        if by_change or paired:
            self.quiet[key] = opened
            return True
        self.quiet[key] = (until, by_change, True)
        return False

    def release_request(self, member_id: str, request_id: str, change: str, channel: str) -> None:
        self.quiet.pop((member_id, request_id, change, channel), None)

    def defer_sms(self, sms: DeferredSms) -> None:
        self.deferred[(sms.send_at, sms.event_id)] = sms

    def due_sms(self, now: datetime) -> list[DeferredSms]:
        moment = now.astimezone(UTC)
        return [
            sms
            for (send_at, _), sms in sorted(self.deferred.items())
            if datetime.fromisoformat(send_at.replace("Z", "+00:00")) <= moment
        ]

    def take_sms(self, sms: DeferredSms, now: datetime) -> bool:
        return self.deferred.pop((sms.send_at, sms.event_id), None) is not None

    def enqueue(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.queued.append((detail_type, detail))


class FakeMessenger:
    def __init__(self) -> None:
        self.emails: list[tuple[str, Email, str]] = []
        self.sms: list[tuple[str, str]] = []
        self.failing = False
        self.refused: set[str | None] = set()  # numbers SNS rejects

    def send_email(self, to: str, email: Email, unsubscribe_url: str) -> None:
        if self.failing:
            raise RuntimeError("SES down")
        self.emails.append((to, email, unsubscribe_url))

    def send_sms(self, phone: str, text: str) -> None:
        if self.failing:
            raise RuntimeError("SNS down")
        if phone in self.refused:
            raise ValueError(f"Invalid parameter: PhoneNumber {phone}")  # as SNS words it
        self.sms.append((phone, text))


class FakeAudit:
    """The chains as the table holds them ((day, chain) → sequence → the item's own fields),
    appended on the same promise: each member's entries to the member's chain, consecutive
    records, each event once."""

    def __init__(self) -> None:
        self.chains: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
        self.marked: set[str] = set()
        self.failing = False  # as DynamoDB unreachable

    def append(
        self, entries: Sequence[AuditEntry], now: datetime, *, dedupe: bool = True
    ) -> list[AuditRecord]:
        if self.failing:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="memory://dynamodb")
        fresh = [e for e in entries if not (dedupe and e.entry_id in self.marked)]
        day = clock.paris_date(now).isoformat()
        records: list[AuditRecord] = []
        for entry in fresh:
            shard = audit.shard_of(entry.member_id)
            chain = self.chains.setdefault((day, shard), {})
            head = max(chain, default=None)
            previous = Link(head, chain[head]["hash"]) if head is not None else None
            [record] = audit.seal_all([entry], day, previous, clock.iso_z(now), shard)
            content = record.content()
            del content["day"], content["sequence"], content["shard"]
            chain[record.sequence] = {**content, "hash": record.hash}
            records.append(record)
        if dedupe:
            self.marked |= {r.entry_id for r in records}
        return records

    def read_chains(self, day: str) -> Iterator[StoredChain]:
        yield from self.day(day)

    def day(self, day: str) -> list[StoredChain]:
        return [
            StoredChain(shard, [(n, dict(fields)) for n, fields in sorted(chain.items())])
            for (chain_day, shard), chain in sorted(self.chains.items())
            if chain_day == day
        ]

    def actions(self, request_id: str | None = None) -> list[str]:
        """Every record's action, in its chain's order (all days; a request's records are all
        in its member's chain)."""
        return [
            fields["action"]
            for _, chain in sorted(self.chains.items())
            for _, fields in sorted(chain.items())
            if request_id is None or fields["request_id"] == request_id
        ]


class FakeAccess:
    def __init__(self, trail: FakeAudit | None = None) -> None:
        self.records: dict[str, list[AccessRecord]] = {}
        self._trail = trail or FakeAudit()

    def record(self, member_id: str, entry: AccessRecord, now: datetime) -> None:
        """With its audit record, or not at all."""
        access_id = str(ULID.from_datetime(now))
        self._trail.append([audit.of_access(member_id, access_id, entry)], now, dedupe=False)
        self.records.setdefault(member_id, []).append(entry)

    def page(
        self, member_id: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[AccessRecord], dict[str, Any] | None]:
        newest = list(reversed(self.records.get(member_id, [])))
        offset = int(start["offset"]) if start else 0
        more = offset + limit < len(newest)
        return newest[offset : offset + limit], ({"offset": offset + limit} if more else None)


class FakeExports:
    """An export and the member's guard change on the same conditions as the table's."""

    def __init__(self, files: FakeFiles) -> None:
        self._files = files
        self.records: dict[tuple[str, str], ExportRecord] = {}
        self.building: dict[str, ExportRecord] = {}  # member → the export holding the guard
        self.claimed_until: dict[tuple[str, str], datetime] = {}
        self.sent: list[ExportPointer] = []
        self.stored: list[str] = []  # every zip written, in order (a second build shows)
        self.failing_sends = False  # as SQS unreachable
        self.counts: dict[tuple[str, str], int] = {}  # (member, Paris day) → exports asked

    def start(self, record: ExportRecord, now: datetime, limit: DailyLimit) -> str | None:
        holder = self.building.get(record.member_id)
        if holder is not None and clock.parse_timestamp(holder.build_by) >= now:
            return holder.export_id
        day = (record.member_id, limit.day)
        if self.counts.get(day, 0) >= limit.limit:
            raise DailyLimitReached
        self.counts[day] = self.counts.get(day, 0) + 1
        self.building[record.member_id] = record
        self.records[(record.member_id, record.export_id)] = record
        return None

    def abandon(self, record: ExportRecord, limit: DailyLimit) -> None:
        key = (record.member_id, record.export_id)
        if self.records[key].build_by != record.created_at:  # ended once, given back once
            self.counts[(record.member_id, limit.day)] -= 1
        if self.building.get(record.member_id) == record:
            del self.building[record.member_id]
        self.records[key] = self.records[key].model_copy(update={"build_by": record.created_at})

    def get(self, member_id: str, export_id: str) -> ExportRecord:
        if (member_id, export_id) not in self.records:
            raise NotFound("Export introuvable.")
        return self.records[(member_id, export_id)]

    def claim(self, member_id: str, export_id: str, now: datetime) -> bool:
        record = self.records[(member_id, export_id)]
        held = self.claimed_until.get((member_id, export_id))
        if record.status is not ExportStatus.building:
            return False
        if clock.parse_timestamp(record.build_by) <= now or (held is not None and held >= now):
            return False
        self.claimed_until[(member_id, export_id)] = now + BUILD_CLAIM
        return True

    def finish(self, record: ExportRecord, object_key: str, size: int, now: datetime) -> bool:
        key = (record.member_id, record.export_id)
        if self.records[key].status is not ExportStatus.building:
            return False
        self.records[key] = self.records[key].model_copy(
            update={"status": ExportStatus.ready, "ready_at": clock.iso_z(now),
                    "object_key": object_key, "size": size}
        )  # fmt: skip
        self.claimed_until.pop(key, None)
        holder = self.building.get(record.member_id)
        if holder is not None and holder.export_id == record.export_id:
            del self.building[record.member_id]
        return True

    def send(self, pointer: ExportPointer) -> None:
        if self.failing_sends:
            raise ConnectionError("SQS unreachable")
        self.sent.append(pointer)

    def read(self, key: str) -> Iterator[bytes] | None:
        if key not in self._files.objects:
            return None
        body = self._files.objects[key][0]
        return iter([body[i : i + 7] for i in range(0, len(body), 7)])  # in small chunks

    def store(self, key: str, archive: IO[bytes], download_name: str) -> None:
        self._files.put(key, archive.read(), ZIP, download_name)
        self.stored.append(key)

    def link(self, key: str, now: datetime, until: datetime) -> str:
        seconds = min(300, int((until - now).total_seconds()))
        return f"memory://{key}?expires={seconds}"


class FakeRetention:
    """Purge entries by day, the watch's progress, and which requests lost their attachments."""

    def __init__(self) -> None:
        self.entries: dict[date, list[PurgeEntry]] = {}
        self.done: set[PurgeEntry] = set()
        self.through: date | None = None

    def pages_due(self, day: date) -> Iterator[list[PurgeEntry]]:
        yield [e for e in self.entries.get(day, []) if e not in self.done]

    def carried_out(self, entry: PurgeEntry, now: datetime) -> None:
        self.done.add(entry)

    def postpone(self, entry: PurgeEntry, day: date, now: datetime) -> None:
        later = replace(entry, day=day.isoformat())
        if later not in self.entries.setdefault(day, []):
            self.entries[day].append(later)
        self.carried_out(entry, now)

    def purged_through(self) -> date | None:
        return self.through

    def finished(self, day: date) -> None:
        self.through = max(day, self.through) if self.through else day


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.members = FakeMembers()
        self.uploads = FakeUploads()
        self.files = FakeFiles()
        self.requests = FakeRequests(self.members, self.uploads)
        self.transitions = FakeTransitions(self.requests)
        self.documents = FakeDocuments(self.requests, self.files)
        self.queues = FakeQueues()
        self.bus = FakeBus()
        self.audit = FakeAudit()
        self.access = FakeAccess(self.audit)
        self.retention = FakeRetention()
        self.exports = FakeExports(self.files)
        self.notifications = FakeNotifications()
        self.messenger = FakeMessenger()
        # API.md's, as every stage sets them; a test may set smaller ones.
        self.limits = MemberLimits(unused_uploads=20, requests_per_day=30, replies_per_day=50)
