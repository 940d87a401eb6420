"""The store as the use cases see it: one object, its repositories built on first use.

As the Chalice workshop's `get_app_db()`: importing costs nothing, a Lambda container builds
each repository once, and the use cases (`chalicelib/services/`) take whatever implements the
same protocol (`services/ports.py`), such as the tests' in-memory fakes.
"""

from __future__ import annotations

from functools import cached_property

from chalicelib.domain.limits import MemberLimits
from chalicelib.settings import get_settings
from chalicelib.store.access import AccessLog
from chalicelib.store.audit import AuditTrail
from chalicelib.store.bus import Bus
from chalicelib.store.documents import DocumentRepository
from chalicelib.store.exports import ExportRepository
from chalicelib.store.files import FileStore
from chalicelib.store.members import MemberRepository
from chalicelib.store.notifications import Messenger, NotificationRecords
from chalicelib.store.queues import Queues
from chalicelib.store.requests import RequestRepository, Transitions
from chalicelib.store.retention import PurgeSchedule
from chalicelib.store.uploads import UploadRepository


class DynamoUnitOfWork:
    """DynamoDB, S3 and SQS behind the repositories the use cases need."""

    @cached_property
    def requests(self) -> RequestRepository:
        return RequestRepository()

    @cached_property
    def transitions(self) -> Transitions:
        return Transitions()

    @cached_property
    def members(self) -> MemberRepository:
        return MemberRepository()

    @cached_property
    def documents(self) -> DocumentRepository:
        return DocumentRepository()

    @cached_property
    def uploads(self) -> UploadRepository:
        return UploadRepository()

    @cached_property
    def files(self) -> FileStore:
        return FileStore()

    @cached_property
    def queues(self) -> Queues:
        return Queues()

    @cached_property
    def bus(self) -> Bus:
        return Bus()

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail()

    @cached_property
    def access(self) -> AccessLog:
        return AccessLog(self.audit)  # each access written with its audit record

    @cached_property
    def retention(self) -> PurgeSchedule:
        return PurgeSchedule()

    @cached_property
    def exports(self) -> ExportRepository:
        return ExportRepository()

    @cached_property
    def notifications(self) -> NotificationRecords:
        return NotificationRecords()

    @cached_property
    def messenger(self) -> Messenger:
        return Messenger()

    @property
    def limits(self) -> MemberLimits:
        settings = get_settings()  # read once per process, and again after a reset (tests)
        return MemberLimits(
            unused_uploads=settings.unused_uploads_max,
            requests_per_day=settings.requests_per_day,
            replies_per_day=settings.replies_per_day,
            exports_per_day=settings.exports_per_day,
        )


_default: DynamoUnitOfWork | None = None


def unit_of_work() -> DynamoUnitOfWork:
    """The process-wide unit of work (repositories hold no state but their clients)."""
    global _default
    if _default is None:
        _default = DynamoUnitOfWork()
    return _default
