"""The access log: `MEMBER#<id>` / `ACCESS#<ulid>`, kept six years (TTL), each written with its
record in the audit trail (`store/audit.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.domain import audit
from chalicelib.domain.access import AccessRecord
from chalicelib.store import keys
from chalicelib.store.audit import AuditTrail
from chalicelib.store.dynamo import deserialize, dynamodb, serialize, table, without_keys

ACCESS_LOG_KEPT = timedelta(days=6 * 366)  # docs/retention.md: six years


class AccessLog:
    def __init__(self, trail: AuditTrail | None = None) -> None:
        self._trail = trail or AuditTrail()

    def record(self, member_id: str, entry: AccessRecord, now: datetime) -> None:
        """The access, and its record in the audit trail: one transaction, both or neither."""
        access_id = str(ULID.from_datetime(now))
        item = {
            **keys.access_key(member_id, access_id),
            "entity": "access",
            **entry.model_dump(mode="json"),
            "expires_at": int((now + ACCESS_LOG_KEPT).timestamp()),
        }
        audited = audit.of_access(member_id, access_id, entry)
        self._trail.append_with([audited], now, dedupe=False, items=[item])

    def page(
        self, member_id: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[AccessRecord], dict[str, Any] | None]:
        """Newest first, `limit` at most; the key to continue from, or None."""
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :access)",
            "ExpressionAttributeValues": serialize(
                {":pk": keys.member_pk(member_id), ":access": keys.ACCESS}
            ),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = dynamodb().query(**kwargs)
        found = [
            AccessRecord.model_validate(without_keys(deserialize(item))) for item in answer["Items"]
        ]
        return found, answer.get("LastEvaluatedKey")
