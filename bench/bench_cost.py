"""`make bench`: what a démarche costs on AWS, type by type, from what it really calls.

Each type of the catalogue lives its whole life here, through the app's own code against an
in-process moto stack: the member asks for upload tickets and posts the files as a browser
does, files the démarche, the queues route it (the local queue pump, standing in for Lambda's
SQS triggers), an agent opens it and decides (unless its service answers by itself), the
notifications go out, and the member opens the timeline, the detail and the documents and
downloads the letter. Every call of the app's boto3 clients (and the pump's) is counted, and
from them, per démarche:

- DynamoDB read and write request units, computed from item sizes as DynamoDB bills them
  (moto's `ConsumedCapacity` is a constant): reads per 4 KB (half for eventually consistent,
  double in transactions, a Query per 4 KB of what it returns), writes per 1 KB of the item
  after the write (read back, unmetered, for updates), double in transactions, plus the
  writes of each global secondary index the item enters, changes in or leaves;
- S3 requests by price tier, bytes stored; SQS requests; EventBridge events; e-mails and SMS;
- API Gateway requests and Lambda invocations, and GB-seconds at the configured memory from
  the durations measured here (against moto: each AWS call is a loopback round trip).

Priced at `PRICES` (eu-west-3 on-demand), per 1,000 démarches. A printed table, never a test.

    .venv/bin/python -m bench.bench_cost [--lives 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import PDF_BYTES, _moto_stack, _quiet  # noqa: E402

PASSWORD = "Bench-Password-2026!"  # noqa: S105 (throwaway accounts in their own moto)

# eu-west-3 (Paris), on-demand, USD, the list prices the team worked from on 2026-11-28 (no
# network here to read the AWS Price List API: check them there before budgeting). Free tiers
# are left out: they are per account, not per démarche.
PRICES_DATE = "2026-11-28"
PRICES: dict[str, tuple[float, str]] = {
    "api_request": (3.50 / 1e6, "API Gateway REST, per request (first 333 M a month)"),
    "lambda_request": (0.20 / 1e6, "Lambda, per invocation"),
    "lambda_gb_s": (0.0000166667, "Lambda x86, per GB-second"),
    "dynamodb_wru": (0.7250 / 1e6, "DynamoDB on-demand, per write request unit"),
    "dynamodb_rru": (0.1450 / 1e6, "DynamoDB on-demand, per read request unit"),
    "s3_tier1": (0.0053 / 1000, "S3 Standard PUT, COPY, POST, LIST, per request"),
    "s3_tier2": (0.00042 / 1000, "S3 Standard GET and others, per request"),
    "sqs_request": (0.40 / 1e6, "SQS standard, per 64 KB request"),
    "events": (1.00 / 1e6, "EventBridge custom events, per 64 KB event"),
    "email": (0.10 / 1000, "SES, per e-mail"),
    "sms": (0.0745, "SNS SMS to a French mobile, per message"),
}
LAMBDA_MEMORY_GB = 512 / 1024  # .chalice/config.json `lambda_memory_size`

# The table's global secondary indexes: key attributes, and what each projects. An INCLUDE
# index's entry is counted as 100 bytes (one unit); any write to an item that holds the key is
# counted as a write to the index too, though DynamoDB skips it when no projected attribute
# changed: the counts are an upper bound.
INDEXES = {
    "gsi_pending": ("pending_pk", "INCLUDE"),
    "gsi_service": ("svc_pk", "ALL"),
    "gsi_documents": ("doc_pk", "INCLUDE"),
    "gsi_requests": ("req_pk", "INCLUDE"),
}


def _value_size(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return (len(content.strip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in content)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in content.items())
    if kind == "SS":
        return sum(len(v.encode()) for v in content)
    if kind == "NS":
        return sum((len(v) + 1) // 2 + 1 for v in content)
    return sum(len(v) for v in content)  # BS


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    return units * (2.0 if transactional else 1.0 if consistent else 0.5)


def _write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class Usage:
    """What one démarche's life used."""

    calls: Counter[str] = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0
    s3_tier1: int = 0
    s3_tier2: int = 0
    stored_bytes: int = 0
    sqs_requests: int = 0
    events: int = 0
    emails: int = 0
    sms: int = 0
    api_requests: int = 0
    invocations: Counter[str] = field(default_factory=Counter)
    gb_seconds: float = 0.0
    lambda_ms: float = 0.0

    def cost(self) -> dict[str, float]:
        """USD for this one life, per line of `PRICES`."""
        price = {name: value for name, (value, _) in PRICES.items()}
        return {
            "API Gateway": self.api_requests * price["api_request"],
            "Lambda": sum(self.invocations.values()) * price["lambda_request"]
            + self.gb_seconds * price["lambda_gb_s"],
            "DynamoDB": self.wru * price["dynamodb_wru"] + self.rru * price["dynamodb_rru"],
            "S3": self.s3_tier1 * price["s3_tier1"] + self.s3_tier2 * price["s3_tier2"],
            "SQS": self.sqs_requests * price["sqs_request"],
            "EventBridge": self.events * price["events"],
            "SES": self.emails * price["email"],
            "SMS": self.sms * price["sms"],
        }


