"""`make load`: 2,000 démarches of every type, 16 members filing at a time, against `make run`;
then the dialogue on them (questions, replies, withdrawals, decisions) and the notifications.

Needs the local stack of `make run` running in another terminal (it reads
`.local/stack-<moto port>.json`, `MOTO_PORT` as `make run`'s).
A member may file 30 démarches a day (`REQUESTS_PER_DAY`, API.md "Limits"), so the load creates
as many fresh member accounts (Cognito) and profiles as the total needs (67 for 2,000), and no
fewer than the concurrency; each member has an e-mail address and a mobile number of its own
(`load-<run>-<n>@example.fr`, `07 …`). Preferences: half the members keep a new profile's
defaults (e-mail on, SMS off); the others set theirs first (`PUT /me/preferences`): one in four
e-mail and SMS, one in four SMS only.

Filing: 16 threads take the members in turn; each member files its share (at most the day's limit)
of démarches of every type of `GET /catalog` in turn (attachments through the presigned POST where
the type requires them, each used at once, an `Idempotency-Key` on each, as the portal sends it; a
bank-details change with a wrong IBAN is refused when filed, 422, as it should), and reads its
timeline (`GET /requests`) and its documents (`GET /documents`) after each filing. A 429 is a
failure like any other. Then it waits, with a bounded timeout, for the queue pump of `make run` to
route every request (running the app's outbox sweeper every minute meanwhile, as the stage's
schedule does: `make run` pumps the queues but runs no schedule), and checks each one through `GET
/requests/{id}`: routed ("Transmise au …" in its history and a service), and, where the service
acts alone, done (tiers-payant attestation and change of contact details processed, complaint
acknowledged with its letter, every other request acknowledged).

Dialogue: the requests still in progress that brought their member no news yet (neither processed
nor answered with a letter: not the ones their service handled alone, nor the complaints) are shared
out, 20 at a time: 8 asked by the service and answered by the member, 2 asked then withdrawn, 4
withdrawn, 3 decided by an agent, 3 left alone. The agent is the demo `agent` (every
`agent-<service>` group, no member file of its own, so never on its own file): it reads the request
(`GET /backoffice/members/{m}/requests/{id}`), then asks (`…/information-request`) or decides
(`…/decision`: accepted, with an amount where the type needs one, or refused with a reason). The
member answers (`POST /requests/{id}/replies`): one reply in three with a file through the presigned
POST, one in two with an `Idempotency-Key` sent twice (the second must replay: `Idempotent-Replayed:
true`, same messages); or withdraws (`POST /requests/{id}/withdrawal`, sent twice: the second
answers the same; a reason every other time). A member's acts run in turn, 16 members at a time; at
most 50 replies a day each (API.md "Limits": the load sends about 8). An agent's call that fails
(counted as such) leaves its request alone. After the queues are empty again, each request acted on
is checked: answered → `in_progress` with the question and the answer in `messages`, the answer
handed to the service ("Réponse transmise au …"), the question's letter in `documents`; withdrawn →
`withdrawn` (with the question's letter if it was asked); decided → `processed` with that outcome
and its letter.

Notifications: the e-mails (SES v2) and SMS (SNS) the run made moto record, read the way
`make outbox` reads them (`infra.outbox.sent`), and the SMS kept for 08:00 when the run falls in
the quiet hours (20:00–08:00 in Paris; the app's `NotificationRecords.due_sms`). The app tells a
member of an information request, a decision and a letter, once per event and channel, and a
decision or question with its letter (events of one request within 15 minutes) make one
message; its texts name the démarche's date, never the request (no identifier, no content).
So the load expects, per member and channel the member chose, exactly one message per request
that brought news (processed or answered with a letter on filing, asked, decided): it counts
them per recipient (address, number) and per (member, request) for the kept SMS, and fails on
any more (a duplicate), any fewer (a lost one), any to a member who turned that channel off, or
an e-mail whose subject names none of its recipient's démarches.

Prints p50/p99 latency per operation, the throughput, the dialogue and notification counts;
exits 1 on any 5xx, any unexpected answer, any request not settled in time, any queue or DLQ
not empty, or any notification missing or repeated. Loopback only; bounded in count and time.

    .venv/bin/python scripts/load.py [--api-port 8000] [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file too, not only with -m

from chalicelib.domain.catalog import Service, acknowledged_label  # noqa: E402
from infra.local_stack import LocalStack, state_file  # noqa: E402
from infra.outbox import sent  # noqa: E402

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
PASSWORD = "Charge-Locale-2026!"  # noqa: S105 (throwaway accounts in the local moto)
HTTP_TIMEOUT = 30
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(2048)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(4096)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8192)
INVALID_IBAN = "FR7630006000011234567890188"  # well formed, wrong check digits
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"
DOCUMENT_WINDOWS = (1, 3, 6, 12, 24)

# The dialogue, 20 requests at a time (see the module's docstring).
ASK_REPLY, ASK_WITHDRAW, WITHDRAW, DECIDE, UNTOUCHED = (
    "asked, answered", "asked, withdrawn", "withdrawn", "decided", "left alone"
)  # fmt: skip
PLAN = (ASK_REPLY,) * 8 + (ASK_WITHDRAW,) * 2 + (WITHDRAW,) * 4 + (DECIDE,) * 3 + (UNTOUCHED,) * 3
QUESTION = "Merci de nous adresser la facture détaillée de l'établissement."
ANSWER = "Voici la facture détaillée demandée, bonne réception."
REASON = "J'ai finalement réglé cette question par téléphone."
AMOUNT_TYPES = frozenset(
    {"sante.justificatif", "sante.devis", "sante.prise_en_charge_hospitaliere"}
)  # an acceptance names an amount (API.md, back-office decision)
BACKOFFICE = "/backoffice/members/{m}/requests/{id}"
# (e-mail, SMS) by member number modulo 4; the others keep a new profile's defaults (True, False).
CHANNELS = {2: (True, True), 3: (False, True)}


@dataclass(frozen=True)
class Kind:
    """One line of the mix: a démarche type of the catalogue, possibly in a variant."""

    name: str
    request_type: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, content type, bytes)
    complaint: bool = False
    iban: str | None = None


def _kinds(catalog_types: set[str]) -> list[Kind]:
    pdf = ("justificatif.pdf", "application/pdf", PDF_BYTES)
    kinds = [
        Kind(
            "sante.justificatif",
            "sante.justificatif",
            (pdf, ("ordonnance.png", "image/png", PNG_BYTES)),
        ),
        Kind("sante.devis", "sante.devis", (("devis.jpg", "image/jpeg", JPEG_BYTES),)),
        Kind("sante.prise_en_charge_hospitaliere", "sante.prise_en_charge_hospitaliere", (pdf,)),
        Kind("sante.attestation_tiers_payant", "sante.attestation_tiers_payant"),
        Kind("vie.coordonnees", "vie.coordonnees"),
        Kind(
            "vie.coordonnees_bancaires (valid IBAN)",
            "vie.coordonnees_bancaires",
            (("rib.pdf", "application/pdf", PDF_BYTES),),
            iban=VALID_IBAN,
        ),
        Kind(
            "vie.coordonnees_bancaires (invalid IBAN)",
            "vie.coordonnees_bancaires",
            (("rib.pdf", "application/pdf", PDF_BYTES),),
            iban=INVALID_IBAN,
        ),
        Kind("vie.prolongation_droits_enfant", "vie.prolongation_droits_enfant", (pdf,)),
        Kind("vie.situation_familiale", "vie.situation_familiale", (pdf,)),
        Kind("vie.autre", "vie.autre"),
        Kind("contact.demande", "contact.demande"),
        Kind("contact.demande (complaint)", "contact.demande", complaint=True),
    ]
    missing = catalog_types - {k.request_type for k in kinds}
    if missing:
        raise SystemExit(f"GET /catalog lists types this load does not know: {sorted(missing)}")
    return [k for k in kinds if k.request_type in catalog_types]


def _data(kind: Kind, today: date, n: int, phone: str) -> dict[str, Any]:
    """Valid `data` per type (as tests/api/test_requests_filing.py files them). A change of
    contact details keeps the member's own number (`phone`): the SMS are counted by number."""
    by_type: dict[str, dict[str, Any]] = {
        "sante.justificatif": {
            "care_date": (today - timedelta(days=3)).isoformat(),
            "amount": f"{10 + n % 90}.50",
            "care_type": "pharmacie",
        },
        "sante.devis": {"care_type": "dentaire", "amount": "1250.00", "practitioner": "Dr Roux"},
        "sante.prise_en_charge_hospitaliere": {
            "establishment": "Hôpital Saint-Antoine",
            "finess": "750100125",
            "admission_date": (today + timedelta(days=10)).isoformat(),
            "stay_type": "ambulatoire",
        },
        "sante.attestation_tiers_payant": {},
        "vie.coordonnees": {
            "phone": phone,
            "postal_address": {"line1": "5 rue Oberkampf", "postal_code": "75011", "city": "Paris"},
        },
        "vie.coordonnees_bancaires": {
            "iban": kind.iban or VALID_IBAN,
            "holder_name": "Alice Martin",
        },
        "vie.prolongation_droits_enfant": {
            "situation": "etudiant",
            "until": date(today.year + 1, 6, 30).isoformat(),  # past Léa's 31 December
        },
        "vie.situation_familiale": {
            "event": "naissance",
            "event_date": (today - timedelta(days=5)).isoformat(),
            "new_beneficiary": {
                "first_name": "Zoé",
                "last_name": "Martin",
                "birth_date": (today - timedelta(days=5)).isoformat(),
                "relationship": "child",
            },
        },
        "vie.autre": {},
        "contact.demande": (
            {"subject": "remboursements", "detail": "montant_conteste"}
            if kind.complaint
            else {"subject": "remboursements", "detail": "decompte"}
        ),
    }
    return by_type[kind.request_type]


