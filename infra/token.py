"""`make token USER=alice`: an ID token from the running local stack's Cognito."""

from __future__ import annotations

import sys

from infra.local_stack import LocalStack, state_file
from infra.seed import DEMO_ACCOUNTS, DEMO_PASSWORD


def main(argv: list[str]) -> int:
    username = argv[1] if len(argv) > 1 else "alice"
    names = [a.username for a in DEMO_ACCOUNTS]
    if username not in names:
        print(f"unknown demo account {username!r}: {', '.join(names)}", file=sys.stderr)
        return 2
    if not state_file().exists():
        print("the local stack is not running: start it with `make run`", file=sys.stderr)
        return 1
    print(LocalStack.load().id_token(username, DEMO_PASSWORD))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
