"""Shared fixtures: one moto server per test session, the stack created from the real template,
a real Cognito user pool issuing real tokens, and a fresh member per test."""

from __future__ import annotations

import itertools
import json
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from chalice.test import Client

from infra import seed
from infra.local_stack import (
    LOCAL_PORTAL_ORIGIN,
    LocalStack,
    create_account,
    point_app_at,
    provision,
    start_moto,
)

PASSWORD = "Un-mot-de-passe-de-test-2026"
_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def portal_origin() -> str:
    """The origin the e2e tests serve the portal on: one of the test stack's CORS origins."""
    return f"http://127.0.0.1:{_free_port()}"


@pytest.fixture(scope="session")
def local_stack(portal_origin: str) -> Iterator[LocalStack]:
    port = _free_port()
    server = start_moto(port)
    try:
        stack = provision(
            f"http://127.0.0.1:{port}", portal_origins=(LOCAL_PORTAL_ORIGIN, portal_origin)
        )
        point_app_at(stack)
        _stacks.append(stack)
        yield stack
    finally:
        server.stop()


_stacks: list[LocalStack] = []  # the session's stack, once a test has asked for it


@pytest.fixture(scope="module", autouse=True)
def no_work_left_to_the_next_module() -> Iterator[None]:
    """What a module's tests queued and did not drain is dropped when the module ends. Most API
    tests check the answer to a filing, not its routing; their messages waited for the next
    `pump.drain()` on the worker, which routed them and rendered their letters on another
    test's time (31–36 s of one set-up in a full run), whatever that test was about."""
    yield
    if not _stacks:
        return
    sqs = _stacks[0].client("sqs")
    prefix = _stacks[0].outputs["QueuePrefix"]
    for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        # Not PurgeQueue: SQS (and moto) allow one a minute per queue.
        for _ in _taken(sqs, url):
            pass


@dataclass(frozen=True)
class SignedIn:
    username: str
    member_id: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _sign_up(stack: LocalStack, member_id: str | None, groups: tuple[str, ...] = ()) -> SignedIn:
    username = f"user-{next(_ids)}-{member_id or 'agent'}"
    create_account(stack, username, PASSWORD, member_id, groups)
    return SignedIn(username, member_id, stack.id_token(username, PASSWORD))


def _new_member_id() -> str:
    return f"T{next(_ids):09d}"


@pytest.fixture
def today() -> date:
    return date.today()


@pytest.fixture
def alice(local_stack: LocalStack, today: date) -> SignedIn:
    """A member shaped like the demo alice (spouse, children of 19 and 12), fresh per test."""
    member_id = _new_member_id()
    seed.seed_member(*seed.alice(today, member_id))
    return _sign_up(local_stack, member_id)


@pytest.fixture
def bob(local_stack: LocalStack, today: date) -> SignedIn:
    member_id = _new_member_id()
    seed.seed_member(*seed.bob(today, member_id))
    return _sign_up(local_stack, member_id)


@dataclass(frozen=True)
class Historian:
    """A member with two years of requests and letters, filed through the app's own code."""

    who: SignedIn
    filed: int
    seeded_on: date  # the Paris day the seed began: its audit records are in that day's chain


@pytest.fixture(scope="session")
def historian(local_stack: LocalStack) -> Historian:
    """Seeded once for the session (`infra/history_seed.py` takes seconds): its tests read it,
    and one that tampers with what it wrote puts it back."""
    from chalicelib.domain import clock
    from infra.history_seed import seed_history

    member_id = "HIST0000001"
    seed.seed_member(*seed.alice(date.today(), member_id))
    create_account(local_stack, "historian", PASSWORD, member_id)
    started = clock.today()
    filed = seed_history(member_id)
    who = SignedIn("historian", member_id, local_stack.id_token("historian", PASSWORD))
    return Historian(who, filed, started)


@pytest.fixture
def agent(local_stack: LocalStack) -> SignedIn:
    return _sign_up(local_stack, None, tuple(f"agent-{s}" for s in ("devis", "remboursements")))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


_IBAN_LIKE = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b")


def assert_nothing_exposed(status: int, text: str) -> None:
    """Checked on every answer of the suite: no 500, no internal key, no IBAN in clear."""
    from stdnum import iban

    assert status != 500, text
    assert "MEMBER#" not in text and '"pk"' not in text and '"sk"' not in text, text
    for candidate in _IBAN_LIKE.findall(text.replace(" ", "")):
        assert not iban.is_valid(candidate), f"IBAN in clear: {candidate}"


class Api:
    """Chalice's test client, speaking JSON; every answer goes through assert_nothing_exposed."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def request(
        self,
        method: str,
        path: str,
        who: SignedIn | None = None,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: str | bytes | None = None,
    ) -> Answer:
        all_headers = {**(who.headers if who else {}), **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if payload is not None:
            all_headers.setdefault("Content-Type", "application/json")
        response = self._client.http.request(method, path, headers=all_headers, body=payload or b"")
        text = response.body.decode() if response.body else ""
        assert_nothing_exposed(response.status_code, text)
        return Answer(
            response.status_code, dict(response.headers), json.loads(text) if text else None
        )

    def get(self, path: str, who: SignedIn | None = None, **kwargs: Any) -> Answer:
        return self.request("GET", path, who, **kwargs)

    def post(self, path: str, who: SignedIn | None = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, who, **kwargs)


@pytest.fixture
def api(local_stack: LocalStack) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


@pytest.fixture
def aws_calls(local_stack: LocalStack) -> Iterator[list[str]]:
    """Every AWS operation the app's own clients make during the test, in order."""
    from chalicelib import aws

    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}.{model.name}")

    clients = [aws.client(name) for name in ("dynamodb", "s3", "sqs")]
    for client in clients:
        client.meta.events.register("before-call", record)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call", record)


PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


def post_form(url: str, fields: dict[str, str], data: bytes, filename: str = "f") -> int:
    """What a browser does with a presigned POST: a multipart form, the file last."""
    import requests

    answer = requests.post(url, data=fields, files={"file": (filename, data)}, timeout=30)
    return answer.status_code


def file_justificatif(api: Api, who: SignedIn, today: date) -> str:
    """A reimbursement receipt with one PDF, filed through the API: its request id."""
    data = {"care_date": (today - timedelta(days=2)).isoformat(), "amount": "80.00",
            "care_type": "optique"}  # fmt: skip
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{who.member_id}-01"],
            "data": data, "upload_ids": [upload(api, who, PDF_BYTES)]}  # fmt: skip
    answer = api.post("/requests", who, body=body)
    assert answer.status == 201, answer.body
    return str(answer.body["request_id"])


def upload(
    api: Api,
    who: SignedIn,
    data: bytes,
    content_type: str = "application/pdf",
    filename: str = "justificatif.pdf",
    declared_size: int | None = None,
) -> str:
    """Ask for a presigned POST and send real bytes through it to the moto server."""
    answer = api.post(
        "/uploads",
        who,
        body={
            "filename": filename,
            "content_type": content_type,
            "size": declared_size if declared_size is not None else len(data),
        },
    )
    assert answer.status == 201, answer.body
    status = post_form(answer.body["url"], answer.body["fields"], data, filename)
    assert status in (200, 201, 204), status
    return str(answer.body["upload_id"])


@contextmanager
def aws_calls_made() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The app's AWS calls made in the block, in order: each operation's name and parameters
    (a botocore event on the app's own clients: the calls still go to moto)."""
    from chalicelib import aws

    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    clients = [aws.client(name) for name in ("dynamodb", "s3", "sqs", "events")]
    for client in clients:
        client.meta.events.register("before-parameter-build", record)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build", record)


def drain_queue(stack: LocalStack, queue: str) -> list[dict[str, Any]]:
    """Every message waiting in a queue, removed from it."""
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{stack.outputs['QueuePrefix']}{queue}")["QueueUrl"]
    return [json.loads(message["Body"]) for message in _taken(sqs, url)]


def _taken(sqs: Any, url: str) -> Iterator[dict[str, Any]]:
    """Every message waiting in a queue, each batch removed from it once received."""
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages"):
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )
        yield from messages


def count_objects(stack: LocalStack, prefix: str = "") -> int:
    s3 = stack.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.outputs["BucketName"], Prefix=prefix
    )
    return sum(page.get("KeyCount", 0) for page in pages)


def count_items(stack: LocalStack, member_id: str) -> int:
    """Items of one member, in every partition of theirs (`MEMBER#<id>` and its months), read
    from the emulator's table itself (it runs in this process). A Scan filtered on the member
    read only the first 1 MB of a table sorted by key: once a worker's earlier tests had filled
    it, it answered 0 with a `LastEvaluatedKey`, before and after, and every « nothing written »
    check passed whatever was written. Paging through the whole table at each count would copy
    all of it (moto copies what a Scan reads). A member counted always has a profile: 0 fails."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][stack.region].get_table(
        stack.outputs["TableName"]
    )
    partition = f"MEMBER#{member_id}"
    count = sum(
        len(items)
        for key, items in list(table.items.items())
        if key.value == partition or key.value.startswith(f"{partition}#")
    )
    assert count > 0, f"no item of member {member_id!r}: is it the right id?"
    return count


@pytest.fixture(scope="session")
def http_api(local_stack: LocalStack) -> Iterator[str]:
    """The app served over HTTP exactly as `make run` serves it (`chalice local`), on loopback."""
    import threading
    from pathlib import Path

    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    root = Path(__file__).resolve().parent.parent
    config = Config.create(
        chalice_stage="local",
        project_dir=str(root),
        config_from_disk=json.loads((root / ".chalice" / "config.json").read_text()),
    )
    port = _free_port()
    server = create_local_server(app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


@pytest.fixture
def agent_all(local_stack: LocalStack) -> SignedIn:
    """An agent of every service, like the demo `agent`."""
    from chalicelib.domain.catalog import Service

    return _sign_up(local_stack, None, tuple(f"agent-{s.value}" for s in Service))


@pytest.fixture(scope="session")
def pump(local_stack: LocalStack) -> Any:
    """Lambda's SQS triggers, as `make run` runs them: same handlers, same redrive."""
    from infra.queue_pump import QueuePump

    return QueuePump(local_stack)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# Whatever a member filed or owns, as the fixtures and demo data make them.
DEMO_PERSONAL_VALUES = (
    "Alice", "Martin", "Julien", "Léa", "Hugo", "Bob", "Durand", "alice.martin@example.fr",
    "bob.durand@example.fr", "06 12 34 56 78", "07 98 76 54 32", "12 rue de la Roquette",
    "3 place Bellecour", "FR7630006000011234567890189", "FR1420041010050500013M02606",
    "30006000011234567890", "20041010050500013M026",
)  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_the_suites_logs() -> Iterator[None]:
    """Every log line of the whole suite, checked at the end for the members' personal data."""
    from chalicelib.observability import powertools_logger

    ours = logging.getLogger("chalicelib")
    powertools_logger()  # sets the JSON handler up first: it replaces the logger's handlers
    capture = _Capture()
    capture.setFormatter(ours.handlers[0].formatter)
    ours.addHandler(capture)
    yield
    ours.removeHandler(capture)
    leaks = [(v, line) for line in capture.lines for v in DEMO_PERSONAL_VALUES if v in line]
    assert not leaks, leaks[:5]
