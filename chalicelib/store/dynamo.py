"""Thin helpers over the low-level DynamoDB client: (de)serialising items, mapping throttling."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import uuid4

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.settings import get_settings
from chalicelib.store.handover import Pool

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_decimal = DYNAMODB_CONTEXT.create_decimal

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
    """An item in DynamoDB's JSON, its None attributes left out: boto3's `TypeSerializer`,
    with most of what our items are made of (str, bool, int, None, dict, list) written
    directly. boto3's checks each value against every type in turn: a third of filing's own
    time went there (docs/performance.md). Decimals, sets, bytes and anything else still go
    through boto3's, and so do its errors (a float is refused); tests/unit/test_dynamo_json.py
    holds the two to the same output."""
    return {k: _to_dynamodb(v) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item read from DynamoDB as Python values, as boto3's `TypeDeserializer` gives them
    (numbers as Decimal, sets as sets, binaries as `Binary`), the common types read directly."""
    return {k: _from_dynamodb(v) for k, v in item.items()}


_INT_LIMIT = 10**38  # DynamoDB numbers keep 38 significant digits


def _to_dynamodb(value: Any) -> dict[str, Any]:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_INT_LIMIT < value < _INT_LIMIT:  # else boto3's precision check
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {k: _to_dynamodb(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [_to_dynamodb(v) for v in value]}
    written: dict[str, Any] = _serializer.serialize(value)  # sets, bytes, subclasses; errors
    return written


def _from_dynamodb(value: Mapping[str, Any]) -> Any:
    if len(value) == 1:
        ((kind, data),) = value.items()
        if kind == "S":
            return data
        if kind == "N":  # boto3's own conversion, without its dispatch
            return _decimal(data)
        if kind == "M":
            return {k: _from_dynamodb(v) for k, v in data.items()}
        if kind == "L":
            return [_from_dynamodb(v) for v in data]
        if kind == "BOOL":
            return data
        if kind == "NULL":
            return None
    return _deserializer.deserialize(value)  # sets, binaries; boto3's errors too


T = TypeVar("T")
R = TypeVar("R")
MAX_PARALLEL_READS = 8
_pool = Pool(MAX_PARALLEL_READS, "dynamodb-read")  # no thread until a task needs one


def parallel_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` over `items` concurrently, in order, on one pool per process.

    A pool per call started up to 8 threads on every request: about 1 ms of a timeline read
    (bench/bench_api.py). The first item runs in the calling thread while the pool runs the
    others: one thread hand-over fewer per item list, none for a single item (each hand-over is
    a thread waking up and taking the GIL, tens of microseconds: `store/handover.py`). The first
    failure, in the items' order, is raised once the items before it are done; the items not
    started are cancelled. Tasks must not call parallel_map themselves (they would wait on it).
    """
    listed = list(items)
    if not listed:
        return []
    run = _in_context(function)
    if len(listed) == 1:
        return [run(listed[0])]
    pending = [_pool.submit(run, item) for item in listed[1:]]
    try:
        results = [run(listed[0])]
        results.extend(future.result() for future in pending)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    return results


def in_background(function: Callable[[T], Any], items: Iterable[T]) -> Callable[[], list[Any]]:
    """`function` over `items` on the shared pool, all of them, while the caller goes on with
    work of its own (which then costs the request no time: it runs while the calls are in
    flight). Returns the join: it waits for every item and gives their outcomes in order, each
    a result or the exception it raised (never raised here: the caller decides, knowing what
    every item did). Tasks must not call parallel_map themselves."""
    run = _in_context(function)

    def outcome(item: T) -> Any:
        try:
            return run(item)
        except Exception as error:
            return error

    pending = [_pool.submit(outcome, item) for item in items]
    return lambda: [future.result() for future in pending]


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


def raw_pages(later_limit: int | None = None, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
    """A Query's pages (a page stops at 1 MB, or at `Limit` items read) as DynamoDB gives them,
    each read when the one before has been taken: after its last key, `later_limit` items at
    most when given (a reader that goes on past a first page likely needs more)."""
    while True:
        page = dynamodb().query(**kwargs)
        yield page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if later_limit is not None:
            kwargs["Limit"] = later_limit


def query_pages(**kwargs: Any) -> Iterator[list[dict[str, Any]]]:
    """A Query's pages, deserialised."""
    for page in raw_pages(**kwargs):
        yield [deserialize(item) for item in page]


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, page after page, deserialised."""
    return [item for page in query_pages(**kwargs) for item in page]


def query_texts(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, each string attribute as it is and each number as its text
    (others as `deserialize` gives them), for a model to read: pydantic reads "23456" into an
    int field as it reads 23456. For a list of flat items read whole (the documents), about a
    third of `deserialize`'s time, its numbers made into Decimals one by one to be read again."""
    return [as_texts(item) for page in raw_pages(**kwargs) for item in page]


def as_texts(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item read from DynamoDB, strings and numbers as their text (`query_texts`)."""
    return {name: _text(value) for name, value in item.items()}


def _text(value: Mapping[str, Any]) -> Any:
    text = value.get("S")
    if text is None:
        text = value.get("N")
    return text if text is not None else _from_dynamodb(value)


BATCH_ATTEMPTS = 5


def get_batch(item_keys: Sequence[Mapping[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items of the table by their (pk, sk), consistent, in one BatchGetItem (100 keys at
    most); what DynamoDB leaves unprocessed is asked again, `BATCH_ATTEMPTS` times at most
    (then 503). Keys with no item are absent."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    unique = {(k["pk"], k["sk"]): k for k in item_keys}
    if not unique:
        return found
    request = {table(): {"Keys": [serialize(k) for k in unique.values()], "ConsistentRead": True}}
    for _ in range(BATCH_ATTEMPTS):
        answer = dynamodb().batch_get_item(RequestItems=request)
        for item in answer["Responses"].get(table(), []):
            read = deserialize(item)
            found[(read["pk"], read["sk"])] = read
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found
    raise ServiceUnavailable("Service momentanément surchargé, réessayez.")


# The attribute a conditional write leaves its call's token in (`made_once`).
ATTEMPT = "attempt"
_FIRST_SET = re.compile(r"\bSET\b", re.IGNORECASE)  # keywords are any case


def made_once(write: Callable[..., Any], **arguments: Any) -> bool:
    """A conditional PutItem or UpdateItem (`write`: the client's method, with its arguments):
    True when this call made it, False when its condition did not hold.

    botocore retries a call whose answer was lost (a timeout, a 5xx) with the same arguments.
    When the first attempt had been made after all, the retry fails the condition that write
    made false, and a claim this call took reads as taken by another: a notification never
    sent, an export never built (a review injected one lost answer). So each call leaves a
    token of its own on the item (`attempt`) and asks for the item as the failed condition
    found it: carrying this call's token, the write was this call's own."""
    token = {"S": uuid4().hex}
    arguments = {**arguments, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if "Item" in arguments:
        arguments["Item"] = {**arguments["Item"], ATTEMPT: token}
    else:
        expression = arguments["UpdateExpression"]
        mark = "SET #attempt = :attempt"
        arguments["UpdateExpression"] = (
            _FIRST_SET.sub(f"{mark},", expression, count=1)
            if _FIRST_SET.search(expression)
            else f"{expression} {mark}"
        )
        arguments["ExpressionAttributeNames"] = {
            **arguments.get("ExpressionAttributeNames", {}),
            "#attempt": ATTEMPT,
        }
        arguments["ExpressionAttributeValues"] = {
            **arguments.get("ExpressionAttributeValues", {}),
            ":attempt": token,
        }
    try:
        write(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        found = error.response.get("Item") or {}
        return bool(found.get(ATTEMPT) == token)
    return True


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
