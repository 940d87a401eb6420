"""`make load`: 2,000 démarches of every type, 16 members filing at a time, against `make run`.

Needs the local stack of `make run` running in another terminal (it reads `.local/stack.json`).
A member may file 30 démarches a day (`REQUESTS_PER_DAY`, API.md "Limits"), so the load creates
as many fresh member accounts (Cognito) and profiles as the total needs (67 for 2,000), and no
fewer than the concurrency. 16 threads take the members in turn; each member files its share
(at most the day's limit) of démarches of every type of `GET /catalog` in turn (attachments
through the presigned POST where the type requires them, each used at once, an
`Idempotency-Key` on every other one), and reads its timeline (`GET /requests`) and its
documents (`GET /documents`) after each filing. A 429 is a failure like any other.

Then it waits, with a bounded timeout, for the queue pump of `make run` to route every request,
and checks each one through `GET /requests/{id}`: routed ("Transmise au …" in its history and a
service), and, where the service acts alone, done (tiers-payant attestation and change of
contact details processed, invalid IBAN refused when filed, complaint acknowledged with its
letter, every other request acknowledged). It also checks every queue and DLQ is empty.

Prints p50/p99 latency per operation and the throughput; exits 1 on any 5xx, any unexpected
answer, or any request not settled in time. Loopback only; bounded in count and in time.

    .venv/bin/python scripts/load.py [--api-port 8000] [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections import defaultdict
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

from infra.local_stack import STATE_FILE, LocalStack  # noqa: E402

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
PASSWORD = "Charge-Locale-2026!"  # noqa: S105 (throwaway accounts in the local moto)
HTTP_TIMEOUT = 30
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(2048)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(4096)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8192)
INVALID_IBAN = "FR7630006000011234567890188"  # well formed, wrong check digits
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"
DOCUMENT_WINDOWS = (1, 3, 6, 12, 24)


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


def _data(kind: Kind, today: date, n: int) -> dict[str, Any]:
    """Valid `data` per type (as tests/api/test_requests_filing.py files them)."""
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
            "phone": f"06 11 22 {n % 100:02d} 44",
            "postal_address": {"line1": "5 rue Oberkampf", "postal_code": "75011", "city": "Paris"},
        },
        "vie.coordonnees_bancaires": {
            "iban": kind.iban or VALID_IBAN,
            "holder_name": "Alice Martin",
        },
        "vie.prolongation_droits_enfant": {
            "situation": "etudiant",
            "until": (today + timedelta(days=300)).isoformat(),
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
    return lambda d: any(label.startswith("Prise en charge par le ") for label in history(d))


def _routed(detail: dict[str, Any]) -> bool:
    return bool(detail.get("service")) and any(
        str(h["label"]).startswith("Transmise au ") for h in detail["history"]
    )


@dataclass
class Member:
    username: str
    member_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Filed:
    member: Member
    request_id: str
    kind: Kind


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
        try:
            answer = session.request(method, url, timeout=HTTP_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            with self._lock:
                self.statuses[operation][0] += 1
                self.failures.append(f"{operation}: {type(error).__name__}: {error}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        allowed = expected if isinstance(expected, tuple) else (expected,)
        with self._lock:
            self.timings[operation].append(elapsed)
            self.statuses[operation][answer.status_code] += 1
            if answer.status_code not in allowed:
                self.failures.append(f"{operation}: {answer.status_code} {answer.text[:300]!r}")
        return answer if answer.status_code in allowed else None

    def filed(self) -> None:
        """Count one filing; a progress line every tenth of the total."""
        with self._lock:
            self.filings += 1
            if self.filings % max(1, self.total // 10) == 0:
                elapsed = time.perf_counter() - self.started
                print(f"  {self.filings}/{self.total} filed, {elapsed:.0f} s", flush=True)

    def fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for by in self.statuses.values() for s, n in by.items() if predicate(s))


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _require_loopback(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"{what} is {url}: this load runs against loopback only")


def _sign_up(stack: LocalStack, run: str, count: int, today: date) -> list[Member]:
    """`count` members, each an account and a profile (written by the app's own repository:
    `point_app_at` first)."""
    from infra import seed
    from infra.local_stack import create_account

    members = []
    for n in range(count):
        member_id = f"L{run}{n:03d}"
        username = f"load-{run}-{n:03d}"
        seed.seed_member(*seed.alice(today, member_id))
        create_account(stack, username, PASSWORD, member_id)
        members.append(Member(username, member_id, stack.id_token(username, PASSWORD)))
    return members


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
    for filename, content_type, data in kind.attachments:
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
        sent = recorder.call(
            session,
            "S3 presigned POST (moto)",
            "POST",
            presigned["url"],
            (200, 201, 204),
            data=presigned["fields"],
            files={"file": (filename, data)},
        )
        if sent is None:
            return None
        upload_ids.append(str(presigned["upload_id"]))

    beneficiary = "03" if kind.request_type == "vie.prolongation_droits_enfant" else "01"
    body: dict[str, Any] = {
        "type": kind.request_type,
        "beneficiary_ids": [f"{member.member_id}-{beneficiary}"],
        "data": _data(kind, today, n),
    }
    if kind.request_type in {"vie.autre", "contact.demande"}:
        body["description"] = "Bonjour, pourriez-vous m'aider ? Merci d'avance."
    if kind.complaint:
        body["complaint"] = True
    if upload_ids:
        body["upload_ids"] = upload_ids
    headers = dict(member.headers)
    if n % 2 == 0:
        headers["Idempotency-Key"] = f"load-{member.username}-{n}"
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
    if created is None or refused:
        return None
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
    """One member: file, then read the timeline and the documents; `share` times, in turn."""
    filed: list[Filed] = []
    with requests.Session() as session:
        for n in range(share):
            if time.monotonic() > deadline:
                recorder.fail(f"{member.username}: load deadline reached after {n} filings")
                break
            kind = kinds[(index + n) % len(kinds)]
            one = _file_one(api, session, recorder, member, kind, n, today)
            if one is not None:
                filed.append(one)
                recorder.filed()
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


def _settle(
    api: str,
    recorder: Recorder,
    stack: LocalStack,
    filed: list[Filed],
    timeout: float,
    workers: int,
) -> tuple[list[Filed], list[Filed], float]:
    """Wait (bounded) for the queue pump to empty the queues, then check every request: routed,
    and its service's own step done. Returns (unrouted, routed but not done, seconds until the
    queues were empty)."""
    started = time.monotonic()
    deadline = started + timeout
    last_report = 0.0
    while time.monotonic() < deadline:
        waiting = sum(
            depth for queue, depth in _queue_depths(stack).items() if not queue.endswith("-dlq")
        )
        if waiting == 0:
            break
        if time.monotonic() - last_report >= 15:
            last_report = time.monotonic()
            print(f"  queue pump: {waiting} messages still queued", flush=True)
        time.sleep(2)
    drained = time.monotonic() - started

    sessions = threading.local()

    def check(one: Filed) -> tuple[bool, bool]:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        answer = recorder.call(
            sessions.session,
            "GET /requests/{id}",
            "GET",
            f"{api}/requests/{one.request_id}",
            200,
            headers=one.member.headers,
        )
        if answer is None:
            return False, False
        detail = answer.json()
        return _routed(detail), _routed(detail) and _expected(one.kind)(detail)

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
                return unrouted, not_done, drained
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")), help="(8000)"
    )
    parser.add_argument("--requests", type=int, default=2000, help="démarches filed (2000)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="members filing at the same time (16)"
    )
    parser.add_argument(
        "--deadline", type=float, default=1800, help="seconds the filing phase may last (1800)"
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=600,
        help="seconds to wait for the queue pump to route and process everything (600)",
    )
    args = parser.parse_args()
    total = max(1, min(args.requests, 20_000))
    concurrency = max(1, min(args.concurrency, 64))

    if not STATE_FILE.exists():
        print(
            f"{STATE_FILE.relative_to(ROOT)} is missing: the local stack is not running.\n"
            "Start it in another terminal with `make run` (same API_PORT=/MOTO_PORT= as here),\n"
            "wait for 'Serving on', then run `make load` again.",
            file=sys.stderr,
        )
        return 2
    stack = LocalStack.load()
    api = f"http://127.0.0.1:{args.api_port}"
    _require_loopback(stack.endpoint_url, "the moto endpoint of .local/stack.json")
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
    members = _sign_up(stack, run, member_count, today)
    catalog = requests.get(f"{api}/catalog", headers=members[0].headers, timeout=HTTP_TIMEOUT)
    catalog.raise_for_status()
    types = {t["type"] for c in catalog.json()["categories"] for t in c["types"]}
    kinds = _kinds(types)
    print(f"  {len(members)} members signed up; {len(types)} démarche types, {len(kinds)} kinds")

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
    api_calls = sum(len(t) for op, t in recorder.timings.items() if not op.startswith("S3 "))
    print(f"  filed {len(filed)} démarches in {load_seconds:.1f} s; checking them")

    unrouted, not_done, waited = _settle(
        api, recorder, stack, filed, max(1.0, min(args.settle_timeout, 3600)), concurrency
    )
    depths = _queue_depths(stack)

    print(f"\n{'operation':<28} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    for operation, timings in recorder.timings.items():
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(recorder.statuses[operation].items()))
        print(
            f"{operation:<28} {len(timings):>6} {_percentile(timings, 0.5):>8.1f} "
            f"{_percentile(timings, 0.99):>8.1f} {max(timings):>8.1f}  {statuses}"
        )
    by_kind: dict[str, int] = defaultdict(int)
    for one in filed:
        by_kind[one.kind.name] += 1
    print("\nfiled per kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.items()))
    print(
        f"\nfiling phase: {load_seconds:.1f} s, {api_calls} API calls (reads included, "
        f"verification excluded): {api_calls / load_seconds:.1f} calls/s, "
        f"{len(filed) / load_seconds:.1f} démarches/s"
    )
    print(f"queue pump: waited {waited:.1f} s after the last filing for the queues to empty")
    server_errors = recorder.count(lambda s: s >= 500)
    print(f"5xx: {server_errors}   other unexpected answers: {len(recorder.failures)}")
    print(
        f"lost: {len(unrouted)} not routed, {len(not_done)} routed but not done by their service, "
        f"{total - len(filed)} not filed"
    )
    busy = {queue: depth for queue, depth in depths.items() if depth}
    print(f"queues and DLQs not empty: {busy or 'none'}")
    for failure in recorder.failures[:10]:
        print(f"  {failure}")
    ok = (
        not recorder.failures
        and server_errors == 0
        and not unrouted
        and not not_done
        and len(filed) == total
        and not busy
    )
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
