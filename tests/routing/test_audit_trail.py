"""The tamper-evident audit trail, in the table: every change and every back-office access lands
in the day's chain, in order, once; concurrent writers take consecutive places; an edited or
deleted record is named by the check (`make audit-verify`, the daily watch)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.domain import audit, clock
from chalicelib.domain.audit import AuditEntry, Break, Kind
from chalicelib.store import keys
from chalicelib.store.audit import AuditTrail
from infra import audit_verify
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import Api, Historian, SignedIn, file_justificatif


def _days(start: date) -> list[str]:
    """The Paris days since `start`: a test may run across midnight."""
    days, day = [], start
    while day <= clock.today():
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def _records(days: list[str], request_id: str | None = None) -> list[dict[str, Any]]:
    """The records of these days' chains, in chain order, with their sequence and day."""
    trail = AuditTrail()
    return [
        {**fields, "sequence": sequence, "day": day}
        for day in days
        for sequence, fields in trail.day(day)
        if request_id is None or fields["request_id"] == request_id
    ]


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        kind=Kind.change, action="RequestFiled", entry_id=f"01JD00000000000000000{n:05d}",
        at="2020-01-02T08:00:00.000Z", member_id="T000000000",
        request_id="01JD0000000000000000000REQ", actor=audit.ActorKind.member, status="in_progress",
    )  # fmt: skip


def _chain_on(day: date, length: int) -> str:
    """`length` records appended, one call each, to a day of its own (no other test's)."""
    moment = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
    for n in range(length):
        AuditTrail().append([_entry(day.toordinal() * 10 + n)], moment)
    return day.isoformat()


