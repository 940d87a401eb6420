"""Thin helpers over the low-level DynamoDB client: (de)serialising items, mapping throttling."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.settings import get_settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def table() -> str:
    return get_settings().table_name


def dynamodb() -> Any:
    return aws.client("dynamodb")


@contextmanager
def unavailable_on_throttling() -> Iterator[None]:
    """Throttling that outlived botocore's retries becomes a 503 the client may retry."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
            raise ServiceUnavailable("Service momentanément surchargé, réessayez.") from error
        raise
