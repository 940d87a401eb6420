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
