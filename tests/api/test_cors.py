"""CORS for the portal's origins (API.md, "Browsers"), over real HTTP as `make run` serves it:
the preflight of every path, the headers a browser may read, errors included, and nothing at
all for any other origin. The browser's own refusal is proven in tests/e2e."""

from __future__ import annotations

import re

import requests

from infra.local_stack import LOCAL_PORTAL_ORIGIN, LocalStack
from tests.conftest import SignedIn

STRANGER = "https://portail-imite.example"
ULID = "01JD0000000000000000000000"
EXPOSED = {"location", "x-correlation-id", "idempotent-replayed", "retry-after"}


def _preflight(base: str, path: str, origin: str, method: str = "POST") -> requests.Response:
    return requests.options(
        f"{base}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
        timeout=10,
    )


def _cors_headers(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", ULID, path)


def _listed(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


def test_every_path_answers_the_portals_preflight_without_a_token(
    http_api: str, portal_origin: str
) -> None:
    from app import app

    for path, views in app.routes.items():
        for method in sorted(set(views) - {"OPTIONS"}):
            answer = _preflight(http_api, _concrete(path), portal_origin, method)
            assert answer.status_code in (200, 204), (path, method, answer.text)
            headers = _cors_headers(answer)
            assert headers["access-control-allow-origin"] == portal_origin, (path, method)
            assert method.lower() in _listed(headers["access-control-allow-methods"])
            assert _listed(headers["access-control-allow-headers"]) >= {
                "authorization",
                "content-type",
                "idempotency-key",
            }
            assert int(headers["access-control-max-age"]) > 0


def test_a_preflight_from_another_origin_or_for_another_method_grants_nothing(
    http_api: str, portal_origin: str
) -> None:
    assert _cors_headers(_preflight(http_api, "/requests", STRANGER)) == {}
    # The portal's origin plus a port or a path is another origin.
    assert _cors_headers(_preflight(http_api, "/requests", portal_origin + "1")) == {}
    denied = _preflight(http_api, "/catalog", portal_origin, method="DELETE")
    assert "access-control-allow-methods" not in _cors_headers(denied)


def test_answers_name_the_portals_origin_and_expose_what_clients_read(
    http_api: str, portal_origin: str, alice: SignedIn
) -> None:
    for origin in (portal_origin, LOCAL_PORTAL_ORIGIN):
        answer = requests.get(
            f"{http_api}/me", headers={**alice.headers, "Origin": origin}, timeout=10
        )
        assert answer.status_code == 200
        headers = _cors_headers(answer)
        assert headers["access-control-allow-origin"] == origin
        assert _listed(headers["access-control-expose-headers"]) == EXPOSED
        assert "origin" in _listed(answer.headers["Vary"])  # caches keep origins apart


def test_errors_carry_the_same_headers(http_api: str, portal_origin: str) -> None:
    """A 401 the browser cannot read is a portal that cannot tell the member to sign in."""
    answers: list[requests.Response] = [
        requests.get(f"{http_api}/me", headers={"Origin": portal_origin}, timeout=10),
        requests.post(
            f"{http_api}/requests",
            data=b"{",
            headers={"Origin": portal_origin, "Authorization": "Bearer x.y.z"},
            timeout=10,
        ),
    ]
    for answer in answers:
        assert answer.status_code in (400, 401), answer.text
        assert _cors_headers(answer)["access-control-allow-origin"] == portal_origin


def test_another_origins_answer_carries_no_cors_header(http_api: str, alice: SignedIn) -> None:
    answer = requests.get(
        f"{http_api}/me", headers={**alice.headers, "Origin": STRANGER}, timeout=10
    )
    assert answer.status_code == 200  # the API answers; the browser keeps it from the page
    assert _cors_headers(answer) == {}


def test_the_bucket_lets_the_same_origins_post_uploads(
    local_stack: LocalStack, portal_origin: str
) -> None:
    rules = local_stack.client("s3").get_bucket_cors(Bucket=local_stack.outputs["BucketName"])
    (rule,) = rules["CORSRules"]
    assert "POST" in rule["AllowedMethods"]
    assert set(rule["AllowedOrigins"]) == {LOCAL_PORTAL_ORIGIN, portal_origin}
