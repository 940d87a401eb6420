"""The use cases on the in-memory unit of work: filing, routing, serving, deciding, sweeping.

No moto here: these tests run the service layer alone, as cosmicpython's
`tests/unit/test_handlers.py` does; the API and end-to-end suites run the same functions on the
real adapters.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import catalog, clock
from chalicelib.domain.errors import Conflict, ServiceUnavailable, ValidationFailed
from chalicelib.domain.requests import DueLetter, RequestPointer
from chalicelib.domain.states import Outcome, Status
from chalicelib.domain.uploads import UploadRequest
from chalicelib.services import decisions, dialogue, filing, following, serving, sweeping
from chalicelib.store import keys
from chalicelib.store.queues import INTAKE, service_queue
from infra import seed
from tests.unit.fakes import FakeUnitOfWork

PDF = b"%PDF-1.4\n% a scan\n%%EOF\n"
# 2026-11-10 09:00 in Paris: every date below is relative to it, none to the real today.
NOW = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
MEMBER = "U000000001"
ME, SPOUSE, LEA, HUGO = (f"{MEMBER}-0{n}" for n in range(1, 5))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    member, beneficiaries = seed.alice(NOW.date(), MEMBER)
    fake.members.put(member)
    for beneficiary in beneficiaries:
        fake.members.put_beneficiary(MEMBER, beneficiary)
    return fake


def _upload(uow: FakeUnitOfWork, body: bytes = PDF, content_type: str = "application/pdf") -> str:
    wanted = UploadRequest(filename="facture.pdf", content_type=content_type, size=len(body))
    ticket = filing.create_upload(uow, MEMBER, wanted, NOW - timedelta(minutes=2))
    uow.files.put(ticket["fields"]["key"], body, content_type)
    return str(ticket["upload_id"])


def _file(uow: FakeUnitOfWork, body: dict[str, Any], key: str | None = None) -> str:
    full = {"beneficiary_ids": [ME], **body}
    return filing.file_request(uow, MEMBER, full, key, NOW).request_id


def _deliver(uow: FakeUnitOfWork, at: datetime = NOW) -> None:
    """What the queue handlers would do with every message sent so far."""
    for pointer, entry in uow.queues.take_delivered(INTAKE):
        serving.route(uow, pointer, at, delivered=entry)
    for service in catalog.Service:
        for pointer, entry in uow.queues.take_delivered(service_queue(service.value)):
            serving.serve(uow, pointer, at, delivered=entry)


def _issued(uow: FakeUnitOfWork, letter: DueLetter) -> bytes:
    """The PDF of a letter a decision owed, as stored once rendered."""
    return uow.documents.pdf(uow.documents.get(MEMBER, letter.document_id))


def _justificatif(uow: FakeUnitOfWork) -> dict[str, Any]:
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    return {"type": "sante.justificatif", "data": data, "upload_ids": [_upload(uow)]}


def test_a_filed_request_is_stored_its_files_moved_and_sent_to_intake(
    uow: FakeUnitOfWork, capsys: pytest.CaptureFixture[str]
) -> None:
    body = _justificatif(uow)
    upload_id = body["upload_ids"][0]
    request_id = _file(uow, body)
    assert "RequestsFiled" not in capsys.readouterr().out  # the router counts it, once

    record = uow.requests.get(MEMBER, request_id)
    assert (record.status, record.service, record.month) == (
        Status.in_progress,
        "remboursements",
        "2026-11",
    )
    copy = keys.attachment_object(MEMBER, "2026-11", request_id, upload_id)
    assert uow.files.objects[copy][0] == PDF
    # Its pointer to intake, naming its outbox entry; the rest is the router's to dispatch,
    # and the staged upload the router's to remove.
    assert keys.staged_object(MEMBER, upload_id) in uow.files.objects
    [(_, pointer)] = uow.queues.sent
    [intake, filed] = uow.requests.outbox(MEMBER, request_id)
    assert (pointer.request_id, uow.queues.entries) == (request_id, [intake["id"]])
    assert uow.bus.events == [] and uow.audit.chains == {}
    assert list(uow.requests.pending) == [(MEMBER, request_id)]

    [(delivered, entry)] = uow.queues.take_delivered(INTAKE)
    serving.route(uow, delivered, NOW, delivered=entry)
    assert uow.audit.actions(request_id) == ["RequestFiled", "RequestRouted"]
    assert uow.bus.names(request_id) == ["RequestFiled", "RequestRouted"]
    assert [e["detail"]["event_id"] for e in uow.bus.events][:1] == [filed["id"]]
    # The service's pointer, and no second one to intake: the entry it came for is cleared.
    assert [queue for queue, _ in uow.queues.sent] == ["svc-remboursements"]
    assert uow.requests.pending == {}
    assert keys.staged_object(MEMBER, upload_id) not in uow.files.objects
    serving.route(uow, delivered, NOW, delivered=entry)  # a redelivery
    counted = [line for line in capsys.readouterr().out.splitlines() if "RequestsFiled" in line]
    assert len(counted) == 1 and '"type":"sante.justificatif"' in counted[0]


def test_the_same_key_and_body_answer_the_first_request_another_body_conflicts(
    uow: FakeUnitOfWork,
) -> None:
    body = {"type": "vie.autre", "description": "Mon tableau de garanties, s'il vous plaît."}
    first = filing.file_request(uow, MEMBER, {"beneficiary_ids": [ME], **body}, "k-1", NOW)
    again = filing.file_request(uow, MEMBER, {"beneficiary_ids": [ME], **body}, "k-1", NOW)
    assert (again.request_id, again.replayed) == (first.request_id, True)
    assert again.detail == first.detail
    assert len(uow.requests.records) == 1

    other = {**body, "description": "Autre chose."}
    with pytest.raises(Conflict):
        filing.file_request(uow, MEMBER, {"beneficiary_ids": [ME], **other}, "k-1", NOW)


def test_a_file_that_is_not_what_it_says_is_refused_and_nothing_is_written(
    uow: FakeUnitOfWork,
) -> None:
    upload_id = _upload(uow, body=b"MZ\x90\x00 not a pdf")
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    with pytest.raises(ValidationFailed) as refused:
        _file(uow, {"type": "sante.justificatif", "data": data, "upload_ids": [upload_id]})
    assert refused.value.fields[0].field == "upload_ids[0]"
    assert uow.requests.records == {}
    assert uow.queues.sent == []


def test_files_of_exactly_5_mb_and_15_mb_in_all_are_taken_a_byte_more_is_not(
    uow: FakeUnitOfWork,
) -> None:
    """The limits API.md states are « at most »: the limit itself is allowed."""
    five_mb = PDF + bytes(5 * 1024 * 1024 - len(PDF))
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    body = {"type": "sante.justificatif", "data": data}
    full = [_upload(uow, five_mb) for _ in range(3)]
    _file(uow, {**body, "upload_ids": full})
    over = [_upload(uow, five_mb), _upload(uow, five_mb), _upload(uow, five_mb[:-7])]
    over.append(_upload(uow, PDF[:8]))  # 15 MB and one byte in all
    with pytest.raises(ValidationFailed) as refused:
        _file(uow, {**body, "upload_ids": over})
    assert [f.field for f in refused.value.fields] == ["upload_ids"]


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"GIF87a", "image/gif"),  # the older GIF, as old scanners still write it
        (b"GIF89a", "image/gif"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
    ],
)
def test_each_accepted_type_is_known_by_its_first_bytes(
    uow: FakeUnitOfWork, head: bytes, content_type: str
) -> None:
    upload_id = _upload(uow, head + bytes(100), content_type)
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    _file(uow, {"type": "sante.justificatif", "data": data, "upload_ids": [upload_id]})


def test_one_bad_file_among_good_ones_refuses_all_and_leaves_no_copy(uow: FakeUnitOfWork) -> None:
    """Every file is read and checked before any is copied: a bad one among good ones is a 422
    naming it, nothing is copied, and the staged files stay, for the member to send again."""
    good, bad = _upload(uow), _upload(uow, body=b"MZ\x90\x00 not a pdf")
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    copied: list[str] = []
    real_copy = uow.files.copy

    def counted(source: str, destination: str, *args: Any) -> None:
        copied.append(destination)
        real_copy(source, destination, *args)

    uow.files.copy = counted  # type: ignore[method-assign]
    with pytest.raises(ValidationFailed) as refused:
        _file(uow, {"type": "sante.justificatif", "data": data, "upload_ids": [good, bad]})
    assert [f.field for f in refused.value.fields] == ["upload_ids[1]"]
    assert copied == []
    assert not [k for k in uow.files.objects if k.startswith("requests/")]
    assert keys.staged_object(MEMBER, good) in uow.files.objects
    assert uow.requests.records == {}

    # An upload refused on its record alone (unknown): no file is copied at all.
    copied.clear()
    with pytest.raises(ValidationFailed) as refused:
        _file(uow, {"type": "sante.justificatif", "data": data,
                    "upload_ids": [good, "01JD0000000000000000000000"]})  # fmt: skip
    assert [f.field for f in refused.value.fields] == ["upload_ids[1]"]
    assert copied == []


def test_a_failure_while_the_files_are_read_or_copied_leaves_no_copy(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are read while the checks are, and copied while the record is built. S3
    failing to read one file copies none; failing to copy one (after the other was copied), or
    the record failing to build, ends with no copy under a request that does not exist. The
    error is raised, and the staged files kept."""
    first, second = _upload(uow), _upload(uow)
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    body = {"type": "sante.justificatif", "data": data, "upload_ids": [first, second]}
    real_inspect, real_copy = uow.files.inspect, uow.files.copy
    copied: list[str] = []

    def counted(source: str, destination: str, *args: Any) -> None:
        copied.append(destination)
        real_copy(source, destination, *args)

    def s3_unreadable_for_the_second(key: str, limit: int) -> Any:
        if key == keys.staged_object(MEMBER, second):
            raise ConnectionError("S3 unreachable")
        return real_inspect(key, limit)

    monkeypatch.setattr(uow.files, "copy", counted)
    monkeypatch.setattr(uow.files, "inspect", s3_unreadable_for_the_second)
    with pytest.raises(ConnectionError):
        _file(uow, body)
    assert copied == []
    monkeypatch.setattr(uow.files, "inspect", real_inspect)

    def s3_down_for_the_second(source: str, destination: str, *args: Any) -> None:
        if source == keys.staged_object(MEMBER, second):
            time.sleep(0.02)  # the first one's copy is made by then
            raise ConnectionError("S3 unreachable")
        counted(source, destination, *args)

    monkeypatch.setattr(uow.files, "copy", s3_down_for_the_second)
    with pytest.raises(ConnectionError):
        _file(uow, body)
    assert len(copied) == 1  # the first was copied, then removed
    assert not [k for k in uow.files.objects if k.startswith("requests/")]
    assert uow.requests.records == {}
    monkeypatch.setattr(uow.files, "copy", real_copy)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the record cannot be built")

    monkeypatch.setattr(filing, "new_record", broken)
    with pytest.raises(RuntimeError):
        _file(uow, body)
    assert not [k for k in uow.files.objects if k.startswith("requests/")]
    assert {keys.staged_object(MEMBER, u) for u in (first, second)} <= set(uow.files.objects)
    assert uow.requests.records == {}


