"""Exports: the item `MEMBER#<id>` / `EXPORT#<export_id>` (TTL), the guard `MEMBER#<id>` /
`EXPORTS` that lets one build at a time, the `exports` queue, and the zip under `exports/`.

Every change is a conditional write: starting one while another builds, building one twice,
or finishing one already ready changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.domain import clock
from chalicelib.domain import uploads as rules
from chalicelib.domain.errors import NotFound, ServiceUnavailable
from chalicelib.domain.exports import (
    ARCHIVE_LIFETIME,
    BUILD_CLAIM,
    ZIP,
    ExportPointer,
    ExportRecord,
    ExportStatus,
)
from chalicelib.observability import CORRELATION_ATTRIBUTE, correlation_id
from chalicelib.store import keys
from chalicelib.store.dynamo import (
    deserialize,
    dynamodb,
    made_once,
    serialize,
    table,
    without_keys,
)
from chalicelib.store.files import bucket, encryption, s3
from chalicelib.store.queues import queue_url
from chalicelib.store.requests import DailyLimit, DailyLimitReached, count_one_fewer, count_one_more

logger = logging.getLogger(__name__)

EXPORTS_QUEUE = "exports"
CHUNK = 1024 * 1024


def _ttl(moment: datetime) -> int:
    return int((moment + ARCHIVE_LIFETIME).timestamp())


def _failed_conditions(error: ClientError) -> list[bool]:
    """For a cancelled transaction: which of its operations failed their condition."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        raise error
    reasons = error.response.get("CancellationReasons", [])
    return [r.get("Code") == "ConditionalCheckFailed" for r in reasons]