class CostMeter:
    """Wraps boto3 clients' `_make_api_call` and turns each call into billed units."""

    def __init__(self, raw_dynamodb: Any) -> None:
        self.usage = Usage()
        self._raw = raw_dynamodb  # unmetered: reads an updated item back to size it

    def attach(self, client: Any) -> None:
        original = client._make_api_call
        service = client.meta.service_model.service_name

        def metered(operation: str, params: dict[str, Any]) -> Any:
            response = original(operation, params)
            try:
                self._count(service, operation, params, response)
            except Exception as error:  # a bench miscount must be seen, never hidden
                raise RuntimeError(f"cost meter: {service}.{operation}: {error}") from error
            return response

        client._make_api_call = metered

    def _count(
        self, service: str, operation: str, params: dict[str, Any], response: dict[str, Any]
    ) -> None:
        usage = self.usage
        if service == "sqs" and operation == "ReceiveMessage" and not response.get("Messages"):
            return  # the triggers' idle polling: per queue and hour, not per démarche
        usage.calls[f"{service}.{operation}"] += 1
        if service == "dynamodb":
            self._dynamodb(operation, params, response)
        elif service == "s3":
            if operation in ("GetObject", "HeadObject"):
                usage.s3_tier2 += 1
            else:
                usage.s3_tier1 += 1
            if operation in ("PutObject", "CopyObject"):
                usage.stored_bytes += self._object_size(params)
        elif service == "sqs":
            usage.sqs_requests += 1
            if operation == "ReceiveMessage" and "notifications" in params["QueueUrl"]:
                # Put there by the bus's rule: EventBridge's SendMessage, billed to us.
                usage.sqs_requests += 1
        elif service == "events":
            usage.events += len(params["Entries"])
        elif service == "sesv2":
            usage.emails += 1
        elif service == "sns":
            usage.sms += 1

    def _object_size(self, params: dict[str, Any]) -> int:
        if "Body" in params:
            body = params["Body"]
            if isinstance(body, bytes | bytearray | memoryview | str):
                return len(body)
            if hasattr(body, "seek") and hasattr(body, "tell"):  # a file-like body
                position = body.tell()
                size = int(body.seek(0, 2))
                body.seek(position)
                return size
            return 0
        return 0  # a copy: its size was counted when the browser posted it

    def _dynamodb(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        usage = self.usage
        if operation == "GetItem":
            usage.rru += _read_units(
                item_size(response.get("Item", {})), params.get("ConsistentRead", False)
            )
        elif operation == "BatchGetItem":
            for table, items in response.get("Responses", {}).items():
                consistent = params["RequestItems"][table].get("ConsistentRead", False)
                usage.rru += sum(_read_units(item_size(i), consistent) for i in items) or 0.5
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in response.get("Items", []))
            usage.rru += _read_units(size, params.get("ConsistentRead", False))
        elif operation == "TransactGetItems":
            usage.rru += sum(
                _read_units(item_size(r.get("Item", {})), True, transactional=True)
                for r in response.get("Responses", [])
            )
        elif operation == "PutItem":
            usage.wru += self._put(params["Item"])
        elif operation == "UpdateItem":
            usage.wru += self._update(params)
        elif operation == "DeleteItem":
            usage.wru += 1
        elif operation == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    put = request.get("PutRequest")
                    usage.wru += self._put(put["Item"]) if put else 1
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "Put":
                    usage.wru += 2 * self._put(body["Item"])
                elif kind == "Update":
                    usage.wru += 2 * self._update(body)
                else:  # Delete, ConditionCheck
                    usage.wru += 2

    def _put(self, item: dict[str, Any]) -> float:
        size = item_size(item)
        return _write_units(size) + sum(
            _write_units(size if projection == "ALL" else 100)
            for key, projection in INDEXES.values()
            if key in item
        )

    def _update(self, params: dict[str, Any]) -> float:
        after = self._raw.get_item(
            TableName=params["TableName"], Key=params["Key"], ConsistentRead=True
        ).get("Item", {})
        size = item_size(after)
        expression = params.get("UpdateExpression", "")
        removed = expression.split("REMOVE", 1)[1] if "REMOVE" in expression else ""
        index_writes = sum(
            _write_units(size if projection == "ALL" else 100)
            for key, projection in INDEXES.values()
            if key in after or key in removed
        )
        return _write_units(size) + index_writes


