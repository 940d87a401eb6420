"""Following requests: the month-by-month timeline, a request's detail, and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.domain.errors import NotFound
from chalicelib.domain.requests import new_record, parse_new_request
from chalicelib.services.filing import daily_limit
from chalicelib.store.requests import RequestRepository
from infra.local_stack import LocalStack
from tests.conftest import Api, SignedIn, drain_queue


def _file_in_the_past(who: SignedIn, when: datetime) -> str:
    """A request as it would have been filed at `when` (the API only files now)."""
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{who.member_id}-01"]}
    new = parse_new_request(body, when.date())
    from infra.seed import alice

    _, people = alice(when.date(), who.member_id or "")
    record = new_record(new, who.member_id or "", people[:1], when)
    RequestRepository().prepare_create(record, when, limit=daily_limit("requests", 30, when))()
    repository = RequestRepository()  # history, long sent: nothing left in its outbox
    repository.clear_outbox(
        record.member_id,
        record.request_id,
        repository.outbox(record.member_id, record.request_id),
        when,
    )
    return record.request_id


@pytest.fixture
def fourteen_months(alice: SignedIn) -> dict[str, list[str]]:
    """Alice's requests over 14 months: 1 to 3 a month, two months left empty."""
    now = datetime.now(UTC).replace(day=15, hour=12)
    filed: dict[str, list[str]] = {}
    for back in range(16):
        if back in (4, 9):
            continue
        month_start = (now.replace(day=1) - timedelta(days=back * 30)).replace(day=10)
        for n in range(1 + back % 3):
            when = month_start + timedelta(hours=n)
            filed.setdefault(when.strftime("%Y-%m"), []).append(_file_in_the_past(alice, when))
    assert len(filed) == 14
    return filed


@pytest.mark.parametrize("read_per_month", [None, 1], ids=["one read a page", "reads of 5"])
def test_timeline_pages_through_fourteen_months_with_nothing_missing_or_twice(
    api: Api,
    alice: SignedIn,
    fourteen_months: dict[str, list[str]],
    aws_calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    read_per_month: int | None,
) -> None:
    """A page is one Query of the member's requests by month (`gsi_requests`), whatever the
    months it spans; read in pieces smaller than a page (5 requests for 4 months of 1 to 3), it
    reads on, and stops at the first request of the month after the page's."""
    from chalicelib.services import following

    if read_per_month is not None:
        monkeypatch.setattr(following, "REQUESTS_READ_PER_MONTH", read_per_month)
    queries = []
    seen_months: list[str] = []
    seen_ids: list[str] = []
    path = "/requests?limit=4"
    pages = 0
    api.get("/me", alice)  # the account binding is read on a container's first call: not here
    while True:
        aws_calls.clear()
        answer = api.get(path, alice)
        assert answer.status == 200
        months = answer.body["months"]
        assert 1 <= len(months) <= 4
        assert set(aws_calls) == {"dynamodb.Query"}
        queries.append(len(aws_calls))
        for month in months:
            seen_months.append(month["month"])
            stamps = [r["created_at"] for r in month["requests"]]
            assert stamps == sorted(stamps, reverse=True)
            assert all(s.startswith(month["month"]) for s in stamps)
            seen_ids.extend(r["request_id"] for r in month["requests"])
        pages += 1
        if answer.body["next_cursor"] is None:
            break
        path = f"/requests?limit=4&cursor={answer.body['next_cursor']}"
    assert pages == 4
    if read_per_month is None:
        assert queries == [1, 1, 1, 1]
    else:  # 7 to 9 requests on each of the first three pages, more than the 5 read at first
        assert queries == [2, 2, 2, 1]
    assert seen_months == sorted(fourteen_months, reverse=True)
    assert sorted(seen_ids) == sorted(i for ids in fourteen_months.values() for i in ids)
    assert len(seen_ids) == len(set(seen_ids))


def test_one_month_on_its_own(
    api: Api, alice: SignedIn, fourteen_months: dict[str, list[str]]
) -> None:
    month = sorted(fourteen_months)[3]
    answer = api.get(f"/requests?month={month}", alice).body
    assert [m["month"] for m in answer["months"]] == [month]
    assert sorted(r["request_id"] for r in answer["months"][0]["requests"]) == sorted(
        fourteen_months[month]
    )
    assert answer["next_cursor"] is None
    assert api.get("/requests?month=2001-01", alice).body == {"months": [], "next_cursor": None}


