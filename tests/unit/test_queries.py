"""Query strings read by their models (`chalicelib/api/queries.py`): the answer a client gets for
an unknown or a bad parameter, and the document's query parameters saying what the model takes.
No AWS: a request here is only its query string."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.api import openapi
from chalicelib.api.queries import (
    CURSOR_MAX_LENGTH,
    CURSOR_MIN_LENGTH,
    CURSOR_PATTERN,
    DocumentsQuery,
    ProfessionalsQuery,
    QueryModel,
    TimelineQuery,
    WorkListQuery,
)
from chalicelib.domain.cursor import encode_cursor
from chalicelib.domain.errors import AppError, BadRequest, ValidationFailed

SEARCH = {"specialty": "opticien", "postal_code": "75011"}


def _refused(model: type[QueryModel], params: dict[str, str]) -> AppError:
    with pytest.raises(AppError) as refused:
        model.from_request(SimpleNamespace(query_params=params))
    return refused.value


def _fields(error: AppError) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in error.fields]


def test_no_query_string_gives_the_defaults() -> None:
    assert TimelineQuery.from_request(SimpleNamespace(query_params=None)).limit == 6
    assert DocumentsQuery.from_request(SimpleNamespace(query_params={})).months == 24
    assert WorkListQuery.from_request(SimpleNamespace(query_params={})).state == "open"


def test_unknown_parameters_are_a_400_naming_each_even_beside_a_bad_value() -> None:
    error = _refused(TimelineQuery, {"page": "2", "limit": "0", "Month": "2026-01"})
    assert isinstance(error, BadRequest)
    assert [f for f, _ in _fields(error)] == ["Month", "page"]


def test_bad_values_are_a_422_naming_each_parameter_with_its_own_message() -> None:
    error = _refused(TimelineQuery, {"month": "2026-13", "limit": "13"})
    assert isinstance(error, ValidationFailed)
    assert error.message == "Paramètre invalide."
    assert _fields(error) == [
        ("month", "Mois attendu (AAAA-MM)."),
        ("limit", "Entier de 1 à 12 attendu."),
    ]
    assert _fields(_refused(DocumentsQuery, {"months": "2"})) == [
        ("months", "1, 3, 6, 12 ou 24 mois.")
    ]
    state = _refused(WorkListQuery, {"state": "closed"})
    assert (state.message, _fields(state)) == (
        "État invalide.",
        [("state", "open, waiting, processed ou withdrawn.")],
    )


@pytest.mark.parametrize("digits", ["²", "１", "١", "+5", " 5", "5.0", "1_0", "1" * 5000])
def test_a_whole_number_is_ascii_digits_and_nothing_else(digits: str) -> None:
    assert [f for f, _ in _fields(_refused(TimelineQuery, {"limit": digits}))] == ["limit"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "%" * 30, "A" * (CURSOR_MAX_LENGTH + 1), ""])
def test_a_cursor_that_cannot_be_one_of_ours_is_a_400_like_a_forged_one(cursor: str) -> None:
    for model in (TimelineQuery, WorkListQuery):
        error = _refused(model, {"cursor": cursor})
        assert isinstance(error, BadRequest)
        assert _fields(error) == [("cursor", "Invalide.")]


def test_every_cursor_the_app_issues_has_the_documented_shape() -> None:
    """The pattern and bounds refuse nothing the app hands out, even a long work-list key."""
    key = {name: {"S": "M" * 64 + "#" + "0" * 26} for name in ("pk", "sk", "svc_pk", "svc_sk")}
    for payload in ({}, {"before": "2026-01", "member": "m" * 64}, {"list": "x", "start": key}):
        cursor = encode_cursor(payload, "secret")
        assert re.fullmatch(CURSOR_PATTERN, cursor)
        assert CURSOR_MIN_LENGTH <= len(cursor) <= CURSOR_MAX_LENGTH
        assert TimelineQuery.from_request(SimpleNamespace(query_params={"cursor": cursor}))


@pytest.mark.parametrize("radius", ["0.001", "1", "12.5", "100", "100.000"])
def test_radius_km_takes_up_to_three_decimals_from_its_documented_minimum(radius: str) -> None:
    query = ProfessionalsQuery.from_request(
        SimpleNamespace(query_params={**SEARCH, "radius_km": radius})
    )
    assert query.radius_km == float(radius)


@pytest.mark.parametrize("radius", ["0", "0.000", "0.0005", "5e-324", "1e-3", "100.001", "-5"])
def test_radius_km_refuses_what_its_schema_refuses_or_more_decimals(radius: str) -> None:
    error = _refused(ProfessionalsQuery, {**SEARCH, "radius_km": radius})
    assert [f for f, _ in _fields(error)] == ["radius_km"]


def test_a_search_needs_its_specialty_and_postal_code_unless_a_cursor_continues_it() -> None:
    error = _refused(ProfessionalsQuery, {"limit": "5"})
    assert _fields(error) == [
        ("specialty", "La spécialité est obligatoire."),
        ("postal_code", "Le code postal est obligatoire."),
    ]


@pytest.mark.parametrize("params", [{"radius_km": ""}, {"postal_code": " 75011 "}])
def test_a_parameter_given_is_read_as_given_even_blank(params: dict[str, str]) -> None:
    """As on every route: what the document says is what is taken, no blank read as absent."""
    error = _refused(ProfessionalsQuery, {**SEARCH, **params})
    assert [f for f, _ in _fields(error)] == list(params)


def test_month_and_cursor_never_go_together() -> None:
    cursor = encode_cursor({"before": "2026-01", "member": "m"}, "secret")
    error = _refused(TimelineQuery, {"month": "2025-12", "cursor": cursor})
    assert isinstance(error, BadRequest)


def _parameters(model: type[QueryModel]) -> dict[str, dict[str, Any]]:
    """The model's fields as the document says them: parameters, or the properties of the one
    object parameter of a model whose rules span several fields."""
    parameters = openapi._query_parameters(model)
    if parameters[0]["name"] != "query":
        return {p["name"]: p for p in parameters}
    (whole,) = parameters
    return {
        name: {"in": "query", "required": False, "description": field.pop("description", "")}
        | {"schema": field}
        for name, field in whole["schema"]["properties"].items()
    }


def test_the_documented_query_parameters_are_the_models_fields() -> None:
    for model in (TimelineQuery, DocumentsQuery, WorkListQuery, ProfessionalsQuery):
        parameters = _parameters(model)
        assert list(parameters) == list(model.model_fields)
        for parameter in parameters.values():
            assert parameter["in"] == "query" and parameter["required"] is False
            assert parameter["description"]
            assert "null" not in str(parameter["schema"]), parameter  # absent, never null


def test_a_rule_across_parameters_is_stated_on_one_object_parameter() -> None:
    """OpenAPI cannot tie separate parameters together: the model is one exploded object whose
    schema carries the rule (and is required when an empty query string is refused)."""
    (search,) = openapi._query_parameters(ProfessionalsQuery)
    assert (search["style"], search["explode"], search["required"]) == ("form", True, True)
    assert search["schema"]["anyOf"] == [
        {"required": ["specialty", "postal_code"]},
        {"required": ["cursor"]},
    ]
    assert search["schema"]["additionalProperties"] is False
    (timeline,) = openapi._query_parameters(TimelineQuery)
    assert timeline["required"] is False
    assert timeline["schema"]["not"] == {"required": ["month", "cursor"]}
    assert [p["name"] for p in openapi._query_parameters(DocumentsQuery)] == ["months"]


def _radius_is_taken(radius: str) -> bool:
    try:
        ProfessionalsQuery.from_request(
            SimpleNamespace(query_params={**SEARCH, "radius_km": radius})
        )
    except AppError:
        return False
    return True


def test_the_radius_pattern_is_exactly_what_the_model_takes() -> None:
    pattern = re.compile(_parameters(ProfessionalsQuery)["radius_km"]["schema"]["pattern"])
    integers = [
        f"{n:0{width}d}" for width in (1, 2, 3) for n in range(0, 1000) if len(str(n)) <= width
    ]
    decimals = [
        "",
        ".",
        *(
            f".{n:0{width}d}"
            for width in (1, 2, 3)
            for n in (0, 1, 9, 10, 99, 100, 999)
            if len(str(n)) <= width
        ),
        ".0000",
        ".0001",
    ]
    for radius in (i + d for i in integers for d in decimals):
        assert bool(pattern.search(radius)) == _radius_is_taken(radius), radius


def test_the_documented_bounds_are_those_the_model_checks() -> None:
    limit = _parameters(TimelineQuery)["limit"]["schema"]
    assert limit == {**limit, "type": "integer", "minimum": 1, "maximum": 12, "default": 6}
    cursor = _parameters(WorkListQuery)["cursor"]["schema"]
    assert cursor["pattern"] == CURSOR_PATTERN
    assert (cursor["minLength"], cursor["maxLength"]) == (CURSOR_MIN_LENGTH, CURSOR_MAX_LENGTH)
    months = _parameters(DocumentsQuery)["months"]["schema"]
    assert months["enum"] == [1, 3, 6, 12, 24]
