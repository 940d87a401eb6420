"""The documents list is one read, whatever the window (issue 18): a member-wide index of
documents by date, rather than a Query per month. And the timeline's first page reads only the
months it returns."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from chalicelib.domain.documents import DocumentSummary
from chalicelib.domain.requests import month_of
from chalicelib.store import keys
from infra.local_stack import LocalStack
from tests.conftest import Api, Historian, SignedIn
from tests.routing.test_every_type import example


@pytest.fixture
def historian(historian: Historian) -> SignedIn:
    """The session's member with two years of requests and letters."""
    return historian.who


@pytest.mark.parametrize("months", [1, 3, 6, 12, 24])
def test_documents_are_one_query_whatever_the_window(
    api: Api, historian: SignedIn, aws_calls: list[str], months: int
) -> None:
    api.get("/me", historian)  # the account binding is read once per token: not this route's
    aws_calls.clear()
    answer = api.get(f"/documents?months={months}", historian)
    assert answer.status == 200
    assert aws_calls == ["dynamodb.Query"]


def test_two_years_of_letters_from_one_read_newest_first(
    api: Api, historian: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each document as its summary, read with only the summary's attributes (the keys of the
    table and of the index are not read back)."""
    from chalicelib.store import documents as store

    asked: list[dict[str, Any]] = []
    real_query_texts = store.query_texts

    def query_texts(**kwargs: Any) -> list[dict[str, Any]]:
        asked.append(kwargs)
        items = real_query_texts(**kwargs)
        assert all(set(item) <= set(DocumentSummary.model_fields) for item in items)
        return items

    monkeypatch.setattr(store, "query_texts", query_texts)
    documents = api.get("/documents?months=24", historian).body["documents"]
    assert len(asked) == 1 and "ProjectionExpression" in asked[0]
    assert len({d["created_at"][:7] for d in documents}) >= 12  # spread over many months
    dates = [d["created_at"] for d in documents]
    assert dates == sorted(dates, reverse=True)
    last_year = api.get("/documents?months=12", historian).body["documents"]
    assert [d for d in documents if d["created_at"] >= last_year[-1]["created_at"]] == last_year


def test_the_timelines_first_page_is_one_read(
    api: Api, historian: SignedIn, aws_calls: list[str]
) -> None:
    """Three months of two years of requests: one Query of the member's requests by month
    (`gsi_requests`), with no read of the months first."""
    api.get("/me", historian)
    aws_calls.clear()
    page = api.get("/requests?limit=3", historian).body
    assert len(page["months"]) == 3
    assert page["next_cursor"] is not None
    assert aws_calls == ["dynamodb.Query"]


def test_documents_written_before_the_index_are_listed_once_backfilled(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    """A letter stored before `gsi_documents` existed has no index keys: the one-off backfill
    (scripts/backfill_indexes.py) gives them, and it shows."""
    from scripts.backfill_indexes import backfill

    assert alice.member_id is not None
    dynamodb = local_stack.client("dynamodb")
    table = local_stack.outputs["TableName"]
    body = example(api, alice, "sante.attestation_tiers_payant", date.today())
    answer = api.post("/requests", alice, body=body)
    assert answer.status == 201, answer.body
    from infra.queue_pump import QueuePump

    QueuePump(local_stack).drain()
    [letter] = api.get("/documents?months=1", alice).body["documents"]
    key = keys.document_key(alice.member_id, letter["created_at"][:7], letter["document_id"])
    old = {name: {"S": value} for name, value in key.items()}
    dynamodb.update_item(TableName=table, Key=old, UpdateExpression="REMOVE doc_pk, doc_sk")
    assert api.get("/documents?months=1", alice).body["documents"] == []  # as before the index

    assert backfill(dynamodb, table)["gsi_documents"] >= 1
    assert api.get("/documents?months=1", alice).body["documents"] == [letter]
    assert backfill(dynamodb, table)["gsi_documents"] == 0  # idempotent


def test_requests_filed_before_the_index_are_listed_once_backfilled(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    """A request filed before `gsi_requests` existed has no index keys: the timeline would not
    show it. The one-off backfill gives them; each request shows once, in its month, as it was
    filed."""
    from scripts.backfill_indexes import backfill

    dynamodb = local_stack.client("dynamodb")
    table = local_stack.outputs["TableName"]
    body = example(api, alice, "sante.attestation_tiers_payant", date.today())
    filed = [api.post("/requests", alice, body=body).body["request_id"] for _ in range(2)]
    before = api.get("/requests", alice).body
    assert [r["request_id"] for r in before["months"][0]["requests"]] == filed[::-1]
    for request_id in filed:
        key = keys.request_key(alice.member_id or "", month_of(request_id), request_id)
        dynamodb.update_item(TableName=table, Key={k: {"S": v} for k, v in key.items()},
                             UpdateExpression="REMOVE req_pk, req_sk")  # fmt: skip
    assert api.get("/requests", alice).body == {"months": [], "next_cursor": None}

    assert backfill(dynamodb, table)["gsi_requests"] >= 2
    assert api.get("/requests", alice).body == before
    assert backfill(dynamodb, table)["gsi_requests"] == 0  # idempotent
