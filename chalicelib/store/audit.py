"""The audit trail in DynamoDB: `AUDIT#<Paris day>#<chain>` / `<sequence>` (zero-padded), kept
six years (TTL), never updated nor deleted by the app (its roles may not:
`.chalice/policy-*.json`). A day has `audit.SHARDS` chains, each in its own partition; a
member's records go to the member's (`audit.shard_of`), so only writers for members of the same
chain wait for each other. (Days written before the chains were sharded have one,
`AUDIT#<day>`, still read and checked.)

Appending reads where the chain ends (its head item, `AUDIT#<day>#<chain>#HEAD`: one consistent
GetItem), seals the new records after it (`domain/audit.py`) and, in one transaction, puts them
on condition that their sequence numbers are still free (`attribute_not_exists`) and moves the
head on condition it has not moved: of two concurrent writers, one wins, the other reads the new
head and tries again. (The head spares a Query per append; appending never depends on it: a
lost head is found out by the records' own condition, and the last record read instead.)

An event is recorded once: its mark (`AUDITED#<entry id>`) is put in the same transaction, on
condition it is new, so a redelivered outbox entry changes nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain import audit, clock
from chalicelib.domain.audit import SHARDS, AuditEntry, AuditRecord, Link, StoredChain
from chalicelib.store import keys
from chalicelib.store.dynamo import (
    deserialize,
    dynamodb,
    parallel_map,
    query_all,
    serialize,
    table,
)

# A contended day's head: each attempt is one GetItem and one transaction. Writers that lost
# wait a random time under a ceiling that doubles each time ("full jitter"), so that many at
# once spread out rather than collide again; they give up after `BUDGET_SECONDS` (the caller
# answers 503 or leaves the entries to the sweeper), well inside the API's 29 s.
ATTEMPTS = 40
BUDGET_SECONDS = 8.0
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.4
RECORDS_PER_TRANSACTION = 40  # a record and its mark each: 100 items at most per transaction
_NEW = "attribute_not_exists(pk)"


def _backoff(attempt: int) -> float:
    """Full jitter: a random pause under a ceiling doubling with each lost attempt."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(0, ceiling)  # noqa: S311  # spreading writers, not a secret


def _move_head(head: Link | None, last: AuditRecord, expires_at: int) -> dict[str, Any]:
    """The head now names `last`, on condition it still names what this writer read: the
    conditional write that serialises concurrent writers (the records' own
    `attribute_not_exists` holds even if the head were lost)."""
    item = {**keys.audit_head_key(last.day, last.shard), "entity": "audit_head",
            "sequence": last.sequence,
            "hash": last.hash, "expires_at": expires_at}  # fmt: skip
    if head is None:
        return _put(item)
    put = _put(item, "#sequence = :read")
    put["Put"]["ExpressionAttributeNames"] = {"#sequence": "sequence"}
    put["Put"]["ExpressionAttributeValues"] = serialize({":read": head.sequence})
    return put


class AuditUnavailable(Exception):
    """The chain stayed contended through every attempt: nothing was appended."""


def _put(item: Mapping[str, Any], condition: str | None = _NEW) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table(), "Item": serialize(item)}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _stored(record: AuditRecord, expires_at: int) -> dict[str, Any]:
    """The record's content as attributes (day and sequence are its key), its hash, its TTL."""
    content = record.content()
    del content["day"], content["sequence"]
    content.pop("shard", None)
    return {
        **keys.audit_key(record.day, record.sequence, record.shard),
        "entity": "audit",
        **content,
        "hash": record.hash,
        "expires_at": expires_at,
    }


