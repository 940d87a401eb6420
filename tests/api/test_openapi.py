"""`GET /openapi.json`: a valid OpenAPI 3.1 document of every route, generated from the route
table and the models the routes use, public, committed in `docs/openapi.json` and never stale;
and the app's real answers, successes and errors, are what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from chalice import Chalice
from openapi_spec_validator import OpenAPIV31SpecValidator

from chalicelib.api import openapi
from chalicelib.api.auth import PUBLIC_ROUTES
from chalicelib.api.errors import ApiBlueprint
from chalicelib.domain.catalog import REQUEST_TYPES
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Answer, Api, SignedIn, upload

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
API_MD = ROOT.parent / "shared" / "API.md"

# The routes of API.md's tables, as they stand (checked against API.md itself when it is there).
API_MD_ROUTES = {
    ("GET", "/catalog"),
    ("GET", "/me"),
    ("GET", "/me/beneficiaries"),
    ("GET", "/contact"),
    ("POST", "/uploads"),
    ("POST", "/requests"),
    ("GET", "/requests"),
    ("GET", "/requests/{request_id}"),
    ("GET", "/requests/{request_id}/attachments/{attachment_id}"),
    ("GET", "/documents"),
    ("GET", "/documents/{document_id}/download"),
    ("GET", "/professionals"),
    ("GET", "/backoffice/services/{service}/requests"),
    ("GET", "/backoffice/members/{member_id}/requests/{request_id}"),
    ("POST", "/backoffice/members/{member_id}/requests/{request_id}/decision"),
    ("POST", "/backoffice/members/{member_id}/requests/{request_id}/information-request"),
    ("POST", "/backoffice/members/{member_id}/requests/{request_id}/reclassification"),
    ("POST", "/requests/{request_id}/replies"),
    ("POST", "/requests/{request_id}/withdrawal"),
    ("GET", "/me/access-log"),
    ("POST", "/me/exports"),
    ("GET", "/me/exports/{export_id}"),
}
# Routes API.md describes in prose (no table), checked against its text when it is there.
API_MD_PROSE_ROUTES = {("GET", "/me/preferences"), ("PUT", "/me/preferences")}
# Routes API.md already lists whose issue is still open: each moves up once it is built.
API_MD_PLANNED: dict[tuple[str, str], str] = {}
# API.md's error codes, by status.
API_MD_ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}


def _app() -> Chalice:
    from app import app

    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.openapi_document(_app())


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and not node["$ref"].startswith("#/components/schemas/"):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def assert_conforms(
    document: dict[str, Any], method: str, path: str, answer: Answer, status: int
) -> None:
    """The answer has the expected status, which the operation documents, and its schema."""
    assert answer.status == status, answer.body
    responses = _operations(document)[(method, path)]["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    response = _resolve(document, responses[str(status)])
    schema = response["content"]["application/json"]["schema"]
    # `#/components/...` references resolve against the root: give it the components.
    validator = jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(answer.body)]
    assert not errors, f"{method} {path} {status}: {errors}"
    for name, header in response.get("headers", {}).items():
        if _resolve(document, header).get("required"):
            assert name.lower() in {h.lower() for h in answer.headers}, name


# -- the document -------------------------------------------------------------------------------


def test_the_document_is_public_and_valid_openapi_3_1(api: Api) -> None:
    answer = api.get("/openapi.json")  # no token
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.body["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(answer.body).validate()


def test_the_served_document_is_the_generated_one(api: Api, document: dict[str, Any]) -> None:
    assert api.get("/openapi.json").body == document


def test_the_committed_copy_is_up_to_date(document: dict[str, Any]) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi.render(document), (
        "docs/openapi.json is stale: run `make openapi`"
    )


def test_make_openapi_writes_the_committed_copy(tmp_path: Path) -> None:
    written = tmp_path / "openapi.json"
    subprocess.run([sys.executable, "scripts/write_openapi.py", str(written)], cwd=ROOT, check=True)
    assert written.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_the_openapi_module_imports_neither_the_app_nor_the_views() -> None:
    """It reads the routes of the app it is given: no import circle with `app.py`."""
    probe = (
        "import sys\n"
        "from chalicelib.api import openapi\n"
        "views = ('reference', 'members', 'professionals', 'requests', 'uploads', 'documents',"
        " 'backoffice')\n"
        "loaded = [m for m in ('app', *(f'chalicelib.api.{v}' for v in views))"
        " if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True)


def test_importing_the_app_does_not_build_the_document() -> None:
    probe = (
        "import app\n"
        "from chalicelib.api import openapi\n"
        "assert openapi._served.cache_info().currsize == 0\n"
        "openapi._served(app.app)\n"
        "openapi._served(app.app)\n"
        "assert openapi._served.cache_info().misses == 1\n"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True)


def test_every_route_of_api_md_is_documented(document: dict[str, Any]) -> None:
    if API_MD.exists():
        listed = re.findall(r"^\| `(GET|POST|PUT|PATCH|DELETE) ([^`?]+)", API_MD.read_text(), re.M)
        assert set(listed) == API_MD_ROUTES | API_MD_PLANNED.keys()
        text = " ".join(API_MD.read_text().split())
        for method, path in API_MD_PROSE_ROUTES:
            assert f"`{method} {path}`" in text or f"{method} {path}" in text, (method, path)
    documented = set(_operations(document))
    assert documented >= API_MD_ROUTES
    assert documented >= API_MD_PROSE_ROUTES
    assert not documented & API_MD_PLANNED.keys(), "built: move it to API_MD_ROUTES"


def test_the_document_lists_exactly_the_apps_routes(document: dict[str, Any]) -> None:
    routes = {
        (method, path)
        for path, methods in _app().routes.items()
        for method in methods
        if method != "OPTIONS"  # the CORS preflights: tests/api/test_cors.py
    }
    assert set(_operations(document)) == routes
    assert ("GET", "/openapi.json") in routes


def test_a_route_declared_without_its_documentation_fails_the_build() -> None:
    probe = Chalice("probe")
    probe.routes.update(_app().routes)

    @probe.route("/undocumented")
    def undocumented() -> dict[str, str]:
        return {}

    with pytest.raises(LookupError, match="GET /undocumented"):
        openapi.openapi_document(probe)


def test_a_route_without_a_docstring_fails_the_build() -> None:
    """The docstring is the operation's summary and description: a route needs one."""
    probe = Chalice("probe")
    probe.routes.update(_app().routes)
    blueprint = ApiBlueprint("probe")

    @blueprint.route("/terse", methods=["GET"], tag="meta", answer=None)
    def terse() -> dict[str, str]:
        return {}

    probe.register_blueprint(blueprint)
    with pytest.raises(LookupError, match=r"GET /terse \(terse\)"):
        openapi.openapi_document(probe)


