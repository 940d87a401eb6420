"""The notifications' records (DynamoDB) and their channels: e-mail by SES v2, SMS by SNS.

`MEMBER#<id>` / `NOTIFIED#<event_id>#<channel>`: claimed by a conditional put before anything
is sent, so an event delivered twice notifies once per channel; expires on its own (TTL) after
the bus's and the queue's redeliveries are long over. `MEMBER#<id>` /
`NOTIFIED#REQ#<request_id>#<change>#<channel>`: the quarter of an hour a change and its own
letter share (`claim_request`). `DEFERRED_SMS` / `<send_at>#<event_id>`: an SMS due in the
quiet hours (identifiers only: the number is read from the profile when it goes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from chalicelib import aws
from chalicelib.domain import clock
from chalicelib.domain.events import SOURCE
from chalicelib.domain.notifications import Email
from chalicelib.settings import get_settings
from chalicelib.store import keys
from chalicelib.store.dynamo import dynamodb, made_once, query_all, serialize, table
from chalicelib.store.queues import queue_url

NOTIFICATIONS_QUEUE = "notifications"
NOTIFIED_TTL_SECONDS = 30 * 24 * 3600  # the queue keeps a message 4 days, its DLQ 14
DEFERRED_TTL_SECONDS = 7 * 24 * 3600  # an SMS not sent within a week is no longer news


@dataclass(frozen=True)
class DeferredSms:
    send_at: str
    event_id: str
    member_id: str
    request_id: str
    # A question or its reminder: news only while the request still waits for the member.
    asks_member: bool = False
    # A reminder's: the Paris day the answer is due (`YYYY-MM-DD`), which its text names.
    answer_by: str | None = None
    # The sends that failed (SNS down, the number refused): kept for a later run until a few.
    attempts: int = 0


class NotificationRecords:
    """Marks, never deletes (the notifications function deletes nothing): a released claim is
    `released`, a sent deferred SMS `taken_at`; TTL removes them all."""

    def claim(self, member_id: str, event_id: str, channel: str, now: datetime) -> bool:
        """True for the first delivery of this event on this channel (or the first after a
        failed send); False when it was already notified there."""
        item = {
            **keys.notification_key(member_id, event_id, channel),
            "notified_at": clock.iso_z(now),
            "expires_at": int(now.timestamp()) + NOTIFIED_TTL_SECONDS,
        }
        return _put_if(item, "attribute_not_exists(pk) OR released = :true", {":true": True})

    def release(self, member_id: str, event_id: str, channel: str) -> None:
        """Sending failed: the redelivery may try again."""
        _update(keys.notification_key(member_id, event_id, channel), "released", True)

    def claim_request(
        self,
        member_id: str,
        request_id: str,
        change: str,
        channel: str,
        now: datetime,
        seconds: int,
        *,
        letter: bool,
    ) -> bool:
        """Whether this event of the request makes a message of its own on this channel. A
        change (`question`, `decision`) and its own letter within `seconds` of each other make
        one message, whichever comes first; two changes make two (a question asked again
        minutes after the first is news of its own); a letter in the window of a message adds
        none. Each change has its window: a letter never joins another change's message."""
        key = _window_key(member_id, request_id, change, channel)
        stamp = int(now.timestamp())
        opened = {
            **key,
            "quiet_until": stamp + seconds,
            "expires_at": stamp + seconds,
            "opened_by": "letter" if letter else "change",
            "paired": False,
        }
        for _ in range(2):  # once more if the window closed between two of the writes
            if _put_if(opened, "attribute_not_exists(pk) OR quiet_until <= :now", {":now": stamp}):
                return True
            if letter:
                return False
            if _put_if(
                opened,
                "quiet_until > :now AND (opened_by = :change OR paired = :true)",
                {":now": stamp, ":change": "change", ":true": True},
            ):
                return True
            if _update_if(
                key,
                "SET paired = :true",
                "quiet_until > :now AND opened_by = :letter AND paired = :false",
                {":now": stamp, ":letter": "letter", ":true": True, ":false": False},
            ):
                return False  # the letter's own change, come second: one message
        return False

    def release_request(self, member_id: str, request_id: str, change: str, channel: str) -> None:
        _update(_window_key(member_id, request_id, change, channel), "quiet_until", 0)

    def defer_sms(self, sms: DeferredSms) -> None:
        send_at = clock.parse_timestamp(sms.send_at)
        item = {
            **keys.deferred_sms_key(sms.send_at, sms.event_id),
            "member_id": sms.member_id,
            "request_id": sms.request_id,
            "asks_member": sms.asks_member,
            "answer_by": sms.answer_by,  # None: left out by `serialize`
            "attempts": sms.attempts,
            "expires_at": int(send_at.timestamp()) + DEFERRED_TTL_SECONDS,
        }
        dynamodb().put_item(TableName=table(), Item=serialize(item))

    def due_sms(self, now: datetime) -> list[DeferredSms]:
        items = query_all(
            TableName=table(),
            KeyConditionExpression="pk = :pk AND sk <= :now",
            FilterExpression="attribute_not_exists(taken_at)",
            ExpressionAttributeValues=serialize(
                {":pk": keys.DEFERRED_SMS_PARTITION, ":now": f"{clock.iso_z(now)}#~"}
            ),
        )
        return [_deferred(item) for item in items]

    def take_sms(self, sms: DeferredSms, now: datetime) -> bool:
        """Mark it taken before sending: True if this caller took it (two runs send it once)."""
        return made_once(
            dynamodb().update_item,
            TableName=table(),
            Key=serialize(keys.deferred_sms_key(sms.send_at, sms.event_id)),
            UpdateExpression="SET taken_at = :now",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(taken_at)",
            ExpressionAttributeValues=serialize({":now": clock.iso_z(now)}),
        )

    def enqueue(self, detail_type: str, detail: dict[str, Any]) -> None:
        """A notification of our own (the reminder) on the notifications queue, shaped as the
        bus's rule delivers an event."""
        body = {"source": SOURCE, "detail-type": detail_type, "detail": detail}
        aws.client("sqs").send_message(
            QueueUrl=queue_url(NOTIFICATIONS_QUEUE), MessageBody=json.dumps(body)
        )