def _seed_people(stack: Any, today: Any) -> tuple[dict[str, str], dict[str, str], str]:
    from chalicelib.domain.catalog import Service
    from infra import seed
    from infra.local_stack import create_account

    member_id = "C000000001"
    seed.seed_member(*seed.alice(today, member_id))
    create_account(stack, "cost-member", PASSWORD, member_id)
    create_account(stack, "cost-agent", PASSWORD, None, tuple(f"agent-{s.value}" for s in Service))
    member = {"Authorization": f"Bearer {stack.id_token('cost-member', PASSWORD)}"}
    agent = {"Authorization": f"Bearer {stack.id_token('cost-agent', PASSWORD)}"}
    return member, agent, member_id


def _body(request_type: Any, beneficiaries: list[dict[str, Any]], today: Any) -> dict[str, Any]:
    """The type's own example, for the first beneficiary it may concern (as the tests do)."""
    from chalicelib.domain.members import Beneficiary

    data = request_type.data_model.example(today)
    parsed = request_type.data_model.model_validate(data, context={"today": today})
    contract = [Beneficiary.model_validate(b) for b in beneficiaries]
    rule = request_type.beneficiary_rule
    chosen = next(b for b in contract if not rule or not rule(b, today, parsed))
    return {"type": request_type.type, "beneficiary_ids": [chosen.beneficiary_id], "data": data,
            "description": "Merci de traiter ma demande."}  # fmt: skip


def live_once(
    client: Any,
    pump: Any,
    meter: CostMeter,
    member: dict[str, str],
    agent: dict[str, str],
    member_id: str,
    request_type: Any,
    today: Any,
    complaint: bool = False,
) -> None:
    """One démarche, filed to read: every call it causes lands in `meter.usage`."""
    import requests

    from chalicelib.domain import catalog

    usage = meter.usage

    def call(method: str, path: str, who: dict[str, str], body: Any = None) -> Any:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = {**who, "Content-Type": "application/json"} if body is not None else who
        started = time.perf_counter()
        answer = client.http.request(method, path, headers=headers, body=payload)
        elapsed = (time.perf_counter() - started) * 1000
        usage.api_requests += 1
        usage.invocations["api_handler"] += 1
        usage.lambda_ms += elapsed
        usage.gb_seconds += LAMBDA_MEMORY_GB * math.ceil(elapsed) / 1000
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.body[:300]!r}")
        return json.loads(answer.body) if answer.body else None

    beneficiaries = call("GET", "/me/beneficiaries", member)["beneficiaries"]
    body = _body(request_type, beneficiaries, today)
    if complaint:
        body["complaint"] = True
    if request_type.attachments is not catalog.Attachments.none:
        ticket = call("POST", "/uploads", member, {"filename": "justificatif.pdf",
                      "content_type": "application/pdf", "size": len(PDF_BYTES)})  # fmt: skip
        files = {"file": ("justificatif.pdf", PDF_BYTES)}
        sent = requests.post(ticket["url"], data=ticket["fields"], files=files, timeout=30)
        sent.raise_for_status()
        usage.s3_tier1 += 1  # the browser's POST
        usage.stored_bytes += len(PDF_BYTES)
        body["upload_ids"] = [ticket["upload_id"]]
    request_id = call("POST", "/requests", member, body)["request_id"]
    pump.drain()
    path = f"/backoffice/members/{member_id}/requests/{request_id}"
    detail = call("GET", path, agent)
    if detail["status"] != "processed":
        handling = catalog.handling_for(request_type.type, complaint=complaint)
        decision: dict[str, Any] = {"outcome": "accepted", "message": "Voici notre réponse."}
        if handling.amount_required:
            decision["amount"] = "10.00"  # at most what was filed
        call("POST", f"{path}/decision", agent, decision)
        pump.drain()
    call("GET", "/requests", member)
    call("GET", f"/requests/{request_id}", member)
    documents = call("GET", "/documents?months=1", member)["documents"]
    for document in documents:
        if document["request_id"] == request_id:
            link = call("GET", f"/documents/{document['document_id']}/download", member)
            requests.get(link["url"], timeout=30).raise_for_status()
            usage.s3_tier2 += 1  # the browser's GET of the presigned link