def test_summaries_carry_labels_beneficiaries_and_status(api: Api, alice: SignedIn) -> None:
    body = {
        "type": "sante.attestation_tiers_payant",
        "beneficiary_ids": [f"{alice.member_id}-01", f"{alice.member_id}-04"],
    }
    created = api.post("/requests", alice, body=body).body
    summary = api.get("/requests", alice).body["months"][0]["requests"][0]
    assert summary == {
        "request_id": created["request_id"],
        "type": "sante.attestation_tiers_payant",
        "label": "Édition de l’attestation de Tiers-Payant Santé",
        "created_at": created["created_at"],
        "beneficiaries": [
            {
                "beneficiary_id": f"{alice.member_id}-01",
                "first_name": "Alice",
                "last_name": "Martin",
            },
            {
                "beneficiary_id": f"{alice.member_id}-04",
                "first_name": "Hugo",
                "last_name": "Martin",
            },
        ],
        "status": "in_progress",
    }


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("month=2026-13", 422, "month"),
        ("month=novembre", 422, "month"),
        ("limit=0", 422, "limit"),
        ("limit=1000", 422, "limit"),
        ("cursor=not-a-cursor", 400, "cursor"),
        ("page=2", 400, "page"),
    ],
)
def test_bad_timeline_parameters(
    api: Api, alice: SignedIn, query: str, status: int, field: str
) -> None:
    answer = api.get(f"/requests?{query}", alice)
    assert answer.status == status
    assert [f["field"] for f in answer.body["error"]["fields"]] == [field]


def test_forged_or_borrowed_cursor_is_refused(
    api: Api, alice: SignedIn, bob: SignedIn, fourteen_months: dict[str, list[str]]
) -> None:
    import base64
    import json

    cursor = api.get("/requests?limit=2", alice).body["next_cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    forged_body = json.dumps(
        {"before": "2999-01", "member": alice.member_id}, separators=(",", ":"), sort_keys=True
    ).encode()
    forged = base64.urlsafe_b64encode(raw[:16] + forged_body).rstrip(b"=").decode()
    assert api.get(f"/requests?cursor={forged}", alice).status == 400
    assert api.get(f"/requests?cursor={cursor}", bob).status == 400


def test_a_filtered_timeline_pages_through_matching_months_and_its_cursor_keeps_the_filter(
    api: Api, alice: SignedIn, fourteen_months: dict[str, list[str]], aws_calls: list[str]
) -> None:
    """Only the two oldest months hold withdrawn requests. A filtered first page was empty with
    a cursor (the months it read held no match), and that cursor, sent alone as the portal's
    « Voir plus » does, listed every request of the next months, whatever their state."""
    oldest, second = sorted(fourteen_months)[:2]
    for month in (oldest, second):
        for request_id in fourteen_months[month]:
            assert api.post(f"/requests/{request_id}/withdrawal", alice, body={}).status == 200

    first = api.get("/requests?status=withdrawn&limit=1", alice).body
    assert [m["month"] for m in first["months"]] == [second]
    assert {r["request_id"] for r in first["months"][0]["requests"]} == set(fourteen_months[second])
    assert first["next_cursor"] is not None
    cursor = first["next_cursor"]
    following = api.get(f"/requests?limit=1&cursor={cursor}", alice).body  # the filter kept
    assert [m["month"] for m in following["months"]] == [oldest]
    assert all(r["status"] == "withdrawn" for r in following["months"][0]["requests"])
    assert following["next_cursor"] is None
    # Sent again beside its cursor, a filter is the cursor's own; another one is refused.
    again = api.get(f"/requests?limit=1&status=withdrawn&cursor={cursor}", alice).body
    assert again == following
    other = api.get(f"/requests?limit=1&status=in_progress&cursor={cursor}", alice)
    assert (other.status, [f["field"] for f in other.body["error"]["fields"]]) == (400, ["status"])
    mixed = api.get(f"/requests?limit=1&type=sante.justificatif&cursor={cursor}", alice)
    assert (mixed.status, [f["field"] for f in mixed.body["error"]["fields"]]) == (400, ["type"])

    # No match anywhere: one page, empty and final, rather than pages of nothing to click on;
    # the member's 28 requests read in two Queries (a page of six months reads 25 at first, then
    # wider: the rest at once).
    aws_calls.clear()
    none = api.get("/requests?status=processed&limit=6", alice).body
    assert none == {"months": [], "next_cursor": None}
    assert aws_calls == ["dynamodb.Query"] * 2

    # An unfiltered cursor stays unfiltered: every request, each once.
    page = api.get("/requests?limit=12", alice).body
    rest = api.get(f"/requests?limit=12&cursor={page['next_cursor']}", alice).body
    assert [m["month"] for m in page["months"] + rest["months"]] == sorted(
        fourteen_months, reverse=True
    )
    assert [r["status"] for r in page["months"][0]["requests"]] == ["in_progress"]
    assert [r["status"] for r in rest["months"][-1]["requests"]] == ["withdrawn"] * len(
        fourteen_months[oldest]
    )


