"""`make openapi`: write the document `GET /openapi.json` serves, as `docs/openapi.json` keeps it.

    .venv/bin/python scripts/write_openapi.py [FILE]     # default: stdout

Asks the app itself, through Chalice's test client (the route is public): tooling outside
`chalicelib/` never imports the views' layer, and `chalicelib/api/openapi.py` never imports
the app.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file too, not only with -m

from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402


def committed_form(document: object) -> str:
    """Stable, readable UTF-8, one trailing newline (`openapi.render`, which the tests hold
    this to)."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> None:
    logging.disable(logging.INFO)  # the request's log lines are not the document
    with Client(app) as client:
        answer = client.http.get("/openapi.json")
    if answer.status_code != 200:
        raise SystemExit(f"GET /openapi.json answered {answer.status_code}: {answer.body!r}")
    text = committed_form(json.loads(answer.body))
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
