"""The data models' rules, with the day pinned through the validation context."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.domain import demarches as d

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
        {"iban": "fr76 3000 6000 0112 3456 7890 189", "holder_name": "A"},
    )
    assert data.iban == "FR7630006000011234567890189"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        _check(d.CoordonneesBancairesData, {"iban": "FR76-3000", "holder_name": "A"})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        _check(d.NoData, {"status": "processed"})
    assert raised.value.errors()[0]["type"] == "extra_forbidden"