def bench_costs(lives: int) -> list[tuple[str, Usage]]:
    from chalice.test import Client

    from chalicelib import aws
    from chalicelib.domain import catalog
    from infra import seed
    from infra.queue_pump import QueuePump

    os.environ["REQUESTS_PER_DAY"] = "100000"  # one member files every démarche of the run
    os.environ["REPLIES_PER_DAY"] = "100000"
    aws.reset()
    results: list[tuple[str, Usage]] = []
    with _moto_stack() as stack:
        today = datetime.now(UTC).date()
        member, agent, member_id = _seed_people(stack, today)
        meter = CostMeter(stack.client("dynamodb"))
        for name in ("dynamodb", "s3", "sqs", "events", "sesv2", "sns"):
            meter.attach(aws.client(name))

        def invoked(function: str, records: int, ms: float) -> None:
            meter.usage.invocations[function] += 1
            meter.usage.lambda_ms += ms
            meter.usage.gb_seconds += LAMBDA_MEMORY_GB * math.ceil(ms) / 1000

        pump = QueuePump(stack, on_invoke=invoked)
        meter.attach(pump._sqs)  # the triggers' receives and deletes are SQS requests too
        from app import app

        cases = [(t, False) for t in catalog.REQUEST_TYPES]
        cases.append((catalog.REQUEST_TYPES_BY_CODE["contact.demande"], True))
        with Client(app, stage_name="local") as client:
            for request_type, complaint in cases:
                label = request_type.type + (" (réclamation)" if complaint else "")
                runs: list[Usage] = []
                for _ in range(lives + 1):  # the first warms the code paths up, uncounted
                    # Each life from the demo member as seeded: a life's accepted change (a
                    # child's coverage extended) would otherwise refuse the next one's filing.
                    seed.seed_member(*seed.alice(today, member_id))
                    meter.usage = Usage()
                    live_once(client, pump, meter, member, agent, member_id, request_type,
                              today, complaint)  # fmt: skip
                    runs.append(meter.usage)
                results.append((label, _median_usage(runs[1:])))
    return results


def _median_usage(runs: list[Usage]) -> Usage:
    """Counts are the same every life; durations vary: their median."""
    chosen = runs[0]
    chosen.lambda_ms = statistics.median(r.lambda_ms for r in runs)
    chosen.gb_seconds = statistics.median(r.gb_seconds for r in runs)
    return chosen


def print_costs(results: list[tuple[str, Usage]]) -> None:
    print(f"What a démarche costs on AWS (eu-west-3 on-demand list prices of {PRICES_DATE}), "
          "one whole life each: filed with its files, routed, decided, notified, read")  # fmt: skip
    header = (f"{'type':<34} {'API':>4} {'λ inv':>5} {'GB-s':>6} {'RRU':>6} {'WRU':>6} "
              f"{'S3 t1/t2':>8} {'SQS':>4} {'evts':>4} {'mail':>4} {'USD / 1,000':>11}  "
              "biggest shares")  # fmt: skip
    print(header)
    totals: dict[str, float] = defaultdict(float)
    for label, usage in results:
        cost = usage.cost()
        for name, value in cost.items():
            totals[name] += value
        per_thousand = sum(cost.values()) * 1000
        shares = sorted(cost.items(), key=lambda kv: kv[1], reverse=True)[:3]
        share_text = ", ".join(
            f"{name} {value / sum(cost.values()):.0%}" for name, value in shares if value
        )
        print(
            f"{label:<34} {usage.api_requests:>4} {sum(usage.invocations.values()):>5} "
            f"{usage.gb_seconds:>6.3f} {usage.rru:>6.1f} {usage.wru:>6.1f} "
            f"{usage.s3_tier1:>3}/{usage.s3_tier2:<4} {usage.sqs_requests:>4} "
            f"{usage.events:>4} {usage.emails:>4} {per_thousand:>11.3f}  {share_text}"
        )
    overall = sum(totals.values())
    print("Across the types, what the money goes to: " + ", ".join(
        f"{name} {value / overall:.0%}" for name, value in
        sorted(totals.items(), key=lambda kv: kv[1], reverse=True) if value))  # fmt: skip
    print("Prices used:")
    for name, (value, what) in PRICES.items():
        print(f"  {name:<15} {value:.10f}  {what}")
    print("Not counted: KMS (bucket keys and DynamoDB's cached data keys make it a few requests "
          "an hour, not per démarche), CloudWatch Logs, Cognito (per active member a month), "
          "storage over time (bytes stored are printed per type), free tiers.")  # fmt: skip
    for label, usage in results:
        print(
            f"  {label}: {usage.stored_bytes} bytes stored; calls: "
            + ", ".join(f"{k.split('.', 1)[1]}×{n}" for k, n in sorted(usage.calls.items()))
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lives", type=int, default=3, help="lives per type (3)")
    args = parser.parse_args()
    with _quiet():
        results = bench_costs(max(1, min(args.lives, 20)))
    print_costs(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
