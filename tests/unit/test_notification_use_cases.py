"""Notifying members (`services/notifications.py`) on the in-memory unit of work: once per event
and channel, as the member chose, never a text with anything personal, no SMS at night."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from ulid import ULID

from chalicelib.domain import notifications as texts
from chalicelib.domain.members import Preferences
from chalicelib.services.notifications import notify, send_due_sms
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_use_cases import MEMBER, uow

__all__ = ["uow"]

# Filed on 3 November 2026 at 23:30 UTC: 4 November in Paris.
FILED = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
REQUEST_ID = str(ULID.from_datetime(FILED))
DAY = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)  # 15:00 in Paris
NIGHT = datetime(2026, 11, 10, 20, 0, tzinfo=UTC)  # 21:00 in Paris
URL = "https://adherent.example.fr/#/preferences"


def _event(at: datetime = DAY, request_id: str = REQUEST_ID) -> dict[str, Any]:
    return {
        "event_id": str(ULID.from_datetime(at)),
        "member_id": MEMBER,
        "request_id": request_id,
        "type": "sante.justificatif",
        "service": "remboursements",
        "status": "processed",
        "complaint": False,
        "outcome": "accepted",
    }


def _letter(at: datetime, kind: str = "remboursement") -> dict[str, Any]:
    """A `LetterIssued` of this kind (a decision's answer unless told)."""
    return {**_event(at), "document_id": str(ULID.from_datetime(at)), "kind": kind,
            "postal_dispatch": False}  # fmt: skip


def _choose(uow: FakeUnitOfWork, **chosen: bool) -> None:
    current = uow.members.get(MEMBER).preferences.model_dump()
    uow.members.set_preferences(MEMBER, Preferences(**{**current, **chosen}))


def test_an_event_delivered_twice_sends_one_generic_e_mail(uow: FakeUnitOfWork) -> None:
    event = _event()
    assert notify(uow, "RequestDecided", event, DAY, URL) == ["email"]
    assert notify(uow, "RequestDecided", event, DAY, URL) == []
    [(to, email, unsubscribe)] = uow.messenger.emails
    assert to == uow.members.get(MEMBER).email
    assert email.subject == "Du nouveau sur votre démarche du 4 novembre 2026"
    assert "Connectez-vous à votre espace adhérent" in email.text
    assert unsubscribe.endswith("/#/preferences") and unsubscribe in email.text
    member = uow.members.get(MEMBER)
    for personal in (member.first_name, member.last_name, "Léa", "sante", "justificatif",
                     "remboursement", "accept", "€"):  # fmt: skip
        assert personal.lower() not in (email.subject + email.text).lower()
    assert uow.messenger.sms == []  # SMS off by default


def test_only_the_events_a_member_hears_about(uow: FakeUnitOfWork) -> None:
    for name in ("RequestFiled", "RequestRouted", "MemberReplied", "ComplaintDeadlineAtRisk"):
        assert notify(uow, name, _event(), DAY, URL) == []
    later = DAY + timedelta(hours=1)
    assert notify(uow, "InformationRequested", _event(), DAY, URL) == ["email"]
    assert notify(uow, "LetterIssued", _letter(later), later, URL) == ["email"]
    assert len(uow.messenger.emails) == 2


def test_a_decision_and_its_letter_make_one_e_mail(uow: FakeUnitOfWork) -> None:
    assert notify(uow, "RequestDecided", _event(), DAY, URL) == ["email"]
    soon = DAY + timedelta(seconds=2)
    assert notify(uow, "LetterIssued", _letter(soon), soon, URL) == []
    assert len(uow.messenger.emails) == 1


def test_a_decision_minutes_after_a_question_is_news_of_its_own(uow: FakeUnitOfWork) -> None:
    """A change and its letter make one message; two changes make two: a decision 10 minutes
    after a question was swallowed by the question's quarter of an hour."""
    soon, later = DAY + timedelta(seconds=2), DAY + timedelta(minutes=10)
    assert notify(uow, "InformationRequested", _event(DAY), DAY, URL) == ["email"]
    assert notify(uow, "LetterIssued", _letter(soon, "demande_pieces"), soon, URL) == []
    assert notify(uow, "RequestDecided", _event(later), later, URL) == ["email"]
    letter = later + timedelta(seconds=2)
    assert notify(uow, "LetterIssued", _letter(letter), letter, URL) == []
    assert len(uow.messenger.emails) == 2


def test_a_letter_joins_its_change_within_a_quarter_of_an_hour_and_not_after(
    uow: FakeUnitOfWork,
) -> None:
    """A letter rendered 14 minutes after its decision is the same news; one 16 minutes after
    its question is told by itself (the member would otherwise not hear of it)."""
    assert notify(uow, "RequestDecided", _event(DAY), DAY, URL) == ["email"]
    within = DAY + timedelta(minutes=14, seconds=59)
    assert notify(uow, "LetterIssued", _letter(within), within, URL) == []
    asked = DAY + timedelta(hours=1)
    assert notify(uow, "InformationRequested", _event(asked), asked, URL) == ["email"]
    after = asked + timedelta(minutes=15, seconds=1)
    assert notify(uow, "LetterIssued", _letter(after, "demande_pieces"), after, URL) == ["email"]
    assert len(uow.messenger.emails) == 3


def test_a_letter_come_before_its_change_still_makes_one_message(uow: FakeUnitOfWork) -> None:
    """The bus and the queue keep no order: the letter may be told first, its change then
    joins it; a change after that pair is news again."""
    soon, later = DAY + timedelta(seconds=2), DAY + timedelta(minutes=5)
    assert notify(uow, "LetterIssued", _letter(DAY), DAY, URL) == ["email"]
    assert notify(uow, "RequestDecided", _event(soon), soon, URL) == []
    assert notify(uow, "InformationRequested", _event(later), later, URL) == ["email"]
    assert len(uow.messenger.emails) == 2


@pytest.mark.parametrize("letter_first", [False, True], ids=["decision-first", "letter-first"])
def test_a_decision_minutes_after_the_acknowledgement_letter_is_news_of_its_own(
    uow: FakeUnitOfWork, letter_first: bool
) -> None:
    """The complaint's acknowledgement is a letter of no change: a message of its own. The
    decision five minutes later and its answer, in either order, another (the acknowledgement
    was taken for the decision's letter, and the decision swallowed)."""
    _choose(uow, sms=True)
    ack = _letter(DAY, "accuse_reception_reclamation")
    assert notify(uow, "LetterIssued", ack, DAY, URL) == ["email", "sms"]
    at, soon = DAY + timedelta(minutes=5), DAY + timedelta(minutes=5, seconds=2)
    events = {"RequestDecided": _event(at), "LetterIssued": _letter(at, "reponse_reclamation")}
    first, second = sorted(events, reverse=not letter_first)  # "LetterIssued" sorts first
    assert notify(uow, first, events[first], at, URL) == ["email", "sms"]
    assert notify(uow, second, events[second], soon, URL) == []
    assert len(uow.messenger.emails) == len(uow.messenger.sms) == 2


def test_a_letter_issued_after_its_change_s_quarter_of_an_hour_is_a_message(
    uow: FakeUnitOfWork,
) -> None:
    """A late letter (its handler retried 20 minutes on): the member hears of it, once."""
    late = DAY + timedelta(minutes=20)
    assert notify(uow, "RequestDecided", _event(DAY), DAY, URL) == ["email"]
    assert notify(uow, "LetterIssued", _letter(late), late, URL) == ["email"]
    assert notify(uow, "LetterIssued", _letter(late), late, URL) == []


def test_every_letter_kind_belongs_to_the_change_that_issues_it() -> None:
    """The question's letter, the acknowledgement (no change), and every letter a decision of
    any type can answer with (`catalog`): a new kind must be placed here."""
    from chalicelib.domain import catalog
    from chalicelib.domain.states import Outcome
    from chalicelib.letters.model import LetterKind

    def change(kind: str) -> str | None:
        return texts.change_of("LetterIssued", {"kind": kind})

    assert change("demande_pieces") == texts.QUESTION
    assert change("accuse_reception_reclamation") is None
    handlings = [t.handling for t in catalog.REQUEST_TYPES_BY_CODE.values()]
    answers = {h.letter(data, o) for h in [*handlings, catalog.COMPLAINT_HANDLING]
               for o in Outcome for data in ({}, {"detail": "teletransmission"})}  # fmt: skip
    assert {change(kind) for kind in answers} == {texts.DECISION}
    placed = answers | {"demande_pieces", "accuse_reception_reclamation"}
    assert placed == {k.value for k in LetterKind}


def test_no_e_mail_when_the_member_turned_them_off(uow: FakeUnitOfWork) -> None:
    _choose(uow, email=False)
    assert notify(uow, "RequestDecided", _event(), DAY, URL) == []
    assert uow.messenger.emails == []


def test_a_failed_send_is_retried_by_the_redelivery(uow: FakeUnitOfWork) -> None:
    event = _event()
    uow.messenger.failing = True
    with pytest.raises(RuntimeError):
        notify(uow, "RequestDecided", event, DAY, URL)
    uow.messenger.failing = False
    assert notify(uow, "RequestDecided", event, DAY, URL) == ["email"]


def test_an_sms_by_day_goes_at_once_to_the_e164_number(uow: FakeUnitOfWork) -> None:
    _choose(uow, sms=True)
    event = _event()
    assert notify(uow, "RequestDecided", event, DAY, URL) == ["email", "sms"]
    [(phone, text)] = uow.messenger.sms
    assert phone == "+33612345678"
    assert "4 novembre 2026" in text and "espace adhérent" in text
    assert notify(uow, "RequestDecided", event, DAY, URL) == []


def _filed(uow: FakeUnitOfWork) -> str:
    """A reimbursement filed and routed (an SMS kept for the morning reads its request)."""
    from chalicelib.services import filing
    from tests.unit.test_use_cases import ME, NOW, _deliver, _justificatif

    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)}, None, NOW
    ).request_id
    _deliver(uow)
    return request_id


