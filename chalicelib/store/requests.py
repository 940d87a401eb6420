"""Requests in DynamoDB: `MEMBER#<id>#<YYYY-MM>` / `REQ#<ulid>`, the member calendar, the
idempotency records and the outbox marker (sparse `gsi_pending`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import NotFound
from chalicelib.domain.requests import (
    HistoryEntry,
    RequestRecord,
    RequestSummary,
    Status,
    iso_z,
    month_of,
)
from chalicelib.observability import correlation_id
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, parallel_map, query_all, serialize, table

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_UNUSED_UPLOAD = "attribute_exists(pk) AND attribute_not_exists(used_by)"
SUMMARY_ATTRIBUTES = ("request_id", "type", "label", "created_at", "beneficiaries", "status")


@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: str
    request_id: str
    response: dict[str, Any]


@dataclass(frozen=True)
class IdempotencyClaim:
    key: str
    fingerprint: str
    response: dict[str, Any]


class IdempotencyKeyTaken(Exception):
    """Another call with the same key committed first."""


class UploadTaken(Exception):
    """An upload was used by another request between our check and our write."""

    def __init__(self, upload_id: str) -> None:
        super().__init__(upload_id)
        self.upload_id = upload_id


def _cancellation_codes(error: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]


class RequestRepository:
    def idempotency(self, member_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.idempotency_key(member_id, key)),
            ConsistentRead=True,
        )
        item = deserialize(answer["Item"]) if "Item" in answer else None
        if item is None or int(item["expires_at"]) <= int(now.timestamp()):
            return None  # TTL deletes lazily: an expired record is no record
        return IdempotencyRecord(item["fingerprint"], item["request_id"], item["response"])

    def create(
        self,
        record: RequestRecord,
        now: datetime,
        idempotency: IdempotencyClaim | None = None,
        bank_iban: str | None = None,
    ) -> None:
        """Request + calendar (+ idempotency record, uploads marked used, held IBAN): one
        transaction.

        The request is born pending (outbox marker set); `mark_sent` clears the marker once the
        intake queue has the pointer, and the sweeper sends what stays pending.
        """
        month = record.month
        item = {
            **keys.request_key(record.member_id, month, record.request_id),
            **record.model_dump(mode="json"),
            "entity": "request",
            "pending_pk": keys.PENDING_PARTITION,
            "pending_sk": f"{record.created_at}#{record.request_id}",
            "correlation_id": correlation_id(),  # so the sweeper carries it on
        }
        operations: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table(),
                    "Item": serialize(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": table(),
                    "Key": serialize(keys.calendar_key(record.member_id)),
                    "UpdateExpression": "ADD request_months :month",
                    "ExpressionAttributeValues": serialize({":month": {month}}),
                }
            },
        ]
        if idempotency is not None:
            claim = {
                **keys.idempotency_key(record.member_id, idempotency.key),
                "entity": "idempotency",
                "fingerprint": idempotency.fingerprint,
                "request_id": record.request_id,
                "response": idempotency.response,
                "expires_at": int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS,
            }
            operations.append(
                {
                    "Put": {
                        "TableName": table(),
                        "Item": serialize(claim),
                        "ConditionExpression": "attribute_not_exists(sk) OR expires_at <= :now",
                        "ExpressionAttributeValues": serialize({":now": int(now.timestamp())}),
                    }
                }
            )
        idempotency_at = len(operations) - 1 if idempotency is not None else None
        uploads_at = len(operations)
        for attachment in record.attachments:
            operations.append(
                {
                    "Update": {
                        "TableName": table(),
                        "Key": serialize(
                            keys.upload_key(record.member_id, attachment.attachment_id)
                        ),
                        "UpdateExpression": "SET used_by = :request",
                        "ConditionExpression": _UNUSED_UPLOAD,
                        "ExpressionAttributeValues": serialize({":request": record.request_id}),
                    }
                }
            )
        if bank_iban is not None:
            held = {
                **keys.bank_details_key(record.member_id, record.request_id),
                "entity": "bank_details",
                "iban": bank_iban,
            }
            operations.append({"Put": {"TableName": table(), "Item": serialize(held)}})
        try:
            dynamodb().transact_write_items(TransactItems=operations)
        except ClientError as error:
            codes = _cancellation_codes(error)
            failed = {i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
            if idempotency_at in failed:
                raise IdempotencyKeyTaken from error
            for offset, attachment in enumerate(record.attachments):
                if uploads_at + offset in failed:
                    raise UploadTaken(attachment.attachment_id) from error
            raise

    def mark_sent(self, member_id: str, request_id: str, now: datetime) -> bool:
        """Clear the outbox marker; False if another sender already did."""
        try:
            dynamodb().update_item(
                TableName=table(),
                Key=serialize(keys.request_key(member_id, month_of(request_id), request_id)),
                UpdateExpression="REMOVE pending_pk, pending_sk SET sent_at = :now",
                ConditionExpression="attribute_exists(pending_pk)",
                ExpressionAttributeValues=serialize({":now": iso_z(now)}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def pending_before(
        self, cutoff: datetime, limit: int = 100
    ) -> list[tuple[str, str, str | None]]:
        """(member_id, request_id, correlation_id) of requests still unsent since before
        `cutoff`, oldest first."""
        answer = dynamodb().query(
            TableName=table(),
            IndexName="gsi_pending",
            KeyConditionExpression="pending_pk = :p AND pending_sk < :cutoff",
            ExpressionAttributeValues=serialize(
                {":p": keys.PENDING_PARTITION, ":cutoff": iso_z(cutoff)}
            ),
            Limit=limit,
        )
        found = [deserialize(item) for item in answer["Items"]]
        return [
            (*keys.parse_request_key(item["pk"], item["sk"]), item.get("correlation_id"))
            for item in found
        ]

    def get(self, member_id: str, request_id: str) -> RequestRecord:
        """One GetItem: the month comes from the ULID. Unknown and malformed ids alike: 404."""
        month = month_of(request_id)
        answer = dynamodb().get_item(
            TableName=table(), Key=serialize(keys.request_key(member_id, month, request_id.upper()))
        )
        if "Item" not in answer:
            raise NotFound("Demande introuvable.")
        return RequestRecord.model_validate(deserialize(answer["Item"]))

    def request_months(self, member_id: str) -> list[str]:
        """The months that hold requests, newest first (the calendar item)."""
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.calendar_key(member_id)),
            ProjectionExpression="request_months",
        )
        months = deserialize(answer.get("Item", {})).get("request_months", set())
        return sorted(months, reverse=True)

    def month(self, member_id: str, month: str) -> list[RequestSummary]:
        """A month's requests, newest first: one Query (more only past 1 MB)."""
        names = {f"#{a}": a for a in SUMMARY_ATTRIBUTES}
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :req)",
            "ExpressionAttributeValues": serialize(
                {":pk": keys.member_month_pk(member_id, month), ":req": keys.REQUEST}
            ),
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ScanIndexForward": False,
        }
        return [RequestSummary.model_validate(item) for item in query_all(**kwargs)]

    def months(self, member_id: str, months: list[str]) -> dict[str, list[RequestSummary]]:
        """Several months, queried concurrently."""
        if len(months) <= 1:
            return {m: self.month(member_id, m) for m in months}
        found = parallel_map(lambda m: self.month(member_id, m), months)
        return dict(zip(months, found, strict=True))


