"""`serialize` and `deserialize` (store/dynamo.py) give exactly what boto3's `TypeSerializer`
and `TypeDeserializer` give, on any item our stores could write, and refuse what boto3
refuses."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.documents import DocumentSummary
from chalicelib.store.dynamo import as_texts, deserialize, serialize

_numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=-(10**12)
    ),
)
_scalars = st.one_of(
    st.text(max_size=20), st.booleans(), st.none(), _numbers, st.binary(min_size=1, max_size=8)
)
_sets = st.one_of(
    st.frozensets(st.text(min_size=1, max_size=8), min_size=1, max_size=4).map(set),
    st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=4).map(set),
)
_values = st.recursive(
    st.one_of(_scalars, _sets),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_items = st.dictionaries(st.text(min_size=1, max_size=10), _values, max_size=8)


def _boto3_serialized(item: dict[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items() if v is not None}


@settings(max_examples=300, deadline=None)
@given(_items)
def test_serialize_is_boto3s_serializer(item: dict[str, Any]) -> None:
    try:
        expected = _boto3_serialized(item)
    except (TypeError, ValueError, ArithmeticError) as refusal:
        with pytest.raises(type(refusal)):
            serialize(item)
        return
    assert serialize(item) == expected


@settings(max_examples=300, deadline=None)
@given(_items)
def test_deserialize_is_boto3s_deserializer(item: dict[str, Any]) -> None:
    try:
        written = _boto3_serialized(item)
    except (TypeError, ValueError, ArithmeticError):
        return
    deserializer = TypeDeserializer()
    expected = {k: deserializer.deserialize(v) for k, v in written.items()}
    read = deserialize(written)
    assert read == expected
    assert _types(read) == _types(expected)  # Decimal stays Decimal, a set a set


_summaries = st.fixed_dictionaries(
    {
        "document_id": st.text(min_size=1, max_size=26),
        "kind": st.text(max_size=20),
        "title": st.text(max_size=60),
        "created_at": st.datetimes(timezones=st.just(UTC)).map(
            lambda at: at.isoformat().replace("+00:00", "Z")
        ),
        "size": st.integers(min_value=0, max_value=10**12),
    },
    optional={"request_id": st.text(min_size=1, max_size=26), "extra": st.text(max_size=8)},
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_summaries, max_size=5))
def test_the_documents_read_as_texts_are_the_documents_deserialised(
    items: list[dict[str, Any]],
) -> None:
    """The documents list reads its items' strings and numbers as texts (`query_texts`), for
    speed: the models are the same as from `deserialize`'s typed values."""
    from pydantic import TypeAdapter

    written = [_boto3_serialized(item) for item in items]
    expected = [DocumentSummary.model_validate(deserialize(item)) for item in written]
    assert (
        TypeAdapter(list[DocumentSummary]).validate_python([as_texts(item) for item in written])
        == expected
    )
    assert all(type(s.size) is int for s in expected)


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


def test_what_boto3_refuses_is_refused() -> None:
    for refused in (1.5, {"nested": [0.1]}, object()):
        with pytest.raises(TypeError):
            serialize({"value": refused})
    with pytest.raises(ArithmeticError):  # decimal.Rounded: more than 38 digits
        serialize({"value": 10**39})
    with pytest.raises(TypeError):
        deserialize({"value": {}})


def test_the_common_types_round_trip() -> None:
    item = {
        "pk": "MEMBER#0012345601",
        "amount": Decimal("42.50"),
        "size": 2048,
        "complaint": False,
        "history": [{"label": "Demande envoyée", "at": "2026-11-28T09:00:00Z", "by": None}],
        "letters_due": {"01JC9ZP7Q8W3Y5V2N4M6K8H0GF"},
        "thumbnail": Binary(b"\x89PNG"),
        "gone": None,
    }
    read = deserialize(serialize(item))
    assert read == {**{k: v for k, v in item.items() if k != "gone"}, "size": Decimal(2048)}
