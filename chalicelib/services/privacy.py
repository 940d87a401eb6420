"""What a member may know of their file: who consulted it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain import clock
from chalicelib.domain.access import ACTION_LABELS, AccessRecord, Action
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.requests import RequestRecord
from chalicelib.observability import correlation_id
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.audit import AuditUnavailable


def record_access(
    uow: UnitOfWork,
    record: RequestRecord,
    action: Action,
    agent_id: str,
    now: datetime,
    service: str | None = None,
) -> None:
    """Before an agent reads or acts on a member's request: recorded in the access log and the
    audit trail together, or nothing is answered. `service`: the agent's, when not the
    request's (the complaints service reading the request a complaint contests)."""
    entry = AccessRecord(
        at=clock.iso_z(now),
        service=service or record.service,
        action=action,
        label=ACTION_LABELS[action],
        request_id=record.request_id,
        agent_id=agent_id,
        correlation_id=correlation_id(),
    )
    try:
        uow.access.record(record.member_id, entry, now)
    except (ClientError, BotoCoreError, AuditUnavailable) as error:
        raise ServiceUnavailable("Traçabilité momentanément indisponible.") from error


def access_log(
    uow: UnitOfWork, member_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[AccessRecord], dict[str, Any] | None]:
    return uow.access.page(member_id, limit, start)
