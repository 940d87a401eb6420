"""The one place that builds DynamoDB keys (DESIGN.md, "Data")."""

from __future__ import annotations

MEMBER = "MEMBER#"
PROFILE = "PROFILE"
BENEFICIARY = "BENEF#"
CALENDAR = "CALENDAR"
REQUEST = "REQ#"
DOCUMENT = "DOC#"
IDEMPOTENCY = "IDEMP#"


def member_pk(member_id: str) -> str:
    return f"{MEMBER}{member_id}"


def member_month_pk(member_id: str, month: str) -> str:
    return f"{MEMBER}{member_id}#{month}"


def profile_key(member_id: str) -> dict[str, str]:
    return {"pk": member_pk(member_id), "sk": PROFILE}


def account_key(member_id: str) -> dict[str, str]:
    """Which Cognito account (`sub`) is this member's: written when the account is created."""
    return {"pk": member_pk(member_id), "sk": "ACCOUNT"}


def beneficiary_key(member_id: str, beneficiary_id: str) -> dict[str, str]:
    return {"pk": member_pk(member_id), "sk": f"{BENEFICIARY}{beneficiary_id}"}


def calendar_key(member_id: str) -> dict[str, str]:
    return {"pk": member_pk(member_id), "sk": CALENDAR}


def request_key(member_id: str, month: str, request_id: str) -> dict[str, str]:
    return {"pk": member_month_pk(member_id, month), "sk": f"{REQUEST}{request_id}"}


def document_key(member_id: str, month: str, document_id: str) -> dict[str, str]:
    return {"pk": member_month_pk(member_id, month), "sk": f"{DOCUMENT}{document_id}"}


def idempotency_key(member_id: str, key: str) -> dict[str, str]:
    return {"pk": member_pk(member_id), "sk": f"{IDEMPOTENCY}{key}"}


def bank_details_key(member_id: str, request_id: str) -> dict[str, str]:
    """The full IBAN of a bank-details request, kept apart until an agent applies it."""
    return {"pk": member_pk(member_id), "sk": f"BANK#{request_id}"}


def parse_request_key(pk: str, sk: str) -> tuple[str, str]:
    """(member_id, request_id) of a request item's key."""
    member_id, _, _month = pk.removeprefix(MEMBER).rpartition("#")
    return member_id, sk.removeprefix(REQUEST)


PENDING_PARTITION = "PENDING"


def upload_key(member_id: str, upload_id: str) -> dict[str, str]:
    return {"pk": member_pk(member_id), "sk": f"UPLOAD#{upload_id}"}


def unused_uploads_key(member_id: str) -> dict[str, str]:
    """The member's uploads not yet used nor expired, as one set: counted against the limit."""
    return {"pk": member_pk(member_id), "sk": "UNUSED_UPLOADS"}


def daily_count_key(member_id: str, counted: str, day: str) -> dict[str, str]:
    """How many of `counted` (requests, replies) the member made on a Paris day (YYYY-MM-DD)."""
    return {"pk": member_pk(member_id), "sk": f"COUNT#{counted}#{day}"}


def staged_object(member_id: str, upload_id: str) -> str:
    """S3 key of an upload before it joins a request."""
    return f"uploads/{member_id}/{upload_id}"


def attachment_object(member_id: str, month: str, request_id: str, attachment_id: str) -> str:
    return f"requests/{member_id}/{month}/{request_id}/{attachment_id}"


def document_object(member_id: str, month: str, document_id: str) -> str:
    return f"documents/{member_id}/{month}/{document_id}.pdf"


def letter_guard_key(member_id: str, request_id: str, kind: str) -> dict[str, str]:
    """One letter of a kind per request: the routing side retries, the member gets one letter."""
    return {"pk": member_pk(member_id), "sk": f"LETTER#{request_id}#{kind}"}


def notification_key(member_id: str, event_id: str, channel: str) -> dict[str, str]:
    """The record that an event was notified on a channel: a redelivered event notifies once."""
    return {"pk": member_pk(member_id), "sk": f"NOTIFIED#{event_id}#{channel}"}


DEFERRED_SMS_PARTITION = "DEFERRED_SMS"


def deferred_sms_key(send_at: str, event_id: str) -> dict[str, str]:
    """An SMS due in the quiet hours, kept until its moment (`send_at`, UTC ISO) comes."""
    return {"pk": DEFERRED_SMS_PARTITION, "sk": f"{send_at}#{event_id}"}


ACCESS = "ACCESS#"


def access_key(member_id: str, access_id: str) -> dict[str, str]:
    """One back-office access to a member's file, newest last (`access_id` is a ULID)."""
    return {"pk": member_pk(member_id), "sk": f"{ACCESS}{access_id}"}
