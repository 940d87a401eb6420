"""Retention in the store (`docs/retention.md`): what a request's closing writes beside it, and
the purge schedule the retention purge carries out (`services/retention.py`).

At closing (processed or withdrawn), in the same transaction as the request's own update:
its letters' items (`DOC#`) and guards (`LETTER#`) get the request's TTL (closing + 5 years),
the full IBAN a bank-details request held is deleted, and one purge entry per kind of file is
put under the Paris day it falls due (`PURGE#<day>`): the attachments' (90 days) and the
letters' PDFs (5 years). S3 cannot count an object's age from an event of ours, so the
retention purge deletes those files on their day, and the bucket's lifecycle rules are the backstop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain import catalog, clock, retention
from chalicelib.domain.requests import RequestRecord, month_of
from chalicelib.domain.retention import Purged
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, query_all, query_pages, serialize, table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeEntry:
    """Files of one closed request to delete on `day`: every object under each prefix."""

    day: str
    member_id: str
    request_id: str
    what: Purged
    prefixes: tuple[str, ...]


def _set_ttl(key: dict[str, str], expires_at: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table(),
            "Key": serialize(key),
            "UpdateExpression": "SET expires_at = :expires",
            "ExpressionAttributeValues": serialize({":expires": expires_at}),
        }
    }


def _entry_fields(
    member_id: str, request_id: str, what: Purged, prefixes: list[str]
) -> dict[str, Any]:
    """A purge entry's attributes but its key (`keys.purge_key`)."""
    return {"entity": "purge", "member_id": member_id, "request_id": request_id,
            "what": what.value, "prefixes": prefixes}  # fmt: skip


def _purge(day: date, record: RequestRecord, what: Purged, prefixes: list[str]) -> dict[str, Any]:
    entry = {
        **keys.purge_key(day.isoformat(), record.member_id, record.request_id, what.value),
        **_entry_fields(record.member_id, record.request_id, what, prefixes),
    }
    return {"Put": {"TableName": table(), "Item": serialize(entry)}}


def late_letter(member_id: str, request_id: str, pdf_key: str, expires_at: int) -> dict[str, Any]:
    """A letter stored after its request closed (a decision's letter, rendered by the service
    once the decision is recorded) goes with it: its PDF joins the request's letters' purge
    entry, created if the closing had no letter yet. The caller gives the item and guard the
    same `expires_at`."""
    day = retention.letters_purge_day_of(datetime.fromtimestamp(expires_at, UTC))
    key = keys.purge_key(day.isoformat(), member_id, request_id, Purged.letters.value)
    return {
        "Update": {
            "TableName": table(),
            "Key": serialize(key),
            "UpdateExpression": "SET entity = :entity, member_id = :member, request_id = :request,"
            " what = :what, prefixes = list_append(if_not_exists(prefixes, :none), :pdf)",
            "ExpressionAttributeValues": serialize(
                {
                    ":entity": "purge",
                    ":member": member_id,
                    ":request": request_id,
                    ":what": Purged.letters.value,
                    ":none": [],
                    ":pdf": [pdf_key],
                }
            ),
        }
    }


def letters_of(member_id: str, request_id: str) -> list[tuple[dict[str, str], str]]:
    """(guard key, document id) of every letter issued for the request: one Query."""
    guards = keys.letter_guard_key(member_id, request_id, "")
    found = query_all(
        TableName=table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :guards)",
        ExpressionAttributeValues=serialize({":pk": guards["pk"], ":guards": guards["sk"]}),
        ProjectionExpression="pk, sk, document_id",
        ConsistentRead=True,
    )
    return [({"pk": i["pk"], "sk": i["sk"]}, str(i["document_id"])) for i in found]


