"""The partner directory: `PRO#<specialty>#<department>` / `<insee_code>#<professional_id>`.

A search needs every practitioner of one specialty in one département to rank them by distance
from wherever the member is, so that pair is the partition: one Query reads it whole, and a
search reads only the partitions of the départements it covers. DESIGN.md names the sort key
`<city>#<pro_id>`: the city is written as its INSEE commune code, since names are neither
unique (dozens of Saint-Denis) nor stable in spelling, and the code keeps a commune's
practitioners together for a by-commune read all the same.

The keys are built here rather than in `store/keys.py`: this repository is their only user.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from chalicelib.domain.professionals import Professional
from chalicelib.settings import get_settings
from chalicelib.store.dynamo import (
    dynamodb,
    query_all,
    serialize,
    unavailable_on_throttling,
    without_keys,
)

PROFESSIONAL = "PRO#"


def table() -> str:
    """The directory's own table (see settings.directory_table_name)."""
    return get_settings().directory_table_name


BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_BATCH_ATTEMPTS = 8


def professional_pk(specialty: str, department: str) -> str:
    return f"{PROFESSIONAL}{specialty}#{department}"


def professional_key(professional: Professional) -> dict[str, str]:
    return {
        "pk": professional_pk(professional.specialty, professional.department),
        "sk": f"{professional.insee_code}#{professional.professional_id}",
    }


def _item(professional: Professional) -> dict[str, Any]:
    body: dict[str, Any] = professional.model_dump()
    # DynamoDB numbers are decimals: written from the text so 48.8585 stays 48.8585.
    body["latitude"] = Decimal(str(professional.latitude))
    body["longitude"] = Decimal(str(professional.longitude))
    return {**professional_key(professional), **body}


def _professional(item: dict[str, Any]) -> Professional:
    return Professional.model_validate(without_keys(item))


class ProfessionalRepository:
    def in_department(self, specialty: str, department: str) -> list[Professional]:
        """Every practitioner of the partition: one Query per 1 MB (a partition holds a few
        hundred items of ~300 bytes, so one Query in practice)."""
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": serialize({":pk": professional_pk(specialty, department)}),
        }
        with unavailable_on_throttling():
            return [_professional(item) for item in query_all(**kwargs)]

    def put_many(self, professionals: Iterable[Professional]) -> int:
        """Write (or overwrite) practitioners 25 to a BatchWriteItem; returns how many."""
        written = 0
        for batch in _batches(professionals, BATCH_SIZE):
            self._write_batch([{"PutRequest": {"Item": serialize(_item(p))}} for p in batch])
            written += len(batch)
        return written

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        for attempt in range(MAX_BATCH_ATTEMPTS):
            answer = dynamodb().batch_write_item(RequestItems={table(): requests})
            requests = answer.get("UnprocessedItems", {}).get(table(), [])
            if not requests:
                return
            time.sleep(min(0.05 * 2**attempt, 2.0))  # unprocessed items mean throttling: back off
        raise RuntimeError(f"{len(requests)} directory items still unprocessed after retries")


def _batches(items: Iterable[Professional], size: int) -> Iterator[Sequence[Professional]]:
    batch: list[Professional] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
