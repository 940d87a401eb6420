"""CORS for the stage's portal origins (API.md, "Browsers").

A browser page on one of `PORTAL_ORIGINS` may call every route: its preflight (`OPTIONS`, which
carries no token) is answered by the function, with the path's methods and the three headers a
client sends (`Authorization`, `Content-Type`, `Idempotency-Key`); every answer to it, errors
included, names its origin and exposes the headers a client reads. A page on any other origin
gets no CORS header at all, so the browser keeps the answer from it.

The preflight is a route of the app (one `OPTIONS` view per path, with no authorizer) rather
than API Gateway's mock integration, because a mock answers one fixed origin and a stage may
have several (the portal and the agents' console, a preview). API Gateway's own answers (401,
429, 5xx) cannot test the origin: they name the stage's first portal origin
(`infra/chalice-merge.yaml`), which grants nothing to any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Response

from chalicelib.settings import get_settings

ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
EXPOSED_HEADERS = ("Location", "X-Correlation-Id", "Idempotent-Replayed", "Retry-After")
# How long a browser may reuse a preflight's answer (seconds): one preflight per path per
# ten minutes of a portal session, rather than one per call.
PREFLIGHT_MAX_AGE = 600


def allowed_origin(headers: Any) -> str | None:
    """The request's `Origin` if it is one of the stage's portal origins, else None."""
    origin = (headers.get("origin") or "").rstrip("/")
    return origin if origin and origin in get_settings().allowed_origins else None


def cors(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """HTTP middleware (outermost): name the allowed origin on every answer, errors included."""
    response = get_response(event)
    origin = allowed_origin(event.headers)
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    return response


def _preflight(app: Chalice, methods: tuple[str, ...]) -> Callable[..., Response]:
    allowed = ", ".join((*methods, "OPTIONS"))

    def preflight(**_: str) -> Response:
        request = app.current_request
        headers = request.headers if request is not None else {}
        requested = (headers.get("access-control-request-method") or "").upper()
        if allowed_origin(headers) is None or requested not in methods:
            return Response(body="", status_code=204)  # no grant: the browser stops here
        return Response(
            body="",
            status_code=204,
            headers={
                "Access-Control-Allow-Methods": allowed,
                "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            },
        )

    return preflight


def add_preflights(app: Chalice) -> None:
    """One `OPTIONS` view per path of `app`, answering that path's preflight (no authorizer)."""
    for path, views in list(app.routes.items()):
        if "OPTIONS" in views:
            continue
        methods = tuple(sorted(views))
        view = _preflight(app, methods)
        view.__name__ = "preflight_" + "".join(c if c.isalnum() else "_" for c in path).strip("_")
        app.route(path, methods=["OPTIONS"], content_types=["*/*"])(view)
