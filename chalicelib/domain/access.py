"""Who consulted a member's file: every back-office read of a request and every agent action is
recorded before it is answered (no record, no answer). The member sees the service, never the
agent; the record keeps the agent's id and the call's correlation id for the controllers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from chalicelib.domain.model import Model


class Action(StrEnum):
    consulted = "consulted"  # a request's detail, with its attachments' links
    asked = "asked"  # an information request
    reclassified = "reclassified"
    decided = "decided"


ACTION_LABELS: dict[Action, str] = {
    Action.consulted: "Consultation de votre demande",
    Action.asked: "Demande de pièces complémentaires",
    Action.reclassified: "Réorientation de votre demande",
    Action.decided: "Décision sur votre demande",
}

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class AccessEntry(Model):
    """One line of `GET /me/access-log`."""

    at: Timestamp
    service: str = Field(description="The service whose agent acted (never the agent)")
    action: Action
    label: str = Field(description="The action, as the member reads it")
    request_id: str


class AccessRecord(AccessEntry):
    """As stored: who exactly, and which call."""

    agent_id: str
    correlation_id: str | None = None
