"""How to reach Génération ("Nous appeler", "Nous écrire")."""

from __future__ import annotations

from typing import Any

CONTACT: dict[str, Any] = {
    "phones": [
        {
            "label": "Service adhérents",
            "number": "09 69 39 40 50",
            "note": "Appel non surtaxé",
            "hours": "Du lundi au vendredi, de 8 h 30 à 18 h",
        },
        {
            "label": "Assistance hospitalisation",
            "number": "09 69 39 40 51",
            "note": "Appel non surtaxé",
            "hours": "Du lundi au vendredi, de 9 h à 17 h",
        },
        {
            "label": "Depuis l'étranger",
            "number": "+33 1 76 40 50 50",
            "note": "Tarif de votre opérateur",
            "hours": "Du lundi au vendredi, de 8 h 30 à 18 h (heure de Paris)",
        },
    ],
    "addresses": [
        {
            "label": "Demandes et documents",
            "lines": ["Génération", "Service Adhérents", "TSA 60001"],
            "postal_code": "92099",
            "city": "La Défense Cedex",
            "country": "FR",
        },
        {
            "label": "Réclamations",
            "lines": ["Génération", "Service Réclamations", "TSA 60002"],
            "postal_code": "92099",
            "city": "La Défense Cedex",
            "country": "FR",
        },
    ],
    "mediator": {
        "label": "Médiateur de la consommation",
        "name": "Médiation de la Mutualité Française",
        "address": "255 rue de Vaugirard, 75719 Paris Cedex 15",
        "website": "https://www.mediateur-mutualite.fr",
    },
}
