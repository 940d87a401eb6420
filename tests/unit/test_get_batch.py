"""`get_batch` (store/dynamo.py): what DynamoDB leaves unprocessed under load is asked again,
and a batch it never finishes is a 503, not a partial answer. (moto processes every key at
once, so the client here answers as a throttled table would.)"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.store import dynamo
from chalicelib.store.dynamo import get_batch

KEYS = [{"pk": "MEMBER#1", "sk": f"UPLOAD#{n}"} for n in range(3)]


class Throttled:
    """Answers `processed` keys per call at most (all of them when None), the rest unprocessed."""

    def __init__(self, processed: int | None) -> None:
        self.processed = processed
        self.asked: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        [(name, request)] = RequestItems.items()
        keys = request["Keys"]
        assert request["ConsistentRead"] is True
        self.asked.append(len(keys))
        done = keys if self.processed is None else keys[: self.processed]
        rest = keys[len(done) :]
        items = [{**k, "size": {"N": "1"}} for k in done]
        return {
            "Responses": {name: items},
            "UnprocessedKeys": {name: {**request, "Keys": rest}} if rest else {},
        }


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamo, "table", lambda: "t")


def test_keys_left_unprocessed_are_asked_again_until_all_are_read(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Throttled(processed=1)
    monkeypatch.setattr(dynamo, "dynamodb", lambda: client)
    found = get_batch([*KEYS, KEYS[0]])  # a key named twice is asked once
    assert sorted(found) == [(k["pk"], k["sk"]) for k in KEYS]
    assert found[("MEMBER#1", "UPLOAD#2")]["size"] == 1
    assert client.asked == [3, 2, 1]


def test_a_batch_never_finished_is_a_503_not_a_partial_answer(
    table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Throttled(processed=0)
    monkeypatch.setattr(dynamo, "dynamodb", lambda: client)
    with pytest.raises(ServiceUnavailable):
        get_batch(KEYS)
    assert client.asked == [3] * dynamo.BATCH_ATTEMPTS


def test_no_key_no_call(table: None, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Throttled(processed=None)
    monkeypatch.setattr(dynamo, "dynamodb", lambda: client)
    assert get_batch([]) == {} and client.asked == []