@pytest.mark.parametrize("use_case", ["filing", "reply"])
def test_the_files_are_read_while_the_checks_are(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch, use_case: str
) -> None:
    """A staged file's key needs only the member and the upload id: both files' reads are under
    way while the checks' one read is, each waiting here for the other two. Read one after the
    other, the first would wait alone until the barrier breaks."""
    request_id = _file(uow, {"type": "vie.autre", "description": "Mon tableau de garanties."})
    first, second = _upload(uow), _upload(uow)
    together = threading.Barrier(3, timeout=5)
    real_inspect, real_checks = uow.files.inspect, uow.requests.checks

    def inspect(key: str, limit: int) -> Any:
        together.wait()
        return real_inspect(key, limit)

    def checks(*args: Any, **kwargs: Any) -> Any:
        together.wait()
        return real_checks(*args, **kwargs)

    monkeypatch.setattr(uow.files, "inspect", inspect)
    monkeypatch.setattr(uow.requests, "checks", checks)
    if use_case == "filing":
        data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
        _file(uow, {"type": "sante.justificatif", "data": data, "upload_ids": [first, second]})
    else:
        body = {"message": "Les deux factures.", "upload_ids": [first, second]}
        answered = dialogue.reply(uow, MEMBER, request_id, body, None, NOW)
        assert [a["attachment_id"] for a in answered.detail["attachments"]] == [first, second]