def test_the_routes_documented_public_are_those_the_middleware_lets_through(
    document: dict[str, Any],
) -> None:
    public = {path for (_, path), o in _operations(document).items() if o["security"] == []}
    assert public == set(PUBLIC_ROUTES)


def test_every_operation_but_the_document_needs_the_bearer_token(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["cognitoIdToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for (method, path), operation in _operations(document).items():
        expected = [] if path == "/openapi.json" else [{"cognitoIdToken": []}]
        assert operation["security"] == expected, (method, path)
        if path != "/openapi.json":
            assert {"401", "503"} <= set(operation["responses"]), (method, path)


def test_every_error_answer_has_the_api_md_shape_and_its_code(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ErrorAnswer"]
    assert error["required"] == ["error"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["code", "message", "fields"]
    field = document["components"]["schemas"]["ErrorField"]
    assert field["required"] == ["field", "message"]
    for (method, path), operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = _resolve(document, response)["content"]["application/json"]["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/ErrorAnswer"}
            code = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["const"]
            assert code == API_MD_ERRORS.get(int(status), "internal_error"), (method, path)


def test_bodies_are_refused_in_the_error_shape_when_malformed_large_or_not_json(
    document: dict[str, Any],
) -> None:
    with_body = {k: o for k, o in _operations(document).items() if "requestBody" in o}
    assert set(with_body) == {
        ("POST", "/requests"),
        ("POST", "/uploads"),
        ("POST", "/requests/{request_id}/replies"),
        ("POST", "/requests/{request_id}/withdrawal"),
        ("POST", "/backoffice/members/{member_id}/requests/{request_id}/decision"),
        ("POST", "/backoffice/members/{member_id}/requests/{request_id}/information-request"),
        ("POST", "/backoffice/members/{member_id}/requests/{request_id}/reclassification"),
        ("PUT", "/me/preferences"),
        ("POST", "/me/exports"),
    }
    for key, operation in with_body.items():
        assert {"400", "413", "415"} <= set(operation["responses"])
        # An export's body has no field: there is no value to refuse with 422.
        assert ("422" in operation["responses"]) is (key != ("POST", "/me/exports"))
        # A withdrawal without a body is one without a reason; an export has nothing to choose.
        optional = key in {("POST", "/requests/{request_id}/withdrawal"), ("POST", "/me/exports")}
        assert operation["requestBody"]["required"] is not optional


def test_post_requests_takes_the_union_of_every_type_by_its_type(document: dict[str, Any]) -> None:
    body = _operations(document)[("POST", "/requests")]["requestBody"]
    schema = _resolve(document, body["content"]["application/json"]["schema"])
    union = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == {t.type for t in REQUEST_TYPES}
    assert len(union["oneOf"]) == len(REQUEST_TYPES)
    for request_type in REQUEST_TYPES:
        variant = _resolve(document, {"$ref": union["discriminator"]["mapping"][request_type.type]})
        variant = document["components"]["schemas"][variant["$ref"].rsplit("/", 1)[1]]
        assert variant["properties"]["type"]["const"] == request_type.type
        assert variant["additionalProperties"] is False  # unknown fields: 400


def test_creations_answer_201_with_location_and_idempotency(document: dict[str, Any]) -> None:
    operations = _operations(document)
    filing = operations[("POST", "/requests")]
    assert set(filing["responses"]["201"]["headers"]) >= {"Location", "Idempotent-Replayed"}
    assert "409" in filing["responses"]
    header = next(p for p in filing["parameters"] if p["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    assert "201" in operations[("POST", "/uploads")]["responses"]
    assert {"413", "415"} <= set(operations[("POST", "/uploads")]["responses"])
    unavailable = document["components"]["responses"]["ServiceUnavailable"]
    assert "Retry-After" in unavailable["headers"]


def test_a_members_limits_are_documented_where_they_answer_429(document: dict[str, Any]) -> None:
    limited = {
        key for key, operation in _operations(document).items() if "429" in operation["responses"]
    }
    assert limited == {
        ("POST", "/uploads"),
        ("POST", "/requests"),
        ("POST", "/requests/{request_id}/replies"),
        ("POST", "/me/exports"),
    }
    too_many = document["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in too_many["headers"]
    assert too_many["content"]["application/json"]["example"]["error"]["code"] == (
        "too_many_requests"
    )


def test_parameters_say_what_the_routes_accept(document: dict[str, Any]) -> None:
    operations = _operations(document)

    def parameters(method: str, path: str) -> dict[str, dict[str, Any]]:
        """By name; the fields of a query string published as one object (a rule spans them)
        as parameters of their own."""
        found = {}
        for p in operations[(method, path)].get("parameters", []):
            if p["in"] == "query" and p["schema"].get("type") == "object":
                assert (p["style"], p["explode"]) == ("form", True)
                found |= {
                    k: {"in": "query", "schema": v} for k, v in p["schema"]["properties"].items()
                }
            else:
                found[p["name"]] = p
        return found

    documents = parameters("GET", "/documents")["months"]["schema"]
    assert documents["enum"] == [1, 3, 6, 12, 24] and documents["default"] == 24
    assert set(parameters("GET", "/requests")) == {"cursor", "month", "limit", "status", "type"}
    assert set(parameters("GET", "/professionals")) == {
        "specialty",
        "postal_code",
        "radius_km",
        "limit",
        "cursor",
    }
    (search,) = operations[("GET", "/professionals")]["parameters"]
    assert search["required"] and search["schema"]["anyOf"] == [
        {"required": ["specialty", "postal_code"]},
        {"required": ["cursor"]},
    ]
    (timeline,) = operations[("GET", "/requests")]["parameters"]
    assert timeline["schema"]["not"] == {"required": ["month", "cursor"]}
    detail = parameters("GET", "/requests/{request_id}/attachments/{attachment_id}")
    assert {p["in"] for p in detail.values()} == {"path"}
    assert all(p["required"] for p in detail.values())
    work_list = parameters("GET", "/backoffice/services/{service}/requests")
    assert work_list["state"]["schema"]["enum"] == ["open", "waiting", "processed", "withdrawn"]
    timeline = parameters("GET", "/requests")
    assert timeline["status"]["schema"]["enum"] == [
        "in_progress",
        "waiting_for_member",
        "processed",
        "withdrawn",
    ]
    assert set(timeline["type"]["schema"]["enum"]) == {t.type for t in REQUEST_TYPES}


# -- the app's real answers, against the document -----------------------------------------------


def test_real_answers_are_those_the_document_describes(
    api: Api,
    pump: QueuePump,
    alice: SignedIn,
    agent_all: SignedIn,
    document: dict[str, Any],
) -> None:
    def check(method: str, path: str, url: str, status: int, **kwargs: Any) -> Answer:
        who = kwargs.pop("who", agent_all if path.startswith("/backoffice") else alice)
        answer = api.request(method, url, who, **kwargs)
        assert_conforms(document, method, path, answer, status)
        return answer

    check("GET", "/openapi.json", "/openapi.json", 200, who=None)
    check("GET", "/catalog", "/catalog", 200)
    check("GET", "/contact", "/contact", 200)
    check("GET", "/me", "/me", 200)
    check("GET", "/me/beneficiaries", "/me/beneficiaries", 200)
    check("GET", "/professionals", "/professionals?specialty=opticien&postal_code=75011", 200)
    check("GET", "/professionals", "/professionals?specialty=opticien&postal_code=00000", 404)
    check("GET", "/professionals", "/professionals?specialty=opticien", 422)

    ticket = {"filename": "facture.pdf", "content_type": "application/pdf", "size": 1000}
    check("POST", "/uploads", "/uploads", 201, body=ticket)
    check("POST", "/uploads", "/uploads", 415, body={**ticket, "content_type": "text/html"})
    check("POST", "/uploads", "/uploads", 413, body={**ticket, "size": 6 * 1024 * 1024})
    check("POST", "/uploads", "/uploads", 400, raw="{")

    today = datetime.now(UTC).date().isoformat()
    filing = {
        "type": "sante.justificatif",
        "beneficiary_ids": [f"{alice.member_id}-01"],
        "data": {"care_date": today, "amount": "42.50", "care_type": "pharmacie"},
        "upload_ids": [upload(api, alice, PDF_BYTES)],
    }
    key = {"Idempotency-Key": "openapi-conformance-1"}
    filed = check("POST", "/requests", "/requests", 201, body=filing, headers=key)
    request_id = filed.body["request_id"]
    assert filed.headers["Location"] == f"/requests/{request_id}"
    replayed = check("POST", "/requests", "/requests", 201, body=filing, headers=key)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    check("POST", "/requests", "/requests", 409, body={**filing, "upload_ids": []}, headers=key)
    check("POST", "/requests", "/requests", 422, body={**filing, "type": "sante.inconnu"})
    check("POST", "/requests", "/requests", 400, body={**filing, "status": "processed"})
    check("POST", "/requests", "/requests", 403, body=filing, who=agent_all)
    check("POST", "/requests", "/requests", 401, body=filing, who=None)

    attachment_id = filed.body["attachments"][0]["attachment_id"]
    attachment = f"/requests/{request_id}/attachments/{attachment_id}"
    check("GET", "/requests", "/requests", 200)
    check("GET", "/requests", "/requests?month=2026-13", 422)
    check("GET", "/requests", "/requests?unknown=1", 400)
    check("GET", "/requests/{request_id}", f"/requests/{request_id}", 200)
    check("GET", "/requests/{request_id}", "/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV", 404)
    check("GET", "/requests/{request_id}/attachments/{attachment_id}", attachment, 200)

    pump.drain()
    base = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    work_list = "/backoffice/services/{service}/requests"
    check("GET", work_list, work_list.format(service="remboursements"), 200)
    check("GET", work_list, work_list.format(service="inconnu"), 404)
    check("GET", "/backoffice/members/{member_id}/requests/{request_id}", base, 200)
    check("GET", "/backoffice/members/{member_id}/requests/{request_id}", base, 403, who=alice)
    decision = "/backoffice/members/{member_id}/requests/{request_id}/decision"
    check("POST", decision, f"{base}/decision", 422, body={"outcome": "refused"})
    check("POST", decision, f"{base}/decision", 422, body={"outcome": "accepted"})
    accepted = {"outcome": "accepted", "amount": "42.50"}
    decided = check("POST", decision, f"{base}/decision", 200, body=accepted)
    check("POST", decision, f"{base}/decision", 409, body=accepted)
    check("GET", "/requests/{request_id}/attachments/{attachment_id}", attachment, 409)

    document_id = decided.body["letter"]["document_id"]
    download = f"/documents/{document_id}/download"
    check("GET", "/documents/{document_id}/download", download, 404)  # owed, not yet rendered
    pump.drain()  # the service's handler renders it
    listed = check("GET", "/documents", "/documents?months=1", 200)
    assert document_id in [d["document_id"] for d in listed.body["documents"]]
    check("GET", "/documents", "/documents?months=2", 422)
    check("GET", "/documents/{document_id}/download", download, 200)

    export = "/me/exports/{export_id}"
    asked = check("POST", "/me/exports", "/me/exports", 202)
    assert asked.headers["Location"] == f"/me/exports/{asked.body['export_id']}"
    check("POST", "/me/exports", "/me/exports", 409, body={})
    check("POST", "/me/exports", "/me/exports", 400, body={"format": "csv"})
    check("GET", export, asked.headers["Location"], 200)
    pump.drain()
    check("GET", export, asked.headers["Location"], 200)  # ready: url and expires_at
    check("GET", export, "/me/exports/01ARZ3NDEKTSV4RRFFQ69G5FAV", 404)


def test_exotic_digits_in_query_parameters_are_refused_not_a_server_error(
    api: Api, alice: SignedIn, agent_all: SignedIn
) -> None:
    """`str.isdigit()` takes "²" and `int()` then refuses it: that was a 500."""
    for url, who in (
        ("/requests?limit=%C2%B2", alice),
        ("/requests?limit=%EF%BC%91", alice),  # a full-width 1
        ("/requests?month=%D9%A1%D9%A1%D9%A1%D9%A1-01", alice),  # Arabic-Indic digits
        ("/documents?months=%C2%B2", alice),
        ("/documents?months=" + "1" * 5000, alice),  # past int()'s 4300 digits
        ("/backoffice/services/devis/requests?limit=%C2%B2", agent_all),
    ):
        answer = api.get(url, who)
        assert answer.status == 422, (url, answer.body)
        assert answer.body["error"]["code"] == "validation_error"


def test_a_get_carrying_a_content_type_is_answered_not_refused(api: Api, alice: SignedIn) -> None:
    """Chalice's own check answered 415 in its own shape to a GET with a Content-Type."""
    answer = api.get("/catalog", alice, headers={"Content-Type": "multipart/form-data"})
    assert answer.status == 200
    refused = api.post("/uploads", alice, raw="a=1", headers={"Content-Type": "text/plain"})
    assert refused.status == 415
    assert refused.body["error"]["code"] == "unsupported_media_type"