def test_changes_and_back_office_accesses_land_in_the_chain_in_order(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    start = clock.today()
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    assert api.get(path, agent).status == 200
    decided = {"outcome": "refused", "message": "Facture illisible."}
    assert api.post(f"{path}/decision", agent, body=decided).status == 200
    pump.drain()

    days = _days(start)
    records = _records(days, request_id)
    assert [r["action"] for r in records] == [
        "RequestFiled",
        "RequestRouted",
        "RequestAcknowledged",
        "consulted",
        "decided",
        "RequestDecided",
        "LetterIssued",  # rendered by the service's handler the decision hands the request to
    ]
    assert all(r["member_id"] == alice.member_id for r in records)
    consulted = records[3]
    assert (consulted["kind"], consulted["actor"]) == ("access", "agent")
    assert consulted["agent_id"] and consulted["correlation_id"]
    filed, decision = records[0], records[-2]
    assert (filed["actor"], filed["status"]) == ("member", "in_progress")
    assert (decision["actor"], decision["agent_id"]) == ("agent", consulted["agent_id"])
    assert (decision["status"], decision["outcome"]) == ("processed", "refused")
    text = json.dumps(records, ensure_ascii=False)
    for personal in ("Alice", "Martin", "80.00", "optique", "Facture illisible"):
        assert personal not in text
    # Their places in the day's chain, which verifies whole (every other test's records too).
    for day in days:
        assert audit.verify(day, AuditTrail().day(day)).intact, day


def test_no_audit_record_no_access_record_and_no_answer(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    request_id = file_justificatif(api, alice, today)
    pump.drain()

    def unavailable(self: AuditTrail, *args: object, **kwargs: object) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Transact")

    monkeypatch.setattr(AuditTrail, "append_with", unavailable)
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    read = api.get(path, agent)
    assert read.status == 503 and request_id not in json.dumps(read.body)
    monkeypatch.undo()
    assert api.get("/me/access-log", alice).body["entries"] == []  # written together, or neither


def test_two_concurrent_appends_take_consecutive_places(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both writers read the same head and claim sequence 1: one wins, the other reads the new
    head and takes 2."""
    moment = datetime(2020, 1, 2, 11, tzinfo=UTC)
    heads: list[audit.Link | None] = []
    both_read = threading.Barrier(2)
    read_head = AuditTrail._head

    def racing_head(self: AuditTrail, day: str) -> audit.Link | None:
        head = read_head(self, day)
        heads.append(head)
        if len(heads) <= 2:
            both_read.wait(timeout=10)
        return head

    monkeypatch.setattr(AuditTrail, "_head", racing_head)
    appended: list[list[audit.AuditRecord]] = []
    writers = [
        threading.Thread(target=lambda n=n: appended.append(AuditTrail().append([_entry(n)],
                                                                                moment)))
        for n in (1, 2)
    ]  # fmt: skip
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=30)

    assert heads[:2] == [None, None] and len(heads) == 3  # the loser read the head once more
    stored = AuditTrail().day("2020-01-02")
    assert [sequence for sequence, _ in stored] == [1, 2]
    assert {fields["entry_id"] for _, fields in stored} == {_entry(1).entry_id, _entry(2).entry_id}
    assert sorted(r.sequence for records in appended for r in records) == [1, 2]
    assert audit.verify("2020-01-02", stored).intact


def test_many_writers_at_once_all_get_their_place_in_the_chain(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy moment (the load's 16 members and agents at once, on a slow store: each
    transaction 60 ms): every writer gets through, spread out by the growing random pauses,
    none refused (503) nor left for the sweeper."""
    from chalicelib.store import audit as audit_store
    from chalicelib.store.audit import AuditUnavailable

    client = audit_store.dynamodb()

    class SlowTransactions:
        def __getattr__(self, name: str) -> Any:
            return getattr(client, name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            time.sleep(0.06)
            return client.transact_write_items(**kwargs)

    monkeypatch.setattr(audit_store, "dynamodb", SlowTransactions)
    moment = datetime(2020, 1, 3, 11, tzinfo=UTC)
    start = threading.Barrier(24)
    refused: list[AuditUnavailable] = []

    def write(n: int) -> None:
        start.wait(timeout=30)
        try:
            AuditTrail().append([_entry(100 + n)], moment)
        except AuditUnavailable as error:
            refused.append(error)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(24)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    assert refused == []
    stored = AuditTrail().day("2020-01-03")
    assert [sequence for sequence, _ in stored] == list(range(1, 25))
    assert audit.verify("2020-01-03", stored).intact


def test_a_writer_that_never_gets_through_gives_up_within_its_budget(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.store import audit as audit_store

    _chain_on(date(2020, 1, 4), 1)
    monkeypatch.setattr(audit_store, "BUDGET_SECONDS", 0.5)
    monkeypatch.setattr(AuditTrail, "_head", lambda self, day: audit.Link(0, "stale"))
    started = time.monotonic()
    with pytest.raises(audit_store.AuditUnavailable):
        AuditTrail().append([_entry(7)], datetime(2020, 1, 4, 12, tzinfo=UTC))
    assert time.monotonic() - started < 0.5 + audit_store.BACKOFF_CAP_SECONDS + 2


def test_the_pause_after_a_lost_attempt_grows_then_stays_under_its_cap() -> None:
    from chalicelib.store.audit import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, _backoff

    for attempt in range(12):
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
        pauses = [_backoff(attempt) for _ in range(200)]
        assert all(0 <= p <= ceiling for p in pauses)
        assert max(pauses) > ceiling / 2  # spread over the whole range, not a fixed step


def test_a_lost_head_is_found_out_and_the_chain_goes_on(local_stack: LocalStack) -> None:
    day = _chain_on(date(2020, 1, 5), 3)
    local_stack.client("dynamodb").delete_item(
        TableName=local_stack.outputs["TableName"],
        Key={k: {"S": v} for k, v in keys.audit_head_key(day).items()},
    )
    [record] = AuditTrail().append([_entry(99)], datetime(2020, 1, 5, 12, tzinfo=UTC))
    assert record.sequence == 4
    stored = AuditTrail().day(day)
    assert [n for n, _ in stored] == [1, 2, 3, 4] and audit.verify(day, stored).intact


def test_an_event_dispatched_again_is_recorded_once(
    api: Api, pump: QueuePump, alice: SignedIn, today: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process recorded and sent the outbox, then died before clearing it: the sweeper
    dispatches it again a minute later, and the chain keeps one record of each event."""
    from chalicelib.routing.sweeper import sweep_pending
    from chalicelib.store.requests import RequestRepository

    start = clock.today()

    def dies(self: RequestRepository, *args: object) -> bool:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "gone"}}, "Update")

    monkeypatch.setattr(RequestRepository, "clear_outbox", dies)
    request_id = file_justificatif(api, alice, today)
    monkeypatch.undo()
    assert [r["action"] for r in _records(_days(start), request_id)] == ["RequestFiled"]
    assert sweep_pending(datetime.now(UTC) + timedelta(minutes=2)) >= 1  # sent again
    assert [r["action"] for r in _records(_days(start), request_id)] == ["RequestFiled"]
    pump.drain()


def test_an_edited_record_fails_the_check_at_that_record(local_stack: LocalStack) -> None:
    day = _chain_on(date(2020, 1, 3), 5)
    assert audit_verify.main(["--day", day], local_stack) == 0
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key={k: {"S": v} for k, v in keys.audit_key(day, 3).items()},
        UpdateExpression="SET #status = :s",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":s": {"S": "withdrawn"}},
    )
    verdict = audit.verify(day, AuditTrail().day(day))
    assert (verdict.broken_at, verdict.reason) == (3, Break.content)
    assert audit_verify.main(["--day", day], local_stack) == 1


def test_a_deleted_record_is_a_gap(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    day = _chain_on(date(2020, 1, 4), 5)
    local_stack.client("dynamodb").delete_item(
        TableName=local_stack.outputs["TableName"],
        Key={k: {"S": v} for k, v in keys.audit_key(day, 4).items()},
    )
    capsys.readouterr()
    assert audit_verify.main(["--day", day], local_stack) == 1
    assert (
        capsys.readouterr().out.strip() == f"BROKEN {day} at sequence 4: gap: a record is missing"
    )


@pytest.fixture
def restored(local_stack: LocalStack) -> Iterator[list[dict[str, Any]]]:
    """Items a test tampers with, put back as they were afterwards (today's chain is shared)."""
    originals: list[dict[str, Any]] = []
    yield originals
    for item in originals:
        local_stack.client("dynamodb").put_item(
            TableName=local_stack.outputs["TableName"], Item=item
        )


def test_make_audit_verify_is_green_on_the_demo_data_and_red_after_tampering(
    local_stack: LocalStack,
    historian: Historian,
    capsys: pytest.CaptureFixture[str],
    restored: list[dict[str, Any]],
) -> None:
    member_id = historian.who.member_id
    assert historian.filed >= 30
    days = _days(historian.seeded_on)
    demo = [r for r in _records(days) if r["member_id"] == member_id]
    assert len(demo) > 100  # two years of filings, routings, letters and decisions
    capsys.readouterr()
    for day in days:
        assert audit_verify.main(["--day", day], local_stack) == 0
    assert capsys.readouterr().out.startswith(f"OK {days[0]}: ")

    target = demo[len(demo) // 2]
    key = {k: {"S": v} for k, v in keys.audit_key(target["day"], target["sequence"]).items()}
    table = local_stack.outputs["TableName"]
    dynamodb = local_stack.client("dynamodb")
    restored.append(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
    dynamodb.update_item(
        TableName=table, Key=key, UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": {"S": "system"}},
    )  # fmt: skip
    assert audit_verify.main(["--day", target["day"]], local_stack) == 1
    assert capsys.readouterr().out.strip() == (
        f"BROKEN {target['day']} at sequence {target['sequence']}: content hash mismatch"
    )


def test_the_daily_watch_says_a_broken_chain_in_its_metric(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.routing import sla

    for other in ("watch_unanswered", "remind_before_deadlines", "watch_deadlines", "purge_due"):
        monkeypatch.setattr(sla, other, lambda *args: 0)  # this day only: nothing else moves
    day = _chain_on(date(2020, 1, 6), 3)
    next_morning = datetime(2020, 1, 7, 6, tzinfo=UTC)
    capsys.readouterr()
    sla.watch(next_morning)
    assert _metric(capsys.readouterr().out, "AuditChainBroken") == 0
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key={k: {"S": v} for k, v in keys.audit_key(day, 2).items()},
        UpdateExpression="SET previous_hash = :h",
        ExpressionAttributeValues={":h": {"S": "0" * 64}},
    )
    sla.watch(next_morning)
    out = capsys.readouterr().out
    assert _metric(out, "AuditChainBroken") == 1
    assert f"audit chain {day} broken at 2" in out


def _metric(out: str, name: str) -> float:
    """The value of the one EMF line that carries `name`."""
    [value] = [json.loads(line)[name] for line in out.splitlines() if f'"{name}"' in line]
    return float(value[0] if isinstance(value, list) else value)
