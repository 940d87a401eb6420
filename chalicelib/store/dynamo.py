"""Thin helpers over the low-level DynamoDB client: (de)serialising items, mapping throttling."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

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


T = TypeVar("T")
R = TypeVar("R")
MAX_PARALLEL_READS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def parallel_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` over `items` concurrently, in order, on one pool per process.

    A pool per call started up to 8 threads on every request: about 1 ms of a timeline read
    (bench/bench_api.py). Tasks must not call parallel_map themselves (they would wait on it).
    """
    return list(_shared_pool().map(_in_context(function), items))


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(MAX_PARALLEL_READS, thread_name_prefix="dynamodb-read")
    return _pool


def _in_context(function: Callable[[T], R]) -> Callable[[T], R]:
    """`function` run in a copy of the caller's context: its correlation id and log keys."""
    context = contextvars.copy_context()
    return lambda item: context.copy().run(function, item)


def concurrently(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Independent calls at once, on the shared pool; their results in order. Every call ends
    before this returns; the first failure (in the calls' order) is raised."""
    outcomes = parallel_map(_outcome, calls)
    for failed, value in outcomes:
        if failed:
            raise value
    return tuple(value for _, value in outcomes)


def _outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return False, call()
    except Exception as error:
        return True, error


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """A deserialised item's own fields: the table's keys are ours, never a model's."""
    return {k: v for k, v in item.items() if k not in ("pk", "sk")}


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, page after page (a page stops at 1 MB), deserialised."""
    items: list[dict[str, Any]] = []
    while True:
        page = dynamodb().query(**kwargs)
        items.extend(deserialize(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


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