def test_an_sms_at_21_00_waits_for_08_00(uow: FakeUnitOfWork) -> None:
    _choose(uow, sms=True)
    event = _event(at=NIGHT, request_id=_filed(uow))
    assert notify(uow, "RequestDecided", event, NIGHT, URL) == ["email", "sms-deferred"]
    assert uow.messenger.sms == []
    [deferred] = uow.notifications.deferred.values()
    assert deferred.send_at == "2026-11-11T07:00:00.000Z"  # 08:00 in Paris, winter time
    assert send_due_sms(uow, datetime(2026, 11, 11, 6, 0, tzinfo=UTC)) == 0  # 07:00 Paris
    assert send_due_sms(uow, datetime(2026, 11, 11, 7, 0, tzinfo=UTC)) == 1
    assert send_due_sms(uow, datetime(2026, 11, 11, 8, 0, tzinfo=UTC)) == 0  # once
    assert len(uow.messenger.sms) == 1


def test_a_deferred_sms_is_dropped_if_the_member_turned_sms_off(uow: FakeUnitOfWork) -> None:
    _choose(uow, sms=True)
    notify(uow, "RequestDecided", _event(at=NIGHT), NIGHT, URL)
    _choose(uow, sms=False)
    assert send_due_sms(uow, datetime(2026, 11, 11, 7, 0, tzinfo=UTC)) == 0
    assert uow.messenger.sms == [] and uow.notifications.deferred == {}


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 11, 10, 6, 59, tzinfo=UTC), "2026-11-10T08:00:00+01:00"),  # 07:59
        (datetime(2026, 11, 10, 7, 0, tzinfo=UTC), None),  # 08:00
        (datetime(2026, 11, 10, 18, 59, tzinfo=UTC), None),  # 19:59
        (datetime(2026, 11, 10, 19, 0, tzinfo=UTC), "2026-11-11T08:00:00+01:00"),  # 20:00
        (datetime(2026, 7, 10, 19, 30, tzinfo=UTC), "2026-07-11T08:00:00+02:00"),  # 21:30 CEST
        # The nights the clocks change: 08:00 at the morning's offset, not the evening's.
        (datetime(2026, 10, 24, 20, 30, tzinfo=UTC), "2026-10-25T08:00:00+01:00"),  # 22:30 CEST
        (datetime(2026, 3, 28, 21, 30, tzinfo=UTC), "2026-03-29T08:00:00+02:00"),  # 22:30 CET
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29T08:00:00+02:00"),  # 01:30 CET
    ],
)
def test_quiet_hours_are_paris_time(utc: datetime, expected: str | None) -> None:
    send_at = texts.sms_send_at(utc)
    assert (send_at.isoformat() if send_at else None) == expected


