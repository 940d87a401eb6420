"""Requests in DynamoDB: `MEMBER#<id>#<YYYY-MM>` / `REQ#<ulid>`, indexed by member and month
(`gsi_requests`), the idempotency records and the outbox marker (sparse `gsi_pending`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain import clock, events, retention
from chalicelib.domain.clock import iso_z
from chalicelib.domain.errors import NotFound
from chalicelib.domain.members import Beneficiary
from chalicelib.domain.requests import (
    AgentHistoryEntry,
    AgentMessage,
    Attachment,
    DueLetter,
    InformationRequest,
    RequestRecord,
    RequestSummary,
    month_of,
)
from chalicelib.domain.states import Actor, Status
from chalicelib.domain.uploads import Upload
from chalicelib.observability import correlation_id
from chalicelib.store import keys, outbox
from chalicelib.store import retention as retention_store
from chalicelib.store.dynamo import (
    as_texts,
    deserialize,
    dynamodb,
    get_batch,
    made_once,
    query_all,
    query_pages,
    raw_pages,
    serialize,
    table,
)
from chalicelib.store.members import beneficiaries_of
from chalicelib.store.queues import INTAKE, service_queue
from chalicelib.store.uploads import uploads_of

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
HELD_IBAN_TTL = timedelta(days=90)
DAILY_COUNT_TTL = timedelta(days=2)  # a day's count is only read on that day
_UNUSED_UPLOAD = "attribute_exists(pk) AND attribute_not_exists(used_by)"
SUMMARY_ATTRIBUTES = ("request_id", "type", "label", "created_at", "beneficiaries", "status")
# A timeline read past its first page of the index is reading past months that held nothing
# to show (filtered out, or expired): wider reads.
LATER_READS = 100
# `size()` of an attribute another sender removed is simply false on DynamoDB; moto answers
# 500 unless the condition says first that it exists (its AND stops at the first false).
_HAS_OUTBOX = "attribute_exists(#outbox) AND"
# Past its TTL an item is gone for readers, though DynamoDB may take days to delete it.
NOT_EXPIRED = "attribute_not_exists(#expires_at) OR #expires_at > :now"


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


@dataclass(frozen=True)
class DailyLimit:
    """At most `limit` of `counted` (requests, replies) per member and Paris `day`
    (YYYY-MM-DD): counted by the very transaction that writes one, so a write that fails
    counts nothing and two concurrent ones cannot both take the last place."""

    counted: str
    day: str
    limit: int


@dataclass(frozen=True)
class FilingChecks:
    """What filing checks before it writes, read at once (`RequestRepository.checks`)."""

    beneficiaries: dict[str, Beneficiary]  # those named on the member's contract, by id
    uploads: dict[str, Upload]  # the member's uploads named, by id (absent: unknown)
    count: int  # today's count of the limit's
    previous: IdempotencyRecord | None  # what an earlier call with the same key recorded
    request: RequestRecord | None = None  # the request asked for (a reply's), when it is found


class DailyLimitReached(Exception):
    """The member already made `limit` of these today: nothing was written."""


class IdempotencyKeyTaken(Exception):
    """Another call with the same key committed first."""


class UploadTaken(Exception):
    """An upload was used by another request between our check and our write."""

    def __init__(self, upload_id: str) -> None:
        super().__init__(upload_id)
        self.upload_id = upload_id


def _cancellation_codes(error: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]


class RequestClosed(Exception):
    """The request is processed or withdrawn: nothing more joins it."""


class TransactionCanceled(Exception):
    def __init__(self, failed: set[int]) -> None:
        super().__init__(sorted(failed))
        self.failed = failed


def _claim(
    member_id: str, request_id: str, idempotency: IdempotencyClaim, now: datetime
) -> dict[str, Any]:
    claim = {
        **keys.idempotency_key(member_id, idempotency.key),
        "entity": "idempotency",
        "fingerprint": idempotency.fingerprint,
        "request_id": request_id,
        "response": idempotency.response,
        "expires_at": int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS,
    }
    return {
        "Put": {
            "TableName": table(),
            "Item": serialize(claim),
            "ConditionExpression": "attribute_not_exists(sk) OR expires_at <= :now",
            "ExpressionAttributeValues": serialize({":now": int(now.timestamp())}),
        }
    }


def count_one_more(member_id: str, daily: DailyLimit, now: datetime) -> dict[str, Any]:
    """One more of the day's count, on condition there is room for it."""
    return {
        "Update": {
            "TableName": table(),
            "Key": serialize(keys.daily_count_key(member_id, daily.counted, daily.day)),
            "UpdateExpression": "ADD #count :one SET entity = :entity, expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": serialize(
                {
                    ":one": 1,
                    ":limit": daily.limit,
                    ":entity": "daily_count",
                    ":expires": int((now + DAILY_COUNT_TTL).timestamp()),
                }
            ),
        }
    }


def count_one_fewer(member_id: str, daily: DailyLimit) -> dict[str, Any]:
    """A place of the day's count given back (what it counted was never made), never below 0:
    a transaction's operation, as `count_one_more`."""
    return {
        "Update": {
            "TableName": table(),
            "Key": serialize(keys.daily_count_key(member_id, daily.counted, daily.day)),
            "UpdateExpression": "ADD #count :minus",
            "ConditionExpression": "#count > :zero",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": serialize({":minus": -1, ":zero": 0}),
        }
    }


def _use_upload(member_id: str, upload_id: str, request_id: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table(),
            "Key": serialize(keys.upload_key(member_id, upload_id)),
            "UpdateExpression": "SET used_by = :request",
            "ConditionExpression": _UNUSED_UPLOAD,
            "ExpressionAttributeValues": serialize({":request": request_id}),
        }
    }


