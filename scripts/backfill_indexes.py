"""One-off, after a deploy that adds a member-wide index: give the items written before it their
index keys, so the reads that Query it list them. Idempotent; safe to run while the API serves
(it only adds two attributes to an item, on condition they are still missing).

- `gsi_documents` (a member's letters by date): `GET /documents` is one Query of it.
- `gsi_requests` (a member's requests by month): a timeline page is one Query of it.

    .venv/bin/python scripts/backfill_indexes.py --table generation-demarches-prod

A Scan, by design: it runs once, outside the app (`chalicelib/` never scans).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass(frozen=True)
class Index:
    entity: str  # the items' `entity`
    hash_key: str  # the index's partition key attribute (its sort key is set with it)
    read: str  # the attributes its keys are made of
    keys: Callable[[dict[str, Any]], dict[str, str]]  # an item as read → its index keys


def _document_keys(item: dict[str, Any]) -> dict[str, str]:
    from chalicelib.store import keys

    return keys.documents_index_key(
        item["member_id"]["S"], item["created_at"]["S"], item["document_id"]["S"]
    )


def _request_keys(item: dict[str, Any]) -> dict[str, str]:
    """As filing gives them (`RequestRepository.prepare_create`: the record's month)."""
    from chalicelib.domain.requests import month_of
    from chalicelib.store import keys

    member_id, request_id = keys.parse_request_key(item["pk"]["S"], item["sk"]["S"])
    return keys.requests_index_key(member_id, month_of(request_id), request_id)


INDEXES = {
    "gsi_documents": Index("document", "doc_pk", "pk, sk, member_id, created_at, document_id",
                           _document_keys),
    "gsi_requests": Index("request", "req_pk", "pk, sk", _request_keys),
}  # fmt: skip


def backfill(dynamodb: Any, table: str) -> dict[str, int]:
    """Index keys on every item that lacks them; how many were given them, by index."""
    return {name: _backfill(dynamodb, table, index) for name, index in INDEXES.items()}


def _backfill(dynamodb: Any, table: str, index: Index) -> int:
    from botocore.exceptions import ClientError

    done = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="entity = :entity AND attribute_not_exists(#index)",
        ExpressionAttributeNames={"#index": index.hash_key},
        ExpressionAttributeValues={":entity": {"S": index.entity}},
        ProjectionExpression=index.read,
    )
    for page in pages:
        for item in page["Items"]:
            (hash_key, hash_value), (sort_key, sort_value) = index.keys(item).items()
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET #hash = :hash, #sort = :sort",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#hash)",
                    ExpressionAttributeNames={"#hash": hash_key, "#sort": sort_key},
                    ExpressionAttributeValues={
                        ":hash": {"S": hash_value},
                        ":sort": {"S": sort_value},
                    },
                )
                done += 1
            except ClientError as error:  # deleted or indexed meanwhile: nothing to do
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
    return done


def main() -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--endpoint-url", default=None, help="a local stack's (moto)")
    args = parser.parse_args()
    client = boto3.client("dynamodb", endpoint_url=args.endpoint_url)
    for name, done in backfill(client, args.table).items():
        print(f"{name}: {done} items indexed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
