"""Where a request stands, how it was decided, and who acted. Imports nothing: every layer
reads these.

A request moves `in_progress` → `waiting_for_member` (its service asked) → `in_progress` (the
member answered) → `processed`, or to `withdrawn` from any state before `processed`; never
backwards. Each move is a conditional write (`store/requests.Transitions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    in_progress = "in_progress"
    waiting_for_member = "waiting_for_member"
    processed = "processed"
    withdrawn = "withdrawn"


OPEN_STATUSES = frozenset({Status.in_progress, Status.waiting_for_member})
CLOSED_STATUSES = frozenset({Status.processed, Status.withdrawn})


class Outcome(StrEnum):
    accepted = "accepted"
    refused = "refused"
    partially_accepted = "partially_accepted"


class Actor(StrEnum):
    """Who acted, as the member reads it: never which agent (the back office sees that)."""

    member = "member"
    service = "service"
    system = "system"


@dataclass(frozen=True)
class StatusDisplay:
    label: str
    icon: str  # the portal's icon names (seed: "sablier", "action", "coche", "retire")
    color: str


# What `GET /catalog` publishes, so that front ends never hard-code a state's words or icon.
STATUS_DISPLAY: dict[Status, StatusDisplay] = {
    Status.in_progress: StatusDisplay("En cours de traitement", "sablier", "orange"),
    Status.waiting_for_member: StatusDisplay("En attente de votre réponse", "action", "orange"),
    Status.processed: StatusDisplay("Traitée", "coche", "green"),
    Status.withdrawn: StatusDisplay("Retirée", "retire", "grey"),
}

# The label the timeline's history shows when an agent's decision makes a request processed.
DECIDED_LABELS: dict[Outcome, str] = {
    Outcome.accepted: "Demande acceptée",
    Outcome.partially_accepted: "Demande acceptée en partie",
    Outcome.refused: "Demande refusée",
}