def test_members_never_see_each_others_requests(api: Api, alice: SignedIn, bob: SignedIn) -> None:
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    request_id = api.post("/requests", alice, body=body).body["request_id"]
    assert api.get("/requests", bob).body == {"months": [], "next_cursor": None}
    theirs = api.get(f"/requests/{request_id}", bob)
    unknown = api.get("/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV", alice)
    malformed = api.get("/requests/not-a-ulid", alice)
    for answer in (theirs, unknown, malformed):
        assert answer.status == 404
        assert answer.body == theirs.body
    assert api.get(f"/requests/{request_id.lower()}", alice).status == 200


def test_detail_is_one_get_item(api: Api, alice: SignedIn, aws_calls: list[str]) -> None:
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    request_id = api.post("/requests", alice, body=body).body["request_id"]
    aws_calls.clear()
    assert api.get(f"/requests/{request_id}", alice).status == 200
    assert aws_calls == ["dynamodb.GetItem"]


# --- the outbox: an accepted request is never left unrouted ---------------------------------


def _pending(local_stack: LocalStack) -> list[dict[str, Any]]:
    answer = local_stack.client("dynamodb").query(
        TableName=local_stack.outputs["TableName"],
        IndexName="gsi_pending",
        KeyConditionExpression="pending_pk = :p",
        ExpressionAttributeValues={":p": {"S": "PENDING"}},
    )
    return list(answer["Items"])