def _expected(kind: Kind) -> Callable[[dict[str, Any]], bool]:
    """Whether a request's detail shows what its service does by itself."""

    def history(detail: dict[str, Any]) -> list[str]:
        return [str(h["label"]) for h in detail["history"]]

    def processed(outcome: str) -> Callable[[dict[str, Any]], bool]:
        return lambda d: (
            d["status"] == "processed" and d["outcome"] == outcome and len(d["documents"]) == 1
        )

    if kind.request_type in {"sante.attestation_tiers_payant", "vie.coordonnees"}:
        return processed("accepted")
    if kind.iban is not None:
        return lambda d: "Coordonnées bancaires vérifiées, en cours de validation" in history(d)
    if kind.complaint:
        return lambda d: (
            "Réclamation enregistrée, accusé de réception envoyé" in history(d)
            and len(d["documents"]) == 1
            and d["due_at"] is not None
        )
    # The line a service writes when it has the request, whichever service it is.
    acknowledged = {acknowledged_label(service) for service in Service}
    return lambda d: any(label in acknowledged for label in history(d))


def _routed(detail: dict[str, Any]) -> bool:
    return bool(detail.get("service")) and any(
        str(h["label"]).startswith("Transmise au ") for h in detail["history"]
    )


@dataclass
class Member:
    username: str
    member_id: str
    token: str
    email: str
    phone: str
    by_email: bool = True  # the defaults of a new profile (`domain/members.Preferences`)
    by_sms: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Filed:
    member: Member
    request_id: str
    kind: Kind