@pytest.mark.parametrize(
    ("phone", "utc", "expected"),
    [
        # Martinique (UTC-4): 15:30 there is 20:30 in Paris, a send; 03:05 there, none.
        ("0696 12 34 56", datetime(2026, 11, 30, 19, 30, tzinfo=UTC), None),
        ("0696 12 34 56", datetime(2026, 12, 1, 7, 5, tzinfo=UTC), "2026-12-01T08:00:00-04:00"),
        ("0690 12 34 56", datetime(2026, 7, 1, 23, 30, tzinfo=UTC), None),  # Guadeloupe 19:30
        ("0694 12 34 56", datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "2026-07-02T08:00:00-03:00"),
        # Réunion (UTC+4): 22:55 there is 19:55 in Paris; Mayotte (UTC+3) 07:30 is 05:30.
        ("0692 12 34 56", datetime(2026, 11, 30, 18, 55, tzinfo=UTC), "2026-12-01T08:00:00+04:00"),
        ("0639 12 34 56", datetime(2026, 11, 30, 4, 30, tzinfo=UTC), "2026-11-30T08:00:00+03:00"),
        ("0639 12 34 56", datetime(2026, 11, 30, 5, 0, tzinfo=UTC), None),
        # The mainland and a foreign number: Paris's hours.
        ("06 12 34 56 78", datetime(2026, 11, 30, 19, 30, tzinfo=UTC), "2026-12-01T08:00:00+01:00"),
        (
            "+44 7700 900123",
            datetime(2026, 11, 30, 19, 30, tzinfo=UTC),
            "2026-12-01T08:00:00+01:00",
        ),
    ],
)
def test_quiet_hours_are_where_the_mobile_rings(
    phone: str, utc: datetime, expected: str | None
) -> None:
    number = texts.sms_number(phone)
    assert number is not None
    send_at = texts.sms_send_at(utc, texts.sms_zone(number))
    assert (send_at.isoformat() if send_at else None) == expected


