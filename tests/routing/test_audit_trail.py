"""The tamper-evident audit trail, in the table: every change and every back-office access lands
in its member's chain of the day, in order, once; concurrent writers take consecutive places,
and writers for members of different chains never wait for each other; an edited or deleted
record is named by the check (`make audit-verify`, the daily watch)."""

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
    """The records of these days' chains, in chain order, with their day, chain and sequence."""
    trail = AuditTrail()
    return [
        {**fields, "sequence": sequence, "day": day, "shard": chain.shard}
        for day in days
        for chain in trail.day(day)
        for sequence, fields in chain.records
        if request_id is None or fields["request_id"] == request_id
    ]


MEMBER = "T000000000"
SHARD = audit.shard_of(MEMBER)  # the chain of every `_entry`


def _entry(n: int, member_id: str = MEMBER) -> AuditEntry:
    return AuditEntry(
        kind=Kind.change, action="RequestFiled", entry_id=f"01JD00000000000000000{n:05d}",
        at="2020-01-02T08:00:00.000Z", member_id=member_id,
        request_id="01JD0000000000000000000REQ", actor=audit.ActorKind.member, status="in_progress",
    )  # fmt: skip


def _chain(day: str, shard: int = SHARD) -> list[tuple[int, dict[str, Any]]]:
    """One chain's records as stored."""
    return next((c.records for c in AuditTrail().day(day) if c.shard == shard), [])


def _key(day: str, sequence: int, shard: int | None = SHARD) -> dict[str, dict[str, str]]:
    return {k: {"S": v} for k, v in keys.audit_key(day, sequence, shard).items()}


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
    assert {r["shard"] for r in records} == {audit.shard_of(alice.member_id)}
    consulted = records[3]
    assert (consulted["kind"], consulted["actor"]) == ("access", "agent")
    assert consulted["agent_id"] and consulted["correlation_id"]
    filed, decision = records[0], records[-2]
    assert (filed["actor"], filed["status"]) == ("member", "in_progress")
    assert (decision["actor"], decision["agent_id"]) == ("agent", consulted["agent_id"])
    assert (decision["status"], decision["outcome"]) == ("processed", "refused")
    text = json.dumps(records, ensure_ascii=False, default=str)  # the TTL, a Decimal
    for personal in ("Alice", "Martin", "80.00", "optique", "Facture illisible"):
        assert personal not in text
    # Their places in the day's chains, which verify whole (every other test's records too).
    for day in days:
        assert audit.verify_day(day, AuditTrail().day(day)).intact, day


def test_a_record_is_kept_six_years_and_no_longer(local_stack: LocalStack) -> None:
    """docs/retention.md: the trail lives as long as the access log it protects."""
    moment = datetime(2012, 5, 16, 11, tzinfo=UTC)  # a day of its own
    [record] = AuditTrail().append([_entry(2012_05_16)], moment)
    item = local_stack.client("dynamodb").get_item(
        TableName=local_stack.outputs["TableName"], Key=_key("2012-05-16", record.sequence)
    )["Item"]
    kept_until = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
    assert datetime(2018, 5, 16, 11, tzinfo=UTC) <= kept_until < datetime(2018, 5, 23, tzinfo=UTC)


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

    def racing_head(self: AuditTrail, day: str, shard: int | None) -> audit.Link | None:
        head = read_head(self, day, shard)
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
    stored = _chain("2020-01-02")
    assert [sequence for sequence, _ in stored] == [1, 2]
    assert {fields["entry_id"] for _, fields in stored} == {_entry(1).entry_id, _entry(2).entry_id}
    assert sorted(r.sequence for records in appended for r in records) == [1, 2]
    assert audit.verify_day("2020-01-02", AuditTrail().day("2020-01-02")).intact


