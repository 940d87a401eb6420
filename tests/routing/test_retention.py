"""Retention (`docs/retention.md`), through the HTTP API and moto, with a frozen clock: each
thing is kept until its time and gone after it. moto runs neither DynamoDB's TTL nor S3's
lifecycle rules: `tests/aws_expiry.py` does what AWS does, at the frozen moment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from chalicelib.domain import clock, retention
from chalicelib.domain.requests import month_of
from chalicelib.store import keys
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.aws_expiry import (
    Lifecycle,
    current_objects,
    due,
    expire_items,
    template_rules,
    versions,
)
from tests.conftest import PDF_BYTES, Api, SignedIn, file_justificatif, upload

DAY = timedelta(days=1)


def _freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def _paris(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.PARIS)


def _refuse(api: Api, agent: SignedIn, who: SignedIn, request_id: str) -> None:
    path = f"/backoffice/members/{who.member_id}/requests/{request_id}/decision"
    answer = api.post(path, agent, body={"outcome": "refused", "message": "Facture illisible."})
    assert answer.status == 200, answer.body


def _item(stack: LocalStack, key: dict[str, str]) -> dict[str, Any] | None:
    answer = stack.client("dynamodb").get_item(
        TableName=stack.outputs["TableName"], Key={k: {"S": v} for k, v in key.items()}
    )
    item: dict[str, Any] | None = answer.get("Item")
    return item


def _attachments_prefix(who: SignedIn, request_id: str) -> str:
    assert who.member_id is not None
    return keys.attachments_prefix(who.member_id, month_of(request_id), request_id)


class _Context:
    """Lambda's context as the runtime hands it to a scheduled function: its time left."""

    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def _scheduled_event() -> dict[str, Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        event: dict[str, Any] = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
    return event


@pytest.fixture
def watch_on(local_stack: LocalStack) -> Iterator[Callable[..., None]]:
    """The retention purge (`services.retention.purge_due`) run at 08:00 Paris on a day, with
    all the time it needs, having finished through the day before (or through
    `finished_through`: missed runs). The suite's other tests run at their own dates, so each
    test says where it starts, and leaves no progress behind. (That the scheduled function
    runs it is `test_the_scheduled_purge_carries_out_the_days_purges_not_the_daily_watch`.)"""
    from chalicelib.services.retention import purge_due
    from chalicelib.store.unit_of_work import unit_of_work

    dynamodb = local_stack.client("dynamodb")
    table = local_stack.outputs["TableName"]
    progress = {k: {"S": v} for k, v in keys.purge_progress_key().items()}

    def run(day: date, finished_through: date | None = None) -> None:
        through = (finished_through or day - DAY).isoformat()
        dynamodb.put_item(TableName=table, Item={**progress, "day": {"S": through}})
        purge_due(unit_of_work(), _paris(day))

    yield run
    dynamodb.delete_item(TableName=table, Key=progress)


def test_the_scheduled_purge_carries_out_the_days_purges_not_the_daily_watch(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
) -> None:
    """A closed request's attachments' entry, aged to today (the tests below age the request
    itself): the daily watch (`routing/sla.watch`) leaves it, the scheduled `retention_purge`
    (app.py, with Lambda's context) carries it out."""
    from app import retention_purge
    from chalicelib.routing.sla import watch

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    _refuse(api, agent, alice, request_id)
    dynamodb, table = local_stack.client("dynamodb"), local_stack.outputs["TableName"]
    due_on = clock.paris_date(clock.now()) + timedelta(days=90)
    later = keys.purge_key(due_on.isoformat(), str(alice.member_id), request_id, "attachments")
    entry = _item(local_stack, later)
    assert entry is not None
    dynamodb.delete_item(TableName=table, Key={k: {"S": v} for k, v in later.items()})
    entry["pk"] = {"S": keys.purge_partition(clock.today().isoformat())}
    dynamodb.put_item(TableName=table, Item=entry)
    progress = {k: {"S": v} for k, v in keys.purge_progress_key().items()}
    yesterday = (clock.today() - DAY).isoformat()
    dynamodb.put_item(TableName=table, Item={**progress, "day": {"S": yesterday}})
    prefix = _attachments_prefix(alice, request_id)
    try:
        watch()
        assert versions(local_stack, prefix) != []  # not the watch's any more
        retention_purge(_scheduled_event(), _Context(600_000))
    finally:
        dynamodb.delete_item(TableName=table, Key=progress)
    assert versions(local_stack, prefix) == []
    assert api.get(f"/requests/{request_id}", alice).body["attachments"] == []


def test_a_purge_run_short_of_time_stops_and_the_next_run_finishes_the_day_each_entry_once(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A national day is ~170,000 entries, hours of calls: a run carries out what its time
    allows, a page of entries at a time, and leaves the day unfinished; the next run resumes
    it. Small pages and batches here, so that a day of 7 entries spans several of each."""
    from chalicelib.services import retention as purging
    from chalicelib.store import retention as schedule
    from chalicelib.store.unit_of_work import unit_of_work

    monkeypatch.setattr(schedule, "PAGE", 3)
    monkeypatch.setattr(purging, "BATCH", 2)
    day = date(2019, 3, 12)  # no closing of the suite's falls due then
    dynamodb, table = local_stack.client("dynamodb"), local_stack.outputs["TableName"]
    s3, bucket = local_stack.client("s3"), local_stack.outputs["BucketName"]
    pdfs = {}
    for n in range(7):
        member, request = f"00990000{n:02d}", f"01HPURGE0000000000000000{n:02d}"
        pdf = keys.document_object(member, "2014-03", f"01HPURGEPDF00000000000000{n:02d}")
        s3.put_object(Bucket=bucket, Key=pdf, Body=PDF_BYTES)
        key = keys.purge_key(day.isoformat(), member, request, "letters")
        item = {**key, "entity": "purge", "member_id": member, "request_id": request,
                "what": "letters"}  # fmt: skip
        dynamodb.put_item(
            TableName=table,
            Item={**{k: {"S": v} for k, v in item.items()}, "prefixes": {"L": [{"S": pdf}]}},
        )
        pdfs[key["sk"]] = pdf
    carried: list[str] = []
    original = purging.carry_out

    def counted(uow: Any, entry: Any, now: datetime) -> None:
        carried.append(f"{entry.member_id}#{entry.request_id}#{entry.what.value}")
        original(uow, entry, now)

    monkeypatch.setattr(purging, "carry_out", counted)
    progress = {k: {"S": v} for k, v in keys.purge_progress_key().items()}
    dynamodb.put_item(TableName=table, Item={**progress, "day": {"S": (day - DAY).isoformat()}})

    def left() -> list[str]:
        return sorted(sk for sk, pdf in pdfs.items() if versions(local_stack, pdf))

    def purged_through() -> str:
        return str(_item(local_stack, keys.purge_progress_key())["day"]["S"])  # type: ignore[index]

    try:
        # Two batches' worth of time, then 30 seconds: under the reserve, no batch starts.
        times = iter([600.0, 600.0])
        first = purging.purge_due(unit_of_work(), _paris(day), lambda: next(times, 30.0))
        assert (first.done, first.failed, first.out_of_time) == (3, 0, True)  # page 1: 2 + 1
        assert len(left()) == 4 and sorted(set(pdfs) - set(left())) == sorted(carried)
        assert purged_through() == (day - DAY).isoformat()  # the day is not finished

        second = purging.purge_due(unit_of_work(), _paris(day, 8) + timedelta(minutes=15))
        assert (second.done, second.failed, second.out_of_time) == (4, 0, False)
        assert left() == []
        assert purged_through() == day.isoformat()
        assert sorted(carried) == sorted(pdfs)  # each entry once, over the two runs
    finally:
        dynamodb.delete_item(TableName=table, Key=progress)


def test_attachments_are_deleted_by_the_retention_purge_90_days_after_the_decision_not_before(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    closed_at = clock.now()
    _freeze(monkeypatch, closed_at)
    _refuse(api, agent, alice, request_id)
    due_on = clock.paris_date(closed_at) + timedelta(days=90)
    detail = api.get(f"/requests/{request_id}", alice).body
    assert len(detail["attachments"]) == 1
    assert detail["attachments_kept_until"] == due_on.isoformat()
    assert detail["attachments_deleted_at"] is None
    prefix = _attachments_prefix(alice, request_id)
    assert len(current_objects(local_stack, prefix)) == 1

    watch_on(due_on - DAY)
    assert len(current_objects(local_stack, prefix)) == 1
    assert len(api.get(f"/requests/{request_id}", alice).body["attachments"]) == 1

    watch_on(due_on)
    assert versions(local_stack, prefix) == []  # every version: no bytes kept 30 days more
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["attachments"] == [] and detail["attachments_kept_until"] is None
    assert clock.paris_date(detail["attachments_deleted_at"]) == due_on
    labels = [entry["label"] for entry in detail["history"]]
    assert labels[-1] == retention.ATTACHMENTS_PURGED_LABEL
    assert detail["status"] == "processed" and detail["outcome"] == "refused"  # the rest stays
    agent_view = api.get(f"/backoffice/members/{alice.member_id}/requests/{request_id}", agent)
    assert agent_view.body["attachments"] == []  # nothing left to offer agents either

    watch_on(due_on)  # run again: said once
    labels = [e["label"] for e in api.get(f"/requests/{request_id}", alice).body["history"]]
    assert labels.count(retention.ATTACHMENTS_PURGED_LABEL) == 1


@pytest.mark.parametrize("marked_by", ["filing", "daily watch"])
def test_a_contested_requests_files_stay_while_the_complaint_is_open(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent_all: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    marked_by: str,
) -> None:
    """Refused, then contested by a complaint on day 85: the purge of day 90 deleted the files
    the complaints service had to read (docs/retention.md: the 90 days are there « for a
    complaint to read them »). They stay while the complaint is open, the purge looking again
    a week later, and go at the first look after its answer."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    closed_at = clock.now()
    _freeze(monkeypatch, closed_at)
    _refuse(api, agent_all, alice, request_id)
    due_on = clock.paris_date(closed_at) + timedelta(days=90)
    _freeze(monkeypatch, closed_at + timedelta(days=85))
    body = {"type": "contact.demande", "complaint": True, "related_request_id": request_id,
            "beneficiary_ids": [f"{alice.member_id}-01"],
            "description": "Je conteste le refus : la facture était lisible.",
            "data": {"subject": "remboursements", "detail": "montant_conteste"}}  # fmt: skip
    filed = api.post("/requests", alice, body=body)
    assert filed.status == 201, filed.body
    complaint = filed.body["request_id"]
    pump.drain()
    prefix = _attachments_prefix(alice, request_id)
    if marked_by == "daily watch":  # a complaint filed before the marks existed has none
        from chalicelib.services.sweeping import watch_deadlines
        from chalicelib.store.unit_of_work import unit_of_work

        mark = keys.contest_key(alice.member_id, request_id, complaint)
        local_stack.client("dynamodb").delete_item(
            TableName=local_stack.outputs["TableName"], Key={k: {"S": v} for k, v in mark.items()}
        )
        watch_deadlines(unit_of_work(), clock.now())

    _freeze(monkeypatch, _paris(due_on))
    watch_on(due_on)
    assert len(current_objects(local_stack, prefix)) == 1
    detail = api.get(f"/requests/{request_id}", alice).body
    assert len(detail["attachments"]) == 1
    assert detail["attachments_kept_until"] == (due_on + timedelta(days=7)).isoformat()
    agent_view = api.get(f"/backoffice/members/{alice.member_id}/requests/{request_id}", agent_all)
    assert len(agent_view.body["attachments"]) == 1

    answer = {"outcome": "refused", "message": "Refus confirmé."}
    path = f"/backoffice/members/{alice.member_id}/requests/{complaint}/decision"
    decided = api.post(path, agent_all, body=answer)
    assert decided.status == 200, decided.body
    pump.drain()
    watch_on(due_on + timedelta(days=7))
    assert versions(local_stack, prefix) == []
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["attachments"] == [] and detail["attachments_kept_until"] is None
    labels = [entry["label"] for entry in detail["history"]]
    assert labels.count(retention.ATTACHMENTS_PURGED_LABEL) == 1


def test_after_the_purge_no_message_names_a_file_that_went(
    api: Api,
    pump: QueuePump,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reply's file went with the request's other attachments, but the reply still named it:
    the portal showed « 1 pièce(s) jointe(s) » under it, beside the history's « Pièces jointes
    supprimées »."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    asked = api.post(f"{path}/information-request", agent, body={"message": "La facture ?"})
    assert asked.status == 200, asked.body
    reply = {"message": "La voici.", "upload_ids": [upload(api, alice, PDF_BYTES)]}
    assert api.post(f"/requests/{request_id}/replies", alice, body=reply).status == 201
    closed_at = clock.now()
    _freeze(monkeypatch, closed_at)
    _refuse(api, agent, alice, request_id)
    messages = api.get(f"/requests/{request_id}", alice).body["messages"]
    assert [len(m["attachment_ids"]) for m in messages] == [0, 1]

    watch_on(clock.paris_date(closed_at) + timedelta(days=90))
    for detail in (api.get(f"/requests/{request_id}", alice).body, api.get(path, agent).body):
        assert detail["attachments"] == []
        assert [m["attachment_ids"] for m in detail["messages"]] == [[], []]
        assert [m["text"] for m in detail["messages"]] == ["La facture ?", "La voici."]
    assert api.get(path, agent).body["messages"][0]["agent_id"]  # the rest of each kept


def test_a_missed_purge_deletes_a_withdrawn_requests_attachments_on_its_next_run(
    api: Api,
    local_stack: LocalStack,
    bob: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request_id = file_justificatif(api, bob, today)
    withdrawn_at = clock.now()
    _freeze(monkeypatch, withdrawn_at)
    answer = api.post(f"/requests/{request_id}/withdrawal", bob, body={})
    assert answer.status == 200 and answer.body["status"] == "withdrawn"
    due_on = clock.paris_date(withdrawn_at) + timedelta(days=90)
    assert answer.body["attachments_kept_until"] == due_on.isoformat()
    prefix = _attachments_prefix(bob, request_id)
    # The purge did not run on the day nor the next: its run two days late catches up.
    watch_on(due_on + 2 * DAY, finished_through=due_on - DAY)
    assert versions(local_stack, prefix) == []
    assert api.get(f"/requests/{request_id}", bob).body["attachments"] == []


def test_a_withdrawn_bank_details_request_no_longer_holds_the_full_iban(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn
) -> None:
    body = {"type": "vie.coordonnees_bancaires", "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": {"iban": "FR7630006000011234567890189", "holder_name": "Alice Martin"},
            "upload_ids": [upload(api, alice, PDF_BYTES, filename="rib.pdf")]}  # fmt: skip
    request_id = api.post("/requests", alice, body=body).body["request_id"]
    pump.drain()  # checked by the cotisations service: held for an agent
    assert alice.member_id is not None
    held = keys.bank_details_key(alice.member_id, request_id)
    assert _item(local_stack, held) is not None
    assert api.post(f"/requests/{request_id}/withdrawal", alice, body={}).status == 200
    assert _item(local_stack, held) is None  # in the withdrawal's own transaction


def test_a_closed_request_and_its_letters_go_5_years_after_closing_and_not_before(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent_all: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert alice.member_id is not None
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    closed_at = clock.now()
    _freeze(monkeypatch, closed_at)
    _refuse(api, agent_all, alice, request_id)
    pump.drain()  # the service renders the letter
    [letter] = api.get(f"/requests/{request_id}", alice).body["documents"]
    expires = retention.request_expires(closed_at)
    gone_at = datetime.fromtimestamp(retention.epoch(expires), UTC)
    request_month, letter_month = month_of(request_id), month_of(letter["document_id"])
    request_key = keys.request_key(alice.member_id, request_month, request_id)
    document_key = keys.document_key(alice.member_id, letter_month, letter["document_id"])
    guard = keys.letter_guard_key(alice.member_id, request_id, "refus_remboursement")
    pdf = keys.document_object(alice.member_id, letter_month, letter["document_id"])
    for key in (request_key, document_key, guard):
        item = _item(local_stack, key)
        assert item is not None and int(item["expires_at"]["N"]) == retention.epoch(expires), key
    scope = (f"MEMBER#{alice.member_id}",)
    timeline = f"/requests?month={request_month}"
    work_list = "/backoffice/services/remboursements/requests?state=processed&limit=100"

    _freeze(monkeypatch, gone_at - DAY)
    assert [r["request_id"] for m in api.get(timeline, alice).body["months"]
            for r in m["requests"]] == [request_id]  # fmt: skip
    assert api.get(f"/requests/{request_id}", alice).status == 200
    expire_items(local_stack, gone_at - DAY, scope)
    for key in (request_key, document_key, guard):
        assert _item(local_stack, key) is not None, key

    # Expired, not yet deleted (DynamoDB takes up to days): no reader sees it any more.
    _freeze(monkeypatch, gone_at + timedelta(seconds=1))
    assert api.get(timeline, alice).body["months"] == []
    assert api.get(f"/requests/{request_id}", alice).status == 404
    assert api.get(f"/documents/{letter['document_id']}/download", alice).status == 404
    listed = api.get(work_list, agent_all).body["requests"]
    assert request_id not in [r["request_id"] for r in listed]

    expire_items(local_stack, gone_at, scope)
    for key in (request_key, document_key, guard):
        assert _item(local_stack, key) is None, key

    # The letter's PDF: the purge deletes it the day after its request expires, not on that
    # day (its runs from the day's first minutes would come before the letter's moment).
    letters_day = clock.paris_date(expires) + DAY
    watch_on(letters_day - DAY)
    assert current_objects(local_stack, pdf) == [pdf]
    watch_on(letters_day)
    assert versions(local_stack, pdf) == []


def test_a_letter_sent_while_the_request_was_open_goes_with_it_too(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The information request's letter, rendered before the closing, is in the closing's own
    purge of the letters (the decision's, rendered after it, joins that purge later)."""
    assert alice.member_id is not None
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}/information-request"
    assert api.post(path, agent, body={"message": "La facture détaillée ?"}).status == 200
    pump.drain()  # the service renders the letter
    assert len(api.get(f"/requests/{request_id}", alice).body["documents"]) == 1
    closed_at = clock.now()
    _freeze(monkeypatch, closed_at)
    _refuse(api, agent, alice, request_id)
    pump.drain()
    letters = api.get(f"/requests/{request_id}", alice).body["documents"]
    pdfs = [keys.document_object(alice.member_id, month_of(d["document_id"]), d["document_id"])
            for d in letters]  # fmt: skip
    assert len(pdfs) == 2
    watch_on(retention.letters_purge_day(closed_at))
    for pdf in pdfs:
        assert versions(local_stack, pdf) == [], pdf


def test_the_documents_list_and_the_timeline_skip_what_expired_before_ttl_removes_it(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
) -> None:
    assert alice.member_id is not None
    kept = file_justificatif(api, alice, today)
    expired = file_justificatif(api, alice, today)
    pump.drain()
    _refuse(api, agent, alice, kept)
    _refuse(api, agent, alice, expired)
    pump.drain()  # the service renders the letters
    [gone_letter] = api.get(f"/requests/{expired}", alice).body["documents"]
    # As if their TTL had passed a minute ago, DynamoDB not having deleted them yet.
    dynamodb = local_stack.client("dynamodb")
    past = {":t": {"N": str(retention.epoch(clock.now()) - 60)}}
    for key in (
        keys.request_key(alice.member_id, month_of(expired), expired),
        keys.document_key(
            alice.member_id, month_of(gone_letter["document_id"]), gone_letter["document_id"]
        ),
    ):
        dynamodb.update_item(
            TableName=local_stack.outputs["TableName"],
            Key={k: {"S": v} for k, v in key.items()},
            UpdateExpression="SET expires_at = :t",
            ExpressionAttributeValues=past,
        )
    listed = [d["request_id"] for d in api.get("/documents", alice).body["documents"]]
    assert kept in listed and expired not in listed
    assert api.get(f"/documents/{gone_letter['document_id']}/download", alice).status == 404
    on_timeline = [r["request_id"] for m in api.get("/requests", alice).body["months"]
                   for r in m["requests"]]  # fmt: skip
    assert kept in on_timeline and expired not in on_timeline
    assert api.get(f"/requests/{expired}", alice).status == 404
    assert api.get(f"/requests/{kept}", alice).status == 200


def test_staged_uploads_and_their_records_go_after_a_day_and_not_before(
    api: Api, local_stack: LocalStack, bob: SignedIn
) -> None:
    assert bob.member_id is not None
    upload_id = upload(api, bob, PDF_BYTES)
    staged = keys.staged_object(bob.member_id, upload_id)
    [created] = [
        v["LastModified"]
        for v in local_stack.client("s3")
        .list_object_versions(Bucket=local_stack.outputs["BucketName"], Prefix=staged)
        .get("Versions", [])
    ]
    record = _item(local_stack, keys.upload_key(bob.member_id, upload_id))
    assert record is not None
    record_expires = datetime.fromtimestamp(int(record["expires_at"]["N"]), UTC)
    assert timedelta(hours=23) < record_expires - created <= timedelta(hours=24, minutes=1)
    scope = (f"MEMBER#{bob.member_id}",)
    expire_items(local_stack, record_expires - timedelta(seconds=1), scope)
    assert _item(local_stack, keys.upload_key(bob.member_id, upload_id)) is not None
    expire_items(local_stack, record_expires, scope)
    assert _item(local_stack, keys.upload_key(bob.member_id, upload_id)) is None

    lifecycle = Lifecycle(local_stack)
    gone = due(created, 1)  # the next midnight UTC after a day
    assert lifecycle.apply(gone - timedelta(minutes=1), staged) == []
    assert current_objects(local_stack, staged) == [staged]
    assert lifecycle.apply(gone, staged) == [f"expired {staged}"]
    assert current_objects(local_stack, staged) == []  # a delete marker; the bytes a day more
    assert lifecycle.apply(gone + DAY - timedelta(minutes=1), staged) == []
    assert lifecycle.apply(gone + DAY, staged) == [f"deleted {staged}"]
    assert versions(local_stack, staged) == [f"{staged} (marker)"]


@pytest.mark.parametrize("rule", template_rules(), ids=lambda rule: rule.id)
def test_each_lifecycle_rule_keeps_an_object_the_day_before_and_expires_it_the_day_after(
    local_stack: LocalStack, rule: Any
) -> None:
    """Every rule of the template, on an object under its prefix (and with its tags)."""
    if rule.days is None:
        pytest.skip("this rule expires no current version")
    s3 = local_stack.client("s3")
    bucket = local_stack.outputs["BucketName"]
    key = f"{rule.prefix}retention-test/{rule.id}-{datetime.now(UTC).timestamp()}"
    tagging = "&".join(f"{k}={v}" for k, v in rule.tags.items())
    s3.put_object(Bucket=bucket, Key=key, Body=b"x", **({"Tagging": tagging} if tagging else {}))
    [version] = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    gone = due(version["LastModified"], rule.days)
    lifecycle = Lifecycle(local_stack)
    assert lifecycle.apply(gone - DAY, key) == []
    assert lifecycle.apply(gone - timedelta(seconds=1), key) == []
    assert current_objects(local_stack, key) == [key]
    assert lifecycle.apply(gone + DAY, key) == [f"expired {key}"]
    assert current_objects(local_stack, key) == []
    if rule.noncurrent_days is not None:
        assert lifecycle.apply(gone + DAY * rule.noncurrent_days + DAY, key) == [f"deleted {key}"]
        assert versions(local_stack, key) == [f"{key} (marker)"]


def test_the_local_bucket_has_the_templates_lifecycle_rules(local_stack: LocalStack) -> None:
    """The local stack applies the same rules the helper reads (moto stores, never runs them)."""
    configured = local_stack.client("s3").get_bucket_lifecycle_configuration(
        Bucket=local_stack.outputs["BucketName"]
    )["Rules"]
    assert sorted(r["ID"] for r in configured) == sorted(r.id for r in template_rules())


@pytest.mark.parametrize(
    ("key", "days"),
    [
        ("uploads/M1/u", 1),  # staged uploads: a day
        (
            "requests/M1/2026-11/r/a",
            730,
        ),  # attachments' backstop (the purge: 90 days after closing)
        ("documents/M1/2026-11/d.pdf", 2557),  # letters' backstop (the purge: 5 years after)
        ("exports/M1/e.zip", 7),  # a member's export: 7 days
    ],
)
def test_docs_retention_table_is_what_the_bucket_rules_say(key: str, days: int) -> None:
    """The ages `docs/retention.md` states, held to the template: the shortest rule wins."""
    rules = [r for r in template_rules() if r.matches(key, {}) and r.days is not None]
    assert rules and min(r.days for r in rules if r.days is not None) == days


def test_the_export_says_whose_attachments_the_retention_deleted(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent_all: SignedIn,
    today: date,
    watch_on: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once purged, a request lists no attachment: the README counted only files still listed,
    so it said nothing of those the retention deleted (design-notes, "Data export")."""
    import io
    import zipfile

    import requests as http

    request_id = file_justificatif(api, alice, today)
    pump.drain()
    closed_at = clock.now()
    _freeze(monkeypatch, closed_at)
    _refuse(api, agent_all, alice, request_id)
    pump.drain()
    watch_on(retention.attachments_purge_day(closed_at))
    monkeypatch.undo()
    assert api.get(f"/requests/{request_id}", alice).body["attachments"] == []
    assert current_objects(local_stack, _attachments_prefix(alice, request_id)) == []
    asked = api.post("/me/exports", alice)
    assert asked.status == 202, asked.body
    pump.drain()
    ready = api.get(f"/me/exports/{asked.body['export_id']}", alice).body
    assert ready["status"] == "ready", ready
    archive = zipfile.ZipFile(io.BytesIO(http.get(ready["url"], timeout=30).content))
    readme = archive.read("README.txt").decode()
    assert "Les pièces jointes de 1 démarche(s) ne sont plus conservées" in readme, readme