def test_an_overseas_member_gets_the_sms_at_their_own_08_00(uow: FakeUnitOfWork) -> None:
    """A decision at 15:30 in Martinique (20:30 in Paris) is sent then; one at 21:00 there
    (01:00 in Paris) waits for 08:00 there (12:00 UTC), and the hourly runs before send nothing."""
    uow.members.apply_contact(MEMBER, {"phone": "0696 12 34 56"})
    _choose(uow, sms=True)
    request_id = _filed(uow)
    afternoon = datetime(2026, 11, 30, 19, 30, tzinfo=UTC)
    decided = _event(at=afternoon, request_id=request_id)
    assert notify(uow, "RequestDecided", decided, afternoon, URL) == ["email", "sms"]
    evening = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    letter = _letter(evening) | {"request_id": request_id}  # the decision's letter, hours later
    assert notify(uow, "LetterIssued", letter, evening, URL) == ["email", "sms-deferred"]
    [deferred] = uow.notifications.deferred.values()
    assert deferred.send_at == "2026-12-01T12:00:00.000Z"
    for hour in range(2, 12):  # 08:00 in Paris (07:00 UTC) among them
        assert send_due_sms(uow, datetime(2026, 12, 1, hour, 0, tzinfo=UTC)) == 0
    assert len(uow.messenger.sms) == 1
    assert send_due_sms(uow, datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == 1
    assert [to for to, _ in uow.messenger.sms] == ["+596696123456"] * 2


def test_a_kept_sms_whose_number_moved_overseas_waits_for_the_morning_there(
    uow: FakeUnitOfWork,
) -> None:
    """Kept for 08:00 in Paris; by then the member's mobile is in Guyane (03:00 there): it is
    kept again for 08:00 in Guyane, and goes then."""
    _choose(uow, sms=True)
    event = _event(at=NIGHT, request_id=_filed(uow))
    assert notify(uow, "RequestDecided", event, NIGHT, URL) == ["email", "sms-deferred"]
    uow.members.apply_contact(MEMBER, {"phone": "0694 12 34 56"})
    assert send_due_sms(uow, datetime(2026, 11, 11, 7, 0, tzinfo=UTC)) == 0
    assert uow.messenger.sms == []
    [kept] = [d for d in uow.notifications.deferred.values() if d.send_at > "2026-11-11T07"]
    assert kept.send_at == "2026-11-11T11:00:00.000Z"  # 08:00 in Guyane (UTC-3)
    assert send_due_sms(uow, datetime(2026, 11, 11, 11, 0, tzinfo=UTC)) == 1
    assert [to for to, _ in uow.messenger.sms] == ["+594694123456"]


def test_french_dates_and_numbers() -> None:
    assert texts.french_date(date(2026, 12, 1)) == "1er décembre 2026"
    assert texts.e164("06 12 34 56 78") == "+33612345678"
    assert texts.e164("+33 7 98 76 54 32") == "+33798765432"
    assert texts.e164("n/a") is None


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("0692 12 34 56", "+262692123456"),  # Réunion
        ("06 39 12 34 56", "+262639123456"),  # Mayotte
        ("+33 6 90 12 34 56", "+590690123456"),  # Guadeloupe, written as from abroad
        ("0694 12 34 56", "+594694123456"),  # Guyane
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0262 12 34 56", "+262262123456"),
        ("06 91 12 34 56", "+590691123456"),
        ("06 89 12 34 56", "+33689123456"),  # a mainland mobile beside them
    ],
)
def test_an_overseas_number_gets_its_own_country_code(phone: str, expected: str) -> None:
    """The overseas départements are in France's numbering plan, not behind +33: an SMS to
    `+33692…` reaches no one in Réunion."""
    assert texts.e164(phone) == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("0033 6 12 34 56 78", "+33612345678"),  # the international prefix dialled from France
        ("06 12 34 56 78 9", None),  # a digit too many: never sent to a number made of it
        ("+1234567", "+1234567"),
        ("+123456", None),
        ("+123456789012345", "+123456789012345"),  # E.164: 15 digits at most
        ("+1234567890123456", None),
        ("+33+612345678", None),
        ("+06 12 34 56 78", None),  # no country code begins with 0: SNS refuses it
        ("+0033612345678", None),
        ("+33 (0)6 12 34 56 78", "+33612345678"),  # the trunk 0 written beside +33
        ("+33 (0)1 23 45 67 89", "+33123456789"),
    ],
)
def test_a_number_is_sent_to_only_as_written_and_within_e164(
    phone: str, expected: str | None
) -> None:
    """An SMS to a number read wrong reaches someone else's phone, or nobody's."""
    assert texts.e164(phone) == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 7 98 76 54 32", "+33798765432"),
        ("0692 12 34 56", "+262692123456"),  # Réunion's mobiles
        ("06 39 12 34 56", "+262639123456"),  # Mayotte's
        ("+590 690 12 34 56", "+590690123456"),  # Guadeloupe's, written in E.164
        ("0694 12 34 56", "+594694123456"),
        ("0697 12 34 56", "+596697123456"),
        ("01 23 45 67 89", None),  # a landline
        ("05 56 12 34 56", None),
        ("09 12 34 56 78", None),  # a box's number
        ("08 00 12 34 56", None),  # a service's
        ("0262 12 34 56", None),  # Réunion's landlines
        ("+596 596 12 34 56", None),
        ("+33 6 12 34 56", None),  # a French number a digit short
        ("", None),  # none on file
        ("+44 7700 900123", "+447700900123"),  # another country's: taken as written
    ],
)
def test_an_sms_goes_only_to_a_mobile(phone: str, expected: str | None) -> None:
    """An SMS to a landline is charged and reaches no one."""
    assert texts.sms_number(phone) == expected


