"""`make audit-verify [DAY=YYYY-MM-DD]`: checks a Paris day's audit chains (default: today) in
the running `make run`'s table, link by link, with the same check the daily watch runs.

Prints `OK <day>: <n> records in <k> chains, every chain intact`, or, for each broken chain,
`BROKEN <day> chain <nn> at sequence <n>: <why>` (content hash mismatch, predecessor mismatch,
a gap, an end the chain's head does not name) naming its first broken link, and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from infra.local_stack import LocalStack, point_app_at, state_file


def main(argv: list[str] | None = None, stack: LocalStack | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
    args = parser.parse_args(argv)
    if stack is None:
        if not state_file().exists():
            print("no local stack running: start it with `make run`", file=sys.stderr)
            return 2
        stack = LocalStack.load()
    point_app_at(stack)
    from chalicelib.domain import clock
    from chalicelib.services.audit import verify_day
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    verdict = verify_day(DynamoUnitOfWork(), args.day or clock.today())
    print(verdict.describe())
    return 0 if verdict.intact else 1


if __name__ == "__main__":
    sys.exit(main())