class AuditTrail:
    def append(
        self, entries: Sequence[AuditEntry], now: datetime, *, dedupe: bool = True
    ) -> list[AuditRecord]:
        """Append to `now`'s Paris day, each entry to its member's chain; with `dedupe`, each
        entry once ever (its `entry_id`): the records appended (those already recorded are
        left out). Each chain's share is its own transaction(s)."""
        by_chain: dict[int, list[AuditEntry]] = {}
        for entry in entries:
            by_chain.setdefault(audit.shard_of(entry.member_id), []).append(entry)
        appended: list[AuditRecord] = []
        for chain in by_chain.values():
            for start in range(0, len(chain), RECORDS_PER_TRANSACTION):
                chunk = chain[start : start + RECORDS_PER_TRANSACTION]
                appended += self.append_with(chunk, now, dedupe=dedupe)
        return appended

    def append_with(
        self,
        entries: Sequence[AuditEntry],
        now: datetime,
        *,
        dedupe: bool = True,
        items: Sequence[Mapping[str, Any]] = (),
    ) -> list[AuditRecord]:
        """As `append`, for entries of one chain (one member's, say), in one transaction with
        `items` (put as they are): the access log's record and its audit record are written
        together, or neither is."""
        shards = {audit.shard_of(entry.member_id) for entry in entries}
        if len(shards) > 1:
            raise ValueError("one transaction appends to one chain: entries of one member's")
        shard = shards.pop() if shards else 0
        day = clock.paris_date(now).isoformat()
        expires_at = audit.expires_at(now)
        pending = list(entries)
        resync = False
        deadline = time.monotonic() + BUDGET_SECONDS
        for attempt in range(ATTEMPTS):
            if not pending:
                return []
            if attempt and time.monotonic() > deadline:
                break
            head = self._head(day, shard)
            # The head says where the chain ends; if a record was found where it said none
            # was (a head lost), the chain's own last record is read instead.
            previous = self._tail(day, shard) if resync else head
            records = audit.seal_all(pending, day, previous, clock.iso_z(now), shard)
            operations = [_move_head(head, records[-1], expires_at)]
            operations += [_put(_stored(r, expires_at)) for r in records]
            if dedupe:
                operations += [
                    _put({**keys.audited_key(r.entry_id), "entity": "audited", "day": day,
                          "sequence": r.sequence, "expires_at": expires_at})
                    for r in records
                ]  # fmt: skip
            operations += [_put(item, None) for item in items]
            try:
                dynamodb().transact_write_items(TransactItems=operations)
                return records
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                taken = reasons[1 : 1 + len(records)]
                marks = reasons[1 + len(records) : 1 + 2 * len(records)] if dedupe else []
                done = {r.entry_id for r, code in zip(records, marks, strict=False)
                        if code == "ConditionalCheckFailed"}  # fmt: skip
                pending = [e for e in pending if e.entry_id not in done]  # already in a chain
                resync = (
                    reasons[:1] != ["ConditionalCheckFailed"] and "ConditionalCheckFailed" in taken
                )
                if not {"ConditionalCheckFailed", "TransactionConflict"} & set(
                    reasons[: 1 + len(records)]
                ):
                    continue  # only marks refused: the rest goes at once
            # Another writer moved the head first: read it again, after a pause that grows and
            # spreads the writers apart.
            time.sleep(_backoff(attempt))
        raise AuditUnavailable(audit.chain_name(day, shard))

    def _head(self, day: str, shard: int | None) -> Link | None:
        """Where a chain ends, as its head item says (one consistent GetItem)."""
        answer = dynamodb().get_item(
            TableName=table(), Key=serialize(keys.audit_head_key(day, shard)), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        head = deserialize(answer["Item"])
        return Link(int(head["sequence"]), str(head["hash"]))

    def _tail(self, day: str, shard: int | None) -> Link | None:
        """A chain's last record itself (one Query, newest first)."""
        answer = dynamodb().query(
            TableName=table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": keys.audit_pk(day, shard)}),
            ProjectionExpression="sk, #hash",
            ExpressionAttributeNames={"#hash": "hash"},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        if not answer["Items"]:
            return None
        last = deserialize(answer["Items"][0])
        return Link(_sequence(last["sk"]), str(last.get("hash", "")))

    def day(self, day: str) -> list[StoredChain]:
        """A day's chains as stored, read concurrently, each with its head read first (a head
        read after would name records a reader had not seen): those that hold a record or a
        head, the day's one chain of before the shards among them."""
        read = parallel_map(lambda shard: self._chain(day, shard), [None, *range(SHARDS)])
        return [chain for chain in read if chain.records or chain.head]

    def read_chains(self, day: str) -> Iterator[StoredChain]:
        """The same chains, one at a time, each read when the one before has been taken: what
        checks a whole day holds one chain in memory, not the day's (a national day is some
        600,000 records: a gigabyte at once, a sixteenth of it chain by chain)."""
        for shard in [None, *range(SHARDS)]:
            chain = self._chain(day, shard)
            if chain.records or chain.head:
                yield chain

    def _chain(self, day: str, shard: int | None) -> StoredChain:
        head = self._head(day, shard)
        items = query_all(
            TableName=table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": keys.audit_pk(day, shard)}),
            ConsistentRead=True,
        )
        records = [
            (_sequence(item["sk"]), {k: v for k, v in item.items() if k not in _STORAGE})
            for item in items
        ]
        return StoredChain(shard, records, head)


# Not the record's content: its key, its kind, and its TTL (checked apart: `audit.verify`).
_STORAGE = frozenset({"pk", "sk", "entity"})


def _sequence(sk: str) -> int:
    """A record's sequence number from its key; 0 for a key no writer of ours makes."""
    return int(sk) if sk.isdigit() else 0
