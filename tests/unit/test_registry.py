"""The registry of démarche types is complete and coherent: every type says its service, a
letter for every outcome that can carry it, a step its service knows, and a French label for
every field a member fills in."""

from __future__ import annotations

import pytest

from chalicelib import letters
from chalicelib.domain import catalog
from chalicelib.domain.states import Outcome
from chalicelib.letters import french
from chalicelib.services.serving import STEPS

HANDLINGS = [(t.type, t.handling) for t in catalog.REQUEST_TYPES] + [
    ("complaint", catalog.COMPLAINT_HANDLING)
]


@pytest.mark.parametrize(("name", "handling"), HANDLINGS, ids=[n for n, _ in HANDLINGS])
@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_of_every_type_has_a_letter_that_can_say_it(
    name: str, handling: catalog.Handling, outcome: Outcome
) -> None:
    details = [{}, {"subject": "remboursements", "detail": "teletransmission"}]
    for data in details:
        kind = letters.LetterKind(handling.letter(data, outcome))
        if kind is not letters.LetterKind.attestation_tiers_payant:  # it decides nothing
            assert letters.resolve_outcome(kind, outcome) is outcome


def test_every_automatic_step_is_served() -> None:
    assert set(STEPS) == set(catalog.Automatic)


@pytest.mark.parametrize("request_type", catalog.REQUEST_TYPES, ids=lambda t: t.type)
def test_every_field_a_member_fills_in_has_a_french_label(
    request_type: catalog.RequestType,
) -> None:
    for name, info in request_type.data_model.model_fields.items():
        assert info.title, f"{request_type.type}.{name} has no title"
        assert french.field_label(name) == info.title, f"{name} has two labels"
        schema = request_type.data_schema()["properties"][name]
        assert schema["title"] == info.title  # the catalogue's form shows the same label


def test_a_field_of_the_same_name_means_the_same_in_every_type() -> None:
    seen: dict[str, str] = {}
    for request_type in catalog.REQUEST_TYPES:
        for name, info in request_type.data_model.model_fields.items():
            assert seen.setdefault(name, str(info.title)) == info.title, name


def test_only_the_contact_form_may_be_a_complaint_and_complaints_go_to_reclamations() -> None:
    assert [t.type for t in catalog.REQUEST_TYPES if t.complaint_allowed] == ["contact.demande"]
    assert catalog.service_for("contact.demande", complaint=True) is catalog.Service.reclamations