def service_partition(service: str, state: str) -> str:
    return f"SVC#{service}#{state}"


# Agents' work lists read `gsi_service` oldest first; a request whose deadline is at risk
# gets the "urgent" prefix and so comes before every other one.
URGENT, NORMAL = "0", "1"


def service_sort(priority: str, created_at: str, request_id: str) -> str:
    return f"{priority}#{created_at}#{request_id}"


class Transitions:
    """Conditional updates of a request: each one happens once, whatever the redeliveries."""

    def _update(
        self,
        member_id: str,
        request_id: str,
        assignments: dict[str, Any],
        condition: str,
        history: HistoryEntry | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> bool:
        names = {f"#{k}": k for k in assignments}
        values = {f":{k}": v for k, v in assignments.items()}
        parts = [f"#{k} = :{k}" for k in assignments]
        if history is not None:
            names["#history"] = "history"
            values[":entry"] = [history.model_dump(mode="json")]
            parts.append("#history = list_append(#history, :entry)")
        values.update(condition_values or {})
        try:
            dynamodb().update_item(
                TableName=table(),
                Key=serialize(keys.request_key(member_id, month_of(request_id), request_id)),
                UpdateExpression="SET " + ", ".join(parts),
                ConditionExpression=condition,
                ExpressionAttributeNames=names | _condition_names(condition),
                ExpressionAttributeValues=serialize(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def route(self, record: RequestRecord, service: str, label: str, now: datetime) -> bool:
        """Record the routing once: a duplicate delivery changes nothing."""
        return self._update(
            record.member_id,
            record.request_id,
            {
                "service": service,
                "routed_at": iso_z(now),
                "svc_pk": service_partition(service, "open"),
                "svc_sk": service_sort(NORMAL, record.created_at, record.request_id),
            },
            "attribute_exists(pk) AND attribute_not_exists(#routed_at)",
            HistoryEntry(at=iso_z(now), status=Status.in_progress, label=label),
        )

    def acknowledge(self, record: RequestRecord, label: str, now: datetime, **extra: Any) -> bool:
        """The service has the request (and may set deadlines): once."""
        return self._update(
            record.member_id,
            record.request_id,
            {"acknowledged_at": iso_z(now), **extra},
            "attribute_exists(pk) AND attribute_not_exists(#acknowledged_at)",
            HistoryEntry(at=iso_z(now), status=Status.in_progress, label=label),
        )

    def claim_decision(self, record: RequestRecord, outcome: str, now: datetime) -> bool:
        """Reserve the decision for this outcome: a retry of it passes, another outcome not."""
        return self._update(
            record.member_id,
            record.request_id,
            {"decided_outcome": outcome, "decided_at": iso_z(now)},
            "#status = :open AND (attribute_not_exists(#decided_outcome) OR "
            "#decided_outcome = :decided_outcome)",
            condition_values={":open": Status.in_progress.value},
        )

    def finish(
        self, record: RequestRecord, outcome: str, label: str, now: datetime, **extra: Any
    ) -> bool:
        """The request becomes processed: once."""
        service = record.service
        return self._update(
            record.member_id,
            record.request_id,
            {
                "status": Status.processed.value,
                "outcome": outcome,
                "processed_at": iso_z(now),
                "svc_pk": service_partition(service, "processed"),
                "svc_sk": service_sort(NORMAL, record.created_at, record.request_id),
                **extra,
            },
            "#status = :open",
            HistoryEntry(at=iso_z(now), status=Status.processed, label=label),
            condition_values={":open": Status.in_progress.value},
        )

    def flag_for_agents(self, record: RequestRecord) -> bool:
        """A request its service could not handle: at the head of the service's open list."""
        now = datetime.now(UTC)
        return self._update(
            record.member_id,
            record.request_id,
            {
                "needs_attention": True,
                "svc_pk": service_partition(record.service, "open"),
                "svc_sk": service_sort(URGENT, record.created_at, record.request_id),
            },
            "attribute_exists(pk) AND "
            "(attribute_not_exists(#needs_attention) OR #needs_attention <> :yes)",
            HistoryEntry(
                at=iso_z(now),
                status=Status.in_progress,
                label="Traitement automatique interrompu : un conseiller reprend votre demande",
            ),
            condition_values={":yes": True},
        )

    def prioritise(self, record: RequestRecord, priority: str) -> bool:
        return self._update(
            record.member_id,
            record.request_id,
            {"svc_sk": service_sort(priority, record.created_at, record.request_id)},
            "#status = :open",
            condition_values={":open": Status.in_progress.value},
        )

    def work_list(
        self, service: str, state: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[RequestRecord], dict[str, Any] | None]:
        """A service's requests, urgent first, then oldest first."""
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "IndexName": "gsi_service",
            "KeyConditionExpression": "svc_pk = :p",
            "ExpressionAttributeValues": serialize({":p": service_partition(service, state)}),
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb().query(**kwargs)
        records = [RequestRecord.model_validate(deserialize(i)) for i in page["Items"]]
        return records, page.get("LastEvaluatedKey")


def _condition_names(condition: str) -> dict[str, str]:
    import re

    return {name: name[1:] for name in re.findall(r"#\w+", condition)}