def closing(record: RequestRecord, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What the request's closing sets on it, and the other writes of the same transaction."""
    expires_at = retention.epoch(retention.request_expires(now))
    assign: dict[str, Any] = {"expires_at": expires_at}
    operations: list[dict[str, Any]] = []
    pdfs = []
    for guard, document_id in letters_of(record.member_id, record.request_id):
        operations.append(_set_ttl(guard, expires_at))
        month = month_of(document_id)
        operations.append(_set_ttl(keys.document_key(record.member_id, month, document_id),
                                   expires_at))  # fmt: skip
        pdfs.append(keys.document_object(record.member_id, month, document_id))
    if pdfs:
        operations.append(_purge(retention.letters_purge_day(now), record, Purged.letters, pdfs))
    # Every closing, files listed or not: a reply's files may land between the read of the
    # request and this write (an open request takes a reply at any time), and its request then
    # closes listing them. On a request with none, the purge finds an empty prefix and says
    # nothing (`services/retention.py`).
    day = retention.attachments_purge_day(now)
    prefix = keys.attachments_prefix(record.member_id, record.month, record.request_id)
    operations.append(_purge(day, record, Purged.attachments, [prefix]))
    if record.attachments:
        assign["attachments_kept_until"] = day.isoformat()
    if catalog.REQUEST_TYPES_BY_CODE[record.type].handling.holds_iban:
        # Under review until the decision (or the withdrawal): never kept beyond. Held since
        # the filing by the request's type, whichever service closes it (an agent may have
        # made it a complaint since).
        bank = keys.bank_details_key(record.member_id, record.request_id)
        operations.append({"Delete": {"TableName": table(), "Key": serialize(bank)}})
    return assign, operations


# Entries read by one Query (before the done ones are left out): about 250 KB, well under a
# page's 1 MB. A day's done entries are read again, and left out, by a run that resumes it.
PAGE = 1000


def _entry(day: date, item: dict[str, Any]) -> PurgeEntry:
    return PurgeEntry(
        day=day.isoformat(),
        member_id=str(item["member_id"]),
        request_id=str(item["request_id"]),
        what=Purged(item["what"]),
        prefixes=tuple(str(p) for p in item["prefixes"]),
    )


class PurgeSchedule:
    """`PURGE#<day>` entries and how far the purges got; the request's trace of a purge."""

    def pages_due(self, day: date) -> Iterator[list[PurgeEntry]]:
        """The entries of `day` not carried out yet, a page at a time (`PAGE` entries read, the
        done ones left out): a national day holds about 170,000, never all held at once. Each
        page is read when the one before has been dealt with, after its last key: entries
        marked done meanwhile keep their place."""
        for page in query_pages(
            TableName=table(),
            KeyConditionExpression="pk = :pk",
            FilterExpression="attribute_not_exists(done_at)",
            ExpressionAttributeValues=serialize({":pk": keys.purge_partition(day.isoformat())}),
            ConsistentRead=True,
            Limit=PAGE,
        ):
            yield [_entry(day, item) for item in page]

    def carried_out(self, entry: PurgeEntry, now: datetime) -> None:
        """Marked done (the purge's role deletes no item): TTL removes it a month later."""
        dynamodb().update_item(
            TableName=table(),
            Key=serialize(
                keys.purge_key(entry.day, entry.member_id, entry.request_id, entry.what.value)
            ),
            UpdateExpression="SET done_at = :now, expires_at = :expires",
            ExpressionAttributeValues=serialize(
                {
                    ":now": clock.iso_z(now),
                    ":expires": retention.epoch(now + retention.PURGE_ENTRY_KEPT),
                }
            ),
        )

    def postpone(self, entry: PurgeEntry, day: date, now: datetime) -> None:
        """The entry due again on `day`, then this one marked done (a run that stops between
        the two leaves this one due: carried out again, it puts the same later entry)."""
        later = keys.purge_key(day.isoformat(), entry.member_id, entry.request_id, entry.what.value)
        fields = _entry_fields(entry.member_id, entry.request_id, entry.what, list(entry.prefixes))
        # An UpdateItem that creates the entry: the purge's role writes no whole item.
        dynamodb().update_item(
            TableName=table(),
            Key=serialize(later),
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
            ExpressionAttributeNames={f"#{name}": name for name in fields},
            ExpressionAttributeValues=serialize({f":{name}": v for name, v in fields.items()}),
        )
        self.carried_out(entry, now)

    def purged_through(self) -> date | None:
        answer = dynamodb().get_item(
            TableName=table(), Key=serialize(keys.purge_progress_key()), ConsistentRead=True
        )
        day = deserialize(answer.get("Item", {})).get("day")
        return date.fromisoformat(day) if day else None

    def finished(self, day: date) -> None:
        """Every entry of `day` carried out: the next run starts the day after (never earlier)."""
        try:
            dynamodb().update_item(
                TableName=table(),
                Key=serialize(keys.purge_progress_key()),
                UpdateExpression="SET #day = :day",
                ConditionExpression="attribute_not_exists(#day) OR #day < :day",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues=serialize({":day": day.isoformat()}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
