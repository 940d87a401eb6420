"""A member's limits (API.md, "Limits") on the in-memory unit of work: 20 unused uploads alive,
30 démarches and 50 replies a Paris day; beyond, 429 with when the limit frees up. A replay or
a refused write counts nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, TooManyRequests, ValidationFailed
from chalicelib.domain.limits import MemberLimits
from chalicelib.domain.uploads import UploadRequest
from chalicelib.services import dialogue, filing
from chalicelib.store.requests import FilingChecks
from chalicelib.store.uploads import UPLOAD_RECORD_TTL
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_use_cases import ME, MEMBER, NOW, PDF, _justificatif, _upload, uow

__all__ = ["uow"]  # the fixture, shared

# NOW is 09:00 in Paris on 10 November 2026: the day ends 15 hours later.
UNTIL_MIDNIGHT = 15 * 3600


def _autre(n: int = 0) -> dict[str, Any]:
    return {"type": "vie.autre", "beneficiary_ids": [ME], "description": f"Question n° {n}."}


def _file(uow: FakeUnitOfWork, n: int, at: datetime = NOW, key: str | None = None) -> str:
    return filing.file_request(uow, MEMBER, _autre(n), key, at).request_id


def test_the_thirty_first_demarche_of_the_day_is_refused_until_midnight_in_paris(
    uow: FakeUnitOfWork,
) -> None:
    for n in range(30):
        _file(uow, n)
    with pytest.raises(TooManyRequests) as refused:
        _file(uow, 30)
    assert (refused.value.status, refused.value.code) == (429, "too_many_requests")
    assert refused.value.retry_after_seconds == UNTIL_MIDNIGHT
    assert "30 démarches" in refused.value.message
    assert len(uow.requests.records) == 30
    assert len(uow.queues.sent) == 30

    # Midnight in Paris is 23:00 UTC in November: a new day, a new count.
    midnight = datetime(2026, 11, 10, 23, 0, tzinfo=UTC)
    with pytest.raises(TooManyRequests) as still:
        _file(uow, 31, midnight - timedelta(minutes=30))
    assert still.value.retry_after_seconds == 30 * 60
    _file(uow, 31, midnight)
    assert len(uow.requests.records) == 31


def test_replays_and_refused_demarches_count_nothing(uow: FakeUnitOfWork) -> None:
    for n in range(28):
        _file(uow, n)
    with pytest.raises(ValidationFailed):  # refused: not counted
        filing.file_request(uow, MEMBER, {**_autre(), "beneficiary_ids": ["someone"]}, None, NOW)
    first = _file(uow, 28, key="k-28")
    again = filing.file_request(uow, MEMBER, _autre(28), "k-28", NOW)
    assert (again.request_id, again.replayed) == (first, True)
    _file(uow, 29)  # the 30th: the replay did not count

    with pytest.raises(TooManyRequests):
        _file(uow, 30)
    # At the limit, a replay is still answered as the first answer; another body conflicts.
    assert filing.file_request(uow, MEMBER, _autre(28), "k-28", NOW).request_id == first
    with pytest.raises(Conflict):
        filing.file_request(uow, MEMBER, _autre(99), "k-28", NOW)


def _count_copies(uow: FakeUnitOfWork) -> list[str]:
    """Where files are copied from now on: a file copied then removed is seen too."""
    copied: list[str] = []
    copy = uow.files.copy

    def counted_copy(source: str, destination: str, *args: Any) -> None:
        copied.append(destination)
        copy(source, destination, *args)

    uow.files.copy = counted_copy  # type: ignore[method-assign]
    return copied


def test_a_full_day_refuses_before_any_file_is_copied(uow: FakeUnitOfWork) -> None:
    for n in range(30):
        _file(uow, n)
    body = {**_justificatif(uow), "beneficiary_ids": [ME]}
    upload_id = body["upload_ids"][0]
    objects = dict(uow.files.objects)
    copied = _count_copies(uow)
    with pytest.raises(TooManyRequests):
        filing.file_request(uow, MEMBER, body, None, NOW)
    # Not copied then removed (the write's own condition would refuse it too): never copied.
    assert copied == []
    assert uow.files.objects == objects
    assert uow.uploads.records[(MEMBER, upload_id)].used_by is None  # still the member's to use


def test_the_limit_holds_in_the_write_itself(uow: FakeUnitOfWork) -> None:
    """Two calls that both saw room: the write's condition refuses the one too many, and the
    files it copied go."""
    for n in range(29):
        _file(uow, n)
    looked = uow.requests.checks

    def saw_room(*args: Any, **kwargs: Any) -> FilingChecks:
        return replace(looked(*args, **kwargs), count=0)  # the early look saw room

    uow.requests.checks = saw_room  # type: ignore[method-assign]
    _file(uow, 29)
    body = {**_justificatif(uow), "beneficiary_ids": [ME]}
    objects = set(uow.files.objects)
    with pytest.raises(TooManyRequests) as refused:
        filing.file_request(uow, MEMBER, body, None, NOW)
    assert refused.value.retry_after_seconds == UNTIL_MIDNIGHT
    assert len(uow.requests.records) == 30
    assert set(uow.files.objects) == objects  # the copies under the refused request removed


def test_the_fifty_first_reply_of_the_day_is_refused_and_a_replay_counts_nothing(
    uow: FakeUnitOfWork,
) -> None:
    request_id = _file(uow, 0)
    for n in range(48):
        dialogue.reply(uow, MEMBER, request_id, {"message": f"Précision {n}."}, None, NOW)
    first = dialogue.reply(uow, MEMBER, request_id, {"message": "La bonne."}, "r-1", NOW)
    again = dialogue.reply(uow, MEMBER, request_id, {"message": "La bonne."}, "r-1", NOW)
    assert again.replayed
    dialogue.reply(uow, MEMBER, request_id, {"message": "La 50e."}, None, NOW)
    assert len(uow.requests.get(MEMBER, request_id).messages) == 50

    with pytest.raises(TooManyRequests) as refused:
        dialogue.reply(uow, MEMBER, request_id, {"message": "Une de trop."}, None, NOW)
    assert refused.value.retry_after_seconds == UNTIL_MIDNIGHT
    assert "50 réponses" in refused.value.message
    assert len(uow.requests.get(MEMBER, request_id).messages) == 50
    replayed = dialogue.reply(uow, MEMBER, request_id, {"message": "La bonne."}, "r-1", NOW)
    assert (replayed.request_id, replayed.replayed) == (first.request_id, True)
    # Replies and démarches are counted apart.
    _file(uow, 1)


def test_a_full_day_of_replies_refuses_before_any_file_is_copied(uow: FakeUnitOfWork) -> None:
    request_id = _file(uow, 0)
    for n in range(50):
        dialogue.reply(uow, MEMBER, request_id, {"message": f"Précision {n}."}, None, NOW)
    upload_id = _upload(uow)
    copied = _count_copies(uow)
    with pytest.raises(TooManyRequests):
        body = {"message": "Une de trop.", "upload_ids": [upload_id]}
        dialogue.reply(uow, MEMBER, request_id, body, None, NOW)
    assert copied == []
    assert uow.uploads.records[(MEMBER, upload_id)].used_by is None


def _ask_upload(uow: FakeUnitOfWork, at: datetime, *, sent: bool = True) -> str:
    """A ticket asked for at `at`, its file sent (unless told)."""
    wanted = UploadRequest(filename="facture.pdf", content_type="application/pdf", size=len(PDF))
    ticket = filing.create_upload(uow, MEMBER, wanted, at)
    if sent:
        uow.files.put(ticket["fields"]["key"], PDF, "application/pdf")
    return str(ticket["upload_id"])


def test_the_twenty_first_unused_upload_waits_for_the_oldest_to_expire(
    uow: FakeUnitOfWork,
) -> None:
    oldest = NOW - timedelta(hours=3)
    _ask_upload(uow, oldest)
    for _ in range(19):
        _ask_upload(uow, NOW - timedelta(hours=1))
    with pytest.raises(TooManyRequests) as refused:
        _ask_upload(uow, NOW)
    assert refused.value.retry_after_seconds == int(UPLOAD_RECORD_TTL.total_seconds()) - 3 * 3600
    assert "20 fichiers" in refused.value.message
    assert len(uow.uploads.records) == 20

    # The oldest expires: its place is free.
    _ask_upload(uow, oldest + UPLOAD_RECORD_TTL)


def test_a_ticket_whose_form_expired_with_no_file_sent_frees_its_place(
    uow: FakeUnitOfWork,
) -> None:
    """Tickets asked for and never used (a send that failed on a weak connection asks for new
    ones each time) kept their place a whole day: 20 of them refused every attachment until
    the next day. Once its form has expired (15 minutes) with no file sent, a ticket can never
    be used, and its place is given back; one still in its form's time, or whose file was
    sent, keeps it."""
    asked = NOW - timedelta(minutes=20)
    never_sent = [_ask_upload(uow, asked, sent=False) for _ in range(10)]
    [_ask_upload(uow, asked) for _ in range(5)]  # sent: they wait for a request
    [_ask_upload(uow, NOW - timedelta(minutes=5), sent=False) for _ in range(5)]  # in time
    for _ in range(10):  # the places of the ten never sent
        _ask_upload(uow, NOW)
    assert {(MEMBER, u) for u in never_sent} <= uow.uploads.released
    with pytest.raises(TooManyRequests):
        _ask_upload(uow, NOW)


def test_at_the_limit_retry_after_says_when_a_never_sent_tickets_form_ends(
    uow: FakeUnitOfWork,
) -> None:
    """Twenty tickets asked for, no file sent yet: the 21st was told to come back in a day
    (the oldest record's expiry), while the oldest form's end, 15 minutes after it was asked
    for (and a minute for the clocks), frees a place. `Retry-After` says the sooner."""
    first = NOW - timedelta(minutes=4)
    _ask_upload(uow, first, sent=False)
    for _ in range(19):
        _ask_upload(uow, NOW - timedelta(minutes=2), sent=False)
    with pytest.raises(TooManyRequests) as refused:
        _ask_upload(uow, NOW)
    assert refused.value.retry_after_seconds == (15 + 1 - 4) * 60
    _ask_upload(uow, NOW + timedelta(minutes=12, seconds=1))  # then, a place is given back


def test_at_the_limit_with_every_file_sent_retry_after_is_the_oldest_records_expiry(
    uow: FakeUnitOfWork,
) -> None:
    for _ in range(20):
        _ask_upload(uow, NOW - timedelta(minutes=2))  # sent: they wait for a request
    with pytest.raises(TooManyRequests) as refused:
        _ask_upload(uow, NOW)
    assert refused.value.retry_after_seconds == int(UPLOAD_RECORD_TTL.total_seconds()) - 120


def test_an_upload_a_request_used_frees_its_place(uow: FakeUnitOfWork) -> None:
    uploaded = [_upload(uow) for _ in range(20)]  # sent to the bucket too
    with pytest.raises(TooManyRequests):
        _ask_upload(uow, NOW)
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    body = {"type": "sante.justificatif", "beneficiary_ids": [ME], "data": data}
    filing.file_request(uow, MEMBER, {**body, "upload_ids": uploaded[:2]}, None, NOW)
    _ask_upload(uow, NOW)
    _ask_upload(uow, NOW)
    with pytest.raises(TooManyRequests):
        _ask_upload(uow, NOW)


def test_the_limits_are_settings_of_the_stage_api_mds_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.settings import Settings, get_settings
    from chalicelib.store.unit_of_work import DynamoUnitOfWork
    from tests.unit.test_settings import REQUIRED

    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    for name in ("UNUSED_UPLOADS_MAX", "REQUESTS_PER_DAY", "REPLIES_PER_DAY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_environment()
    assert (settings.unused_uploads_max, settings.requests_per_day, settings.replies_per_day) == (
        20,
        30,
        50,
    )

    monkeypatch.setenv("REQUESTS_PER_DAY", "12")
    get_settings.cache_clear()
    try:
        assert DynamoUnitOfWork().limits == MemberLimits(20, 12, 50)
    finally:
        get_settings.cache_clear()


def test_a_day_frees_up_at_midnight_in_paris_summer_time_changes_included() -> None:
    assert clock.seconds_until_next_day(NOW) == UNTIL_MIDNIGHT
    # Sunday 29 March 2026 starts at 23:00 UTC and lasts 23 hours; 25 October lasts 25.
    assert clock.seconds_until_next_day(datetime(2026, 3, 28, 23, 0, tzinfo=UTC)) == 23 * 3600
    assert clock.seconds_until_next_day(datetime(2026, 10, 24, 22, 0, tzinfo=UTC)) == 25 * 3600
    # Never 0: a retry a second later is the earliest that can succeed.
    assert clock.seconds_until_next_day(datetime(2026, 11, 10, 22, 59, 59, 999, UTC)) == 1
