"""What the use cases need from storage and messaging: the unit of work's protocol.

`store.unit_of_work.DynamoUnitOfWork` implements it on DynamoDB, S3 and SQS; the unit tests'
fakes (`tests/unit/fakes.py`) in memory. A use case never builds a repository itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import IO, Any, Protocol

from chalicelib.domain.access import AccessRecord
from chalicelib.domain.audit import AuditEntry, AuditRecord, StoredChain
from chalicelib.domain.documents import DocumentRecord, DocumentSummary
from chalicelib.domain.effects import MemberFile
from chalicelib.domain.exports import ExportPointer, ExportRecord
from chalicelib.domain.limits import MemberLimits
from chalicelib.domain.members import Beneficiary, Member, Preferences
from chalicelib.domain.notifications import Email
from chalicelib.domain.requests import (
    AgentMessage,
    Attachment,
    DueLetter,
    InformationRequest,
    RequestPointer,
    RequestRecord,
    RequestSummary,
)
from chalicelib.domain.uploads import Upload
from chalicelib.store.files import Inspected
from chalicelib.store.notifications import DeferredSms
from chalicelib.store.requests import (
    DailyLimit,
    FilingChecks,
    IdempotencyClaim,
    IdempotencyRecord,
)
from chalicelib.store.retention import PurgeEntry


class Requests(Protocol):
    def idempotency(self, member_id: str, key: str, now: datetime) -> IdempotencyRecord | None: ...

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
        """The beneficiaries (on the member's contract) and uploads named, the day's count,
        the key's record and the request asked for (None if not found), read at once."""
        ...

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
        """The request's write built, not made: the returned commit makes it, pending from
        `pending_from` (default `now`), and returns the outbox the request was born with."""
        ...

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
        """The answer's write built on the request as read, not made: the returned commit
        writes it and returns the outbox entries it added."""
        ...

    def outbox(self, member_id: str, request_id: str) -> list[dict[str, Any]]: ...

    def clear_outbox(
        self, member_id: str, request_id: str, sent: list[dict[str, Any]], now: datetime
    ) -> bool: ...

    def pending_pages(
        self, cutoff: datetime, page: int = 100
    ) -> Iterator[list[tuple[str, str, str | None]]]: ...

    def get(
        self, member_id: str, request_id: str, *, consistent: bool = False
    ) -> RequestRecord: ...

    def mark_contested(self, complaint: RequestRecord, now: datetime) -> None: ...

    def contesting(self, member_id: str, request_id: str) -> list[RequestRecord]:
        """The complaints that name the request as the one they contest."""
        ...

    def newest_first(
        self, member_id: str, *, month: str | None, before: str | None, first_read: int
    ) -> Iterator[tuple[str, RequestSummary]]:
        """The member's requests with their month, newest first: one month's, the months'
        older than `before`, or all; read as they are taken, `first_read` at first."""
        ...


class Transitions(Protocol):
    def attachments_deleted(self, record: RequestRecord, label: str, now: datetime) -> bool: ...

    def keep_attachments_until(self, record: RequestRecord, day: date) -> bool: ...

    def route(self, record: RequestRecord, service: str, label: str, now: datetime) -> bool: ...

    def acknowledge(
        self, record: RequestRecord, label: str, now: datetime, **extra: Any
    ) -> bool: ...

    def claim_decision(self, record: RequestRecord, outcome: str, now: datetime) -> bool: ...

    def release_decision(self, record: RequestRecord, outcome: str) -> bool: ...

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
        """The outbox entries the decision added; None when the request was not open."""
        ...

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
        """The outbox entries the question added; None when the request was not open."""
        ...

    def unanswered(self, record: RequestRecord, label: str, now: datetime) -> bool: ...

    def withdraw(
        self,
        record: RequestRecord,
        message: AgentMessage | None,
        label: str,
        now: datetime,
        *,
        pending_from: datetime | None = None,
    ) -> list[dict[str, Any]] | None:
        """The outbox entries the withdrawal added; None when the request was not open."""
        ...

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
        """The outbox entries the move added; None when the request was not open, or had
        changed service meanwhile."""
        ...

    def deliver_replies(
        self, record: RequestRecord, message_ids: set[str], label: str, now: datetime
    ) -> bool: ...

    def flag_for_agents(self, record: RequestRecord, now: datetime) -> bool: ...

    def deadline_at_risk(self, record: RequestRecord, due_at: str, now: datetime) -> bool: ...

    def prioritise(self, record: RequestRecord, place: str) -> bool: ...

    def work_list(
        self, service: str, state: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[RequestRecord], dict[str, Any] | None]: ...


class Members(MemberFile, Protocol):
    def get(self, member_id: str) -> Member: ...

    def beneficiaries(self, member_id: str) -> list[Beneficiary]: ...

    def set_preferences(self, member_id: str, preferences: Preferences) -> None: ...


class Documents(Protocol):
    def existing_letter(
        self, member_id: str, request_id: str, kind: str, occurrence: str | None = None
    ) -> DocumentRecord | None: ...

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
    ) -> DocumentRecord: ...

    def get(self, member_id: str, document_id: str) -> DocumentRecord: ...

    def since(self, member_id: str, cutoff: str) -> list[DocumentSummary]: ...

    def object_key(self, record: DocumentRecord) -> str: ...


