"""Documents: the PDF under `documents/<member>/<YYYY-MM>/<id>.pdf`, its item
`MEMBER#<member>#<YYYY-MM>` / `DOC#<id>` (indexed by date in `gsi_documents`), and the link
from its request."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from typing import Any

from botocore.exceptions import ClientError
from pydantic import TypeAdapter
from ulid import ULID

from chalicelib.domain import clock, retention
from chalicelib.domain.clock import iso_z, start_of_day
from chalicelib.domain.documents import DocumentRecord, DocumentSummary, pdf_filename
from chalicelib.domain.errors import NotFound
from chalicelib.domain.requests import month_of
from chalicelib.observability import correlation_id
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, query_texts, serialize, table
from chalicelib.store.files import FileStore
from chalicelib.store.requests import NOT_EXPIRED
from chalicelib.store.retention import late_letter

PDF = "application/pdf"


# The letter's event joins the request's outbox in the same write (`store/outbox.py`).
_ANNOUNCE = (
    ", outbox = list_append(if_not_exists(outbox, :empty), :announce),"
    " pending_pk = :pending, pending_sk = :pending_sk, correlation_id = :correlation"
)


def _announced(entry: dict[str, Any], request_id: str, now: datetime) -> dict[str, Any]:
    return {
        ":empty": [],
        ":announce": [entry],
        ":pending": keys.PENDING_PARTITION,
        ":pending_sk": keys.pending_sort(iso_z(now), request_id),
        ":correlation": correlation_id() or "",
    }


def _guard(kind: str, occurrence: str | None) -> str:
    """A letter of a kind is sent once per request, or once per occurrence (each question)."""
    return kind if occurrence is None else f"{kind}#{occurrence}"


@cache
def _summaries() -> TypeAdapter[list[DocumentSummary]]:
    """The documents list read in one validation (a call per item cost half as much again);
    built on first use, not at import."""
    return TypeAdapter(list[DocumentSummary])


class DocumentRepository:
    def existing_letter(
        self, member_id: str, request_id: str, kind: str, occurrence: str | None = None
    ) -> DocumentRecord | None:
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.letter_guard_key(member_id, request_id, _guard(kind, occurrence))),
            ConsistentRead=True,
        )
        if "Item" not in answer:
            return None
        return self.get(member_id, deserialize(answer["Item"])["document_id"])

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
        """Store the PDF (written once: one already under its key is kept and described), then
        the item, request link and guard in one transaction.

        With a request, the guard (`LETTER#<request>#<kind>`) makes a second issue of the same
        letter a no-op that returns the first one. `settles`: the request owed this letter
        (`DueLetter.encoded()`), no longer once it is stored; its id is then fixed (the
        change that owed it named it), and a failed write leaves its PDF to whichever
        delivery stores it. `request_expires_at`: the
        request's retention as read (set when it closed); a letter of a closed request goes
        with it (`store/retention.late_letter`), and one stored as its request closes is not
        lost to either: the write holds only if the request's `expires_at` is still as read.
        """
        document_id = document_id or str(ULID.from_datetime(now))
        month = month_of(document_id)
        created_at = iso_z(now)
        key = keys.document_object(member_id, month, document_id)
        files = FileStore()
        # Written once: an owed letter's id is fixed, and a second delivery rendering it (the
        # member's address changed meanwhile, say) keeps the PDF there, rather than replacing
        # the bytes the other's item describes. An attempt that died between its PDF and its
        # item is taken over the same way.
        pdf = files.create(key, pdf, PDF, pdf_filename(title, created_at))
        record = DocumentRecord(
            document_id=document_id,
            member_id=member_id,
            kind=kind,
            title=title,
            created_at=created_at,
            request_id=request_id,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            postal_dispatch=postal_dispatch,
        )
        item = {
            **keys.document_key(member_id, month, document_id),
            **keys.documents_index_key(member_id, record.created_at, document_id),
            "entity": "document",
            **record.model_dump(mode="json"),
        }
        if request_expires_at is not None:
            item["expires_at"] = request_expires_at
        if request_id is None:  # nothing else to keep in step with it
            try:
                dynamodb().put_item(TableName=table(), Item=serialize(item))
            except ClientError:
                files.delete([key])
                raise
            return record
        operations: list[dict[str, Any]] = [
            {"Put": {"TableName": table(), "Item": serialize(item)}},
        ]
        guard = {
            **keys.letter_guard_key(member_id, request_id, _guard(kind, occurrence)),
            "entity": "letter_guard",
            "document_id": document_id,
            "expires_at": request_expires_at,
        }
        closed = request_expires_at is not None
        operations += [
            {
                "Put": {
                    "TableName": table(),
                    "Item": serialize(guard),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": table(),
                    "Key": serialize(keys.request_key(member_id, month_of(request_id), request_id)),
                    "UpdateExpression": "SET documents = list_append(documents, :doc)"
                    + _ANNOUNCE * (announce is not None)
                    + " DELETE letters_due :settled" * (settles is not None),
                    "ConditionExpression": "attribute_exists(pk) AND "
                    + ("expires_at = :expires" if closed else "attribute_not_exists(expires_at)"),
                    "ExpressionAttributeValues": serialize(
                        {
                            ":doc": [{"document_id": document_id, "title": title}],
                            **({":expires": request_expires_at} if closed else {}),
                            **(_announced(announce, request_id, now) if announce else {}),
                            **({":settled": {settles}} if settles is not None else {}),
                        }
                    ),
                }
            },
        ]
        if request_expires_at is not None:
            operations.append(late_letter(member_id, request_id, key, request_expires_at))
        try:
            dynamodb().transact_write_items(TransactItems=operations)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            guard_failed = len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed"
            existing = (
                self.existing_letter(member_id, request_id, kind, occurrence)
                if guard_failed
                else None
            )
            # An owed letter's id is fixed: the PDF under it may be the one another delivery's
            # item describes (stored as this write failed, on the guard or on the request), or
            # the one the redelivery takes over. Only a fresh id's PDF is this write's alone.
            if settles is None:
                files.delete([key])
            if existing is not None:
                return existing
            raise
        return record

    def get(self, member_id: str, document_id: str) -> DocumentRecord:
        try:
            month = month_of(document_id)
        except NotFound:  # not an id at all: no document, rather than "no request"
            raise NotFound("Document introuvable.") from None
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.document_key(member_id, month, document_id.upper())),
        )
        item = deserialize(answer.get("Item", {}))
        if not item or retention.expired(item.get("expires_at"), clock.now()):
            raise NotFound("Document introuvable.")  # past its retention: gone, TTL or not
        return DocumentRecord.model_validate(item)

    def pdf(self, record: DocumentRecord) -> bytes:
        key = keys.document_object(
            record.member_id, month_of(record.document_id), record.document_id
        )
        return FileStore().read(key)

    def since(self, member_id: str, cutoff: str) -> list[DocumentSummary]:
        """Documents created at or after `cutoff` (ISO date), newest first, past their retention
        left out: one Query of the member's documents by date (`gsi_documents`), whatever the
        window, read page after page only beyond 1 MB. The index is eventually consistent: a
        letter issued a moment ago may show a moment later (docs/design-notes.md)."""
        # The cutoff is a Paris day: it starts at its first instant in Paris, not in UTC.
        since = start_of_day(date.fromisoformat(cutoff))
        # Only the summary's attributes (not the table's and the index's keys, nor `expires_at`):
        # half the attributes to read back, for the same read units.
        projected = {f"#{name}": name for name in DocumentSummary.model_fields}
        items = query_texts(
            TableName=table(),
            IndexName=keys.DOCUMENTS_INDEX,
            KeyConditionExpression="doc_pk = :pk AND doc_sk >= :since",
            FilterExpression=NOT_EXPIRED,  # past their retention, before TTL removes them
            ProjectionExpression=", ".join(projected),
            ExpressionAttributeNames={"#expires_at": "expires_at", **projected},
            ExpressionAttributeValues=serialize(
                {
                    ":pk": keys.member_pk(member_id),
                    ":since": since,
                    ":now": retention.epoch(clock.now()),
                }
            ),
            ScanIndexForward=False,
        )
        return _summaries().validate_python(items)  # extras ignored

    def object_key(self, record: DocumentRecord) -> str:
        return keys.document_object(
            record.member_id, month_of(record.document_id), record.document_id
        )
