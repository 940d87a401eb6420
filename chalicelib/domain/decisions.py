"""An agent's decision, as the back office sends it. Which letter answers it is the type's
(`catalog.Handling.letters`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.domain.model import Model
from chalicelib.domain.states import Outcome
from chalicelib.domain.text import NOT_BLANK


class Decision(Model):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        # What `services.decisions.decide` asks of the outcome: a refusal, even partial, says
        # why; a refusal pays nothing (`amount` is what is paid or granted).
        json_schema_extra={
            "allOf": [
                {
                    "anyOf": [
                        {"properties": {"outcome": {"const": Outcome.accepted.value}}},
                        {
                            "properties": {"message": {"minLength": 1, "pattern": NOT_BLANK}},
                            "required": ["message"],
                        },
                    ]
                },
                {
                    "anyOf": [
                        {"properties": {"outcome": {"not": {"const": Outcome.refused.value}}}},
                        {"properties": {"amount": {"type": "null"}}},
                    ]
                },
            ]
        },
    )

    outcome: Outcome
    message: Annotated[str, StringConstraints(max_length=4000)] = Field(
        default="", description="Les mots de l'agent à l'adhérent; requis pour un refus"
    )
    amount: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,7}\.[0-9]{2}$")] | None = Field(
        default=None, description="Montant remboursé ou accordé, en euros; aucun sur un refus"
    )

    @property
    def amount_value(self) -> Decimal | None:
        return Decimal(self.amount) if self.amount is not None else None