def test_a_member_with_a_landline_only_gets_the_e_mail_and_no_sms(uow: FakeUnitOfWork) -> None:
    _choose(uow, sms=True)
    uow.members.apply_contact(MEMBER, {"phone": "01 23 45 67 89"})
    assert notify(uow, "RequestDecided", _event(), DAY, URL) == ["email"]
    assert uow.messenger.sms == []


def test_a_kept_sms_is_dropped_if_the_mobile_became_a_landline_overnight(
    uow: FakeUnitOfWork,
) -> None:
    _choose(uow, sms=True)
    event = _event(at=NIGHT, request_id=_filed(uow))
    assert notify(uow, "RequestDecided", event, NIGHT, URL) == ["email", "sms-deferred"]
    uow.members.apply_contact(MEMBER, {"phone": "01 23 45 67 89"})
    assert send_due_sms(uow, datetime(2026, 11, 11, 7, 0, tzinfo=UTC)) == 0
    assert uow.messenger.sms == []


def test_a_deferred_sms_past_its_moment_still_never_goes_in_the_quiet_hours(
    uow: FakeUnitOfWork,
) -> None:
    """Kept for 08:00, its sends failing all day (each failure keeps it for the next run): the
    schedule's last run, 18:00 UTC, is 20:00 in Paris in summer, and sends nothing."""
    _choose(uow, sms=True)
    night = datetime(2026, 7, 9, 20, 0, tzinfo=UTC)  # 22:00 in Paris
    event = _event(at=night, request_id=_filed(uow))
    assert notify(uow, "RequestDecided", event, night, URL) == [
        "email",
        "sms-deferred",
    ]
    uow.messenger.failing = True
    with pytest.raises(RuntimeError):
        send_due_sms(uow, datetime(2026, 7, 10, 6, 0, tzinfo=UTC))  # 08:00 in Paris
    uow.messenger.failing = False
    assert send_due_sms(uow, datetime(2026, 7, 10, 18, 0, tzinfo=UTC)) == 0  # 20:00 in Paris
    assert uow.messenger.sms == []
    assert send_due_sms(uow, datetime(2026, 7, 11, 6, 0, tzinfo=UTC)) == 1  # the next 08:00


