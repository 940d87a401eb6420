"""`app.py` registers the routes from `chalicelib/api/route_table.py` and imports each route's
module on its first call (`chalicelib/api/lazy.py`): the table is never stale, registers every
route exactly as its module declares it, and `import app` loads no route module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "chalicelib" / "api" / "route_table.py"


def _entry(entry: Any) -> dict[str, Any]:
    """What Chalice and API Gateway read of a route (chalice package, the swagger it writes)."""
    return {
        "view_name": entry.view_name,
        "view_args": entry.view_args,
        "authorizer": None if entry.authorizer is None else entry.authorizer.to_swagger(),
        "authorizer_name": getattr(entry.authorizer, "name", None),
        "api_key_required": entry.api_key_required,
        "content_types": entry.content_types,
        "cors": entry.cors,
    }


def test_the_committed_table_is_the_route_modules_own() -> None:
    from chalicelib.api.lazy import eager_app, render_table, route_table

    assert COMMITTED.read_text(encoding="utf-8") == render_table(route_table(eager_app())), (
        "chalicelib/api/route_table.py is stale: run `make routes`"
    )


def test_the_app_registers_every_route_as_its_module_declares_it() -> None:
    from app import app
    from chalicelib.api.lazy import eager_app, target
    from chalicelib.api.route_docs import docs_of

    eager = eager_app()
    lazy_routes = {
        (path, method): entry
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if method != "OPTIONS"
    }
    eager_routes = {
        (path, method): entry
        for path, methods in eager.routes.items()
        for method, entry in methods.items()
    }
    assert list(lazy_routes) == list(eager_routes)  # the same routes, in the same order
    for key, entry in eager_routes.items():
        deferred = lazy_routes[key]
        assert _entry(deferred) == _entry(entry)
        assert target(deferred.view_function) is entry.view_function  # the route's own view
        assert docs_of(deferred.view_function) is docs_of(entry.view_function) is not None


def test_import_app_loads_no_route_module_nor_the_request_models() -> None:
    code = (
        "import json, sys; import app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('chalicelib'))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    )
    assert not [m for m in loaded if m.startswith(("chalicelib.services", "chalicelib.store"))]
    assert "chalicelib.domain.requests" not in loaded
    assert "chalicelib.api.requests" not in loaded
    assert set(loaded) <= {
        "chalicelib",
        "chalicelib.api",
        "chalicelib.api.auth",
        "chalicelib.api.cors",
        "chalicelib.api.gateway",
        "chalicelib.api.lazy",
        "chalicelib.api.route_table",
        "chalicelib.domain",
        "chalicelib.domain.errors",
        "chalicelib.domain.services",
        "chalicelib.settings",
    }


def test_a_route_first_called_from_many_threads_at_once_answers_every_call() -> None:
    """Python's import lock holds the first calls: a fresh interpreter, 8 threads."""
    code = """
import json, logging
from concurrent.futures import ThreadPoolExecutor
from chalice.test import Client
logging.disable(logging.INFO)
from app import app
with Client(app) as client:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.http.get("/openapi.json"), range(8)))
print(json.dumps([a.status_code for a in answers] + [len({a.body for a in answers})]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [200] * 8 + [1]
