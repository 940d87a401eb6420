"""`make bench`: latency of `GET /professionals` against the embedded moto server.

Starts its own moto server on a free loopback port, creates the stack, seeds the whole demo
directory, signs a member in, then runs a bounded number of searches through Chalice's test
client (token check, query string, DynamoDB Queries over HTTP to moto, ranking, JSON) and prints
the median and 95th percentile of each kind of search. It stops by itself.

    .venv/bin/python -m bench.bench_professionals [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = "one département (opticien, 75011)"
SEARCHES = {
    FIRST: "specialty=opticien&postal_code=75011",
    "Corsica (medecin_generaliste, 20000)": "specialty=medecin_generaliste&postal_code=20000",
    "radius 20 km, 8 départements (pharmacien, 75011)": (
        "specialty=pharmacien&postal_code=75011&radius_km=20"
    ),
    "radius 10 km across the Rhône (medecin_generaliste, 30400)": (
        "specialty=medecin_generaliste&postal_code=30400&radius_km=10"
    ),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="searches of each kind")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 5000))

    from chalice.test import Client

    from chalicelib.observability import powertools_logger

    powertools_logger()  # set up first, then silenced: the table, not the app's log lines
    logging.getLogger("chalicelib").disabled = True

    from infra.local_stack import create_account, point_app_at, provision, start_moto
    from infra.professionals_seed import seed_professionals

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = start_moto(port)
    try:
        stack = provision(f"http://127.0.0.1:{port}")
        point_app_at(stack)
        started = time.perf_counter()
        seeded = seed_professionals()
        print(f"seeded {seeded} professionals in {time.perf_counter() - started:.1f} s")
        password = "Bench-Password-2026!"  # noqa: S105 (a throwaway account in its own moto)
        create_account(stack, "bench", password, "B000000001")
        headers = {"Authorization": f"Bearer {stack.id_token('bench', password)}"}

        from app import app
        from chalicelib import aws

        # Wall time spent waiting on DynamoDB, per search: moto's share of the latency.
        waits: list[float] = []
        in_flight: dict[str, float] = {}

        def before(**_: object) -> None:
            in_flight.setdefault("start", time.perf_counter())

        def after(**_: object) -> None:
            in_flight["end"] = time.perf_counter()

        dynamodb = aws.client("dynamodb")
        dynamodb.meta.events.register("before-call", before)
        dynamodb.meta.events.register("after-call", after)

        with Client(app, stage_name="local") as client:

            def get(query: str) -> dict[str, object]:
                in_flight.clear()
                response = client.http.get(f"/professionals?{query}", headers=headers)
                waits.append((in_flight["end"] - in_flight["start"]) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{query}: {response.status_code} {response.body!r}")
                body: dict[str, object] = json.loads(response.body)
                return body

            first = get(SEARCHES[FIRST])  # also warms the caches (JWKS, place index, clients)
            queries = {
                FIRST: SEARCHES[FIRST],
                "next page (opticien, 75011)": (f"{SEARCHES[FIRST]}&cursor={first['next_cursor']}"),
                **SEARCHES,
            }
            print(f"{rounds} searches of each kind, Chalice test client -> moto over loopback\n")
            print(f"{'search':<60} {'median':>9} {'p95':>9} {'in moto':>9}")
            medians = []
            for label, query in queries.items():
                timings = []
                waits.clear()
                for _ in range(rounds):
                    started = time.perf_counter()
                    get(query)
                    timings.append((time.perf_counter() - started) * 1000)
                median = statistics.median(timings)
                p95 = statistics.quantiles(timings, n=20)[-1] if rounds > 1 else timings[0]
                medians.append(median)
                print(
                    f"{label:<60} {median:>7.1f}ms {p95:>7.1f}ms {statistics.median(waits):>7.1f}ms"
                )
            print(
                f"\nmedian latency of a search (one département): {medians[0]:.1f} ms\n"
                "('in moto': median wall time waiting on DynamoDB calls. moto's Query sorts\n"
                "the whole table, so it grows with the directory's size; DynamoDB's does not.)"
            )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