class ExportRepository:
    def start(self, record: ExportRecord, now: datetime, limit: DailyLimit) -> str | None:
        """The export, the guard and the day's count in one transaction, on condition that none
        of the member's exports is building (or the one that was has passed its deadline) and
        the day's count has room: None when it started, else the id of the one building (the
        guard as the failed condition read it); `DailyLimitReached` when only the count
        failed."""
        item = {
            **keys.export_key(record.member_id, record.export_id),
            "entity": "export",
            **record.model_dump(mode="json", exclude_none=True),
            "expires_at": _ttl(now),
        }
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": serialize(keys.exports_guard_key(record.member_id)),
                            "UpdateExpression": "SET building = :id, build_by = :by,"
                            " entity = :entity, expires_at = :ttl",
                            "ConditionExpression": "attribute_not_exists(building)"
                            " OR build_by < :now",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            "ExpressionAttributeValues": serialize(
                                {
                                    ":id": record.export_id,
                                    ":by": record.build_by,
                                    ":now": clock.iso_z(now),
                                    ":entity": "exports_guard",
                                    ":ttl": _ttl(now),
                                }
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": table(),
                            "Item": serialize(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    count_one_more(record.member_id, limit, now),
                ]
            )
        except ClientError as error:
            failed = _failed_conditions(error)
            if failed and failed[0]:
                # The condition fails only when `building` is there (ALL_OLD gives the guard).
                return str(
                    deserialize(error.response["CancellationReasons"][0]["Item"])["building"]
                )
            if failed == [False, False, True]:
                raise DailyLimitReached from error
            raise
        return None

    def abandon(self, record: ExportRecord, limit: DailyLimit) -> None:
        """Its build message could not be sent: release the guard, give the day's place back
        and end the export now, so the member may ask again at once."""
        self._release(record)
        # Ended and its place given back in one transaction, once: a retry (its answer lost)
        # is answered from the transaction's token, a second abandon finds it ended already.
        ended = {
            "TableName": table(),
            "Key": serialize(keys.export_key(record.member_id, record.export_id)),
            "UpdateExpression": "SET build_by = :now",
            "ConditionExpression": "#status = :building AND build_by <> :now",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": serialize(
                {":now": record.created_at, ":building": ExportStatus.building.value}
            ),
        }
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {"Update": ended},
                    count_one_fewer(record.member_id, limit),
                ]
            )
        except ClientError as error:
            if not any(_failed_conditions(error)):
                raise

    def get(self, member_id: str, export_id: str) -> ExportRecord:
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.export_key(member_id, export_id)),
            ConsistentRead=True,
        )
        if "Item" not in answer:
            raise NotFound("Export introuvable.")
        fields = without_keys(deserialize(answer["Item"]))
        return ExportRecord.model_validate(
            {k: v for k, v in fields.items() if k in ExportRecord.model_fields}
        )

    def claim(self, member_id: str, export_id: str, now: datetime) -> bool:
        """This build takes the export for a while (`BUILD_CLAIM`): False when it is ready,
        past its deadline, or held by another build."""
        return made_once(  # a retry of this call's own lost answer is this build's claim
            dynamodb().update_item,
            TableName=table(),
            Key=serialize(keys.export_key(member_id, export_id)),
            UpdateExpression="SET claimed_until = :until",
            ConditionExpression="#status = :building AND build_by > :now"
            " AND (attribute_not_exists(claimed_until) OR claimed_until < :now)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize(
                {
                    ":building": ExportStatus.building.value,
                    ":now": clock.iso_z(now),
                    ":until": clock.iso_z(now + BUILD_CLAIM),
                }
            ),
        )

    def finish(self, record: ExportRecord, object_key: str, size: int, now: datetime) -> bool:
        """Ready, and the guard released, in one transaction; False if it was ready already.
        A guard that has moved on (a newer export) is left to it."""
        ready = {
            "Update": {
                "TableName": table(),
                "Key": serialize(keys.export_key(record.member_id, record.export_id)),
                "UpdateExpression": "SET #status = :ready, ready_at = :now, object_key = :key,"
                " #size = :size, expires_at = :ttl REMOVE claimed_until",
                "ConditionExpression": "#status = :building",
                "ExpressionAttributeNames": {"#status": "status", "#size": "size"},
                "ExpressionAttributeValues": serialize(
                    {
                        ":ready": ExportStatus.ready.value,
                        ":building": ExportStatus.building.value,
                        ":now": clock.iso_z(now),
                        ":key": object_key,
                        ":size": size,
                        ":ttl": _ttl(now),
                    }
                ),
            }
        }
        try:
            dynamodb().transact_write_items(TransactItems=[ready, self._release_update(record)])
        except ClientError as error:
            failed = _failed_conditions(error)
            if failed and failed[0]:
                return False
            dynamodb().transact_write_items(TransactItems=[ready])  # the guard moved on
        return True

    def _release_update(self, record: ExportRecord) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": table(),
                "Key": serialize(keys.exports_guard_key(record.member_id)),
                "UpdateExpression": "REMOVE building, build_by",
                "ConditionExpression": "building = :id",
                "ExpressionAttributeValues": serialize({":id": record.export_id}),
            }
        }

    def _release(self, record: ExportRecord) -> None:
        try:
            dynamodb().transact_write_items(TransactItems=[self._release_update(record)])
        except ClientError as error:
            _failed_conditions(error)  # another export holds it: nothing to release

    def send(self, pointer: ExportPointer) -> None:
        """The build's message: IDs only; the call's correlation id beside it."""
        correlation = correlation_id()
        attributes = (
            {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation}}
            if correlation
            else {}
        )
        aws.client("sqs").send_message(
            QueueUrl=queue_url(EXPORTS_QUEUE),
            MessageBody=pointer.model_dump_json(),
            MessageAttributes=attributes,
        )

    def read(self, key: str) -> Iterator[bytes] | None:
        """An object's bytes, a megabyte at a time; None when it is no longer held."""
        try:
            answer = s3().get_object(Bucket=bucket(), Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
                return None
            raise
        chunks: Iterator[bytes] = answer["Body"].iter_chunks(chunk_size=CHUNK)
        return chunks

    def store(self, key: str, archive: IO[bytes], download_name: str) -> None:
        """The zip, from a file (multipart beyond 8 MB), encrypted under the stack's key."""
        s3().upload_fileobj(
            archive,
            bucket(),
            key,
            ExtraArgs={
                "ContentType": ZIP,
                "ContentDisposition": rules.content_disposition(download_name),
                **encryption(),
            },
        )

    def link(self, key: str, now: datetime, until: datetime) -> str:
        """A presigned GET of the zip, valid a few minutes and never past `until`.

        Signed at each call: a URL signed with a Lambda role's temporary credentials dies with
        them, so a 24-hour URL signed once could not be promised."""
        seconds = max(1, min(rules.DOWNLOAD_URL_SECONDS, int((until - now).total_seconds())))
        try:
            return str(
                s3().generate_presigned_url(
                    "get_object",
                    Params={"Bucket": bucket(), "Key": key, "ResponseContentType": ZIP},
                    ExpiresIn=seconds,
                )
            )
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable("Téléchargement momentanément indisponible.") from error