def _asked(uow: FakeUnitOfWork, days: int) -> str:
    """A reimbursement filed and routed at `NOW`, then a question on it with `days` to answer:
    its id."""
    from chalicelib.services import filing
    from chalicelib.services.dialogue import InformationRequestBody, ask
    from tests.unit.test_use_cases import ME, NOW, _deliver, _justificatif

    request_id = filing.file_request(
        uow, MEMBER, {"beneficiary_ids": [ME], **_justificatif(uow)}, None, NOW
    ).request_id
    _deliver(uow)
    body = InformationRequestBody(message="La facture ?", respond_within_days=days)
    ask(uow, uow.requests.get(MEMBER, request_id), body, NOW, "agent-1")
    return request_id


def test_the_daily_watch_reminds_7_days_before_the_answer_is_due(uow: FakeUnitOfWork) -> None:
    from chalicelib.services.notifications import remind_before_deadlines
    from tests.unit.test_use_cases import NOW

    request_id = _asked(uow, 30)
    assert remind_before_deadlines(uow, NOW) == 0
    assert remind_before_deadlines(uow, NOW + timedelta(days=22)) == 0  # 8 days before
    assert remind_before_deadlines(uow, NOW + timedelta(days=23)) == 1
    [(name, detail)] = uow.notifications.queued
    assert name == texts.REMINDER and detail["request_id"] == request_id
    later = NOW + timedelta(days=23)
    assert notify(uow, name, detail, later, URL) == ["email"]
    assert notify(uow, name, detail, later, URL) == []  # the watch ran twice: one reminder
    # Queued again on each day left (a missed day is caught up), sent once all the same.
    assert remind_before_deadlines(uow, NOW + timedelta(days=24)) == 1
    [_, (_, again)] = uow.notifications.queued
    assert again["event_id"] == detail["event_id"]
    assert notify(uow, name, again, NOW + timedelta(days=24), URL) == []
    assert remind_before_deadlines(uow, NOW + timedelta(days=31)) == 0  # past the deadline