def _transact(
    operations: list[dict[str, Any]],
    idempotency_at: int | None,
    uploads_at: int,
    upload_ids: list[str],
    count_at: int,
) -> None:
    """One transaction; a failed condition says which, in this order: the idempotency key (a
    replay is answered as such, even at the limit), an upload, another item
    (`TransactionCanceled`), and only then the day's count (`DailyLimitReached`)."""
    try:
        dynamodb().transact_write_items(TransactItems=operations)
    except ClientError as error:
        codes = _cancellation_codes(error)
        failed = {i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
        if idempotency_at in failed:
            raise IdempotencyKeyTaken from error
        for offset, upload_id in enumerate(upload_ids):
            if uploads_at + offset in failed:
                raise UploadTaken(upload_id) from error
        if failed - {count_at}:
            raise TransactionCanceled(failed) from error
        if count_at in failed:
            raise DailyLimitReached from error
        raise


def _idempotency_record(item: dict[str, Any] | None, now: datetime) -> IdempotencyRecord | None:
    if item is None or int(item["expires_at"]) <= int(now.timestamp()):
        return None  # TTL deletes lazily: an expired record is no record
    return IdempotencyRecord(item["fingerprint"], item["request_id"], item["response"])


def _request_of(item: dict[str, Any] | None) -> RequestRecord | None:
    """A request's item as its record; None when absent or past its retention (gone, whether
    TTL removed it yet or not)."""
    if not item or retention.expired(item.get("expires_at"), clock.now()):
        return None
    return RequestRecord.model_validate(item)


class RequestRepository:
    def idempotency(self, member_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.idempotency_key(member_id, key)),
            ConsistentRead=True,
        )
        return _idempotency_record(deserialize(answer["Item"]) if "Item" in answer else None, now)

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
        """The beneficiaries and uploads named, the day's count, the key's record and (for a
        reply) the request, in one consistent BatchGetItem (up to five reads in one round
        trip): only this member's items can be found, a beneficiary only if on their contract.
        A malformed `request_id` is a 404, as by `get`."""
        count_key = keys.daily_count_key(member_id, limit.counted, limit.day)
        wanted = [
            count_key,
            *(keys.beneficiary_key(member_id, b) for b in beneficiary_ids),
            *(keys.upload_key(member_id, u) for u in upload_ids),
        ]
        claim_key = keys.idempotency_key(member_id, idempotency_key) if idempotency_key else None
        if claim_key is not None:
            wanted.append(claim_key)
        request_key = (
            keys.request_key(member_id, month_of(request_id), request_id.upper())
            if request_id is not None
            else None
        )
        if request_key is not None:
            wanted.append(request_key)
        items = get_batch(wanted)
        counted = items.get((count_key["pk"], count_key["sk"]), {})
        claimed = items.get((claim_key["pk"], claim_key["sk"])) if claim_key else None
        asked = items.get((request_key["pk"], request_key["sk"])) if request_key else None
        return FilingChecks(
            beneficiaries_of(items.values()),
            uploads_of(items.values()),
            int(counted.get("count", 0)),
            _idempotency_record(claimed, now),
            _request_of(asked),
        )

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
        """Request + the day's count (+ idempotency record, uploads marked used,
        held IBAN): one transaction, built here (filing builds it while the files are copied),
        made by the returned commit, which raises `DailyLimitReached` when the day's count is
        full (and what `_transact` raises for the other conditions).

        The request is born with its outbox (the pointer for intake, its `RequestFiled` event)
        and pending from `pending_from` (default `now`): filing sends the pointer
        (`dispatching.hand_over`), the router the rest, and clears it; the sweeper sends what
        stays pending. The commit returns that outbox as written (its entries' ids and targets,
        as a read would give them back), for filing not to read it.
        """
        month = record.month
        item = {
            **keys.request_key(record.member_id, month, record.request_id),
            **keys.requests_index_key(record.member_id, month, record.request_id),
            **record.model_dump(mode="json", exclude={"replies_delivered", "letters_due"}),
            "entity": "request",
            "pending_pk": keys.PENDING_PARTITION,
            "pending_sk": keys.pending_sort(iso_z(pending_from or now), record.request_id),
            "correlation_id": correlation_id(),  # so the sweeper carries it on
            # What the dispatcher sends: the pointer to intake, and the event on the bus.
            "outbox": [
                outbox.to_queue(INTAKE, now),
                outbox.to_bus(events.RequestFiled.of(record, now)),
            ],
            # On its service's work list from the start: a request stuck before its router or
            # its handler (a queue outage, a DLQ) is still seen, and its deadlines watched.
            "svc_pk": service_partition(record.service, "open"),
            "svc_sk": service_sort(NORMAL, record.created_at, record.request_id),
        }
        written = serialize(item)
        operations: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table(),
                    "Item": written,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        idempotency_at = len(operations) if idempotency is not None else None
        if idempotency is not None:
            operations.append(_claim(record.member_id, record.request_id, idempotency, now))
        uploads_at = len(operations)
        operations += [
            _use_upload(record.member_id, a.attachment_id, record.request_id)
            for a in record.attachments
        ]
        if bank_iban is not None:
            held = {
                **keys.bank_details_key(record.member_id, record.request_id),
                "entity": "bank_details",
                "iban": bank_iban,
                # Deleted at the decision; TTL is the backstop for one never decided.
                "expires_at": int((now + HELD_IBAN_TTL).timestamp()),
            }
            operations.append({"Put": {"TableName": table(), "Item": serialize(held)}})
        if record.related_request_id is not None:
            # A complaint marks the request it contests: its files are kept while it is open.
            operations.append({"Put": {"TableName": table(), "Item": _contest_mark(record, now)}})
        count_at = len(operations)
        operations.append(count_one_more(record.member_id, limit, now))
        filed_outbox: list[dict[str, Any]] = item["outbox"]
        attachment_ids = [a.attachment_id for a in record.attachments]

        def commit() -> list[dict[str, Any]]:
            _transact(operations, idempotency_at, uploads_at, attachment_ids, count_at)
            return filed_outbox

        return commit

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
        """The member's answer, its files and their uploads marked used, the day's count (and
        the idempotency record) in one transaction, built here on the request as read (the
        reply builds it while the files are copied), made by the returned commit. An open
        request goes back to its service's open list and to the outbox (the router sends it
        on, the handler sees the answer), pending from `pending_from` (default `now`, as
        `prepare_create`); the commit returns the outbox entries it added. It raises
        `RequestClosed` if the request is processed or withdrawn by then, or no longer on the
        service it was read on (the open list it goes back to is that service's),
        `DailyLimitReached` when the day's count is full."""
        still, values = _open_on(record)
        change = Change(
            # Its place on the list is the flags' as read (`priority`): the daily watch marking
            # the question unanswered meanwhile must not leave it in line, flagged.
            f"{still} AND {_FLAGS_AS_READ}",
            {**values, **_flags_as_read(record)},
            assign={
                "status": Status.in_progress.value,
                "svc_pk": service_partition(record.service, LISTS[Status.in_progress]),
                "svc_sk": service_sort(priority(record), record.created_at, record.request_id),
            },
            remove=("information_request",),
            append={
                "messages": [message.model_dump(mode="json")],
                "attachments": [a.model_dump(mode="json") for a in attachments],
            },
        )
        change.outbox(record.request_id, now)
        replied = events.MemberReplied.of(
            _after(record, status=Status.in_progress), now, message_id=message.message_id
        )
        change.emit(replied, record.request_id, now)
        change.history(
            AgentHistoryEntry(
                at=iso_z(now), status=Status.in_progress, label="Réponse envoyée", by=Actor.member
            )
        )
        added = change.handed_over(record.request_id, pending_from)
        operations: list[dict[str, Any]] = [
            {"Update": change.operation(record.member_id, record.request_id)}
        ]
        idempotency_at = len(operations) if idempotency is not None else None
        if idempotency is not None:
            operations.append(_claim(record.member_id, record.request_id, idempotency, now))
        uploads_at = len(operations)
        operations += [
            _use_upload(record.member_id, a.attachment_id, record.request_id) for a in attachments
        ]
        count_at = len(operations)
        operations.append(count_one_more(record.member_id, limit, now))
        attachment_ids = [a.attachment_id for a in attachments]

        def commit() -> list[dict[str, Any]]:
            try:
                _transact(operations, idempotency_at, uploads_at, attachment_ids, count_at)
            except TransactionCanceled as canceled:
                if 0 in canceled.failed:
                    raise RequestClosed from canceled
                raise
            return added

        return commit

    def outbox(self, member_id: str, request_id: str) -> list[dict[str, Any]]:
        """What the request's changes still have to send, oldest first (a consistent read)."""
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.request_key(member_id, month_of(request_id), request_id)),
            ProjectionExpression="outbox",
            ConsistentRead=True,
        )
        entries: list[dict[str, Any]] = deserialize(answer.get("Item", {})).get("outbox", [])
        return entries

    def clear_outbox(
        self, member_id: str, request_id: str, sent: list[dict[str, Any]], now: datetime
    ) -> bool:
        """Take what was sent out of the outbox: all of it, the pending marker too, unless
        another change added to it meanwhile (then only the entries sent). False when another
        sender cleared them first."""
        key = serialize(keys.request_key(member_id, month_of(request_id), request_id))
        names = {"#outbox": "outbox", "#id": "id"}
        values = {":n": len(sent), ":first": sent[0]["id"], ":now": iso_z(now)}
        whole = {
            "UpdateExpression": "REMOVE #outbox, pending_pk, pending_sk SET sent_at = :now",
            "ConditionExpression": f"{_HAS_OUTBOX} size(#outbox) = :n AND #outbox[0].#id = :first",
        }
        some = {
            "UpdateExpression": "REMOVE "
            + ", ".join(f"#outbox[{i}]" for i in range(len(sent)))
            + " SET sent_at = :now",
            "ConditionExpression": f"{_HAS_OUTBOX} size(#outbox) > :n AND #outbox[0].#id = :first",
        }
        for attempt in (whole, some):
            try:
                dynamodb().update_item(
                    TableName=table(),
                    Key=key,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=serialize(values),
                    **attempt,
                )
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return False

    def pending_pages(
        self, cutoff: datetime, page: int = 100
    ) -> Iterator[list[tuple[str, str, str | None]]]:
        """(member_id, request_id, correlation_id) of requests still unsent since before
        `cutoff`, oldest first, a page at a time: each read when the one before has been dealt
        with, after its last key (a request sent meanwhile leaves the index, one still pending
        is not read twice in a run)."""
        for found in query_pages(
            TableName=table(),
            IndexName="gsi_pending",
            KeyConditionExpression="pending_pk = :p AND pending_sk < :cutoff",
            ExpressionAttributeValues=serialize(
                {":p": keys.PENDING_PARTITION, ":cutoff": iso_z(cutoff)}
            ),
            Limit=page,
        ):
            yield [
                (*keys.parse_request_key(item["pk"], item["sk"]), item.get("correlation_id"))
                for item in found
            ]

    def get(self, member_id: str, request_id: str, *, consistent: bool = False) -> RequestRecord:
        """One GetItem: the month comes from the ULID. Unknown and malformed ids alike: 404.
        `consistent`: a strongly consistent read, for an answer that must show a write just
        made (an eventually consistent one may not, for a moment)."""
        month = month_of(request_id)
        answer = dynamodb().get_item(
            TableName=table(),
            Key=serialize(keys.request_key(member_id, month, request_id.upper())),
            ConsistentRead=consistent,
        )
        found = _request_of(deserialize(answer["Item"]) if "Item" in answer else None)
        if found is None:
            raise NotFound("Demande introuvable.")
        return found

    def mark_contested(self, complaint: RequestRecord, now: datetime) -> None:
        """The complaint's mark on the request it contests, made if missing (its first TTL
        kept): the daily watch's, for complaints filed before the marks existed."""
        mark = _contest_mark(complaint, now)
        dynamodb().update_item(
            TableName=table(),
            Key={"pk": mark["pk"], "sk": mark["sk"]},
            UpdateExpression="SET entity = :entity, expires_at = if_not_exists(expires_at, :ttl)",
            ExpressionAttributeValues={":entity": mark["entity"], ":ttl": mark["expires_at"]},
        )

    def contesting(self, member_id: str, request_id: str) -> list[RequestRecord]:
        """The complaints that contest the request (`related_request_id`), by their marks:
        one Query, then each complaint read (one in nearly every case)."""
        mark = keys.contest_key(member_id, request_id, "")
        marks = query_all(
            TableName=table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :contested)",
            ExpressionAttributeValues=serialize({":pk": mark["pk"], ":contested": mark["sk"]}),
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        complaints = []
        for found in marks:
            try:
                complaints.append(self.get(member_id, str(found["sk"]).rsplit("#", 1)[1]))
            except NotFound:  # past its own retention: it contests nothing any more
                continue
        return complaints

    def newest_first(
        self, member_id: str, *, month: str | None, before: str | None, first_read: int
    ) -> Iterator[tuple[str, RequestSummary]]:
        """The member's requests with their month, newest first: of one month, or of the months
        older than `before`, or all. One Query of `gsi_requests`, `first_read` items at first,
        the next page read only when these are taken (the timeline stops at its page's end);
        those past their retention are left out before TTL removes them."""
        names = {f"#{a}": a for a in SUMMARY_ATTRIBUTES}
        condition, values = "req_pk = :pk", {":pk": keys.member_pk(member_id)}
        if month is not None:
            condition += " AND begins_with(req_sk, :month)"
            values[":month"] = f"{month}#"
        elif before is not None:
            condition += " AND req_sk < :before"
            values[":before"] = before
        pages = raw_pages(
            TableName=table(),
            IndexName=keys.REQUESTS_INDEX,
            KeyConditionExpression=condition,
            FilterExpression=NOT_EXPIRED,
            ExpressionAttributeValues=serialize({**values, ":now": retention.epoch(clock.now())}),
            ProjectionExpression=", ".join(["req_sk", *names]),
            ExpressionAttributeNames={**names, "#expires_at": "expires_at"},
            ScanIndexForward=False,
            Limit=first_read,
            later_limit=max(first_read, LATER_READS),
        )
        for page in pages:
            for item in page:  # each made a summary only if the timeline takes it
                read = as_texts(item)
                month_read = keys.requests_index_month(str(read.pop("req_sk")))
                yield month_read, RequestSummary.model_validate(read)


