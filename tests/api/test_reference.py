"""`GET /catalog` and `GET /contact`."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.conftest import Api, SignedIn

EXPECTED_TYPES = {
    "sante": [
        "sante.justificatif",
        "sante.devis",
        "sante.prise_en_charge_hospitaliere",
        "sante.attestation_tiers_payant",
    ],
    "vie_personnelle": [
        "vie.coordonnees",
        "vie.coordonnees_bancaires",
        "vie.prolongation_droits_enfant",
        "vie.situation_familiale",
        "vie.autre",
    ],
    "contact": ["contact.demande"],
}

VALID = {
    "sante.justificatif": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"},
    "sante.devis": {"care_type": "dentaire", "amount": "1200.00", "practitioner": "Dr Roux"},
    "sante.prise_en_charge_hospitaliere": {
        "establishment": "Hôpital Saint-Antoine",
        "finess": "750100125",
        "admission_date": "2026-12-10",
        "stay_type": "ambulatoire",
    },
    "sante.attestation_tiers_payant": {},
    "vie.coordonnees": {"phone": "06 11 22 33 44"},
    "vie.coordonnees_bancaires": {
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "holder_name": "A M",
    },
    "vie.prolongation_droits_enfant": {"situation": "etudiant", "until": "2027-09-30"},
    "vie.situation_familiale": {
        "event": "naissance",
        "event_date": "2026-10-01",
        "new_beneficiary": {
            "first_name": "Zoé",
            "last_name": "Martin",
            "birth_date": "2026-10-01",
            "relationship": "child",
        },
    },
    "vie.autre": {},
    "contact.demande": {"subject": "remboursements", "detail": "decompte"},
}

INVALID = {
    "sante.justificatif": {"care_date": "2026-11-02", "amount": "42.5", "care_type": "pharmacie"},
    "sante.devis": {"care_type": "chirurgie-magique", "amount": "10.00"},
    "sante.prise_en_charge_hospitaliere": {
        "establishment": "X",
        "finess": "12",
        "admission_date": "2026-12-10",
        "stay_type": "ambulatoire",
    },
    "sante.attestation_tiers_payant": {"anything": 1},
    "vie.coordonnees": {"phone": "not a phone"},
    "vie.coordonnees_bancaires": {"holder_name": "A M"},
    "vie.prolongation_droits_enfant": {"situation": "retraite", "until": "2027-09-30"},
    "vie.situation_familiale": {"event": "lune-de-miel", "event_date": "2026-10-01"},
    "vie.autre": {"extra": "field"},
    "contact.demande": {"subject": "remboursements"},
}


def _types(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["type"]: t for c in catalog["categories"] for t in c["types"]}


def test_catalog_lists_every_demarche_by_category_with_french_labels(
    api: Api, alice: SignedIn
) -> None:
    answer = api.get("/catalog", alice)
    assert answer.status == 200
    categories = answer.body["categories"]
    assert [c["code"] for c in categories] == ["sante", "vie_personnelle", "contact"]
    assert [c["label"] for c in categories] == [
        "Santé",
        "Vie personnelle",
        "Échanger avec Génération",
    ]
    for category in categories:
        assert [t["type"] for t in category["types"]] == EXPECTED_TYPES[category["code"]]
    types = _types(answer.body)
    assert (
        types["sante.attestation_tiers_payant"]["label"]
        == "Édition de l’attestation de Tiers-Payant Santé"
    )
    assert (
        types["sante.prise_en_charge_hospitaliere"]["label"]
        == "Demande de prise en charge hospitalière"
    )
    assert types["vie.coordonnees_bancaires"]["service"] == "cotisations"
    assert types["sante.justificatif"]["attachments_required"] is True
    assert types["sante.prise_en_charge_hospitaliere"]["attachments_required"] is False
    assert types["vie.coordonnees"]["attachments_allowed"] is False
    assert types["contact.demande"]["description_required"] is True


# Génération's own description of the Démarches area (the seed) lists the démarches each as
# « L’envoi de justificatif de remboursement »…: the labels are its words without the article,
# with its typographic apostrophes; the family situation's examples are left to the form.
GENERATIONS_WORDS = {
    "sante.justificatif": "Envoi de justificatif de remboursement",
    "sante.devis": "Envoi de devis",
    "sante.prise_en_charge_hospitaliere": "Demande de prise en charge hospitalière",
    "sante.attestation_tiers_payant": "Édition de l’attestation de Tiers-Payant Santé",
    "vie.coordonnees": "Modification de vos coordonnées de contact ou postales",
    "vie.coordonnees_bancaires": "Gestion de vos coordonnées bancaires",
    "vie.prolongation_droits_enfant": "Prolongation des droits de votre (vos) enfant(s) majeur(s)",
    "vie.situation_familiale": "Changement de situation familiale",
    "vie.autre": "Transmission ou obtention d’autres informations",
}


def test_the_demarches_are_labelled_in_generations_own_words(api: Api, alice: SignedIn) -> None:
    types = _types(api.get("/catalog", alice).body)
    assert {code: types[code]["label"] for code in GENERATIONS_WORDS} == GENERATIONS_WORDS


@pytest.mark.parametrize("request_type", sorted(VALID))
def test_published_schema_accepts_valid_and_rejects_invalid_data(
    api: Api, alice: SignedIn, request_type: str
) -> None:
    schema = _types(api.get("/catalog", alice).body)[request_type]["data_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(VALID[request_type], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(INVALID[request_type], schema)


def test_contact_form_has_subjects_each_with_details(api: Api, alice: SignedIn) -> None:
    subjects = api.get("/catalog", alice).body["subjects"]
    assert len(subjects) >= 6
    assert all(s["label"] and s["details"] for s in subjects)
    assert len({s["code"] for s in subjects}) == len(subjects)


def test_catalog_lists_the_partner_specialties(api: Api, alice: SignedIn) -> None:
    specialties = {s["code"]: s["label"] for s in api.get("/catalog", alice).body["specialties"]}
    assert specialties["opticien"] == "Opticien-lunetier"
    assert specialties["chirurgien_dentiste"] == "Chirurgien-dentiste"
    assert "audioprothesiste" in specialties


def test_contact_gives_phone_numbers_with_hours_and_postal_addresses(
    api: Api, bob: SignedIn
) -> None:
    contact = api.get("/contact", bob).body
    assert contact["phones"] and all(p["number"] and p["hours"] for p in contact["phones"])
    assert contact["addresses"] and all(
        a["postal_code"] and a["city"] for a in contact["addresses"]
    )


def test_catalog_needs_a_token(api: Api) -> None:
    assert api.get("/catalog").status == 401


def _descriptions(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["description"]] if isinstance(node.get("description"), str) else []
        return own + [d for value in node.values() for d in _descriptions(value)]
    if isinstance(node, list):
        return [d for value in node for d in _descriptions(value)]
    return []


def test_every_hint_of_the_catalogues_forms_is_in_french(api: Api, alice: SignedIn) -> None:
    """pydantic publishes a model's or an enum's docstring as its schema's description, and the
    portal shows descriptions as hints: « A postal address as a member gives it: a country the
    letters can write. » was the postal address's, in a French form."""
    import re

    english = re.compile(r"\b(the|an|is|are|can|that|which|with|carry|gives?|among)\b")
    schemas = [t["data_schema"] for t in _types(api.get("/catalog", alice).body).values()]
    descriptions = [d for schema in schemas for d in _descriptions(schema)]
    assert len(descriptions) >= 10
    assert [d for d in descriptions if english.search(d)] == []


def test_an_empty_text_is_a_field_left_empty_and_a_short_one_says_how_long(
    api: Api, alice: SignedIn
) -> None:
    """A reply's empty message said « Valeur requise. » where a démarche's empty field said
    « Champ requis. »; a one-letter holder name said the same, though it was not empty."""
    from datetime import date

    from tests.conftest import file_justificatif

    body = {"type": "vie.coordonnees_bancaires", "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": {"iban": "DE89 3704 0044 0532 0130 00", "holder_name": "A"}}  # fmt: skip
    refused = api.post("/requests", alice, body=body)
    assert refused.status == 422
    messages = {f["field"]: f["message"] for f in refused.body["error"]["fields"]}
    assert messages["data.holder_name"] == "Au moins 2 caractères."
    request_id = file_justificatif(api, alice, date.today())
    empty = api.post(f"/requests/{request_id}/replies", alice, body={"message": ""})
    assert empty.status == 422
    assert empty.body["error"]["fields"] == [{"field": "message", "message": "Champ requis."}]