def test_a_reminder_the_watch_missed_on_its_day_goes_the_next_day(uow: FakeUnitOfWork) -> None:
    """The daily watch did not run (or failed) 7 days before the deadline: the reminder was
    owed on that day only, and never went. The next run sends it."""
    from chalicelib.services.notifications import remind_before_deadlines
    from tests.unit.test_use_cases import NOW

    _asked(uow, 30)
    the_day_after = NOW + timedelta(days=24)  # 6 days before the deadline
    assert remind_before_deadlines(uow, the_day_after) == 1
    [(name, detail)] = uow.notifications.queued
    assert notify(uow, name, detail, the_day_after, URL) == ["email"]


def test_a_question_of_7_days_or_fewer_is_its_own_reminder(uow: FakeUnitOfWork) -> None:
    """Asked with 7 days to answer, the question is at once « 7 days before »: the member was
    told of it minutes ago, and a reminder the same morning would be noise."""
    from chalicelib.services.notifications import remind_before_deadlines
    from tests.unit.test_use_cases import NOW

    _asked(uow, 7)
    for days in range(8):
        assert remind_before_deadlines(uow, NOW + timedelta(days=days)) == 0


def test_a_member_no_longer_on_file_is_not_retried_forever(uow: FakeUnitOfWork) -> None:
    event = {**_event(), "member_id": "U999999999"}
    assert notify(uow, "RequestDecided", event, DAY, URL) == []
    assert uow.messenger.emails == []


def test_an_event_of_days_ago_is_no_news(uow: FakeUnitOfWork) -> None:
    """A queue replayed after an outage, or a seeded history, tells the member nothing."""
    old = {**_event(), "occurred_at": "2026-11-07T14:00:00.000Z"}  # three days before DAY
    assert notify(uow, "RequestDecided", old, DAY, URL) == []
    recent = {**_event(), "occurred_at": "2026-11-09T14:00:00.000Z"}  # the day before
    assert notify(uow, "RequestDecided", recent, DAY, URL) == ["email"]


def test_every_sms_is_one_gsm_7_segment_whatever_the_day() -> None:
    """« août » (its « û » is not GSM-7) sent August's SMS in UCS-2: 70 characters a segment,
    so two segments, two charges, for the same short text."""
    day = datetime(2028, 1, 1, 12, 0, tzinfo=UTC)
    while day.year == 2028:
        text = texts.sms(str(ULID.from_datetime(day)))
        assert set(text) <= texts.GSM7, text
        assert len(text) <= texts.SMS_SEGMENT, text
        day += timedelta(days=1)
    august = texts.sms(str(ULID.from_datetime(datetime(2028, 8, 10, 12, tzinfo=UTC))))
    assert "du 10 aout 2028." in august and "Génération" in august
    assert texts.gsm7("L’été « à » Noël, ça") == 'L\'été " à " Noel, ca'