def test_many_writers_at_once_all_get_their_place_in_the_chain(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy moment on one chain (24 writers for one member at once, on a slow store: each
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
    stored = _chain("2020-01-03")
    assert [sequence for sequence, _ in stored] == list(range(1, 25))
    assert audit.verify_day("2020-01-03", AuditTrail().day("2020-01-03")).intact


def test_writers_for_members_of_different_chains_never_wait_for_each_other(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One writer per chain, all at once (the moment of the load's 503s): each reads its
    chain's head once and appends at the first attempt, and each chain verifies."""
    members: dict[int, str] = {}
    for n in range(1000):
        members.setdefault(audit.shard_of(f"T{n:09d}"), f"T{n:09d}")
    assert sorted(members) == list(range(audit.SHARDS))
    reads: list[int | None] = []
    read_head = AuditTrail._head

    def counted_head(self: AuditTrail, day: str, shard: int | None) -> audit.Link | None:
        reads.append(shard)
        return read_head(self, day, shard)

    monkeypatch.setattr(AuditTrail, "_head", counted_head)
    moment = datetime(2020, 1, 8, 11, tzinfo=UTC)
    start = threading.Barrier(audit.SHARDS)

    def write(shard: int) -> None:
        start.wait(timeout=30)
        AuditTrail().append([_entry(200 + shard, members[shard])], moment)

    writers = [threading.Thread(target=write, args=(shard,)) for shard in members]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    assert sorted(reads) == list(range(audit.SHARDS))  # one read each: no writer lost a race
    monkeypatch.undo()
    chains = AuditTrail().day("2020-01-08")
    assert [(c.shard, [n for n, _ in c.records]) for c in chains] == [
        (shard, [1]) for shard in range(audit.SHARDS)
    ]
    assert audit.verify_day("2020-01-08", chains).intact


def test_one_append_of_several_members_goes_to_each_members_chain(
    local_stack: LocalStack,
) -> None:
    other = next(f"T{n:09d}" for n in range(1, 100) if audit.shard_of(f"T{n:09d}") != SHARD)
    moment = datetime(2020, 1, 9, 11, tzinfo=UTC)
    records = AuditTrail().append([_entry(301), _entry(302, other), _entry(303)], moment)
    assert [(r.shard, r.sequence) for r in records] == [
        (SHARD, 1), (SHARD, 2), (audit.shard_of(other), 1)
    ]  # fmt: skip
    assert audit.verify_day("2020-01-09", AuditTrail().day("2020-01-09")).count == 3
    with pytest.raises(ValueError, match="one chain"):  # one transaction is one chain's
        AuditTrail().append_with([_entry(304), _entry(305, other)], moment)


def test_a_writer_that_never_gets_through_gives_up_within_its_budget(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.store import audit as audit_store

    _chain_on(date(2020, 1, 4), 1)
    monkeypatch.setattr(audit_store, "BUDGET_SECONDS", 0.5)
    monkeypatch.setattr(AuditTrail, "_head", lambda self, day, shard: audit.Link(0, "stale"))
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
        Key={k: {"S": v} for k, v in keys.audit_head_key(day, SHARD).items()},
    )
    [record] = AuditTrail().append([_entry(99)], datetime(2020, 1, 5, 12, tzinfo=UTC))
    assert record.sequence == 4
    assert [n for n, _ in _chain(day)] == [1, 2, 3, 4]
    assert audit.verify_day(day, AuditTrail().day(day)).intact


def test_an_event_dispatched_again_is_recorded_once(
    api: Api, pump: QueuePump, alice: SignedIn, today: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process recorded and sent the outbox, then died before clearing it: the sweeper
    dispatches it all again a minute later, and the chain keeps one record of each event."""
    from chalicelib.routing.sweeper import sweep_pending
    from chalicelib.store.requests import RequestRepository

    start = clock.today()

    def dies(self: RequestRepository, *args: object) -> bool:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "gone"}}, "Update")

    monkeypatch.setattr(RequestRepository, "clear_outbox", dies)
    request_id = file_justificatif(api, alice, today)
    pump.drain()  # the router and the service, each dispatching, none clearing
    monkeypatch.undo()
    recorded = [r["action"] for r in _records(_days(start), request_id)]
    assert recorded == ["RequestFiled", "RequestRouted", "RequestAcknowledged"]
    assert sweep_pending(datetime.now(UTC) + timedelta(minutes=2)) >= 1  # sent again
    assert [r["action"] for r in _records(_days(start), request_id)] == recorded
    pump.drain()


def test_an_edited_record_fails_the_check_at_that_record(local_stack: LocalStack) -> None:
    day = _chain_on(date(2020, 1, 3), 5)
    assert audit_verify.main(["--day", day], local_stack) == 0
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key=_key(day, 3),
        UpdateExpression="SET #status = :s",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":s": {"S": "withdrawn"}},
    )
    [verdict] = audit.verify_day(day, AuditTrail().day(day)).broken
    assert (verdict.shard, verdict.broken_at, verdict.reason) == (SHARD, 3, Break.content)
    assert audit_verify.main(["--day", day], local_stack) == 1


def test_a_record_put_again_with_a_shorter_ttl_fails_the_check(local_stack: LocalStack) -> None:
    """A writer's role may put a record again (the chain says if its content changed), but the
    TTL sits outside the hash: the same record with a TTL of the past verified intact, and
    DynamoDB would then delete it, past the roles' denial of DeleteItem."""
    day = _chain_on(date(2020, 1, 5), 3)
    table = local_stack.client("dynamodb")
    name = local_stack.outputs["TableName"]
    item = table.get_item(TableName=name, Key=_key(day, 2), ConsistentRead=True)["Item"]
    table.put_item(TableName=name, Item={**item, "expires_at": {"N": "1"}})
    [verdict] = audit.verify_day(day, AuditTrail().day(day)).broken
    assert (verdict.shard, verdict.broken_at, verdict.reason) == (SHARD, 2, Break.retention)
    assert audit_verify.main(["--day", day], local_stack) == 1


def test_a_deleted_record_is_a_gap(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    day = _chain_on(date(2020, 1, 4), 5)
    local_stack.client("dynamodb").delete_item(
        TableName=local_stack.outputs["TableName"],
        Key=_key(day, 4),
    )
    capsys.readouterr()
    assert audit_verify.main(["--day", day], local_stack) == 1
    assert capsys.readouterr().out.strip() == (
        f"BROKEN {day} chain {SHARD:02d} at sequence 4: gap: a record is missing"
    )


def test_records_deleted_from_a_chains_end_are_named_by_its_head(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    day = _chain_on(date(2020, 1, 10), 5)
    for sequence in (4, 5):
        local_stack.client("dynamodb").delete_item(
            TableName=local_stack.outputs["TableName"], Key=_key(day, sequence)
        )
    capsys.readouterr()
    assert audit_verify.main(["--day", day], local_stack) == 1
    assert capsys.readouterr().out.strip() == (
        f"BROKEN {day} chain {SHARD:02d} at sequence 4: end mismatch: "
        "the chain's head names a record the chain does not hold"
    )


def test_a_day_written_before_the_chains_were_sharded_is_still_checked(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its one chain, `AUDIT#<day>`, as the first design wrote it (no chain in the records'
    content), is read and verified beside the day's sharded ones."""
    day = "2020-01-11"
    table = local_stack.outputs["TableName"]
    dynamodb = local_stack.client("dynamodb")
    for record in audit.seal_all([_entry(n) for n in range(3)], day, None, "t"):
        content = record.content()
        del content["day"], content["sequence"]
        item = {**keys.audit_key(day, record.sequence), **content, "hash": record.hash}
        dynamodb.put_item(TableName=table, Item={k: {"S": str(v)} for k, v in item.items()})
    _chain_on(date(2020, 1, 11), 2)
    capsys.readouterr()
    assert audit_verify.main(["--day", day], local_stack) == 0
    assert capsys.readouterr().out.strip() == (
        f"OK {day}: 5 records in 2 chains, every chain intact"
    )
    dynamodb.delete_item(TableName=table, Key=_key(day, 2, shard=None))
    assert audit_verify.main(["--day", day], local_stack) == 1
    assert (
        capsys.readouterr().out.strip() == f"BROKEN {day} at sequence 2: gap: a record is missing"
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

    changes = [r for r in demo if "actor" in r]  # a request's change (an access has none)
    target = changes[len(changes) // 2]
    key = _key(target["day"], target["sequence"], target["shard"])
    table = local_stack.outputs["TableName"]
    dynamodb = local_stack.client("dynamodb")
    restored.append(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
    forged = "member" if target["actor"] != "member" else "service"  # another actor than its
    dynamodb.update_item(
        TableName=table, Key=key, UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": {"S": forged}},
    )  # fmt: skip
    assert audit_verify.main(["--day", target["day"]], local_stack) == 1
    assert capsys.readouterr().out.strip() == (
        f"BROKEN {target['day']} chain {target['shard']:02d} at sequence {target['sequence']}: "
        "content hash mismatch"
    )


def test_the_daily_watch_says_a_broken_chain_in_its_metric(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.routing import sla

    for other in ("watch_unanswered", "remind_before_deadlines", "watch_deadlines"):
        monkeypatch.setattr(sla, other, lambda *args: 0)  # this day only: nothing else moves
    day = _chain_on(date(2020, 1, 6), 3)
    next_morning = datetime(2020, 1, 7, 6, tzinfo=UTC)
    capsys.readouterr()
    sla.watch(next_morning)
    assert _metric(capsys.readouterr().out, "AuditChainBroken") == 0
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key=_key(day, 2),
        UpdateExpression="SET previous_hash = :h",
        ExpressionAttributeValues={":h": {"S": "0" * 64}},
    )
    sla.watch(next_morning)
    out = capsys.readouterr().out
    assert _metric(out, "AuditChainBroken") == 1
    assert f"audit chain {day}#{SHARD:02d} broken at 2" in out


def test_the_daily_watch_checks_the_audit_chain_whatever_purges_are_due(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch (30 s) carried out every purge due before its audit check: a national day's
    purges take hours, the watch timed out every morning and never checked yesterday's chain.
    The purges are their own function's now (`retention_purge`): one due today, which would
    take longer than the watch may run, neither holds the check back nor is touched."""
    from chalicelib.routing import sla
    from chalicelib.services import retention as purging

    for other in ("watch_unanswered", "remind_before_deadlines", "watch_deadlines"):
        monkeypatch.setattr(sla, other, lambda *args: 0)  # this day only: nothing else moves

    def out_of_time(*args: Any) -> None:
        raise TimeoutError("Task timed out after 30.00 seconds")  # as Lambda ends the watch

    monkeypatch.setattr(purging, "carry_out", out_of_time)
    _chain_on(date(2020, 1, 13), 2)
    next_morning = datetime(2020, 1, 14, 6, tzinfo=UTC)
    dynamodb, table = local_stack.client("dynamodb"), local_stack.outputs["TableName"]
    entry = keys.purge_key("2020-01-14", "0099000001", "01HPURGEWATCH00000000000001", "letters")
    dynamodb.put_item(TableName=table, Item={
        **{k: {"S": v} for k, v in entry.items()}, "entity": {"S": "purge"},
        "member_id": {"S": "0099000001"}, "request_id": {"S": "01HPURGEWATCH00000000000001"},
        "what": {"S": "letters"}, "prefixes": {"L": [{"S": "documents/0099000001/2020-01/x.pdf"}]},
    })  # fmt: skip
    progress = {k: {"S": v} for k, v in keys.purge_progress_key().items()}
    dynamodb.put_item(TableName=table, Item={**progress, "day": {"S": "2020-01-13"}})
    capsys.readouterr()
    try:
        sla.watch(next_morning)
        still = dynamodb.get_item(TableName=table, Key={k: {"S": v} for k, v in entry.items()})
        through = dynamodb.get_item(TableName=table, Key=progress)["Item"]["day"]["S"]
    finally:
        dynamodb.delete_item(TableName=table, Key=progress)
        dynamodb.delete_item(TableName=table, Key={k: {"S": v} for k, v in entry.items()})
    assert _metric(capsys.readouterr().out, "AuditChainBroken") == 0  # checked: intact
    assert "done_at" not in still["Item"] and through == "2020-01-13"  # the purge's to do


def _metric(out: str, name: str) -> float:
    """The value of the one EMF line that carries `name`."""
    [value] = [json.loads(line)[name] for line in out.splitlines() if f'"{name}"' in line]
    return float(value[0] if isinstance(value, list) else value)