def test_the_body_is_validated_while_its_reads_are(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads start from the ids as sent: the body's validation (on the pool), both files'
    reads and the checks' read are under way together, each waiting here for the other three.
    Validated before the reads start, the validation would wait alone until the barrier breaks."""
    first, second = _upload(uow), _upload(uow)
    together = threading.Barrier(4, timeout=5)
    real_parse, real_inspect, real_checks = (
        filing.parse_new_request, uow.files.inspect, uow.requests.checks
    )  # fmt: skip

    def waiting(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            together.wait()
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(filing, "parse_new_request", waiting(real_parse))
    monkeypatch.setattr(uow.files, "inspect", waiting(real_inspect))
    monkeypatch.setattr(uow.requests, "checks", waiting(real_checks))
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    request_id = _file(
        uow, {"type": "sante.justificatif", "data": data, "upload_ids": [first, second]}
    )
    record = uow.requests.get(MEMBER, request_id)
    assert [a.attachment_id for a in record.attachments] == [first, second]


def test_ids_the_model_reads_otherwise_than_sent_are_read_again_as_validated(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload id sent with spaces around it is not read at first (`named_ids` takes only
    plain ids); the model strips it, and the reads are made again with the ids it read."""
    upload_id = _upload(uow)
    real_checks = uow.requests.checks
    asked: list[tuple[list[str], list[str]]] = []

    def checks(
        member_id: str, limit: Any, beneficiary_ids: Any, upload_ids: Any, *rest: Any, **more: Any
    ) -> Any:
        asked.append((list(beneficiary_ids), list(upload_ids)))
        return real_checks(member_id, limit, beneficiary_ids, upload_ids, *rest, **more)

    monkeypatch.setattr(uow.requests, "checks", checks)
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    request_id = _file(
        uow, {"type": "sante.justificatif", "data": data, "upload_ids": [f" {upload_id.lower()} "]}
    )
    assert asked == [([ME], []), ([ME], [upload_id])]
    assert [a.attachment_id for a in uow.requests.get(MEMBER, request_id).attachments] == [
        upload_id
    ]
    # Sent plainly (capitals or not), the first reads are the only ones.
    asked.clear()
    other = _upload(uow)
    _file(uow, {"type": "sante.justificatif", "data": data, "upload_ids": [other.lower()]})
    assert asked == [([ME], [other])]


HOSPITAL = {
    "establishment": "Hôpital Saint-Antoine",
    "finess": "750100125",
    "admission_date": "2026-11-20",
    "stay_type": "ambulatoire",
}


def test_a_refused_body_is_answered_as_refused_even_when_its_reads_fail(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads started before the body was validated: their failure is the answer only for a
    body the model takes (a 422 stays a 422, whatever AWS does meanwhile)."""

    def unavailable(*_: Any, **__: Any) -> Any:
        raise ServiceUnavailable("Service momentanément surchargé, réessayez.")

    monkeypatch.setattr(uow.requests, "checks", unavailable)
    wrong = {**HOSPITAL, "admission_date": "2001-01-01"}
    with pytest.raises(ValidationFailed) as refused:
        _file(uow, {"type": "sante.prise_en_charge_hospitaliere", "data": wrong})
    assert [f.field for f in refused.value.fields] == ["data.admission_date"]
    with pytest.raises(ServiceUnavailable):
        _file(uow, {"type": "sante.prise_en_charge_hospitaliere", "data": HOSPITAL})
    assert uow.requests.records == {}


def test_a_retry_answers_the_first_filing_even_if_its_body_no_longer_passes(
    uow: FakeUnitOfWork,
) -> None:
    """An admission 30 days ago passes at 23:50 in Paris and not at 00:10 the next day: a retry
    with the same key then answers what the first call filed, once."""
    before_midnight = datetime(2026, 11, 10, 22, 50, tzinfo=UTC)  # 23:50 in Paris
    admitted = clock.paris_date(before_midnight) - timedelta(days=30)
    data = {**HOSPITAL, "admission_date": admitted.isoformat()}
    body = {"beneficiary_ids": [ME], "type": "sante.prise_en_charge_hospitaliere", "data": data}
    first = filing.file_request(uow, MEMBER, body, "k-nuit", before_midnight)
    after_midnight = before_midnight + timedelta(minutes=20)
    with pytest.raises(ValidationFailed):
        filing.file_request(uow, MEMBER, body, None, after_midnight)
    again = filing.file_request(uow, MEMBER, body, "k-nuit", after_midnight)
    assert (again.request_id, again.replayed) == (first.request_id, True)
    assert len(uow.requests.records) == 1


def test_a_retry_whose_reads_fail_is_never_told_its_filed_request_was_refused(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same retry after midnight while the checks' read fails: its key is looked up alone
    and the first filing answered; that look-up failing too, the answer is the failure (a 503
    the client retries), never the 422 of a body whose request was filed."""
    before_midnight = datetime(2026, 11, 10, 22, 50, tzinfo=UTC)
    admitted = clock.paris_date(before_midnight) - timedelta(days=30)
    data = {**HOSPITAL, "admission_date": admitted.isoformat()}
    body = {"beneficiary_ids": [ME], "type": "sante.prise_en_charge_hospitaliere", "data": data}
    first = filing.file_request(uow, MEMBER, body, "k-nuit", before_midnight)
    after_midnight = before_midnight + timedelta(minutes=20)

    def unavailable(*_: Any, **__: Any) -> Any:
        raise ServiceUnavailable("Service momentanément surchargé, réessayez.")

    monkeypatch.setattr(uow.requests, "checks", unavailable)
    again = filing.file_request(uow, MEMBER, body, "k-nuit", after_midnight)
    assert (again.request_id, again.replayed) == (first.request_id, True)
    with pytest.raises(ValidationFailed):  # no key, or a key never used: refused
        filing.file_request(uow, MEMBER, body, "k-jamais", after_midnight)
    monkeypatch.setattr(uow.requests, "idempotency", unavailable)
    with pytest.raises(ServiceUnavailable):
        filing.file_request(uow, MEMBER, body, "k-nuit", after_midnight)
    assert len(uow.requests.records) == 1


@pytest.mark.parametrize("use_case", ["filing", "reply"])
def test_the_write_is_built_while_the_files_are_copied(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch, use_case: str
) -> None:
    """The write depends on no copy: both copies are under way while it is built, each waiting
    here for the other two. One after the other, the first would wait alone until the barrier
    breaks. The write is made only once both copies are."""
    request_id = _file(uow, {"type": "vie.autre", "description": "Mon tableau de garanties."})
    first, second = _upload(uow), _upload(uow)
    together = threading.Barrier(3, timeout=5)
    preparing = "prepare_create" if use_case == "filing" else "prepare_reply"
    real_copy, real_prepare = uow.files.copy, getattr(uow.requests, preparing)
    copied: list[str] = []

    def copy(source: str, destination: str, *args: Any) -> None:
        together.wait()
        real_copy(source, destination, *args)
        copied.append(destination)

    def prepare(*args: Any, **kwargs: Any) -> Any:
        together.wait()
        commit = real_prepare(*args, **kwargs)

        def after_the_copies() -> Any:
            assert len(copied) == 2
            return commit()

        return after_the_copies

    monkeypatch.setattr(uow.files, "copy", copy)
    monkeypatch.setattr(uow.requests, preparing, prepare)
    if use_case == "filing":
        data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
        body = {"beneficiary_ids": [ME], "type": "sante.justificatif", "data": data,
                "upload_ids": [first, second]}  # fmt: skip
        filed = filing.file_request(uow, MEMBER, body, None, NOW)
        request_id = filed.request_id
        # The answer is the detail, written as JSON while the files were copied.
        assert filed.written is not None and json.loads(filed.written) == filed.detail
    else:
        body = {"message": "Les deux factures.", "upload_ids": [first, second]}
        dialogue.reply(uow, MEMBER, request_id, body, None, NOW)
    assert sorted(copied) == sorted(
        keys.attachment_object(MEMBER, "2026-11", request_id, u) for u in (first, second)
    )
    record = uow.requests.get(MEMBER, request_id)
    assert [a.attachment_id for a in record.attachments] == [first, second]


def test_an_upload_used_between_check_and_write_is_refused_and_its_copy_removed(
    uow: FakeUnitOfWork,
) -> None:
    body = _justificatif(uow)
    upload_id = body["upload_ids"][0]
    upload = uow.uploads.records[(MEMBER, upload_id)]
    real_get_many = uow.uploads.get_many

    def racing(member_id: str, upload_ids: Any) -> Any:
        found = real_get_many(member_id, upload_ids)  # checked unused, then another request wins
        uow.uploads.records[(MEMBER, upload_id)] = upload.model_copy(update={"used_by": "OTHER"})
        return found

    uow.uploads.get_many = racing  # type: ignore[method-assign]
    with pytest.raises(ValidationFailed):
        _file(uow, body)
    assert not [k for k in uow.files.objects if k.startswith("requests/")]


def test_a_failed_write_leaves_no_copy_behind(uow: FakeUnitOfWork) -> None:
    body = _justificatif(uow)
    uow.requests.fail_creates = 1
    with pytest.raises(RuntimeError):
        _file(uow, body)
    assert not [k for k in uow.files.objects if k.startswith("requests/")]


def test_a_request_intake_never_got_is_swept_a_quarter_of_an_hour_later(
    uow: FakeUnitOfWork,
) -> None:
    """Its outbox was handed to the router: the sweeper leaves it the router's while intake may
    merely be busy, then sends it all (pointer, event, audit record)."""
    uow.queues.failing = True
    request_id = _file(uow, {"type": "sante.attestation_tiers_payant"})
    assert list(uow.requests.pending) == [(MEMBER, request_id)]

    uow.queues.failing = False
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=2)) == 0
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=14, seconds=50)) == 0
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=15, seconds=10)) == 1
    assert [p.request_id for _, p in uow.queues.sent] == [request_id]
    assert uow.bus.names(request_id) == ["RequestFiled"]
    assert uow.audit.actions(request_id) == ["RequestFiled"]
    assert sweeping.sweep_outbox(uow, NOW + timedelta(minutes=17)) == 0


