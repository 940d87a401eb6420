"""One-off, after deploying `gsi_documents`: give the documents written before it their index
keys, so `GET /documents` (one Query of that index) lists them. Idempotent; safe to run while
the API serves (it only adds two attributes, on condition they are still missing).

    .venv/bin/python scripts/backfill_documents_index.py --table generation-demarches-prod

A Scan, by design: it runs once, outside the app (`chalicelib/` never scans).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def backfill(dynamodb: Any, table: str) -> int:
    """Index keys on every document item that lacks them; returns how many were given them."""
    from botocore.exceptions import ClientError

    from chalicelib.store import keys

    done = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="entity = :document AND attribute_not_exists(doc_pk)",
        ExpressionAttributeValues={":document": {"S": "document"}},
        ProjectionExpression="pk, sk, member_id, created_at, document_id",
    )
    for page in pages:
        for item in page["Items"]:
            index = keys.documents_index_key(
                item["member_id"]["S"], item["created_at"]["S"], item["document_id"]["S"]
            )
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET doc_pk = :pk, doc_sk = :sk",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(doc_pk)",
                    ExpressionAttributeValues={
                        ":pk": {"S": index["doc_pk"]},
                        ":sk": {"S": index["doc_sk"]},
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
    print(f"{backfill(client, args.table)} documents indexed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
