"""The data models' rules, with the day pinned through the validation context."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.domain import demarches as d
from chalicelib.domain import iban as bank

TODAY = date(2026, 11, 26)


def _check(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    return model.model_validate(data, context={"today": TODAY})


@pytest.mark.parametrize("amount", ["0.01", "42.50", "1234567.00"])
def test_amounts_positive_with_two_decimals_are_accepted(amount: str) -> None:
    _check(d.DevisData, {"care_type": "optique", "amount": amount})


@pytest.mark.parametrize(
    "amount", ["0.00", "-1.00", "42.5", "42", "4.250", "1e3", "12345678.00", " "]
)
def test_other_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValidationError):
        _check(d.DevisData, {"care_type": "optique", "amount": amount})


@pytest.mark.parametrize(
    ("care_date", "ok"),
    [("2026-11-26", True), ("2026-11-27", False), ("2024-11-26", True), ("2024-11-25", False)],
)
def test_care_date_is_neither_future_nor_older_than_two_years(care_date: str, ok: bool) -> None:
    data = {"care_date": care_date, "amount": "10.00", "care_type": "pharmacie"}
    if ok:
        _check(d.JustificatifData, data)
    else:
        with pytest.raises(ValidationError):
            _check(d.JustificatifData, data)


@pytest.mark.parametrize(
    ("until", "ok"),
    [("2026-11-26", False), ("2026-11-27", True), ("2029-11-26", True), ("2029-11-27", False)],
)
def test_an_extension_ends_after_today_and_within_three_years(until: str, ok: bool) -> None:
    data = {"situation": "etudiant", "until": until}
    if ok:
        _check(d.ProlongationDroitsEnfantData, data)
    else:
        with pytest.raises(ValidationError):
            _check(d.ProlongationDroitsEnfantData, data)


@pytest.mark.parametrize(
    ("admission", "ok"), [("2026-10-27", True), ("2026-10-26", False), ("2027-03-01", True)]
)
def test_admission_is_upcoming_or_within_thirty_days(admission: str, ok: bool) -> None:
    data = {
        "establishment": "CHU",
        "finess": "2A0000123",
        "admission_date": admission,
        "stay_type": "maternite",
    }
    if ok:
        _check(d.HospitalisationData, data)
    else:
        with pytest.raises(ValidationError):
            _check(d.HospitalisationData, data)


def test_contact_details_need_at_least_one_field() -> None:
    with pytest.raises(ValidationError):
        _check(d.CoordonneesData, {})
    _check(d.CoordonneesData, {"email": "a.b@example.fr"})


def test_family_event_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationError):
        _check(d.SituationFamilialeData, {"event": "mariage", "event_date": "2026-12-01"})


def test_birth_needs_the_newcomer_and_divorce_refuses_one() -> None:
    newcomer = {
        "first_name": "Zoé",
        "last_name": "M",
        "birth_date": "2026-11-01",
        "relationship": "child",
    }
    with pytest.raises(ValidationError):
        _check(d.SituationFamilialeData, {"event": "naissance", "event_date": "2026-11-01"})
    _check(
        d.SituationFamilialeData,
        {"event": "naissance", "event_date": "2026-11-01", "new_beneficiary": newcomer},
    )
    with pytest.raises(ValidationError):
        _check(
            d.SituationFamilialeData,
            {"event": "divorce", "event_date": "2026-11-01", "new_beneficiary": newcomer},
        )


def test_contact_subject_and_detail_come_from_the_catalogue() -> None:
    _check(d.ContactDemandeData, {"subject": "cotisations", "detail": "echeancier"})
    with pytest.raises(ValidationError):
        _check(d.ContactDemandeData, {"subject": "cotisations", "detail": "decompte"})
    with pytest.raises(ValidationError):
        _check(d.ContactDemandeData, {"subject": "meteo", "detail": "autre"})


def test_iban_is_compacted_and_shape_checked() -> None:
    data = _check(
        d.CoordonneesBancairesData,
        {"iban": "fr76 3000 6000 0112 3456 7890 189", "holder_name": "Al"},
    )
    assert data.iban == "FR7630006000011234567890189"  # type: ignore[attr-defined]
    for wrong in ("FR76-3000", "FR7630006000011234567890188", "BR1800360305000010009795493C1"):
        with pytest.raises(ValidationError) as raised:
            _check(d.CoordonneesBancairesData, {"iban": wrong, "holder_name": "Al"})
        assert raised.value.errors()[0]["loc"] == ("iban",)


def test_holder_names_take_typographic_apostrophes_and_ligatures_within_one_limit() -> None:
    """The same rule when filed (the model) and when the service checks the name it holds
    (`holder_problem`, held to it on its own)."""
    for holder in ("Chloé d’Arcœur", "ŒDIPE L'Hôte", "A" * 70):
        _check(
            d.CoordonneesBancairesData, {"iban": "DE89370400440532013000", "holder_name": holder}
        )
        assert bank.holder_problem(holder) is None, holder
    # × and ÷ sit among the accented letters of Latin-1, and are none.
    for holder in ("A" * 71, "A", "Bob <script>", "Bob × Alice", "Jean ÷ Paul"):
        with pytest.raises(ValidationError):
            _check(
                d.CoordonneesBancairesData,
                {"iban": "DE89370400440532013000", "holder_name": holder},
            )
        assert bank.holder_problem(holder) is not None, holder


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        _check(d.NoData, {"status": "processed"})
    assert raised.value.errors()[0]["type"] == "extra_forbidden"


def test_an_adult_childs_extension_stops_before_the_formulas_upper_age() -> None:
    from chalicelib.domain import catalog
    from chalicelib.domain.errors import ValidationFailed
    from chalicelib.domain.members import Beneficiary, Relationship
    from chalicelib.domain.requests import check_against_contract, parse_new_request

    today = date(2026, 11, 28)

    def child(born: date) -> Beneficiary:
        return Beneficiary(beneficiary_id="C", first_name="Léa", last_name="Martin",
                           relationship=Relationship.child, birth_date=born)  # fmt: skip

    def filed(until: date) -> Any:
        body = {"type": "vie.prolongation_droits_enfant", "beneficiary_ids": ["C"],
                "data": {"situation": "etudiant", "until": until.isoformat()},
                "upload_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}  # fmt: skip
        return parse_new_request(body, today)

    nineteen = child(date(2007, 6, 1))  # turns 26 on 1 June 2033
    check_against_contract(filed(date(2027, 6, 30)), [nineteen], today)
    twenty_three = child(date(2003, 11, 2))  # turns 26 on 2 November 2029
    check_against_contract(filed(date(2029, 11, 1)), [twenty_three], today)  # the day before
    with pytest.raises(ValidationFailed) as refused:
        check_against_contract(filed(date(2029, 11, 2)), [twenty_three], today)
    assert [f.field for f in refused.value.fields] == ["data.until"]
    with pytest.raises(ValidationFailed) as refused:
        check_against_contract(filed(date(2027, 1, 1)), [child(date(2000, 1, 1))], today)  # 26
    assert [f.field for f in refused.value.fields] == ["beneficiary_ids[0]"]
    with pytest.raises(ValidationFailed):
        check_against_contract(filed(date(2027, 1, 1)), [child(date(2010, 1, 1))], today)  # 16
    [extension] = [t for t in catalog.catalog_document()["categories"][1]["types"]
                   if t["type"] == "vie.prolongation_droits_enfant"]  # fmt: skip
    assert extension["beneficiary_ages"] == {"min": 18, "max": 25}
    assert extension["beneficiary_relationships"] == ["child"]  # a spouse of 18 to 25: no
    assert {
        t["type"]: t["beneficiary_relationships"]
        for c in catalog.catalog_document()["categories"]
        for t in c["types"]
        if t["beneficiary_relationships"] is not None
    } == {"vie.prolongation_droits_enfant": ["child"]}


def test_a_child_born_on_29_february_turns_26_on_1_march_as_their_age_says() -> None:
    """In a common year a child born on 29 February is 25 until 28 February included: the age
    the catalogue's `beneficiary_ages` and the portal count (`Beneficiary.age_on`). Their
    extension may run to that 28 February (the day before their 26th birthday), and on that
    day they are still a child of 25 the extension concerns, not one whose rights ended."""
    from chalicelib.domain.errors import ValidationFailed
    from chalicelib.domain.members import Beneficiary, Relationship
    from chalicelib.domain.requests import check_against_contract, parse_new_request

    born = date(2008, 2, 29)
    leap_child = Beneficiary(beneficiary_id="C", first_name="Léa", last_name="Martin",
                             relationship=Relationship.child, birth_date=born)  # fmt: skip

    def filed(until: date, today: date) -> Any:
        body = {"type": "vie.prolongation_droits_enfant", "beneficiary_ids": ["C"],
                "data": {"situation": "etudiant", "until": until.isoformat()},
                "upload_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}  # fmt: skip
        return parse_new_request(body, today)

    assert leap_child.age_on(date(2034, 2, 28)) == 25
    assert leap_child.age_on(date(2034, 3, 1)) == 26
    today = date(2033, 11, 28)
    check_against_contract(filed(date(2034, 2, 28), today), [leap_child], today)  # the day before
    with pytest.raises(ValidationFailed) as refused:
        check_against_contract(filed(date(2034, 3, 1), today), [leap_child], today)
    assert [f.field for f in refused.value.fields] == ["data.until"]
    # On 28 February 2034 they are 25: refused on the extension's end (no day is left before
    # their birthday), never as a child whose rights have ended.
    today = date(2034, 2, 28)
    with pytest.raises(ValidationFailed) as refused:
        check_against_contract(filed(date(2034, 3, 1), today), [leap_child], today)
    assert [f.field for f in refused.value.fields] == ["data.until"]


def test_the_forms_help_is_written_the_french_way() -> None:
    """The portal shows each field's title and description under it: « Date des soins: ni
    future » lacked the space French puts before a colon (and before ; ! ?)."""
    import re

    from chalicelib.domain import catalog

    def texts(schema: Any) -> Iterator[str]:
        if isinstance(schema, dict):
            for key, value in schema.items():
                if key in ("title", "description") and isinstance(value, str):
                    yield value
                else:
                    yield from texts(value)
        elif isinstance(schema, list):
            for item in schema:
                yield from texts(item)

    written = [
        text
        for category in catalog.catalog_document()["categories"]
        for kind in category["types"]
        for field in kind["data_schema"].get("properties", {}).values()  # what the form shows
        for text in texts(field)
    ]
    assert written
    assert [t for t in written if re.search(r"\w[:;!?]", t)] == []


ULID_A, ULID_B = "01JC9ZP7Q8W3Y5V2N4M6K8H0GF", "01JC9ZP7Q8W3Y5V2N4M6K8H0GG"


@pytest.mark.parametrize(
    ("body", "beneficiaries", "uploads"),
    [
        ({"beneficiary_ids": ["B1-01", "B1-02"], "upload_ids": [ULID_A]}, ["B1-01", "B1-02"],
         [ULID_A]),
        ({"beneficiary_ids": ["B1-01"], "upload_ids": [ULID_A.lower(), ULID_B]}, ["B1-01"],
         [ULID_A, ULID_B]),
        ({"beneficiary_ids": ["B1-01"]}, ["B1-01"], []),
        ({"beneficiary_ids": [f"B{n}" for n in range(20)]}, [f"B{n}" for n in range(20)], []),
        # Anything else is read once the model has read it (or refused).
        ({"beneficiary_ids": [f"B{n}" for n in range(21)]}, [], []),
        ({"beneficiary_ids": []}, [], []),
        ({"beneficiary_ids": ["B1-01", 2]}, [], []),
        ({"beneficiary_ids": ["x" * 65]}, [], []),
        ({"beneficiary_ids": "B1-01"}, [], []),
        ({"beneficiary_ids": ["Bé-01"]}, [], []),  # every id given is ASCII
        ({"beneficiary_ids": ["\ud800"]}, [], []),
        ({"beneficiary_ids": ["B1-01"], "upload_ids": [f" {ULID_A} "]}, ["B1-01"], []),
        ({"beneficiary_ids": ["B1-01"], "upload_ids": [f"{ULID_A}\n"]}, ["B1-01"], []),
        ({"beneficiary_ids": ["B1-01"], "upload_ids": [ULID_A, "../etc"]}, ["B1-01"], []),
        ({"beneficiary_ids": ["B1-01"], "upload_ids": [ULID_A] * 6}, ["B1-01"], []),
        ({"beneficiary_ids": ["B1-01"], "upload_ids": ULID_A}, ["B1-01"], []),
        (["B1-01"], [], []),
    ],
)  # fmt: skip
def test_named_ids_are_the_plain_ids_a_body_names(
    body: Any, beneficiaries: list[str], uploads: list[str]
) -> None:
    from chalicelib.domain.requests import NamedIds, named_ids

    assert named_ids(body) == NamedIds(beneficiaries, uploads)


def test_the_ids_named_are_those_the_model_reads_for_every_type_s_example() -> None:
    """What `named_ids` reads first is what the model takes, for a plain body of every type:
    the reads are never made twice for one."""
    from chalicelib.domain import catalog
    from chalicelib.domain.requests import named_ids, parse_new_request

    for kind in catalog.REQUEST_TYPES:
        body = {
            "type": kind.type,
            "beneficiary_ids": ["B1-01"],
            "data": kind.data_model.example(TODAY) if hasattr(kind.data_model, "example") else {},
            "description": "Une description.",
            "upload_ids": [] if kind.attachments is catalog.Attachments.none else [ULID_A.lower()],
        }
        new = parse_new_request(body, TODAY)
        named = named_ids(body)
        assert (named.beneficiary_ids, named.upload_ids) == (new.beneficiary_ids, new.upload_ids)
