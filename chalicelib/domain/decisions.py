"""An agent's decision: which letter answers it. Data, by request type and outcome."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.domain.requests import Outcome, RequestRecord

_ANSWER_LETTERS: dict[str, dict[Outcome, str]] = {
    "sante.justificatif": {
        Outcome.accepted: "remboursement",
        Outcome.partially_accepted: "remboursement",
        Outcome.refused: "refus_remboursement",
    },
    "sante.prise_en_charge_hospitaliere": {
        Outcome.accepted: "prise_en_charge_hospitaliere",
        Outcome.partially_accepted: "prise_en_charge_hospitaliere",
        Outcome.refused: "refus_prise_en_charge",
    },
}
_TYPE_LETTERS: dict[str, str] = {
    "sante.devis": "reponse_devis",
    "sante.attestation_tiers_payant": "attestation_tiers_payant",
    "vie.coordonnees": "confirmation_modification",
    "vie.coordonnees_bancaires": "confirmation_modification",
    "vie.prolongation_droits_enfant": "confirmation_modification",
    "vie.situation_familiale": "confirmation_modification",
    "vie.autre": "reponse_demande",
    "contact.demande": "reponse_demande",
}


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome
    message: Annotated[str, StringConstraints(max_length=4000)] = Field(
        default="", description="Les mots de l'agent à l'adhérent; requis pour un refus"
    )
    amount: Annotated[str, StringConstraints(pattern=r"^\d{1,7}\.\d{2}$")] | None = Field(
        default=None, description="Montant remboursé ou accordé, en euros"
    )

    @property
    def amount_value(self) -> Decimal | None:
        return Decimal(self.amount) if self.amount is not None else None


def letter_for(record: RequestRecord, outcome: Outcome) -> str:
    if record.complaint:
        return "reponse_reclamation"
    by_outcome = _ANSWER_LETTERS.get(record.type)
    if by_outcome is not None:
        return by_outcome[outcome]
    detail = record.recall.data.get("detail")
    teletransmission = record.type == "contact.demande" and detail == "teletransmission"
    if teletransmission and outcome is not Outcome.partially_accepted:
        return "teletransmission"
    return _TYPE_LETTERS[record.type]
