"""The access log: `MEMBER#<id>` / `ACCESS#<ulid>`, kept six years (TTL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.domain.access import AccessRecord
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, serialize, table, without_keys

ACCESS_LOG_KEPT = timedelta(days=6 * 366)  # docs/retention.md: six years


class AccessLog:
    def record(self, member_id: str, entry: AccessRecord, now: datetime) -> None:
        item = {
            **keys.access_key(member_id, str(ULID.from_datetime(now))),
            "entity": "access",
            **entry.model_dump(mode="json"),
            "expires_at": int((now + ACCESS_LOG_KEPT).timestamp()),
        }
        dynamodb().put_item(TableName=table(), Item=serialize(item))

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