def _window_key(member_id: str, request_id: str, change: str, channel: str) -> dict[str, str]:
    """The quarter of an hour a change of the request and its letter share on a channel."""
    return keys.notification_key(member_id, f"REQ#{request_id}#{change}", channel)


def _put_if(item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
    return _conditionally(
        dynamodb().put_item,
        Item=serialize(item),
        ConditionExpression=condition,
        ExpressionAttributeValues=serialize(values),
    )


def _update_if(
    key: dict[str, str], expression: str, condition: str, values: dict[str, Any]
) -> bool:
    return _conditionally(
        dynamodb().update_item,
        Key=serialize(key),
        UpdateExpression=expression,
        ConditionExpression=condition,
        ExpressionAttributeValues=serialize(values),
    )


def _conditionally(write: Any, **arguments: Any) -> bool:
    """The write made (by this call, a retry of a lost answer included), or False when its
    condition did not hold."""
    return made_once(write, TableName=table(), **arguments)


def _update(key: dict[str, str], name: str, value: Any) -> None:
    dynamodb().update_item(
        TableName=table(),
        Key=serialize(key),
        UpdateExpression=f"SET {name} = :value",
        ExpressionAttributeValues=serialize({":value": value}),
    )


def _deferred(item: dict[str, Any]) -> DeferredSms:
    send_at, _, event_id = str(item["sk"]).rpartition("#")
    return DeferredSms(
        send_at=send_at,
        event_id=event_id,
        member_id=str(item["member_id"]),
        request_id=str(item["request_id"]),
        asks_member=bool(item.get("asks_member", False)),
        answer_by=str(item["answer_by"]) if item.get("answer_by") else None,
        attempts=int(item.get("attempts", 0)),  # none on an item kept before they were counted
    )


class Messenger:
    """SES v2 from the stage's verified identity; SNS for SMS (transactional)."""

    def send_email(self, to: str, email: Email, unsubscribe_url: str) -> None:
        sender = get_settings().notifications_from
        message = EmailMessage()
        message["From"] = formataddr(("Génération", sender))
        message["To"] = to
        message["Subject"] = email.subject
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message.set_content(email.text)
        aws.client("sesv2").send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to]},
            Content={"Raw": {"Data": message.as_bytes()}},
        )

    def send_sms(self, phone: str, text: str) -> None:
        aws.client("sns").publish(
            PhoneNumber=phone,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Generation"},
            },
        )