class Uploads(Protocol):
    def record(self, upload: Upload, now: datetime, limit: int) -> None: ...

    def release(self, member_id: str, unused: Mapping[str, int]) -> None: ...


class Files(Protocol):
    def presigned_post(
        self, key: str, content_type: str, max_size: int, seconds: int
    ) -> dict[str, Any]: ...

    def inspect(self, key: str, max_size: int) -> Inspected | None: ...

    def keys_under(self, prefix: str) -> set[str]: ...

    def copy(
        self, source: str, destination: str, etag: str, content_type: str, download_name: str
    ) -> None: ...

    def put(
        self, key: str, body: bytes, content_type: str, download_name: str | None = None
    ) -> None: ...

    def delete(self, keys: Sequence[str]) -> None: ...

    def purge(self, prefixes: Sequence[str]) -> int: ...

    def presigned_download(self, key: str, content_type: str, now: datetime) -> dict[str, str]: ...


class Queues(Protocol):
    def send(
        self,
        queue: str,
        pointer: RequestPointer,
        correlation: str | None = None,
        entry_id: str | None = None,
    ) -> None: ...


class Bus(Protocol):
    def put(self, entries: Sequence[dict[str, Any]]) -> None: ...


class Notifications(Protocol):
    def claim(self, member_id: str, event_id: str, channel: str, now: datetime) -> bool: ...

    def release(self, member_id: str, event_id: str, channel: str) -> None: ...

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
    ) -> bool: ...

    def release_request(
        self, member_id: str, request_id: str, change: str, channel: str
    ) -> None: ...

    def defer_sms(self, sms: DeferredSms) -> None: ...

    def due_sms(self, now: datetime) -> list[DeferredSms]: ...

    def take_sms(self, sms: DeferredSms, now: datetime) -> bool: ...

    def enqueue(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class Messenger(Protocol):
    def send_email(self, to: str, email: Email, unsubscribe_url: str) -> None: ...

    def send_sms(self, phone: str, text: str) -> None: ...


class Access(Protocol):
    def record(self, member_id: str, entry: AccessRecord, now: datetime) -> None: ...

    def page(
        self, member_id: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[AccessRecord], dict[str, Any] | None]: ...


class AuditTrail(Protocol):
    def append(
        self, entries: Sequence[AuditEntry], now: datetime, *, dedupe: bool = True
    ) -> list[AuditRecord]: ...

    def day(self, day: str) -> list[StoredChain]: ...

    def read_chains(self, day: str) -> Iterator[StoredChain]: ...


class Exports(Protocol):
    def start(self, record: ExportRecord, now: datetime, limit: DailyLimit) -> str | None: ...

    def abandon(self, record: ExportRecord, limit: DailyLimit) -> None: ...

    def get(self, member_id: str, export_id: str) -> ExportRecord: ...

    def claim(self, member_id: str, export_id: str, now: datetime) -> bool: ...

    def finish(self, record: ExportRecord, object_key: str, size: int, now: datetime) -> bool: ...

    def send(self, pointer: ExportPointer) -> None: ...

    def read(self, key: str) -> Iterator[bytes] | None: ...

    def store(self, key: str, archive: IO[bytes], download_name: str) -> None: ...

    def link(self, key: str, now: datetime, until: datetime) -> str: ...


class Retention(Protocol):
    def pages_due(self, day: date) -> Iterator[list[PurgeEntry]]: ...

    def carried_out(self, entry: PurgeEntry, now: datetime) -> None: ...

    def postpone(self, entry: PurgeEntry, day: date, now: datetime) -> None: ...

    def purged_through(self) -> date | None: ...

    def finished(self, day: date) -> None: ...


class UnitOfWork(Protocol):
    # Read-only properties, so a class with cached properties or plain attributes both fit.
    @property
    def requests(self) -> Requests: ...

    @property
    def transitions(self) -> Transitions: ...

    @property
    def members(self) -> Members: ...

    @property
    def documents(self) -> Documents: ...

    @property
    def uploads(self) -> Uploads: ...

    @property
    def files(self) -> Files: ...

    @property
    def queues(self) -> Queues: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def access(self) -> Access: ...

    @property
    def audit(self) -> AuditTrail: ...

    @property
    def retention(self) -> Retention: ...

    @property
    def exports(self) -> Exports: ...

    @property
    def notifications(self) -> Notifications: ...

    @property
    def messenger(self) -> Messenger: ...

    @property
    def limits(self) -> MemberLimits: ...