def service_partition(service: str, state: str) -> str:
    return f"SVC#{service}#{state}"


# Agents' work lists read `gsi_service` oldest first; a request whose deadline is at risk
# gets the "urgent" prefix and so comes before every other one.
URGENT, NORMAL = "0", "1"


def priority(record: RequestRecord) -> str:
    """An open request's place on its work list, by its flags: at the head while its service's
    handler gave up on it (`needs_attention`) or its question went unanswered (`unanswered`,
    until an agent asks again or decides), else in line (the daily watch puts a complaint at
    risk at the head besides). The same rule wherever a change sets the place."""
    return URGENT if record.needs_attention or record.unanswered else NORMAL


def service_sort(priority: str, created_at: str, request_id: str) -> str:
    return f"{priority}#{created_at}#{request_id}"


# The work list a request is on, by its status.
LISTS: dict[Status, str] = {
    Status.in_progress: "open",
    Status.waiting_for_member: "waiting",
    Status.processed: "processed",
    Status.withdrawn: "withdrawn",
}
_OPEN = "#status IN (:in_progress, :waiting_for_member)"
_OPEN_VALUES = {
    ":in_progress": Status.in_progress.value,
    ":waiting_for_member": Status.waiting_for_member.value,
}


# Still on the service the change read it on: its write puts the request on that service's
# lists (`svc_pk` is written from the read).
_ON_ITS_SERVICE = "#service = :read_service"