def test_routing_twice_records_one_routing(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, _justificatif(uow))
    pointer = RequestPointer(request_id=request_id, member_id=MEMBER)
    serving.route(uow, pointer, NOW)
    serving.route(uow, pointer, NOW)
    labels = [h.label for h in uow.requests.get(MEMBER, request_id).history]
    assert labels.count("Transmise au Service Remboursements") == 1


def test_an_accepted_reimbursement_is_processed_with_its_letter(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    letter = decisions.decide(uow, record, Outcome.accepted, NOW, amount=Decimal("30.00"))

    done = uow.requests.get(MEMBER, request_id)
    assert (done.status, done.outcome) == (Status.processed, Outcome.accepted)
    assert [h.label for h in done.history] == [
        "Demande reçue",
        "Transmise au Service Remboursements",
        "Reçue par le Service Remboursements",
        "Demande acceptée",
    ]
    assert (letter.kind, letter.title) == ("remboursement", "Votre remboursement")
    assert [d.document_id for d in done.documents] == [letter.document_id]
    text = _text(_issued(uow, letter))
    assert "30,00" in text and "Alice Martin" in text


def test_a_refusal_needs_a_message_and_a_second_outcome_conflicts(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    with pytest.raises(ValidationFailed):
        decisions.decide(uow, record, Outcome.refused, NOW)
    decisions.decide(uow, record, Outcome.refused, NOW, message="Facture illisible.")
    with pytest.raises(Conflict):
        decisions.decide(
            uow, uow.requests.get(MEMBER, request_id), Outcome.accepted, NOW, amount=Decimal(1)
        )
    assert len(uow.documents.records) == 1


@pytest.mark.parametrize(
    ("outcome", "label"),
    [
        (Outcome.refused, "Demande refusée"),
        (Outcome.partially_accepted, "Demande acceptée en partie"),
    ],
)
def test_the_timeline_says_a_refusal_or_a_partial_acceptance_as_it_was_decided(
    uow: FakeUnitOfWork, outcome: Outcome, label: str
) -> None:
    """The member reads the decision in their history: a refusal never reads « acceptée »."""
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    amount = Decimal(5) if outcome is Outcome.partially_accepted else None  # a refusal pays none
    decisions.decide(uow, record, outcome, NOW, message="Facture illisible.", amount=amount)
    done = uow.requests.get(MEMBER, request_id)
    assert (done.outcome, done.history[-1].label) == (outcome, label)


def test_a_change_of_address_is_applied_by_itself(uow: FakeUnitOfWork) -> None:
    address = {"line1": "4 rue Oberkampf", "postal_code": "75011", "city": "Paris"}
    request_id = _file(uow, {"type": "vie.coordonnees", "data": {"postal_address": address}})
    _deliver(uow)
    _deliver(uow)  # a redelivery changes nothing

    record = uow.requests.get(MEMBER, request_id)
    assert (record.status, record.outcome) == (Status.processed, Outcome.accepted)
    assert record.history[-1].label == "Modification enregistrée"
    assert uow.members.get(MEMBER).postal_address.line1 == "4 rue Oberkampf"
    assert [d.kind for d in uow.documents.records.values()] == ["confirmation_modification"]


def _bank(uow: FakeUnitOfWork, iban: str, holder: str = "Alice Martin") -> str:
    data = {"iban": iban, "holder_name": holder}
    return _file(
        uow, {"type": "vie.coordonnees_bancaires", "data": data, "upload_ids": [_upload(uow)]}
    )


def test_an_iban_that_cannot_be_debited_is_refused_when_filed(uow: FakeUnitOfWork) -> None:
    for iban in ("FR7630006000011234567890188", "BR1800360305000010009795493C1"):
        with pytest.raises(ValidationFailed) as refused:
            _bank(uow, iban)
        assert refused.value.fields[0].field == "data.iban"
    assert uow.requests.records == {}


def test_usable_bank_details_wait_for_an_agent_and_are_applied_on_approval(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _bank(uow, "FR1420041010050500013M02606")
    _deliver(uow)
    waiting = uow.requests.get(MEMBER, request_id)
    assert waiting.status is Status.in_progress
    assert waiting.recall.data["iban"] == "FR** **** **** **** **** ***2 606"

    decisions.decide(uow, waiting, Outcome.accepted, NOW)
    account = uow.members.get(MEMBER).bank_account
    assert account is not None and account.iban == "FR1420041010050500013M02606"
    assert uow.members.held == {}  # the full IBAN is kept nowhere but the profile


def test_bank_details_held_but_unusable_are_refused_with_a_letter(uow: FakeUnitOfWork) -> None:
    """Filed before the filing check existed: the service refuses them by itself."""
    request_id = _bank(uow, "FR1420041010050500013M02606")
    uow.members.held[(MEMBER, request_id)] = "FR7630006000011234567890188"
    _deliver(uow)
    refused = uow.requests.get(MEMBER, request_id)
    assert (refused.status, refused.outcome) == (Status.processed, Outcome.refused)
    assert [d.kind for d in uow.documents.records.values()] == ["confirmation_modification"]
    assert uow.members.held == {}


def test_accepting_a_reimbursement_says_how_much_zero_included(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    for outcome in (Outcome.accepted, Outcome.partially_accepted):
        with pytest.raises(ValidationFailed) as refused:
            decisions.decide(uow, record, outcome, NOW, message="En partie.")
        assert refused.value.fields[0].field == "amount"
    letter = decisions.decide(uow, record, Outcome.accepted, NOW, amount=Decimal("0.00"))
    assert "0,00" in _text(_issued(uow, letter))


def test_an_accepted_birth_adds_the_child_to_the_contract(uow: FakeUnitOfWork) -> None:
    newcomer = {
        "first_name": "Noé",
        "last_name": "Martin",
        "birth_date": "2026-10-01",
        "relationship": "child",
    }
    data = {"event": "naissance", "event_date": "2026-10-01", "new_beneficiary": newcomer}
    body = {"type": "vie.situation_familiale", "data": data, "upload_ids": [_upload(uow)]}
    request_id = _file(uow, body)
    _deliver(uow)
    decisions.decide(uow, uow.requests.get(MEMBER, request_id), Outcome.accepted, NOW)
    names = [b.first_name for b in uow.members.beneficiaries(MEMBER)]
    assert names[-1] == "Noé"


def test_a_complaint_is_acknowledged_with_its_deadlines_and_watched(uow: FakeUnitOfWork) -> None:
    data = {"subject": "remboursements", "detail": "montant_conteste"}
    body = {"type": "contact.demande", "complaint": True, "data": data, "description": "Erreur."}
    request_id = _file(uow, body)
    _deliver(uow)

    record = uow.requests.get(MEMBER, request_id)
    assert record.service == "reclamations"
    assert record.due_at == "2027-01-10T22:59:59.000Z"  # 10 January 2027, end of day in Paris
    assert [d.kind for d in uow.documents.records.values()] == ["accuse_reception_reclamation"]
    assert sweeping.watch_deadlines(uow, NOW) == 0
    # Acknowledged: its acknowledgement's deadline, 23 November, puts it at risk no more.
    assert sweeping.watch_deadlines(uow, datetime(2026, 11, 20, 8, tzinfo=UTC)) == 0
    assert sweeping.watch_deadlines(uow, datetime(2027, 1, 5, 8, tzinfo=UTC)) == 1
    assert uow.requests.extra[(MEMBER, request_id)]["priority"] == "0"


def test_a_handler_that_gave_up_puts_the_request_before_an_agent_once(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _file(uow, _justificatif(uow))
    _deliver(uow)
    pointer = RequestPointer(request_id=request_id, member_id=MEMBER)
    assert serving.flag_for_agents(uow, pointer, NOW) is True
    assert serving.flag_for_agents(uow, pointer, NOW) is False
    records, _ = following.work_list(uow, "remboursements", "open", 10, None)
    assert records[0].needs_attention


def test_the_timeline_pages_by_month_newest_first(uow: FakeUnitOfWork) -> None:
    filed = []
    for months_ago in range(4):
        when = NOW - timedelta(days=31 * months_ago)
        body = {"beneficiary_ids": [ME], "type": "sante.attestation_tiers_payant"}
        filed.append(filing.file_request(uow, MEMBER, body, None, when).request_id)
    first = following.timeline(uow, MEMBER, month=None, before=None, limit=3)
    assert [m for m, _ in first.months] == ["2026-11", "2026-10", "2026-09"]
    assert first.last_month == "2026-09"
    rest = following.timeline(uow, MEMBER, month=None, before=first.last_month, limit=3)
    assert [m for m, _ in rest.months] == ["2026-08"] and rest.last_month is None


def test_the_documents_window_starts_at_midnight_in_paris(uow: FakeUnitOfWork) -> None:
    # 9 October 2026 00:30 in Paris is 8 October 22:30 UTC: inside "the last month" on
    # 9 November, whose window starts on 9 October in Paris.
    for at in (
        datetime(2026, 10, 8, 22, 30, tzinfo=UTC),
        datetime(2026, 10, 8, 21, 30, tzinfo=UTC),
    ):
        uow.documents.store(MEMBER, "reponse_demande", "Réponse", PDF, at)
    on = datetime(2026, 11, 9, 10, tzinfo=UTC)
    found = following.documents(uow, MEMBER, 1, on)
    assert [d.created_at for d in found] == ["2026-10-08T22:30:00.000Z"]


def _text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_clock_dates_are_paris_dates() -> None:
    from chalicelib.domain import clock

    assert clock.paris_date("2026-11-30T23:30:00.000Z") == date(2026, 12, 1)
    assert clock.paris_month(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"
    assert clock.add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert clock.end_of_day(date(2026, 7, 1)) == "2026-07-01T21:59:59.000Z"


def test_a_decision_letter_names_the_beneficiaries_it_concerns(uow: FakeUnitOfWork) -> None:
    data = {
        "establishment": "Hôpital Necker",
        "finess": "750100208",
        "admission_date": "2026-11-20",
        "stay_type": "ambulatoire",
    }
    body = {"type": "sante.prise_en_charge_hospitaliere", "data": data, "beneficiary_ids": [HUGO]}
    request_id = filing.file_request(uow, MEMBER, body, None, NOW).request_id
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    letter = decisions.decide(uow, record, Outcome.accepted, NOW, amount=Decimal("800.00"))
    text = _text(_issued(uow, letter))
    assert "Bénéficiaire" in text and "Hugo Martin" in text


def test_what_happens_at_half_past_midnight_in_paris_is_dated_that_day(
    uow: FakeUnitOfWork,
) -> None:
    # 31 December 2026 at 23:30 UTC is 1 January 2027 at 00:30 in Paris.
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    body = {"beneficiary_ids": [ME], "type": "sante.attestation_tiers_payant"}
    request_id = filing.file_request(uow, MEMBER, body, None, new_year).request_id
    _deliver(uow, new_year)
    [attestation] = uow.documents.records.values()
    text = _text(uow.documents.pdf(attestation))
    assert "01/01/2027" in text and "31/12/2027" in text  # valid for the new year
    assert uow.requests.get(MEMBER, request_id).month == "2027-01"

    data = {"subject": "remboursements", "detail": "montant_conteste"}
    complaint = {"beneficiary_ids": [ME], "type": "contact.demande", "complaint": True,
                 "data": data, "description": "Erreur."}  # fmt: skip
    complaint_id = filing.file_request(uow, MEMBER, complaint, None, new_year).request_id
    # Its deadlines count from 1 January, as filed and as acknowledged: 10 jours ouvrables,
    # and 2 months (not from the 31 December of UTC, whose 2 months end on 28 February).
    acknowledge_by = clock.end_of_day(date(2027, 1, 13))
    assert uow.requests.get(MEMBER, complaint_id).acknowledgement_due_at == acknowledge_by
    _deliver(uow, new_year)
    filed = uow.requests.get(MEMBER, complaint_id)
    assert filed.acknowledgement_due_at == acknowledge_by
    assert filed.due_at == clock.end_of_day(date(2027, 3, 1))
    acknowledgement = next(
        d for d in uow.documents.records.values() if d.kind == "accuse_reception_reclamation"
    )
    text = _text(uow.documents.pdf(acknowledgement))
    assert "1er\u00a0janvier 2027" in text and "31\u00a0décembre 2026" not in text

    # Monday 16 November 2026 at 00:30 in Paris, still Sunday in UTC: its 10 jours ouvrables
    # run from the Monday, as filed, before any handler runs.
    monday = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)
    stuck = filing.file_request(uow, MEMBER, complaint, None, monday).request_id
    due = uow.requests.get(MEMBER, stuck).acknowledgement_due_at
    assert due == clock.end_of_day(date(2026, 11, 27))


def test_a_complaint_stuck_before_its_handler_is_seen_at_risk(uow: FakeUnitOfWork) -> None:
    data = {"subject": "remboursements", "detail": "montant_conteste"}
    body = {"type": "contact.demande", "complaint": True, "data": data, "description": "Erreur."}
    request_id = _file(uow, body)  # filed, then no handler ever runs (a queue outage, a DLQ)
    record = uow.requests.get(MEMBER, request_id)
    # 10 jours ouvrables: 11 November is a public holiday, Saturdays count, Sundays do not.
    assert record.acknowledgement_due_at == "2026-11-23T22:59:59.000Z"
    assert sweeping.watch_deadlines(uow, NOW) == 0
    assert sweeping.watch_deadlines(uow, datetime(2026, 11, 16, 8, tzinfo=UTC)) == 0
    assert sweeping.watch_deadlines(uow, datetime(2026, 11, 17, 8, tzinfo=UTC)) == 1
    assert uow.requests.extra[(MEMBER, request_id)]["priority"] == "0"


def _family(uow: FakeUnitOfWork, data: dict[str, Any], who: str = ME) -> str:
    body = {"type": "vie.situation_familiale", "data": data, "beneficiary_ids": [who],
            "upload_ids": [_upload(uow)]}  # fmt: skip
    return filing.file_request(uow, MEMBER, body, None, NOW).request_id


@pytest.mark.parametrize(
    ("event", "relationship", "born", "field"),
    [
        ("naissance", "spouse", "2026-10-01", "data.new_beneficiary"),  # a birth brings a child
        ("naissance", "child", "2026-09-30", "data.new_beneficiary"),  # born on the event's day
        ("adoption", "child", "2026-10-02", "data.new_beneficiary"),  # born after the event
        ("mariage", "child", "1990-01-01", "data.new_beneficiary"),  # a marriage, a spouse
        ("divorce", "spouse", "1990-01-01", "data.new_beneficiary"),  # a divorce adds no one
    ],
)
def test_a_family_event_brings_only_the_newcomer_it_can(
    uow: FakeUnitOfWork, event: str, relationship: str, born: str, field: str
) -> None:
    newcomer = {"first_name": "Noé", "last_name": "Martin", "birth_date": born,
                "relationship": relationship}  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        _family(uow, {"event": event, "event_date": "2026-10-01", "new_beneficiary": newcomer})
    assert [f.field for f in refused.value.fields] == [field]


def test_a_divorce_concerns_the_spouse_and_ends_their_coverage_on_the_day(
    uow: FakeUnitOfWork,
) -> None:
    data = {"event": "divorce", "event_date": "2026-10-15"}
    with pytest.raises(ValidationFailed) as refused:
        _family(uow, data, who=HUGO)
    assert [f.field for f in refused.value.fields] == ["beneficiary_ids[0]"]
    request_id = _family(uow, data, who=SPOUSE)
    _deliver(uow)
    letter = decisions.decide(uow, uow.requests.get(MEMBER, request_id), Outcome.accepted, NOW)
    julien = next(b for b in uow.members.beneficiaries(MEMBER) if b.beneficiary_id == SPOUSE)
    assert julien.coverage_end == date(2026, 10, 15)
    text = _text(_issued(uow, letter)).replace("\u00a0", " ")
    # NOW is in November: the end is already past when the letter is written.
    assert "La couverture de Julien Martin par votre contrat a pris fin le 15 octobre 2026" in text


def test_a_birth_adds_the_child_covered_from_the_day_and_the_letter_says_so(
    uow: FakeUnitOfWork,
) -> None:
    newcomer = {"first_name": "Noé", "last_name": "Martin", "birth_date": "2026-10-01",
                "relationship": "child"}  # fmt: skip
    request_id = _family(
        uow, {"event": "naissance", "event_date": "2026-10-01", "new_beneficiary": newcomer}
    )
    _deliver(uow)
    letter = decisions.decide(uow, uow.requests.get(MEMBER, request_id), Outcome.accepted, NOW)
    noe = uow.members.beneficiaries(MEMBER)[-1]
    assert (noe.first_name, noe.coverage_start) == ("Noé", date(2026, 10, 1))
    text = _text(_issued(uow, letter)).replace("\u00a0", " ")
    assert "Noé Martin est couvert(e) par votre contrat à compter du 1er octobre 2026" in text


def _attestation(uow: FakeUnitOfWork, *who: str) -> tuple[str, str]:
    body = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": list(who)}
    request_id = filing.file_request(uow, MEMBER, body, None, NOW).request_id
    _deliver(uow)
    record = uow.requests.get(MEMBER, request_id)
    [document] = [d for d in uow.documents.records.values() if d.request_id == request_id]
    return str(record.outcome), _text(uow.documents.pdf(document))


def test_the_attestation_prints_the_beneficiaries_chosen_who_are_covered_today(
    uow: FakeUnitOfWork,
) -> None:
    outcome, text = _attestation(uow, HUGO)
    assert outcome == "accepted" and "Hugo" in text and "Julien" not in text
    ended = uow.members.contracts[MEMBER][SPOUSE].model_copy(
        update={"coverage_end": date(2026, 6, 30)}
    )
    uow.members.put_beneficiary(MEMBER, ended)
    outcome, text = _attestation(uow, ME, SPOUSE)
    assert outcome == "partially_accepted"
    assert "Alice" in text and "Julien" not in text
    outcome, text = _attestation(uow, SPOUSE)
    assert outcome == "refused" and "Aucun des bénéficiaires" in text.replace("\n", " ")


def test_no_attestation_after_the_contract_has_ended_but_a_letter_saying_so(
    uow: FakeUnitOfWork,
) -> None:
    member = uow.members.get(MEMBER)
    contract = member.contract.model_copy(update={"end_date": date(2026, 10, 31)})
    uow.members.put(member.model_copy(update={"contract": contract}))
    outcome, text = _attestation(uow, ME)
    assert outcome == "refused"
    assert "Votre contrat a pris fin le 31" in text.replace("\u00a0", " ")
    assert "Attestation de tiers-payant" not in text.split("Objet")[1][:60]


def test_an_accepted_extension_never_brings_a_childs_coverage_end_earlier(
    uow: FakeUnitOfWork,
) -> None:
    """Two extensions filed before either was decided: the later end stands, whichever is
    decided last, and the letter names the end that stands."""
    from chalicelib.domain.effects import Accepted, extend_child_coverage

    def accept(until: date) -> list[Any]:
        accepted = Accepted(MEMBER, "R", {"situation": "etudiant", "until": until.isoformat()},
                            [LEA])  # fmt: skip
        return list(extend_child_coverage(accepted, uow.members))

    def lea_end() -> date | None:
        return uow.members.contracts[MEMBER][LEA].coverage_end

    assert lea_end() == date(NOW.year, 12, 31)  # the seed
    later, earlier = date(NOW.year + 1, 6, 30), date(NOW.year + 1, 3, 31)
    [change] = accept(later)
    assert lea_end() == later and change.ends_on == later and change.extended
    [change] = accept(earlier)  # decided after the later one
    assert lea_end() == later and change.ends_on == later
    accept(date(NOW.year, 12, 1))  # before even the seed's end
    assert lea_end() == later