def test_a_night_s_question_answered_or_withdrawn_before_08_00_sends_no_sms(
    uow: FakeUnitOfWork,
) -> None:
    """The e-mail went at once; a member who answered it (or withdrew the request) at 22:00
    was told at 08:00 that something awaited them. A decision's SMS still goes."""
    from chalicelib.services.dialogue import WithdrawalBody, reply, withdraw

    _choose(uow, sms=True)
    answered, withdrawn, decided = (_asked(uow, 30) for _ in range(3))
    night = datetime(2026, 11, 10, 21, 0, tzinfo=UTC)  # 22:00 in Paris
    for request_id in (answered, withdrawn):
        event = {**_event(night, request_id), "type": "sante.justificatif"}
        assert notify(uow, "InformationRequested", event, night, URL) == ["email", "sms-deferred"]
    decision = _event(night + timedelta(seconds=1), decided)
    assert notify(uow, "RequestDecided", decision, night, URL) == ["email", "sms-deferred"]
    later = night + timedelta(minutes=30)
    reply(uow, MEMBER, answered, {"message": "Voici la facture."}, None, later)
    withdraw(uow, MEMBER, withdrawn, WithdrawalBody(), later)
    morning = datetime(2026, 11, 11, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert send_due_sms(uow, morning) == 1
    assert len(uow.messenger.sms) == 1


def test_a_reminder_says_the_answer_is_awaited_and_by_when(uow: FakeUnitOfWork) -> None:
    """Nothing is new on a reminder: « Du nouveau sur votre démarche » sent the member looking
    for news that was not there, and did not say the answer's day. By SMS too, kept for 08:00
    when the watch runs at 07:00 (Paris, in winter)."""
    from chalicelib.services.notifications import remind_before_deadlines
    from tests.unit.test_use_cases import NOW

    _choose(uow, sms=True)
    request_id = _asked(uow, 30)  # asked on 10 November, due on 10 December
    watch = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 07:00 in Paris
    assert remind_before_deadlines(uow, watch) == 1
    [(name, detail)] = uow.notifications.queued
    assert notify(uow, name, detail, watch, URL) == ["email", "sms-deferred"]
    [(_, email, _)] = uow.messenger.emails
    on = texts.french_date(texts.filed_on(request_id))
    assert on == "10 novembre 2026" and NOW.day == 10
    assert email.subject == f"Rappel : votre réponse est attendue sur votre démarche du {on}"
    assert "au plus tard le 10 décembre 2026." in email.text and "nouveau" not in email.text
    assert send_due_sms(uow, datetime(2026, 12, 3, 7, 0, tzinfo=UTC)) == 1
    [(_, text)] = uow.messenger.sms
    assert text == (
        f"Génération : votre démarche du {on} attend votre réponse au plus tard le "
        "10 décembre 2026. Connectez-vous à votre espace adhérent."
    )
    longest = texts.sms(str(ULID.from_datetime(datetime(2026, 9, 30, 12, tzinfo=UTC))),
                        date(2026, 9, 30))  # fmt: skip
    assert len(longest) <= texts.SMS_SEGMENT and set(longest) <= texts.GSM7


def test_an_sms_that_fails_stops_no_other_and_goes_again_a_few_times(
    uow: FakeUnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    """One send refused (SNS down, or a number it rejects) ended the morning's run, and the SMS
    was kept under the same moment, read first again at each hourly run: every SMS kept after
    it, the next nights' too, waited behind it until its expiry. Each now goes on its own; the
    failed one goes again at the next run, three times at most, and the run still fails (its
    alarm), logging the event, never the number."""
    from chalicelib.domain.members import Member
    from chalicelib.services.notifications import DeferredSmsFailed

    _choose(uow, sms=True)
    other = "T000000777"
    member = uow.members.get(MEMBER)
    uow.members.profiles[other] = Member.model_validate(
        {**member.model_dump(), "member_id": other, "phone": "07 98 76 54 32"}
    )
    first = _event(at=NIGHT, request_id=_filed(uow))
    second = {**_event(at=NIGHT + timedelta(minutes=1), request_id=first["request_id"]),
              "member_id": other}  # fmt: skip
    uow.requests.records[(other, first["request_id"])] = uow.requests.records[
        (MEMBER, first["request_id"])
    ].model_copy(update={"member_id": other})
    assert notify(uow, "RequestDecided", first, NIGHT, URL) == ["email", "sms-deferred"]
    assert notify(uow, "RequestDecided", second, NIGHT, URL)[-1] == "sms-deferred"
    mine = texts.e164(member.phone)
    uow.messenger.refused = {mine}

    eight = datetime(2026, 11, 11, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    with pytest.raises(DeferredSmsFailed):
        send_due_sms(uow, eight)
    assert [phone for phone, _ in uow.messenger.sms] == ["+33798765432"]  # the other's went
    [kept] = uow.notifications.deferred.values()
    assert (kept.event_id, kept.attempts, kept.send_at) == (
        first["event_id"],
        1,
        "2026-11-11T07:30:00.000Z",
    )
    for hour in (8, 9):
        with pytest.raises(DeferredSmsFailed):
            send_due_sms(uow, eight.replace(hour=hour))
    assert uow.notifications.deferred == {}  # dropped after its third attempt
    assert send_due_sms(uow, eight.replace(hour=10)) == 0
    assert len(uow.messenger.sms) == 1
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert first["event_id"] in logged and "dropped after 3 attempts" in logged
    assert mine not in logged and "12 34 56" not in logged