def _on_its_service(record: RequestRecord) -> dict[str, str]:
    return {":read_service": record.service}


# The flags that set a request's place on its list (`priority`), as the change read them.
_FLAGS_AS_READ = (
    "(attribute_not_exists(#unanswered) OR #unanswered = :read_unanswered)"
    " AND (attribute_not_exists(#needs_attention) OR #needs_attention = :read_attention)"
)


def _flags_as_read(record: RequestRecord) -> dict[str, bool]:
    return {":read_unanswered": record.unanswered, ":read_attention": record.needs_attention}


def _open_on(record: RequestRecord) -> tuple[str, dict[str, Any]]:
    """Open, and still on the service the change read it on: an agent's change was checked
    against that service (`api/backoffice`); one reclassified meanwhile is another service's
    to change."""
    return f"{_OPEN} AND {_ON_ITS_SERVICE}", {**_OPEN_VALUES, **_on_its_service(record)}


@dataclass
class Change:
    """One conditional update of a request item: what it sets, removes, appends and adds."""

    condition: str
    values: dict[str, Any] = field(default_factory=dict)  # the condition's own values
    assign: dict[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    append: dict[str, list[Any]] = field(default_factory=dict)  # list attribute: items
    add: dict[str, set[str]] = field(default_factory=dict)  # string set attribute: members

    def history(self, entry: AgentHistoryEntry) -> Change:
        self.append.setdefault("history", []).append(entry.model_dump(mode="json"))
        return self

    def outbox(self, request_id: str, now: datetime) -> Change:
        """Pending again, with the pointer to send to intake (the router passes it on to the
        request's service): the dispatcher sends it, or the sweeper."""
        return self.pend(request_id, now, outbox.to_queue(INTAKE, now))

    def emit(self, event: events.EventDetail, request_id: str, now: datetime) -> Change:
        """The event of this change, recorded in the same write: put on the bus by the
        dispatcher, or by the sweeper."""
        return self.pend(request_id, now, outbox.to_bus(event))

    def audit(self, action: str, request: RequestRecord, now: datetime, by: Actor) -> Change:
        """A change no domain event announces, for the audit trail alone: the dispatcher
        appends it to the chain and sends it nowhere. `request` as the change leaves it."""
        return self.pend(request.request_id, now, outbox.to_audit(action, request, now, by.value))

    def pend(self, request_id: str, now: datetime, entry: dict[str, Any]) -> Change:
        self.append.setdefault("outbox", []).append(entry)
        self.assign["pending_pk"] = keys.PENDING_PARTITION
        self.assign["correlation_id"] = correlation_id()
        return self.pending_from(request_id, now)

    def pending_from(self, request_id: str, moment: datetime) -> Change:
        """The sweeper's to send from `moment` on: `now` for a change's outbox, later when it is
        handed to the router (`dispatching.hand_over`)."""
        self.assign["pending_sk"] = keys.pending_sort(iso_z(moment), request_id)
        return self

    def handed_over(self, request_id: str, pending_from: datetime | None) -> list[dict[str, Any]]:
        """The entries this change adds to the outbox, for its caller to hand over to the
        consumer of its pointer (`dispatching.hand_over`): pending from `pending_from` (None:
        now), the sweeper's only if still there then."""
        if pending_from is not None:
            self.pending_from(request_id, pending_from)
        return list(self.append.get("outbox", []))

    def _agent_named(self) -> dict[str, list[Any]]:
        """What the change appends, its outbox entries carrying the agent its history names
        (for the audit trail; the bus never sees it)."""
        agents = [h["agent_id"] for h in self.append.get("history", []) if h.get("agent_id")]
        if not agents or "outbox" not in self.append:
            return self.append
        named = [{**entry, "agent_id": agents[-1]} for entry in self.append["outbox"]]
        return {**self.append, "outbox": named}

    def operation(self, member_id: str, request_id: str) -> dict[str, Any]:
        """The arguments of an UpdateItem, or of a transaction's Update."""
        names: dict[str, str] = {}
        values: dict[str, Any] = dict(self.values)
        sets, adds = [], []
        # An attribute set to None is removed: DynamoDB items hold no nulls here (`serialize`).
        assigned = {k: v for k, v in self.assign.items() if v is not None}
        cleared = [k for k, v in self.assign.items() if v is None]
        for n, (name, value) in enumerate(assigned.items()):
            names[f"#s{n}"] = name
            values[f":s{n}"] = value
            sets.append(f"#s{n} = :s{n}")
        for n, (name, items) in enumerate(self._agent_named().items()):
            names[f"#a{n}"] = name
            values[f":a{n}"] = items
            sets.append(f"#a{n} = list_append(if_not_exists(#a{n}, :empty), :a{n})")
            values[":empty"] = []
        for n, (name, members) in enumerate(self.add.items()):
            names[f"#d{n}"] = name
            values[f":d{n}"] = members
            adds.append(f"#d{n} :d{n}")
        removes = []
        for n, name in enumerate((*self.remove, *cleared)):
            names[f"#r{n}"] = name
            removes.append(f"#r{n}")
        expression = " ".join(
            part
            for part in (
                f"SET {', '.join(sets)}" if sets else "",
                f"REMOVE {', '.join(removes)}" if removes else "",
                f"ADD {', '.join(adds)}" if adds else "",
            )
            if part
        )
        return {
            "TableName": table(),
            "Key": serialize(keys.request_key(member_id, month_of(request_id), request_id)),
            "UpdateExpression": expression,
            "ConditionExpression": self.condition,
            "ExpressionAttributeNames": names | _condition_names(self.condition),
            "ExpressionAttributeValues": serialize(values),
        }


def _contest_mark(complaint: RequestRecord, now: datetime) -> dict[str, Any]:
    """A complaint's mark on the request it contests, as DynamoDB takes it (`keys.contest_key`)."""
    assert complaint.related_request_id is not None  # noqa: S101  # only a contesting complaint
    mark = {
        **keys.contest_key(complaint.member_id, complaint.related_request_id, complaint.request_id),
        "entity": "contest",
        "expires_at": retention.epoch(now + retention.CONTEST_MARK_KEPT),
    }
    return serialize(mark)


def _after(record: RequestRecord, **changed: Any) -> RequestRecord:
    """The request as a change leaves it: what its event says."""
    return record.model_copy(update=changed)


def _owe(
    change: Change, record: RequestRecord, now: datetime, letter: DueLetter | None, hand_over: bool
) -> None:
    """The letter a change calls for, owed in the same write; handed over to the service's
    handler (the function that renders letters) through the outbox."""
    if letter is not None:
        change.add["letters_due"] = {letter.encoded()}
    if hand_over:
        change.pend(record.request_id, now, outbox.to_queue(service_queue(record.service), now))


def _entry(
    now: datetime, status: Status, label: str, by: Actor, agent_id: str | None = None
) -> AgentHistoryEntry:
    return AgentHistoryEntry(at=iso_z(now), status=status, label=label, by=by, agent_id=agent_id)


class Transitions:
    """Conditional updates of a request: each happens once whatever the redeliveries, and none
    moves a request backwards (a processed or withdrawn request is never open again)."""

    def apply(
        self, record: RequestRecord, change: Change, also: list[dict[str, Any]] | None = None
    ) -> bool:
        """False when the condition does not hold (a repeat, or a request that moved on).
        With `also`, one transaction: the change first, then those writes."""
        operation = change.operation(record.member_id, record.request_id)
        if not also:  # a retry of its own lost answer is this change's (a transaction's token)
            return made_once(dynamodb().update_item, **operation)
        try:
            dynamodb().transact_write_items(TransactItems=[{"Update": operation}, *also])
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException" and (
                _cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]
            ):
                return False
            raise
        return True

    def close(self, record: RequestRecord, change: Change, now: datetime) -> bool:
        """A change that closes the request (processed, withdrawn) starts its retention
        clocks in the same transaction (`store/retention.py`)."""
        assign, also = retention_store.closing(record, now)
        change.assign.update(assign)
        return self.apply(record, change, also)

    def keep_attachments_until(self, record: RequestRecord, day: date) -> bool:
        """The closed request's files kept until `day` (a complaint contests it): what its
        detail says of them. False once they are gone."""
        change = Change(
            "attribute_exists(pk) AND attribute_not_exists(attachments_deleted_at)",
            assign={"attachments_kept_until": day.isoformat()},
        )
        return self.apply(record, change)

    def attachments_deleted(self, record: RequestRecord, label: str, now: datetime) -> bool:
        """Its retention over, a closed request no longer lists its attachments and says when
        they went (its history too): once; for the audit trail, `AttachmentsDeleted`."""
        assign: dict[str, Any] = {"attachments": [], "attachments_deleted_at": iso_z(now)}
        # The dialogue's messages no longer name files that are gone (a reply showed « 1 pièce
        # jointe » under the history's « Pièces jointes supprimées »). A closed request takes
        # no new message: the list read is the list written back.
        messages = [m.model_copy(update={"attachment_ids": []}) for m in record.messages]
        if any(m.attachment_ids for m in record.messages):
            assign["messages"] = [m.model_dump(mode="json", exclude_none=True) for m in messages]
        change = Change(
            "attribute_exists(pk) AND attribute_not_exists(attachments_deleted_at)",
            assign=assign,
            remove=("attachments_kept_until",),
        )
        after = _after(record, attachments=[], messages=messages)
        change.audit("AttachmentsDeleted", after, now, Actor.system)
        entry = _entry(now, record.status, label, Actor.system, None)
        return self.apply(record, change.history(entry))

    def route(self, record: RequestRecord, service: str, label: str, now: datetime) -> bool:
        """Record the routing once: a duplicate delivery changes nothing. Only on the service
        and in the state read (what it writes back, and the list it puts the request on): False
        too when an agent handed the request on, or changed its state, since it was read."""
        status = record.status
        change = Change(
            f"attribute_exists(pk) AND attribute_not_exists(#routed_at) AND {_ON_ITS_SERVICE}"
            " AND #status = :read_status",
            {**_on_its_service(record), ":read_status": status.value},
            assign={
                "service": service,
                "routed_at": iso_z(now),
                "svc_pk": service_partition(service, LISTS[status]),
                "svc_sk": service_sort(priority(record), record.created_at, record.request_id),
            },
        )
        routed = events.RequestRouted.of(_after(record, service=service), now)
        change.emit(routed, record.request_id, now)
        return self.apply(record, change.history(_entry(now, status, label, Actor.system)))

    def acknowledge(self, record: RequestRecord, label: str, now: datetime, **extra: Any) -> bool:
        """The service has the request (and may set deadlines): once, while it is open, and
        only as read: on the service that read it, a complaint or not. A request an agent
        handed on (or made a complaint) between the handler's read and this write is the new
        service's to acknowledge: this write would have set `acknowledged_at` for it, and a
        complaint's two months (`due_at`) were then never set nor watched."""
        still, values = _open_on(record)
        complaint_as_read = "#complaint = :read_complaint" + (
            "" if record.complaint else " OR attribute_not_exists(#complaint)"
        )
        change = Change(
            f"attribute_not_exists(#acknowledged_at) AND {still} AND ({complaint_as_read})",
            {**values, ":read_complaint": record.complaint},
            assign={"acknowledged_at": iso_z(now), **extra},
        )
        change.audit("RequestAcknowledged", record, now, Actor.service)
        return self.apply(record, change.history(_entry(now, record.status, label, Actor.service)))

    def claim_decision(self, record: RequestRecord, outcome: str, now: datetime) -> bool:
        """Reserve the decision for this outcome: a retry of it passes, another outcome not."""
        still, values = _open_on(record)
        change = Change(
            f"{still} AND (attribute_not_exists(#decided_outcome) OR #decided_outcome = :outcome)",
            {**values, ":outcome": outcome},
            assign={"decided_outcome": outcome, "decided_at": iso_z(now)},
        )
        return self.apply(record, change)

    def release_decision(self, record: RequestRecord, outcome: str) -> bool:
        """Give back the reservation of `outcome` when its decision could not be made (its
        effect refused before changing anything): another outcome may then be decided. Only
        while the request is open and still reserved for that outcome."""
        change = Change(
            f"{_OPEN} AND #decided_outcome = :outcome",
            {**_OPEN_VALUES, ":outcome": outcome},
            remove=("decided_outcome", "decided_at"),
        )
        return self.apply(record, change)

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
        """The request becomes processed: once, from an open state only. With the letter it
        owes (`letter`) and, `hand_over`, a pointer to its service's queue whose handler will
        render it. The outbox entries it added (`pending_from`: as `withdraw`); None when the
        request was no longer open, or no longer on the service it was read on."""
        change = Change(
            *_open_on(record),
            assign={
                "status": Status.processed.value,
                "outcome": outcome,
                "processed_at": iso_z(now),
                "svc_pk": service_partition(record.service, LISTS[Status.processed]),
                "svc_sk": service_sort(NORMAL, record.created_at, record.request_id),
                **extra,
            },
            remove=("information_request", "due_at"),  # closed: no answer owed any more
        )
        decided = events.RequestDecided.of(
            _after(record, status=Status.processed), now, outcome=outcome
        )
        change.emit(decided, record.request_id, now)
        _owe(change, record, now, letter, hand_over)
        entry = _entry(now, Status.processed, label, Actor.service, agent_id)
        added = change.handed_over(record.request_id, pending_from)
        return added if self.close(record, change.history(entry), now) else None

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
        """The service asks the member: the request waits for them, first on no work list but
        the service's `waiting` one; with the letter it owes, and what it returns, as `finish`.
        None too when the same question already waits: two calls at once (a double click, a
        retry after a timeout) ask it once, and owe one letter; and when a decision has claimed
        its outcome (`claim_decision`): the request is as good as processed, a question would
        owe the member a letter about a request closed right after."""
        still, values = _open_on(record)
        change = Change(
            f"{still} AND attribute_not_exists(#decided_outcome) AND NOT (#status ="
            " :waiting_for_member AND #information_request.#message = :asked)",
            {**values, ":asked": question.message},
            assign={
                "status": Status.waiting_for_member.value,
                "information_request": question.model_dump(mode="json"),
                "svc_pk": service_partition(record.service, LISTS[Status.waiting_for_member]),
                "svc_sk": service_sort(NORMAL, record.created_at, record.request_id),
                "unanswered": False,
            },
            append={"messages": [message.model_dump(mode="json")]},
        )
        asked = events.InformationRequested.of(
            _after(record, status=Status.waiting_for_member),
            now,
            respond_before=question.respond_before,
        )
        change.emit(asked, record.request_id, now)
        _owe(change, record, now, letter, hand_over)
        entry = _entry(now, Status.waiting_for_member, label, Actor.service, message.agent_id)
        added = change.handed_over(record.request_id, pending_from)
        return added if self.apply(record, change.history(entry)) else None

    def unanswered(self, record: RequestRecord, label: str, now: datetime) -> bool:
        """The question's deadline passed: back to the head of the service's open list. Only
        as read (the watch reads the lists a page at a time): still waiting on that question and
        on that service, else False. An agent who reclassified it meanwhile, or asked again,
        owns it now: its open list is the new service's, its deadline the new question's."""
        question = record.information_request
        change = Change(
            f"#status = :waiting_for_member AND {_ON_ITS_SERVICE}"
            " AND #information_request.#respond_before = :read_due",
            {
                ":waiting_for_member": Status.waiting_for_member.value,
                **_on_its_service(record),
                ":read_due": question.respond_before if question else "",
            },
            assign={
                "status": Status.in_progress.value,
                "unanswered": True,
                "svc_pk": service_partition(record.service, LISTS[Status.in_progress]),
                "svc_sk": service_sort(URGENT, record.created_at, record.request_id),
            },
            remove=("information_request",),
        )
        change.audit("QuestionUnanswered", _after(record, status=Status.in_progress), now,
                     Actor.system)  # fmt: skip
        return self.apply(
            record, change.history(_entry(now, Status.in_progress, label, Actor.system))
        )

    def withdraw(
        self,
        record: RequestRecord,
        message: AgentMessage | None,
        label: str,
        now: datetime,
        *,
        pending_from: datetime | None = None,
    ) -> list[dict[str, Any]] | None:
        """The member withdraws an open request; its service is told through the outbox,
        pending from `pending_from` (default `now`). The outbox entries it added; None when
        the request was no longer open, no longer on the service it was read on (the
        withdrawn list it goes to, and its `RequestWithdrawn`, are that service's), or its
        decision is under way (`claim_decision`: its effect, a new IBAN, may be applied
        already; the decision completes, and a withdrawal would leave it unrecorded)."""
        still, values = _open_on(record)
        change = Change(
            f"{still} AND attribute_not_exists(#decided_outcome)",
            values,
            assign={
                "status": Status.withdrawn.value,
                "withdrawn_at": iso_z(now),
                "svc_pk": service_partition(record.service, LISTS[Status.withdrawn]),
                "svc_sk": service_sort(NORMAL, record.created_at, record.request_id),
            },
            remove=("information_request", "due_at"),  # closed: no answer owed any more
            append={"messages": [message.model_dump(mode="json")]} if message else {},
        )
        change.outbox(record.request_id, now)
        withdrawn = events.RequestWithdrawn.of(_after(record, status=Status.withdrawn), now)
        change.emit(withdrawn, record.request_id, now)
        entry = _entry(now, Status.withdrawn, label, Actor.member)
        added = change.handed_over(record.request_id, pending_from)
        return added if self.close(record, change.history(entry), now) else None

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
        """Another service takes an open request over: routed again (the router sends it on),
        acknowledged again by the new service. The outbox entries it added, as `withdraw`;
        None when it is no longer open on the service read, or its decision is under way (its
        outcome claimed, `claim_decision`: the decision, its effect applied, completes)."""
        change = Change(
            f"{_OPEN} AND #service = :from AND attribute_not_exists(#decided_outcome)",
            {**_OPEN_VALUES, ":from": record.service},
            assign={
                "service": service,
                "complaint": complaint,
                "label": label,
                "svc_pk": service_partition(service, LISTS[record.status]),
                "svc_sk": service_sort(priority(record), record.created_at, record.request_id),
                **extra,
            },
            remove=("routed_at", "acknowledged_at"),
        )
        change.outbox(record.request_id, now)
        moved = events.RequestReclassified.of(
            _after(record, service=service, complaint=complaint),
            now,
            previous_service=record.service,
        )
        change.emit(moved, record.request_id, now)
        entry = _entry(now, record.status, history_label, Actor.service, agent_id)
        added = change.handed_over(record.request_id, pending_from)
        return added if self.apply(record, change.history(entry)) else None

    def deliver_replies(
        self, record: RequestRecord, message_ids: set[str], label: str, now: datetime
    ) -> bool:
        """The service has seen the member's new answers: said once in the history. Said when
        at least one of them is new (two handlers at once: one read the request before the
        second answer, the other after; each says what it brings), never for none."""
        condition = " OR ".join(
            f"NOT contains(#replies_delivered, :m{n})" for n in range(len(message_ids))
        )
        change = Change(
            f"attribute_not_exists(#replies_delivered) OR ({condition})",
            {f":m{n}": m for n, m in enumerate(sorted(message_ids))},
            add={"replies_delivered": set(message_ids)},
        )
        change.audit("RepliesDelivered", record, now, Actor.service)
        return self.apply(record, change.history(_entry(now, record.status, label, Actor.service)))

    def flag_for_agents(self, record: RequestRecord, now: datetime) -> bool:
        """A request its service could not handle: at the head of the service's open list."""
        change = Change(
            f"{_OPEN} AND (attribute_not_exists(#needs_attention) OR #needs_attention <> :yes)",
            {**_OPEN_VALUES, ":yes": True},
            assign={
                "needs_attention": True,
                "svc_sk": service_sort(URGENT, record.created_at, record.request_id),
            },
        )
        label = "Traitement automatique interrompu : un conseiller reprend votre demande"
        change.audit("FlaggedForAgents", record, now, Actor.system)
        return self.apply(record, change.history(_entry(now, record.status, label, Actor.system)))

    def deadline_at_risk(self, record: RequestRecord, due_at: str, now: datetime) -> bool:
        """A complaint whose deadline `due_at` is near goes to the head of its list, and says
        so on the bus, once for that deadline (`at_risk_due_at` remembers it): whether or not
        it was at the head already (flagged for agents, a question unanswered). False when
        this deadline was already said (`prioritise` keeps it at the head)."""
        change = Change(
            f"{_OPEN} AND (attribute_not_exists(#at_risk_due_at) OR #at_risk_due_at <> :due_at)",
            {**_OPEN_VALUES, ":due_at": due_at},
            assign={
                "svc_sk": service_sort(URGENT, record.created_at, record.request_id),
                "at_risk_due_at": due_at,
            },
        )
        at_risk = events.ComplaintDeadlineAtRisk.of(record, now, due_at=due_at)
        return self.apply(record, change.emit(at_risk, record.request_id, now))

    def prioritise(self, record: RequestRecord, place: str) -> bool:
        """The open request at the head of its list (`URGENT`) or in line (`NORMAL`): in line
        only while neither flag that keeps it at the head is set (`priority`): a watch that
        read it from a list a moment stale (the index lags) does not put back in line a request
        whose question just went unanswered, or whose handler just gave up."""
        condition, values = _OPEN, dict[str, Any](_OPEN_VALUES)
        if place != URGENT:
            condition += (
                " AND (attribute_not_exists(#needs_attention) OR #needs_attention <> :yes)"
                " AND (attribute_not_exists(#unanswered) OR #unanswered <> :yes)"
            )
            values[":yes"] = True
        change = Change(
            condition,
            values,
            assign={"svc_sk": service_sort(place, record.created_at, record.request_id)},
        )
        return self.apply(record, change)

    def work_list(
        self, service: str, state: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[RequestRecord], dict[str, Any] | None]:
        """A service's requests in one state, urgent first, then oldest first (those past their
        retention left out)."""
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "IndexName": "gsi_service",
            "KeyConditionExpression": "svc_pk = :p",
            "FilterExpression": NOT_EXPIRED,
            "ExpressionAttributeNames": {"#expires_at": "expires_at"},
            "ExpressionAttributeValues": serialize(
                {":p": service_partition(service, state), ":now": retention.epoch(clock.now())}
            ),
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
