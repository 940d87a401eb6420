"""Upload records: `MEMBER#<id>` / `UPLOAD#<upload_id>` (TTL), one per presigned POST, and the
member's unused uploads (`MEMBER#<id>` / `UNUSED_UPLOADS`), counted against their limit.

The checks an upload goes through before a request uses it are the filing use case's
(`services/filing.py`); the bytes are in S3 (`store/files.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.uploads import Upload
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, get_batch, serialize, table

UPLOAD_RECORD_TTL = timedelta(days=1)  # as long as the bucket keeps `uploads/`
_ATTEMPTS = 3


def uploads_of(items: Iterable[Mapping[str, Any]]) -> dict[str, Upload]:
    """Upload records among items read (by upload id); other items left out."""
    found = [Upload.model_validate(i) for i in items if str(i["sk"]).startswith(keys.UPLOAD)]
    return {upload.upload_id: upload for upload in found}


class TooManyUnusedUploads(Exception):
    """The member has as many unused uploads alive as allowed (`unused`: upload id → when its
    record expires, epoch seconds); the oldest one expires at `frees_at`."""

    def __init__(self, unused: Mapping[str, int]) -> None:
        super().__init__(len(unused))
        self.unused = dict(unused)
        self.frees_at = min(unused.values())


class _NoRoom(Exception):
    pass


def _entry(expires_at: int, upload_id: str) -> str:
    """An upload's place in the member's set of unused uploads."""
    return f"{expires_at}#{upload_id}"


class UploadRepository:
    def record(self, upload: Upload, now: datetime, limit: int) -> None:
        """The upload's record, and its place in the member's set of unused uploads on
        condition the set has room, in one transaction: two concurrent calls cannot both take
        the last place. With no room, the places of uploads since used or expired are given
        back, and the write is tried again; `TooManyUnusedUploads` if none was."""
        for _ in range(_ATTEMPTS):
            try:
                self._write(upload, limit)
                return
            except _NoRoom:
                unused = self._release_stale(upload.member_id, now)
                if len(unused) >= limit:
                    raise TooManyUnusedUploads(unused) from None
        raise ServiceUnavailable("Service momentanément surchargé, réessayez.")

    def _write(self, upload: Upload, limit: int) -> None:
        item = {**keys.upload_key(upload.member_id, upload.upload_id), "entity": "upload",
                **upload.model_dump()}  # fmt: skip
        unused = {
            "TableName": table(),
            "Key": serialize(keys.unused_uploads_key(upload.member_id)),
            # The set's item expires with its newest upload: by then every place is free.
            "UpdateExpression": "ADD #live :entry SET entity = :entity, expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(#live) OR size(#live) < :limit",
            "ExpressionAttributeNames": {"#live": "live"},
            "ExpressionAttributeValues": serialize(
                {
                    ":entry": {_entry(upload.expires_at, upload.upload_id)},
                    ":entity": "unused_uploads",
                    ":expires": upload.expires_at,
                    ":limit": limit,
                }
            ),
        }
        operations = [
            {"Update": unused},
            {"Put": {"TableName": table(), "Item": serialize(item)}},
        ]
        try:
            dynamodb().transact_write_items(TransactItems=operations)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise _NoRoom from error
            raise

    def _release_stale(self, member_id: str, now: datetime) -> dict[str, int]:
        """Take out of the set the uploads a request used and those expired (only ever those:
        a concurrent call can do the same, never more). Returns the others: upload id →
        when it expires."""
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.unused_uploads_key(member_id)),
            ConsistentRead=True,
            ProjectionExpression="#live",
            ExpressionAttributeNames={"#live": "live"},
        )
        entries: set[str] = deserialize(answer.get("Item", {})).get("live", set())
        alive = {
            entry: (int(expires), upload_id)
            for entry in entries
            for expires, _, upload_id in [entry.partition("#")]
            if int(expires) > int(now.timestamp())
        }
        records = self.get_many(member_id, [upload_id for _, upload_id in alive.values()])
        unused = {
            upload_id: expires
            for expires, upload_id in alive.values()
            if upload_id in records and records[upload_id].used_by is None
        }
        stale = {entry for entry, (_, upload_id) in alive.items() if upload_id not in unused}
        stale |= entries - alive.keys()
        self._take_out(member_id, stale)
        return unused

    def release(self, member_id: str, unused: Mapping[str, int]) -> None:
        """Give back the places of these unused uploads (upload id → its record's expiry, as
        `TooManyUnusedUploads.unused` names them): tickets that can no longer be used."""
        self._take_out(member_id, {_entry(expires, u) for u, expires in unused.items()})

    def _take_out(self, member_id: str, entries: set[str]) -> None:
        if not entries:
            return
        try:
            dynamodb().update_item(
                TableName=table(),
                Key=serialize(keys.unused_uploads_key(member_id)),
                UpdateExpression="DELETE #live :stale",
                ConditionExpression="attribute_exists(pk)",  # never create it here
                ExpressionAttributeNames={"#live": "live"},
                ExpressionAttributeValues=serialize({":stale": entries}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def get_many(self, member_id: str, upload_ids: Sequence[str]) -> dict[str, Upload]:
        """One BatchGetItem; only this member's uploads can be found (the key holds the member)."""
        items = get_batch([keys.upload_key(member_id, u) for u in upload_ids])
        return uploads_of(items.values())
