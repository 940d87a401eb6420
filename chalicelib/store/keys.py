"""The one place that builds DynamoDB keys (DESIGN.md, "Data")."""

from __future__ import annotations

MEMBER = "MEMBER#"
PROFILE = "PROFILE"
BENEFICIARY = "BENEF#"
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


def request_key(member_id: str, month: str, request_id: str) -> dict[str, str]:
    return {"pk": member_month_pk(member_id, month), "sk": f"{REQUEST}{request_id}"}


def document_key(member_id: str, month: str, document_id: str) -> dict[str, str]:
    return {"pk": member_month_pk(member_id, month), "sk": f"{DOCUMENT}{document_id}"}


# A member's documents by date, whatever their month: `GET /documents?months=N` is one Query.
DOCUMENTS_INDEX = "gsi_documents"


def documents_index_key(member_id: str, created_at: str, document_id: str) -> dict[str, str]:
    return {"doc_pk": member_pk(member_id), "doc_sk": f"{created_at}#{document_id}"}


# A member's requests by month, then in the order they were filed (`MEMBER#<id>` /
# `<YYYY-MM>#<ulid>`): a timeline page is one Query, newest first, whatever the months it spans
# (docs/design-notes.md, "Stop 28").
REQUESTS_INDEX = "gsi_requests"


def requests_index_key(member_id: str, month: str, request_id: str) -> dict[str, str]:
    return {"req_pk": member_pk(member_id), "req_sk": f"{month}#{request_id}"}


def requests_index_month(req_sk: str) -> str:
    """The month of a request's `gsi_requests` sort key (`requests_index_key`)."""
    return req_sk.split("#", 1)[0]


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


def pending_sort(since: str, request_id: str) -> str:
    """A request's place on the sweeper's list (`PENDING_PARTITION`): what its outbox holds is
    the sweeper's to send from `since` (an ISO UTC moment) on."""
    return f"{since}#{request_id}"


UPLOAD = "UPLOAD#"


def upload_key(member_id: str, upload_id: str) -> dict[str, str]:
    return {"pk": member_pk(member_id), "sk": f"{UPLOAD}{upload_id}"}


def unused_uploads_key(member_id: str) -> dict[str, str]:
    """The member's uploads not yet used nor expired, as one set: counted against the limit."""
    return {"pk": member_pk(member_id), "sk": "UNUSED_UPLOADS"}


def daily_count_key(member_id: str, counted: str, day: str) -> dict[str, str]:
    """How many of `counted` (requests, replies) the member made on a Paris day (YYYY-MM-DD)."""
    return {"pk": member_pk(member_id), "sk": f"COUNT#{counted}#{day}"}


def staged_object(member_id: str, upload_id: str) -> str:
    """S3 key of an upload before it joins a request."""
    return f"{staged_prefix(member_id)}{upload_id}"


def staged_prefix(member_id: str) -> str:
    """Where a member's uploads wait for a request."""
    return f"uploads/{member_id}/"


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


AUDIT = "AUDIT#"
AUDITED = "AUDITED#"


def audit_pk(day: str, shard: int | None = None) -> str:
    """One of a Paris day's audit chains (`day`: YYYY-MM-DD; `shard`: which; none for a day
    written before the chains were sharded): `AUDIT#2026-11-10#03`."""
    return f"{AUDIT}{day}" if shard is None else f"{AUDIT}{day}#{shard:02d}"


def audit_key(day: str, sequence: int, shard: int | None = None) -> dict[str, str]:
    """One link of a chain; zero-padded, so the key's order is the chain's."""
    return {"pk": audit_pk(day, shard), "sk": f"{sequence:010d}"}


def audit_head_key(day: str, shard: int | None = None) -> dict[str, str]:
    """Where a chain ends (its last sequence and hash): one GetItem to find the tail."""
    return {"pk": f"{audit_pk(day, shard)}#HEAD", "sk": "HEAD"}


def audited_key(entry_id: str) -> dict[str, str]:
    """The mark that an event (or an audit-only change) is in a chain: recorded once."""
    return {"pk": f"{AUDITED}{entry_id}", "sk": "AUDITED"}


EXPORT = "EXPORT#"


def export_key(member_id: str, export_id: str) -> dict[str, str]:
    """One export of a member's data (TTL: the zip's 7 days)."""
    return {"pk": member_pk(member_id), "sk": f"{EXPORT}{export_id}"}


def exports_guard_key(member_id: str) -> dict[str, str]:
    """Which of the member's exports is building, if one is: one at a time, by a condition."""
    return {"pk": member_pk(member_id), "sk": "EXPORTS"}


def export_object(member_id: str, export_id: str) -> str:
    """The zip, under `exports/` (the bucket's lifecycle removes it after 7 days)."""
    return f"exports/{member_id}/{export_id}.zip"


PURGE = "PURGE#"


def purge_partition(day: str) -> str:
    """What the retention purge deletes on a Paris day (YYYY-MM-DD), read page by page."""
    return f"{PURGE}{day}"


def contest_key(member_id: str, contested_id: str, complaint_id: str) -> dict[str, str]:
    """A complaint's mark on the request it contests (`related_request_id`): the purge keeps
    that request's files while the complaint is open."""
    return {"pk": f"CONTESTS#{member_id}", "sk": f"{contested_id}#{complaint_id}"}


def purge_key(day: str, member_id: str, request_id: str, what: str) -> dict[str, str]:
    """One deletion due on `day`: a closed request's attachments, or its letters' PDFs."""
    return {"pk": purge_partition(day), "sk": f"{member_id}#{request_id}#{what}"}


def purge_progress_key() -> dict[str, str]:
    """The last day whose deletions the retention purge finished: a run starts after it."""
    return {"pk": "RETENTION", "sk": "PURGED_THROUGH"}


def attachments_prefix(member_id: str, month: str, request_id: str) -> str:
    """Every attachment of a request, from its filing and its replies, lies under this."""
    return f"requests/{member_id}/{month}/{request_id}/"