@dataclass
class Act:
    """What the dialogue does with one filed request, and what it saw on the way."""

    filed: Filed
    action: str
    attachments: int  # the request's attachments when filed
    outcome: str | None = None  # a decision's
    reply_upload: bool = False
    reply_key: str | None = None
    reason: str | None = None  # a withdrawal's
    refused: str | None = None  # the plan an agent's call failed on (the request left alone)


@dataclass
class Recorder:
    """Latencies per operation, statuses, and the failures worth printing (thread-safe)."""

    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    failures: list[str] = field(default_factory=list)
    total: int = 0
    filings: int = 0
    refused: int = 0  # the wrong IBANs, refused when filed as they should be
    retried: int = 0  # calls sent again after a reset connection (safe ones only)
    started: float = field(default_factory=time.perf_counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(
        self,
        session: requests.Session,
        operation: str,
        method: str,
        url: str,
        expected: int | tuple[int, ...],
        **kwargs: Any,
    ) -> requests.Response | None:
        started = time.perf_counter()
        # A connection the local server reset (`chalice local` has a small listen backlog) is
        # tried again once, as a client does, where that is safe: a read, a PUT, or a call
        # carrying its `Idempotency-Key`. Counted apart; any other error is a failure.
        safe = method in {"GET", "PUT"} or "Idempotency-Key" in (kwargs.get("headers") or {})
        for attempt in (1, 2):
            try:
                answer = session.request(method, url, timeout=HTTP_TIMEOUT, **kwargs)
                break
            except requests.ConnectionError as error:
                if safe and attempt == 1:
                    with self._lock:
                        self.retried += 1
                    time.sleep(0.5)
                    continue
                return self._broken(operation, error)
            except requests.RequestException as error:
                return self._broken(operation, error)
        elapsed = (time.perf_counter() - started) * 1000
        allowed = expected if isinstance(expected, tuple) else (expected,)
        with self._lock:
            self.timings[operation].append(elapsed)
            self.statuses[operation][answer.status_code] += 1
            if answer.status_code not in allowed:
                self.failures.append(f"{operation}: {answer.status_code} {answer.text[:300]!r}")
        return answer if answer.status_code in allowed else None

    def _broken(self, operation: str, error: Exception) -> None:
        with self._lock:
            self.statuses[operation][0] += 1
            self.failures.append(f"{operation}: {type(error).__name__}: {error}")

    def filed(self, refused: bool = False) -> None:
        """Count one filing (refused as it should be, or filed); a progress line every tenth of
        the total."""
        with self._lock:
            self.filings += 1
            self.refused += refused
            if self.filings % max(1, self.total // 10) == 0:
                elapsed = time.perf_counter() - self.started
                print(f"  {self.filings}/{self.total} filed, {elapsed:.0f} s", flush=True)

    def fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for by in self.statuses.values() for s, n in by.items() if predicate(s))


@dataclass
class Progress:
    """A progress line every tenth of `total` (thread-safe)."""

    what: str
    total: int
    done: int = 0
    started: float = field(default_factory=time.perf_counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def step(self) -> None:
        with self._lock:
            self.done += 1
            if self.done % max(1, self.total // 10) == 0:
                elapsed = time.perf_counter() - self.started
                print(f"  {self.done}/{self.total} {self.what}, {elapsed:.0f} s", flush=True)


@dataclass
class Sweeper:
    """The outbox sweeper (`routing/sweeper.sweep_pending`), every minute as the stage's
    schedule runs it: what a dispatch left pending (the audit trail contended, a send failed)
    goes out a minute later. `make run` pumps the queues but runs no schedule, so the load runs
    this one, in its own process, while it waits for the queues."""

    last: float = field(default_factory=time.monotonic)
    runs: int = 0
    sent: int = 0

    def tick(self) -> None:
        if time.monotonic() - self.last < 60:
            return
        from chalicelib.routing.sweeper import sweep_pending

        self.last = time.monotonic()
        self.runs += 1
        self.sent += sweep_pending()


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _require_loopback(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"{what} is {url}: this load runs against loopback only")


def _sign_up(stack: LocalStack, run: str, count: int, today: date) -> list[Member]:
    """`count` members, each an account and a profile shaped like alice's but with an address
    and a number of its own (written by the app's own repository: `point_app_at` first). Half
    keep the default preferences; `_member_session` sets the others' (`CHANNELS`)."""
    from infra import seed
    from infra.local_stack import create_account

    members = []
    for n in range(count):
        member_id = f"L{run}{n:03d}"
        username = f"load-{run}-{n:03d}"
        digits = f"{n:08d}"
        phone = "07 " + " ".join(digits[i : i + 2] for i in range(0, 8, 2))
        profile, beneficiaries = seed.alice(today, member_id)
        email = f"{username}@example.fr"
        seed.seed_member(profile.model_copy(update={"email": email, "phone": phone}), beneficiaries)
        create_account(stack, username, PASSWORD, member_id)
        token = stack.id_token(username, PASSWORD)
        member = Member(username, member_id, token, email, phone)
        member.by_email, member.by_sms = CHANNELS.get(n % 4, (True, False))
        members.append(member)
    return members


def _refresh_tokens(stack: LocalStack, members: list[Member]) -> None:
    """New ID tokens (moto's last an hour; a full run takes longer)."""
    for member in members:
        member.token = stack.id_token(member.username, PASSWORD)


def _upload(
    api: str,
    session: requests.Session,
    recorder: Recorder,
    member: Member,
    attachment: tuple[str, str, bytes],
) -> str | None:
    """`POST /uploads`, then the file to the presigned POST: the upload's id, None on failure."""
    filename, content_type, data = attachment
    form = recorder.call(
        session,
        "POST /uploads",
        "POST",
        f"{api}/uploads",
        201,
        headers=member.headers,
        json={"filename": filename, "content_type": content_type, "size": len(data)},
    )
    if form is None:
        return None
    presigned = form.json()
    _require_loopback(presigned["url"], "the presigned POST")
    posted = recorder.call(
        session,
        "S3 presigned POST (moto)",
        "POST",
        presigned["url"],
        (200, 201, 204),
        data=presigned["fields"],
        files={"file": (filename, data)},
    )
    return None if posted is None else str(presigned["upload_id"])


def _file_one(
    api: str,
    session: requests.Session,
    recorder: Recorder,
    member: Member,
    kind: Kind,
    n: int,
    today: date,
) -> Filed | None:
    upload_ids: list[str] = []
    for attachment in kind.attachments:
        upload_id = _upload(api, session, recorder, member, attachment)
        if upload_id is None:
            return None
        upload_ids.append(upload_id)

    beneficiary = "03" if kind.request_type == "vie.prolongation_droits_enfant" else "01"
    body: dict[str, Any] = {
        "type": kind.request_type,
        "beneficiary_ids": [f"{member.member_id}-{beneficiary}"],
        "data": _data(kind, today, n, member.phone),
    }
    if kind.request_type in {"vie.autre", "contact.demande"}:
        body["description"] = "Bonjour, pourriez-vous m'aider ? Merci d'avance."
    if kind.complaint:
        body["complaint"] = True
    if upload_ids:
        body["upload_ids"] = upload_ids
    # One key per filing, as the reference portal sends it: a filing whose connection broke is
    # sent again with it (`Recorder.call`), and cannot be filed twice.
    headers = {**member.headers, "Idempotency-Key": f"load-{member.username}-{n}"}
    # An IBAN whose check digits are wrong is refused when filed (422 on `data.iban`).
    refused = kind.iban == INVALID_IBAN
    created = recorder.call(
        session,
        "POST /requests",
        "POST",
        f"{api}/requests",
        422 if refused else 201,
        headers=headers,
        json=body,
    )
    if created is None:
        return None
    if refused:
        recorder.filed(refused=True)
        return None
    recorder.filed()
    return Filed(member, str(created.json()["request_id"]), kind)


def _member_session(
    api: str,
    recorder: Recorder,
    member: Member,
    index: int,
    share: int,
    kinds: list[Kind],
    today: date,
    deadline: float,
) -> list[Filed]:
    """One member: its preferences if they are not the defaults; then file, and read the
    timeline and the documents, `share` times, in turn."""
    filed: list[Filed] = []
    with requests.Session() as session:
        if (member.by_email, member.by_sms) != (True, False):
            chosen = {"email": member.by_email, "sms": member.by_sms, "paperless": True}
            stored = recorder.call(
                session,
                "PUT /me/preferences",
                "PUT",
                f"{api}/me/preferences",
                200,
                headers=member.headers,
                json=chosen,
            )
            if stored is not None and stored.json() != chosen:
                recorder.fail(f"{member.username}: preferences stored as {stored.json()}")
        for n in range(share):
            if time.monotonic() > deadline:
                recorder.fail(f"{member.username}: load deadline reached after {n} filings")
                break
            kind = kinds[(index + n) % len(kinds)]
            one = _file_one(api, session, recorder, member, kind, n, today)
            if one is not None:
                filed.append(one)
            recorder.call(
                session, "GET /requests", "GET", f"{api}/requests", 200, headers=member.headers
            )
            months = DOCUMENT_WINDOWS[n % len(DOCUMENT_WINDOWS)]
            recorder.call(
                session,
                "GET /documents",
                "GET",
                f"{api}/documents?months={months}",
                200,
                headers=member.headers,
            )
    return filed


@dataclass
class Settled:
    unrouted: list[Filed]
    not_done: list[Filed]  # routed, but not (yet) what was expected
    drained: float  # seconds until the queues were empty
    details: dict[str, dict[str, Any]]  # the last detail read, by request id


def _settle(
    api: str,
    recorder: Recorder,
    stack: LocalStack,
    filed: list[Filed],
    expect: Callable[[Filed], Callable[[dict[str, Any]], bool]],
    timeout: float,
    workers: int,
    sweeper: Sweeper,
    operation: str = "GET /requests/{id}",
) -> Settled:
    """Wait (bounded) for the queue pump to empty the queues, then check every request: routed,
    and as `expect` says (again, until the deadline, for those not yet)."""
    started = time.monotonic()
    deadline = started + timeout
    last_report = 0.0
    while time.monotonic() < deadline:
        waiting = sum(
            depth for queue, depth in _queue_depths(stack).items() if not queue.endswith("-dlq")
        )
        if waiting == 0:
            break
        sweeper.tick()
        if time.monotonic() - last_report >= 15:
            last_report = time.monotonic()
            print(f"  queue pump: {waiting} messages still queued", flush=True)
        time.sleep(2)
    drained = time.monotonic() - started

    sessions = threading.local()
    details: dict[str, dict[str, Any]] = {}

    def check(one: Filed) -> tuple[bool, bool]:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        answer = recorder.call(
            sessions.session,
            operation,
            "GET",
            f"{api}/requests/{one.request_id}",
            200,
            headers=one.member.headers,
        )
        if answer is None:
            return False, False
        detail = details[one.request_id] = answer.json()
        return _routed(detail), _routed(detail) and expect(one)(detail)

    pending = list(filed)
    unrouted: list[Filed] = []
    not_done: list[Filed] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while True:  # again for the few a batch still in flight was handling
            results = list(pool.map(check, pending))
            unrouted = [
                one for one, (routed, _) in zip(pending, results, strict=True) if not routed
            ]
            not_done = [
                one
                for one, (routed, done) in zip(pending, results, strict=True)
                if routed and not done
            ]
            pending = unrouted + not_done
            if not pending or time.monotonic() > deadline:
                return Settled(unrouted, not_done, drained, details)
            sweeper.tick()
            time.sleep(2)


def _queue_depths(stack: LocalStack) -> dict[str, int]:
    sqs = stack.client("sqs")
    prefix = stack.outputs["QueuePrefix"]
    depths: dict[str, int] = {}
    for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[url.rsplit("/", 1)[1].removeprefix(prefix)] = int(
            attributes["ApproximateNumberOfMessages"]
        ) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
    return depths


def _had_news(detail: dict[str, Any]) -> bool:
    """Whether its member was told of the request on filing: processed, or answered by letter."""
    return detail["status"] == "processed" or bool(detail["documents"])


def _plan(filed: list[Filed], details: dict[str, dict[str, Any]]) -> list[Act]:
    """The dialogue's share-out (`PLAN`) of the requests still in progress that brought their
    member no news yet: a question or a decision on one of them is then its first news, one
    message whatever the timing."""
    eligible = [
        one
        for one in filed
        if (detail := details.get(one.request_id)) is not None
        and detail["status"] == "in_progress"
        and not detail["complaint"]
        and not _had_news(detail)
    ]
    acts: list[Act] = []
    seen: Counter[str] = Counter()
    for j, one in enumerate(eligible):
        action = PLAN[j % len(PLAN)]
        n = seen[action]
        seen[action] += 1
        act = Act(one, action, len(details[one.request_id]["attachments"]))
        if action == ASK_REPLY:
            act.reply_upload = n % 3 == 0
            act.reply_key = f"reply-{one.request_id}" if n % 2 == 0 else None
        elif action in (ASK_WITHDRAW, WITHDRAW):
            act.reason = REASON if n % 2 == 0 else None
        elif action == DECIDE:
            act.outcome = "accepted" if n % 2 == 0 else "refused"
        acts.append(act)
    return acts


def _message_ids(answer: requests.Response) -> list[str]:
    return [str(m["message_id"]) for m in answer.json()["messages"]]


def _dialogue_member(
    api: str,
    recorder: Recorder,
    progress: Progress,
    agent: dict[str, str],
    acts: list[Act],
    deadline: float,
) -> None:
    """One member's requests, in turn: the agent's acts and the member's, each as it comes."""
    with requests.Session() as session, requests.Session() as backoffice:
        for act in acts:
            if time.monotonic() > deadline:
                recorder.fail(f"{act.filed.member.username}: dialogue deadline reached")
                return
            _act(api, recorder, session, backoffice, agent, act)
            progress.step()


def _act(
    api: str,
    recorder: Recorder,
    session: requests.Session,
    backoffice: requests.Session,
    agent: dict[str, str],
    act: Act,
) -> None:
    one = act.filed
    file = api + BACKOFFICE.format(m=one.member.member_id, id=one.request_id)
    if act.action in (ASK_REPLY, ASK_WITHDRAW, DECIDE):
        # The agent opens the request first, as the console does.
        read = recorder.call(
            backoffice, "GET /backoffice/…/requests/{id}", "GET", file, 200, headers=agent
        )
        if read is None:  # failed (counted): nothing was done, the request is left alone
            act.refused, act.action = act.action, UNTOUCHED
            return
    if act.action in (ASK_REPLY, ASK_WITHDRAW):
        asked = recorder.call(
            backoffice,
            "POST …/information-request",
            "POST",
            f"{file}/information-request",
            200,
            headers=agent,
            json={"message": QUESTION, "respond_within_days": 15},
        )
        if asked is None:
            act.refused, act.action = act.action, UNTOUCHED
            return
        if asked.json()["status"] != "waiting_for_member":
            recorder.fail(f"{one.request_id}: asked, then {asked.json()['status']}")
    if act.action == ASK_REPLY:
        _reply(api, recorder, session, act)
    elif act.action in (ASK_WITHDRAW, WITHDRAW):
        _withdraw(api, recorder, session, act)
    elif act.action == DECIDE:
        decision: dict[str, Any] = {
            "outcome": act.outcome,
            "message": "Votre demande est acceptée."
            if act.outcome == "accepted"
            else "Le document transmis est illisible.",
        }
        if act.outcome == "accepted" and one.kind.request_type in AMOUNT_TYPES:
            decision["amount"] = "10.00"  # at most what was filed: 10.50 or more
        decided = recorder.call(
            backoffice,
            "POST …/decision",
            "POST",
            f"{file}/decision",
            200,
            headers=agent,
            json=decision,
        )
        if decided is None:
            act.refused, act.action = act.action, UNTOUCHED
        elif decided.json()["status"] != "processed":
            recorder.fail(f"{one.request_id}: decided, then {decided.json()['status']}")


def _reply(api: str, recorder: Recorder, session: requests.Session, act: Act) -> None:
    """The member's answer; with a key, sent twice: the second must replay the first."""
    member, request_id = act.filed.member, act.filed.request_id
    upload_ids: list[str] = []
    if act.reply_upload:
        upload_id = _upload(
            api, session, recorder, member, ("facture.pdf", "application/pdf", PDF_BYTES)
        )
        if upload_id is None:
            return
        upload_ids.append(upload_id)
    headers = dict(member.headers)
    if act.reply_key is not None:
        headers["Idempotency-Key"] = act.reply_key
    url = f"{api}/requests/{request_id}/replies"
    body = {"message": ANSWER, "upload_ids": upload_ids}
    first = recorder.call(
        session, "POST /requests/{id}/replies", "POST", url, 201, headers=headers, json=body
    )
    if first is None:
        return
    if first.json()["status"] != "in_progress" or "Idempotent-Replayed" in first.headers:
        recorder.fail(f"{request_id}: answered, then {first.json()['status']} {first.headers}")
    if act.reply_key is None:
        return
    again = recorder.call(
        session, "POST …/replies (same key again)", "POST", url, 201, headers=headers, json=body
    )
    if again is not None and (
        again.headers.get("Idempotent-Replayed") != "true"
        or _message_ids(again) != _message_ids(first)
    ):
        recorder.fail(f"{request_id}: the reply sent again with its key was not a replay")


def _withdraw(api: str, recorder: Recorder, session: requests.Session, act: Act) -> None:
    """The member withdraws the request, twice: the second answers the same."""
    member, request_id = act.filed.member, act.filed.request_id
    url = f"{api}/requests/{request_id}/withdrawal"
    body = {"reason": act.reason} if act.reason else {}
    first = recorder.call(
        session, "POST /requests/{id}/withdrawal", "POST", url, 200, headers=member.headers,
        json=body,
    )  # fmt: skip
    if first is None:
        return
    if first.json()["status"] != "withdrawn":
        recorder.fail(f"{request_id}: withdrawn, then {first.json()['status']}")
    again = recorder.call(
        session, "POST …/withdrawal (again)", "POST", url, 200, headers=member.headers, json=body
    )
    if again is not None and (
        again.json()["status"] != "withdrawn" or _message_ids(again) != _message_ids(first)
    ):
        recorder.fail(f"{request_id}: the withdrawal sent again did not answer the same")


def _dialogue_expected(act: Act) -> Callable[[dict[str, Any]], bool]:
    """What the request's detail shows once the queues have carried the dialogue through."""

    def authors(detail: dict[str, Any]) -> list[str]:
        return [str(m["author"]) for m in detail["messages"]]

    if act.action == ASK_REPLY:
        files = 1 if act.reply_upload else 0
        return lambda d: (
            d["status"] == "in_progress"
            and authors(d) == ["service", "member"]
            and [m["text"] for m in d["messages"]] == [QUESTION, ANSWER]
            and len(d["messages"][1]["attachment_ids"]) == files
            and len(d["attachments"]) == act.attachments + files
            and len(d["documents"]) == 1  # the question's letter
            and any(str(h["label"]).startswith("Réponse transmise au ") for h in d["history"])
        )
    if act.action in (ASK_WITHDRAW, WITHDRAW):
        asked = act.action == ASK_WITHDRAW
        wanted = (["service"] if asked else []) + (["member"] if act.reason else [])
        return lambda d: (
            d["status"] == "withdrawn"
            and authors(d) == wanted
            and len(d["documents"]) == (1 if asked else 0)
        )
    return lambda d: (
        d["status"] == "processed" and d["outcome"] == act.outcome and len(d["documents"]) == 1
    )


@dataclass
class Notified:
    """The notifications of the run against what the load expects."""

    expected: int = 0  # messages, every channel the members chose
    emails: int = 0
    sms_sent: int = 0
    sms_kept: int = 0  # for 08:00 (quiet hours)
    duplicates: int = 0
    missing: int = 0
    unwanted: int = 0  # on a channel the member turned off
    problems: list[str] = field(default_factory=list)


def _notifications(
    stack: LocalStack,
    members: list[Member],
    news: dict[str, set[str]],
    baseline: tuple[int, int],
    now: datetime,
) -> Notified:
    """Each member chose its channels; on each, one message per request that brought news
    (`news`: member id → request ids). E-mails and sent SMS counted per address and number
    (their texts name the démarche's date only), the SMS kept for 08:00 per (member, request)."""
    from chalicelib.domain import notifications as texts
    from chalicelib.store.notifications import NotificationRecords

    emails, sms = sent(stack.endpoint_url)  # newest first
    emails, sms = emails[: len(emails) - baseline[0]], sms[: len(sms) - baseline[1]]
    by_address: dict[str, list[str]] = defaultdict(list)
    for email in emails:
        by_address[email.to].append(email.subject)
    by_number = Counter(one.phone for one in sms)
    ours = {member.member_id for member in members}
    kept: dict[str, Counter[str]] = defaultdict(Counter)
    for deferred in NotificationRecords().due_sms(now + timedelta(days=8)):
        if deferred.member_id in ours:
            kept[deferred.member_id][deferred.request_id] += 1
    result = Notified()

    def compare(member: Member, channel: str, chosen: bool, got: int, wanted: int) -> None:
        expected = wanted if chosen else 0
        result.expected += expected
        if got > expected and not chosen:
            result.unwanted += got
            result.problems.append(f"{member.username}: {got} {channel} though turned off")
        elif got > expected:
            result.duplicates += got - expected
            result.problems.append(f"{member.username}: {got} {channel} for {expected} news")
        elif got < expected:
            result.missing += expected - got
            result.problems.append(f"{member.username}: {got} {channel} for {expected} news")

    for member in members:
        requests_with_news = news.get(member.member_id, set())
        subjects = by_address.get(member.email, [])
        result.emails += len(subjects)
        compare(member, "e-mails", member.by_email, len(subjects), len(requests_with_news))
        dates = {texts.email(request_id, "").subject for request_id in requests_with_news}
        for subject in subjects:
            if subject not in dates:
                result.problems.append(f"{member.username}: e-mail {subject!r} names none")
        mine = kept.get(member.member_id, Counter())
        number = texts.e164(member.phone)
        result.sms_sent += by_number[number]
        result.sms_kept += sum(mine.values())
        got = by_number[number] + sum(mine.values())
        compare(member, "SMS", member.by_sms, got, len(requests_with_news))
        for request_id, times in mine.items():
            if times > 1:
                result.duplicates += times - 1
                result.problems.append(f"{member.username}: {times} SMS kept for {request_id}")
            if request_id not in requests_with_news:
                result.problems.append(f"{member.username}: an SMS kept for {request_id}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")), help="(8000)"
    )
    parser.add_argument("--requests", type=int, default=2000, help="démarches filed (2000)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="members at work at the same time, filing then in the dialogue (16)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=1800,
        help="seconds the filing phase, then the dialogue, may last each (1800)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=1200,  # the pump took 412 to 564 s to catch up after 2,000 filings, here
        help="seconds to wait, each time, for the queue pump to carry everything through (1200)",
    )
    args = parser.parse_args()
    total = max(1, min(args.requests, 20_000))
    concurrency = max(1, min(args.concurrency, 64))

    if not state_file().exists():
        print(
            f"{state_file().relative_to(ROOT)} is missing: the local stack is not running.\n"
            "Start it in another terminal with `make run` (same API_PORT=/MOTO_PORT= as here),\n"
            "wait for 'Serving on', then run `make load` again.",
            file=sys.stderr,
        )
        return 2
    stack = LocalStack.load()
    api = f"http://127.0.0.1:{args.api_port}"
    _require_loopback(stack.endpoint_url, f"the moto endpoint of {state_file().name}")
    try:
        requests.get(f"{api}/catalog", timeout=5)  # any answer (401 here) says it is up
    except requests.RequestException as error:
        print(
            f"the API does not answer on {api} ({type(error).__name__}): is `make run` serving "
            "on that port? (make load API_PORT=…)",
            file=sys.stderr,
        )
        return 2

    from chalicelib.settings import get_settings
    from infra.local_stack import point_app_at

    point_app_at(stack)  # the app's settings and repositories, on the stack of `make run`
    per_day = get_settings().requests_per_day
    # Enough members that none files more than a day's limit (a run may straddle midnight in
    # Paris: that only gives room back).
    member_count = max(concurrency, math.ceil(total / per_day))
    today = datetime.now(UTC).date()
    run = datetime.now(UTC).strftime("%H%M%S")
    print(
        f"load: {total} démarches from {member_count} members ({per_day} a day at most each), "
        f"{concurrency} at a time, against {api} (moto {stack.endpoint_url})"
    )
    emails, texts = sent(stack.endpoint_url)
    baseline = (len(emails), len(texts))  # what moto recorded before this run
    members = _sign_up(stack, run, member_count, today)
    catalog = requests.get(f"{api}/catalog", headers=members[0].headers, timeout=HTTP_TIMEOUT)
    catalog.raise_for_status()
    types = {t["type"] for c in catalog.json()["categories"] for t in c["types"]}
    kinds = _kinds(types)
    print(
        f"  {len(members)} members signed up; {len(types)} démarche types, {len(kinds)} kinds",
        flush=True,
    )

    recorder = Recorder(total=total)
    shares = [
        total // member_count + (1 if i < total % member_count else 0) for i in range(member_count)
    ]
    started = time.perf_counter()
    deadline = time.monotonic() + max(1.0, min(args.deadline, 7200))
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        per_member = list(
            pool.map(
                lambda i: _member_session(
                    api, recorder, members[i], i, shares[i], kinds, today, deadline
                ),
                range(member_count),
            )
        )
    load_seconds = time.perf_counter() - started
    filed = [one for batch in per_member for one in batch]
    api_calls = _api_calls(recorder)
    print(f"  filed {len(filed)} démarches in {load_seconds:.1f} s; checking them", flush=True)

    settle_timeout = max(1.0, min(args.settle_timeout, 3600))
    sweeper = Sweeper()
    first = _settle(
        api,
        recorder,
        stack,
        filed,
        lambda one: _expected(one.kind),
        settle_timeout,
        concurrency,
        sweeper,
    )
    print(f"  queues empty {first.drained:.0f} s after the last filing; the dialogue", flush=True)

    # The dialogue, 16 members at a time, each member's requests in turn.
    acts = _plan(filed, first.details)
    acted = [act for act in acts if act.action != UNTOUCHED]
    _refresh_tokens(stack, members)
    from infra.seed import DEMO_PASSWORD

    agent = {"Authorization": f"Bearer {stack.id_token('agent', DEMO_PASSWORD)}"}
    per_member_acts: dict[str, list[Act]] = defaultdict(list)
    for act in acted:
        per_member_acts[act.filed.member.member_id].append(act)
    progress = Progress("requests through the dialogue", len(acted))
    calls_before = _api_calls(recorder)
    started = time.perf_counter()
    deadline = time.monotonic() + max(1.0, min(args.deadline, 7200))
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(
            pool.map(
                lambda batch: _dialogue_member(api, recorder, progress, agent, batch, deadline),
                per_member_acts.values(),
            )
        )
    dialogue_seconds = time.perf_counter() - started
    dialogue_calls = _api_calls(recorder) - calls_before
    print(
        f"  {len(acted)} requests through the dialogue in {dialogue_seconds:.1f} s; checking",
        flush=True,
    )
    acted = [act for act in acts if act.action != UNTOUCHED]  # an agent's call may have failed

    _refresh_tokens(stack, members)
    expectations = {act.filed.request_id: _dialogue_expected(act) for act in acted}
    second = _settle(
        api,
        recorder,
        stack,
        [act.filed for act in acted],
        lambda one: expectations[one.request_id],
        settle_timeout,
        concurrency,
        sweeper,
        "GET /requests/{id} (dialogue)",
    )
    depths = _queue_depths(stack)

    news: dict[str, set[str]] = defaultdict(set)
    for one in filed:
        if _had_news(first.details.get(one.request_id, {"status": "", "documents": []})):
            news[one.member.member_id].add(one.request_id)
    for act in acted:
        if act.action != WITHDRAW:  # asked or decided: its first news
            news[act.filed.member.member_id].add(act.filed.request_id)
    notified = _notifications(stack, members, news, baseline, datetime.now(UTC))

    width = max(len(operation) for operation in recorder.timings)
    header = f"{'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses"
    print(f"\n{'operation':<{width}} {header}")
    for operation, timings in recorder.timings.items():
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(recorder.statuses[operation].items()))
        print(
            f"{operation:<{width}} {len(timings):>6} {_percentile(timings, 0.5):>8.1f} "
            f"{_percentile(timings, 0.99):>8.1f} {max(timings):>8.1f}  {statuses}"
        )
    by_kind: dict[str, int] = defaultdict(int)
    for one in filed:
        by_kind[one.kind.name] += 1
    print(
        "\nfiled per kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.items())
        + f"; refused when filed (wrong IBAN): {recorder.refused}"
    )  # fmt: skip
    print(
        f"\nfiling phase: {load_seconds:.1f} s, {api_calls} API calls (reads included, "
        f"verification excluded): {api_calls / load_seconds:.1f} calls/s, "
        f"{len(filed) / load_seconds:.1f} démarches/s"
    )
    print(f"queue pump: waited {first.drained:.1f} s after the last filing for the queues to empty")
    by_action = Counter(act.action for act in acts)
    answered = [act for act in acted if act.action == ASK_REPLY]
    decided = [act for act in acted if act.action == DECIDE]
    print(
        f"dialogue: {len(acts)} requests in progress without news: "
        + ", ".join(f"{action} {by_action[action]}" for action in dict.fromkeys(PLAN))
        + f" ({sum(bool(a.refused) for a in acts)} of them because an agent's call failed)"
        f"; replies with a file {sum(a.reply_upload for a in answered)}, sent twice with their "
        f"key {sum(a.reply_key is not None for a in answered)}; withdrawals with a reason "
        f"{sum(a.reason is not None for a in acted)}; decisions accepted "
        f"{sum(a.outcome == 'accepted' for a in decided)}, "
        f"refused {sum(a.outcome == 'refused' for a in decided)}"
    )
    print(
        f"dialogue phase: {dialogue_seconds:.1f} s, {dialogue_calls} API calls: "
        f"{dialogue_calls / dialogue_seconds:.1f} calls/s; queues empty "
        f"{second.drained:.1f} s after it"
    )
    print(
        f"outbox sweeper (run by the load every minute while it waits, as the stage's schedule "
        f"would: `make run` has none): {sweeper.runs} runs, {sweeper.sent} requests' pending "
        "changes sent"
    )
    print(
        f"notifications: {sum(len(ids) for ids in news.values())} requests brought news, "
        f"{notified.expected} messages expected on the channels chosen; e-mails sent "
        f"{notified.emails}, SMS sent {notified.sms_sent}, SMS kept for 08:00 "
        f"{notified.sms_kept}; duplicates {notified.duplicates}, missing {notified.missing}, "
        f"on a channel turned off {notified.unwanted}"
    )
    server_errors = recorder.count(lambda s: s >= 500)
    print(
        f"5xx: {server_errors}   other unexpected answers: {len(recorder.failures)}   "
        f"calls sent again after a reset connection: {recorder.retried}"
    )
    not_filed = total - len(filed) - recorder.refused
    print(
        f"lost: {len(first.unrouted)} not routed, {len(first.not_done)} routed but not done by "
        f"their service, {not_filed} not filed, {len(second.unrouted) + len(second.not_done)} "
        "not as the dialogue left them"
    )
    busy = {queue: depth for queue, depth in depths.items() if depth}
    print(f"queues and DLQs not empty: {busy or 'none'}")
    for failure in recorder.failures[:10] + notified.problems[:10]:
        print(f"  {failure}")
    for one in (first.unrouted + first.not_done + second.unrouted + second.not_done)[:5]:
        detail = second.details.get(one.request_id) or first.details.get(one.request_id)
        print(f"  not settled: {one.kind.name} {one.request_id} {detail}"[:600])
    ok = (
        not recorder.failures
        and server_errors == 0
        and not first.unrouted
        and not first.not_done
        and not_filed == 0
        and not second.unrouted
        and not second.not_done
        and not busy
        and not notified.problems
    )
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


def _api_calls(recorder: Recorder) -> int:
    """Calls to our API so far (the browser's posts to the bucket left out)."""
    return sum(len(t) for op, t in recorder.timings.items() if not op.startswith("S3 "))


if __name__ == "__main__":
    sys.exit(main())
