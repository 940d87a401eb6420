"""The API's routes registered from a table, each route's module imported on its first call.

Every function of the stack imports `app.py`: the API's, but also the router, the services'
handlers, the notifications, the exports and the schedules. Registering the routes by importing
their modules built, at every cold start of every function, the hundred models the routes read
and answer with, and imported the services and stores behind them: more than half of
`import app` (docs/performance.md, "Cold start"). The queue and schedule functions never serve
a route, and an API container serves the routes its callers ask for.

So `app.py` registers each route from `ROUTES` (`api/route_table.py`, generated from the route
modules by `make routes` and checked against them by tests/infra/test_route_table.py): the
same path, method, view name, authorizer and content types as the module declares, and a view
that imports the module on first use and calls the route's own view (errors mapped, as
`ApiBlueprint.route` registered it). The documentation stays with the route (`ApiBlueprint`):
`GET /openapi.json` imports every module to read it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.api.gateway import GATEWAY_TOKEN_CHECK

if TYPE_CHECKING:
    from chalice.app import Chalice

# The modules that declare routes, in the order they were registered (the table's order, and
# so the OpenAPI document's).
ROUTE_MODULES = (
    "chalicelib.api.reference",
    "chalicelib.api.members",
    "chalicelib.api.privacy",
    "chalicelib.api.exports",
    "chalicelib.api.professionals",
    "chalicelib.api.requests",
    "chalicelib.api.uploads",
    "chalicelib.api.documents",
    "chalicelib.api.backoffice",
    "chalicelib.api.openapi",  # last: the document is read from the routes above
)


@dataclass(frozen=True)
class RouteSpec:
    """One route as its module declares it, what Chalice and API Gateway need of it."""

    path: str
    method: str
    module: str
    view: str  # the view's name: Chalice's view name, the OpenAPI operation id
    public: bool = False  # no authorizer: API Gateway lets it through without a token
    content_types: tuple[str, ...] = ("*/*",)


def register_lazily(app: Chalice, routes: Iterable[RouteSpec]) -> None:
    for spec in routes:
        app.route(
            spec.path,
            methods=[spec.method],
            name=spec.view,
            content_types=list(spec.content_types),
            authorizer=None if spec.public else GATEWAY_TOKEN_CHECK,
        )(_deferred(app, spec))


def _deferred(app: Chalice, spec: RouteSpec) -> Callable[..., Any]:
    def view(**path_parameters: Any) -> Any:
        return resolve(spec, app)(**path_parameters)

    view.__name__ = view.__qualname__ = spec.view
    view.lazy_route = spec  # type: ignore[attr-defined]  # read by `target`
    return view


def resolve(spec: RouteSpec, app: Chalice | None = None) -> Callable[..., Any]:
    """The route's own view, its module imported (once: Python's import lock holds concurrent
    first calls), its blueprint bound to `app` so that its views read the current request."""
    blueprint = importlib.import_module(spec.module).blueprint
    if app is not None:
        blueprint.bind(app)
    view: Callable[..., Any] = blueprint.views[(spec.path, spec.method)]
    return view


def target(view_function: Callable[..., Any]) -> Callable[..., Any]:
    """The view that answers: a deferred route's own view, else the function itself."""
    spec = getattr(view_function, "lazy_route", None)
    return view_function if spec is None else resolve(spec)


@lru_cache(maxsize=1)
def eager_app() -> Chalice:
    """The routes registered the direct way, every module imported: what `ROUTES` must equal
    (`make routes` writes the table from this, the tests compare the two). Once per process:
    Chalice consumes a blueprint's route keywords when it registers it."""
    from chalice.app import Chalice

    app = Chalice(app_name="generation-demarches", configure_logs=False)
    for name in ROUTE_MODULES:
        app.register_blueprint(importlib.import_module(name).blueprint)
    return app


def route_table(app: Chalice) -> list[RouteSpec]:
    """The table of `app`'s routes (OPTIONS preflights left out: `api/cors.py` adds them)."""
    specs = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if method == "OPTIONS":
                continue
            function = entry.view_function
            module = function.__module__
            view = entry.view_name
            if module not in ROUTE_MODULES or view != function.__name__:
                raise LookupError(f"{method} {path}: not declared by a route module's view")
            specs.append(
                RouteSpec(
                    path=path,
                    method=method,
                    module=module,
                    view=view,
                    public=entry.authorizer is None,
                    content_types=tuple(entry.content_types),
                )
            )
    return specs


def render_table(routes: Iterable[RouteSpec]) -> str:
    """`api/route_table.py`'s text: the table, one route a line, in registration order."""
    lines = [
        '"""The API\'s routes, as their modules declare them: written by `make routes`, never by',
        "hand (`api/lazy.py`; tests/infra/test_route_table.py fails while it is stale).",
        '"""',
        "",
        "# ruff: noqa: E501  (one route a line)",
        "from chalicelib.api.lazy import RouteSpec",
        "",
        "# fmt: off",
        "ROUTES = (",
    ]
    for spec in routes:
        fields = [json.dumps(v) for v in (spec.path, spec.method, spec.module, spec.view)]
        if spec.public:
            fields.append("public=True")
        if spec.content_types != RouteSpec.content_types:
            fields.append(f"content_types=({', '.join(map(json.dumps, spec.content_types))},)")
        lines.append(f"    RouteSpec({', '.join(fields)}),")
    lines += [")", "# fmt: on", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # `make routes`: python -m chalicelib.api.lazy [FILE]
    import sys
    from pathlib import Path

    text = render_table(route_table(eager_app()))
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
