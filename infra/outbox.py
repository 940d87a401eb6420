"""`make outbox`: what the local stack has sent to members, newest first — the e-mails (SES v2)
and the SMS (SNS) moto recorded, read from the running `make run`'s moto (`/moto-api/data.json`).

The e-mails are shown as a member's mail client would: sender, recipient, subject, the
`List-Unsubscribe` target and the text.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

from infra.local_stack import LocalStack, state_file


@dataclass(frozen=True)
class SentEmail:
    sender: str
    to: str
    subject: str
    unsubscribe: str
    text: str


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str


def _moto_data(endpoint_url: str) -> dict[str, Any]:
    if not endpoint_url.startswith(("http://", "https://")):
        raise ValueError("moto's address is an http(s) URL")
    address = f"{endpoint_url}/moto-api/data.json"
    with urllib.request.urlopen(address, timeout=10) as answer:  # noqa: S310  (checked above)
        return dict(json.load(answer))


def _email(raw: str) -> SentEmail:
    message = message_from_string(raw, policy=policy.default)
    body = message.get_body(("plain",)) if isinstance(message, EmailMessage) else None
    return SentEmail(
        sender=str(message["From"]),
        to=str(message["To"]),
        subject=str(message["Subject"]),
        unsubscribe=str(message["List-Unsubscribe"] or ""),
        text=body.get_content() if body is not None else "",
    )


def sent(endpoint_url: str) -> tuple[list[SentEmail], list[SentSms]]:
    """Everything sent so far, newest first (moto keeps them in the order they were sent)."""
    data = _moto_data(endpoint_url)
    raws = data.get("ses", {}).get("RawMessage", [])
    simple = data.get("ses", {}).get("Message", [])
    emails = [_email(m["raw_data"]) for m in raws] + [
        SentEmail(m["source"], ", ".join(m["destinations"].get("ToAddresses", [])),
                  m["subject"], "", m["body"])
        for m in simple
    ]  # fmt: skip
    texts = [SentSms(m["phone_number"], m["message"]) for m in data.get("sns", {}).get("SMS", [])]
    return emails[::-1], texts[::-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", help="moto's address (default: the running make run)")
    args = parser.parse_args()
    endpoint = args.endpoint_url
    if endpoint is None:
        if not state_file().exists():
            print("no local stack running: start it with `make run`", file=sys.stderr)
            return 1
        endpoint = LocalStack.load().endpoint_url
    emails, texts = sent(endpoint)
    print(f"E-mails sent ({len(emails)}), newest first")
    for email in emails:
        print(f"\n  From: {email.sender}\n  To: {email.to}\n  Subject: {email.subject}")
        if email.unsubscribe:
            print(f"  List-Unsubscribe: {email.unsubscribe}")
        print("".join(f"  | {line}\n" for line in email.text.rstrip().splitlines()), end="")
    print(f"\nSMS sent ({len(texts)}), newest first")
    for sms in texts:
        print(f"\n  To: {sms.phone}\n  | {sms.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