def test_the_sweeper_sends_every_page_while_it_has_time(
    api: Api, local_stack: LocalStack, alice: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One page of 100 a minute: after an hour of the bus or a queue down, a national backlog
    took hours to be told. A run sends page after page while it has time, and a run out of
    time leaves the rest for the next (here pages of 2, five requests pending)."""
    from chalicelib.routing.sweeper import sweep_pending
    from chalicelib.services import sweeping

    later = datetime.now(UTC) + timedelta(minutes=16)
    sweep_pending(later)  # what earlier tests left pending
    drain_queue(local_stack, "intake")
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    filed = [api.post("/requests", alice, body=body).body["request_id"] for _ in range(5)]
    drain_queue(local_stack, "intake")  # their pointers: the router never ran
    assert len(_pending(local_stack)) == 5
    monkeypatch.setattr(sweeping, "SWEEP_PAGE", 2)
    assert sweep_pending(later, seconds_left=lambda: 5.0) == 0  # no time for a page
    assert len(_pending(local_stack)) == 5
    assert sweep_pending(later, seconds_left=lambda: 50.0) == 5  # three pages in one run
    assert _pending(local_stack) == []
    sent = {m["request_id"] for m in drain_queue(local_stack, "intake")}
    assert sent == set(filed)


def test_failed_send_is_swept_once(api: Api, local_stack: LocalStack, alice: SignedIn) -> None:
    from chalicelib import aws
    from chalicelib.routing.sweeper import sweep_pending

    sweep_pending(datetime.now(UTC) + timedelta(minutes=16))  # what earlier tests left pending
    drain_queue(local_stack, "intake")
    sqs = aws.client("sqs")

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://sqs.unreachable")

    sqs.meta.events.register("before-call.sqs.SendMessage", refuse)
    try:
        body = {
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
        }
        answer = api.post("/requests", alice, body=body)
    finally:
        sqs.meta.events.unregister("before-call.sqs.SendMessage", refuse)
    assert answer.status == 201  # accepted: the member is not asked to try again
    request_id = answer.body["request_id"]
    assert drain_queue(local_stack, "intake") == []
    assert [i["sk"]["S"] for i in _pending(local_stack)] == [f"REQ#{request_id}"]

    # Handed over to the router, which has a quarter of an hour before the sweeper steps in.
    assert sweep_pending(datetime.now(UTC) + timedelta(minutes=2)) == 0
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert sweep_pending(later) == 1
    assert sweep_pending(later) == 0
    assert drain_queue(local_stack, "intake") == [
        {"request_id": request_id, "member_id": alice.member_id}
    ]
    assert _pending(local_stack) == []


def test_an_outbox_another_sender_cleared_first_is_left_alone(api: Api, alice: SignedIn) -> None:
    """The router and the sweeper may dispatch the same outbox at once: the second to clear it
    finds it gone, and says so (False), with no error (moto answered 500 there)."""
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    request_id = api.post("/requests", alice, body=body).body["request_id"]
    requests = RequestRepository()
    sent = requests.outbox(alice.member_id, request_id)
    now = datetime.now(UTC)
    assert requests.clear_outbox(alice.member_id, request_id, sent, now) is True
    assert requests.clear_outbox(alice.member_id, request_id, sent, now) is False
    assert requests.outbox(alice.member_id, request_id) == []


def test_scheduled_sweeper_is_wired_every_minute() -> None:
    from app import app

    events = [e for e in app.event_sources if e.name == "outbox_sweeper"]
    assert [e.schedule_expression.to_string() for e in events] == ["rate(1 minute)"]


def test_months_whose_requests_all_expired_announce_no_page(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    """A long-standing member: six months of requests closed over five years ago (expired, TTL
    not run yet), one request this month. The first page announced a next one that held
    nothing; the months now fill the page only with requests."""
    from chalicelib.domain import clock, retention
    from chalicelib.domain.requests import month_of
    from chalicelib.store import keys

    assert alice.member_id is not None
    dynamodb = local_stack.client("dynamodb")
    table = local_stack.outputs["TableName"]
    for month in range(1, 7):
        old = _file_in_the_past(alice, datetime(2021, month, 10, 12, tzinfo=UTC))
        key = keys.request_key(alice.member_id, month_of(old), old)
        dynamodb.update_item(
            TableName=table,
            Key={k: {"S": v} for k, v in key.items()},
            UpdateExpression="SET expires_at = :t",
            ExpressionAttributeValues={":t": {"N": str(retention.epoch(clock.now()) - 60)}},
        )
    older = _file_in_the_past(alice, datetime(2021, 1, 20, 12, tzinfo=UTC))  # still kept
    live = _file_in_the_past(alice, datetime.now(UTC))
    first = api.get("/requests?limit=2", alice).body
    shown = [r["request_id"] for m in first["months"] for r in m["requests"]]
    assert (shown, first["next_cursor"]) == ([live, older], None)
    assert api.get("/requests?month=2021-03", alice).body["months"] == []


def test_a_prepared_write_is_made_only_by_its_commit(alice: SignedIn) -> None:
    """Filing builds its transaction while the files are copied (`prepare_create`): building it
    writes nothing; its commit writes the request, indexed in its month, and the day's count."""
    when = datetime.now(UTC)
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{alice.member_id}-01"]}
    from infra.seed import alice as seeded

    _, people = seeded(when.date(), alice.member_id or "")
    record = new_record(parse_new_request(body, when.date()), alice.member_id or "", people[:1],
                        when)  # fmt: skip
    repository = RequestRepository()
    limit = daily_limit("requests", 30, when)
    counted = repository.checks(record.member_id, limit, [], [], None, when).count
    commit = repository.prepare_create(record, when, limit=limit)
    with pytest.raises(NotFound):
        repository.get(record.member_id, record.request_id, consistent=True)
    assert repository.checks(record.member_id, limit, [], [], None, when).count == counted
    [intake, filed] = commit()
    assert (intake["queue"], filed["detail_type"]) == ("intake", "RequestFiled")
    assert repository.get(record.member_id, record.request_id, consistent=True) == record
    assert repository.checks(record.member_id, limit, [], [], None, when).count == counted + 1
    read = repository.newest_first(record.member_id, month=record.month, before=None,
                                   first_read=10)  # fmt: skip
    assert (record.month, record.summary()) in list(read)
