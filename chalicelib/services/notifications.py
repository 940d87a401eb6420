"""Telling members that something happened on a démarche: e-mail and, if they chose it, SMS.

Fed by the `notifications` queue (a rule on the bus: `InformationRequested`, `RequestDecided`,
`LetterIssued`). Each event notifies once per channel, even delivered twice: a conditional put
claims it before the send (released if the send fails, so the redelivery tries again). An SMS
due between 20:00 and 08:00 where the member's mobile rings (Paris, or its overseas zone:
`texts.sms_zone`) is kept and sent at their 08:00 by `send_due_sms` (an hourly schedule).
Logs carry event and request ids only: never an address, a number or a text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import notifications as texts
from chalicelib.domain.catalog import Service
from chalicelib.domain.errors import NotFound
from chalicelib.domain.requests import InformationRequest
from chalicelib.domain.states import Status
from chalicelib.observability import failure, metric
from chalicelib.services.lists import whole_list
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.notifications import DeferredSms

logger = logging.getLogger(__name__)

EMAIL = "email"
SMS = "sms"
# A change of a request and its own letter this close together make one message (a decision
# and its answer); two changes make two (`NotificationRecords.claim_request`), and a letter of
# another change (`domain/notifications.change_of`) is news of its own.
COALESCE_SECONDS = 15 * 60
REMIND_DAYS_BEFORE = 7
# An event older than this when its notification would go out is not notified.
STALE_AFTER = timedelta(days=2)


def notify(
    uow: UnitOfWork,
    detail_type: str,
    detail: Mapping[str, Any],
    now: datetime,
    preferences_url: str,
) -> list[str]:
    """Notify the member of one event from the bus (`preferences_url`: the portal's page, the
    e-mails' `List-Unsubscribe`). What was done (`email`, `sms`, `sms-deferred`); empty when
    nothing was due (another event, preferences off, a repeat, a member no longer on file)."""
    if detail_type not in texts.NOTIFIED_EVENTS and detail_type != texts.REMINDER:
        return []
    member_id, request_id = str(detail["member_id"]), str(detail["request_id"])
    event_id = str(detail["event_id"])
    occurred = detail.get("occurred_at")
    if isinstance(occurred, str) and clock.parse_timestamp(occurred) < now - STALE_AFTER:
        # News of days ago is no news: a queue replayed after an outage, a seeded history.
        logger.info("event %s of request %s too old to notify", event_id, request_id)
        return []
    if detail_type == texts.REMINDER and not _still_awaited(
        uow, member_id, request_id, str(detail["respond_before"])
    ):
        # Answered (or withdrawn, or asked again) since the watch queued it: no « Rappel ».
        logger.info("reminder %s of request %s no longer due", event_id, request_id)
        return []
    try:
        member = uow.members.get(member_id)
    except NotFound:  # retrying would not bring the profile back
        logger.warning("event %s: no profile to notify", event_id)
        return []
    answer_by = (
        clock.paris_date(str(detail["respond_before"])) if detail_type == texts.REMINDER else None
    )
    done: list[str] = []
    if member.preferences.email and member.email:
        with _once(uow, detail_type, detail, EMAIL, now) as first:
            if first:
                email = texts.email(request_id, preferences_url, answer_by)
                uow.messenger.send_email(member.email, email, preferences_url)
                done.append(EMAIL)
    phone = texts.sms_number(member.phone) if member.preferences.sms else None
    if member.preferences.sms and phone is None:
        logger.warning("no usable phone number for the SMS of event %s", event_id)
    if phone is not None:
        with _once(uow, detail_type, detail, SMS, now) as first:
            if first:
                send_at = texts.sms_send_at(now, texts.sms_zone(phone))
                if send_at is None:
                    uow.messenger.send_sms(phone, texts.sms(request_id, answer_by))
                    done.append(SMS)
                else:
                    asks = detail_type == texts.REMINDER or (
                        texts.change_of(detail_type, detail) == texts.QUESTION
                    )
                    deferred = DeferredSms(
                        clock.iso_z(send_at),
                        event_id,
                        member_id,
                        request_id,
                        asks_member=asks,
                        answer_by=answer_by.isoformat() if answer_by else None,
                    )
                    uow.notifications.defer_sms(deferred)
                    done.append("sms-deferred")
    logger.info("event %s of request %s notified: %s", event_id, request_id, done or "nothing")
    return done


# A kept SMS whose send failed goes again at the next hourly run (`sms_morning`), a few times:
# SNS down for an hour costs no SMS; a number SNS refuses stops no one else's.
SMS_RETRY_AFTER = timedelta(minutes=30)
SMS_ATTEMPTS = 3


class DeferredSmsFailed(RuntimeError):
    """Some of the run's SMS could not be sent (the others were): the run fails after its
    last, so that its alarm says so; each is kept for a later run, or dropped after
    `SMS_ATTEMPTS` (the log names its event)."""


def send_due_sms(uow: UnitOfWork, now: datetime) -> int:
    """The SMS kept through the quiet hours whose moment has come (the member's number and
    choice read now: one who turned SMS off meanwhile gets none; the request read now: one
    withdrawn, or a question answered, meanwhile is no news). Each is sent on its own: one that
    fails is kept for a later run (`SMS_RETRY_AFTER`) and the others still go; the run then
    raises `DeferredSmsFailed`. How many were sent. Run every hour: the members' mornings are
    not all Paris's (08:00 is 04:00 UTC in Réunion, 12:00 UTC in the Antilles)."""
    sent = failed = 0
    for deferred in uow.notifications.due_sms(now):
        if not uow.notifications.take_sms(deferred, now):
            continue  # another run has it
        try:
            sent += _send_deferred(uow, deferred, now)
        except Exception as error:  # every other SMS still goes
            failed += 1
            _retry_later(uow, deferred, now, error)
    logger.info("deferred SMS sent: %d, failed: %d", sent, failed)
    if failed:
        raise DeferredSmsFailed(f"{failed} deferred SMS not sent (kept for a later run)")
    return sent


def _send_deferred(uow: UnitOfWork, deferred: DeferredSms, now: datetime) -> int:
    """1 when sent, 0 when it is no longer due (no profile, SMS off, no mobile, no news) or not
    yet: its moment (a retry's, or a number that moved overseas meanwhile) fell in the member's
    night, and it is kept for their 08:00."""
    try:
        member = uow.members.get(deferred.member_id)
    except NotFound:
        return 0
    phone = texts.sms_number(member.phone)
    if not member.preferences.sms or phone is None or not _still_news(uow, deferred):
        return 0
    morning = texts.sms_send_at(now, texts.sms_zone(phone))
    if morning is not None:
        uow.notifications.defer_sms(replace(deferred, send_at=clock.iso_z(morning)))
        return 0
    answer_by = date.fromisoformat(deferred.answer_by) if deferred.answer_by else None
    uow.messenger.send_sms(phone, texts.sms(deferred.request_id, answer_by))
    return 1


def _retry_later(uow: UnitOfWork, deferred: DeferredSms, now: datetime, error: Exception) -> None:
    """The failed SMS kept for the next run, or dropped after its last attempt (a retry that
    falls in the member's night is then kept for their morning: `_send_deferred`). Logged by
    its event and the error's kind (`failure`): SNS's message may quote the number."""
    attempts = deferred.attempts + 1
    if attempts >= SMS_ATTEMPTS:
        logger.error("deferred SMS of event %s dropped after %d attempts",
                     deferred.event_id, attempts, extra=failure(error))  # fmt: skip
        metric("DeferredSmsDropped")
        return
    send_at = now + SMS_RETRY_AFTER
    uow.notifications.defer_sms(replace(deferred, send_at=clock.iso_z(send_at), attempts=attempts))
    logger.warning("deferred SMS of event %s failed: kept for %s",
                   deferred.event_id, clock.iso_z(send_at), extra=failure(error))  # fmt: skip


def _still_awaited(uow: UnitOfWork, member_id: str, request_id: str, respond_before: str) -> bool:
    """Whether the member still owes the answer a reminder is about: the request waits for
    them on that question (its deadline). The daily watch reads the waiting lists (an index a
    moment behind), and the reminder may be sent minutes later (a queue's backlog, a failed
    send delivered again): a member who answered or withdrew meanwhile is not reminded."""
    try:
        request = uow.requests.get(member_id, request_id, consistent=True)
    except NotFound:
        return False
    question = request.information_request
    return (
        request.status is Status.waiting_for_member
        and question is not None
        and question.respond_before == respond_before
    )


def _still_news(uow: UnitOfWork, deferred: DeferredSms) -> bool:
    """Whether the night's news is still news at 08:00: not once the member has withdrawn the
    request themselves, nor a question (or its reminder) they have answered since (the e-mail
    went at once: a member who answered it at 22:00 was told at 08:00 that something awaited
    them)."""
    try:
        request = uow.requests.get(deferred.member_id, deferred.request_id)
    except NotFound:
        return False
    if request.status is Status.withdrawn:
        return False
    return not deferred.asks_member or request.status is Status.waiting_for_member


def remind_before_deadlines(uow: UnitOfWork, now: datetime) -> int:
    """From the daily watch: every request waiting for its member whose answer is due within 7
    days (Paris dates) gets a reminder, through the notifications queue like an event (so only
    the notifications function sends anything), when the question gave more than 7 days (one
    of 7 or fewer is its own reminder). Queued on each of those days, so a day the watch did
    not run is caught up by the next; sent once (`reminder_due`). Returns how many queued."""
    today = clock.paris_date(now)
    reminded = 0
    for service in Service:
        for record in whole_list(uow, service.value, "waiting"):
            question = record.information_request
            if question is None or not reminder_due(question, today):
                continue
            detail = {
                "event_id": f"{texts.REMINDER}-{record.request_id}-{question.respond_before}",
                "occurred_at": clock.iso_z(now),
                "member_id": record.member_id,
                "request_id": record.request_id,
                "respond_before": question.respond_before,
            }
            uow.notifications.enqueue(texts.REMINDER, detail)
            reminded += 1
    logger.info("reminders before the deadline queued: %d", reminded)
    return reminded


def reminder_due(question: InformationRequest, today: date) -> bool:
    """Its deadline is today or within `REMIND_DAYS_BEFORE` days, and it was asked more than
    that before it. The reminder's event id is the request's and the deadline's: the
    notifications function claims it once per channel, however many days it is queued."""
    due_on = clock.paris_date(question.respond_before)
    given = due_on - clock.paris_date(question.asked_at)
    soon = today <= due_on <= today + timedelta(days=REMIND_DAYS_BEFORE)
    return soon and given > timedelta(days=REMIND_DAYS_BEFORE)


@contextmanager
def _once(
    uow: UnitOfWork, detail_type: str, detail: Mapping[str, Any], channel: str, now: datetime
) -> Iterator[bool]:
    """True for the first delivery of the event on this channel, unless it is the other half
    of a message sent moments ago (`COALESCE_SECONDS`: a decision and its own letter make one
    message; a question and a decision, an acknowledgement letter and a decision, two). A
    failed send releases both claims, so the redelivery may try again."""
    member_id, request_id = str(detail["member_id"]), str(detail["request_id"])
    event_id = str(detail["event_id"])
    notes = uow.notifications
    if not notes.claim(member_id, event_id, channel, now):
        yield False
        return
    change = texts.change_of(detail_type, detail)
    fresh = change is None or notes.claim_request(
        member_id,
        request_id,
        change,
        channel,
        now,
        COALESCE_SECONDS,
        letter=detail_type == texts.LETTER_EVENT,
    )
    try:
        yield fresh
    except BaseException:
        notes.release(member_id, event_id, channel)
        if fresh and change is not None:
            notes.release_request(member_id, request_id, change, channel)
        raise
