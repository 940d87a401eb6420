"""Domain events: what happened to a request, as service teams read it on the bus.

Identifiers and codes only: never a name, an address, an IBAN, an amount or free text. Each
event is recorded with the change it describes, in the same write (the request's outbox), and
put on the EventBridge bus by the dispatcher or, when that fails, by the sweeper: at least once,
so consumers dedupe on `event_id`. `docs/asyncapi.json` is generated from these models.
"""

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field
from ulid import ULID

from chalicelib.domain import clock
from chalicelib.domain.model import Model
from chalicelib.domain.states import Outcome, Status

SOURCE = "generation.demarches"

Ulid = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="A ULID")]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class EventDetail(Model):
    """What every event says: which request, of which member, where it stands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: ClassVar[str] = ""

    event_id: Ulid = Field(description="Unique: consumers dedupe on it")
    occurred_at: Timestamp = Field(description="When the change happened (UTC)")
    member_id: str = Field(description="The member's id (an identifier, not a name)")
    request_id: Ulid
    type: str = Field(description="The request's type code (`GET /catalog`)")
    service: str = Field(description="The service that has the request")
    status: Status = Field(description="The request's status after the change")
    complaint: bool

    @classmethod
    def detail_type(cls) -> str:
        return cls.__name__

    @classmethod
    def of(cls, request: Any, at: datetime, **added: Any) -> "EventDetail":
        """The event of this change to `request` (a request record, as the change left it)."""
        return cls(
            event_id=str(ULID.from_datetime(at)),
            occurred_at=clock.iso_z(at),
            member_id=request.member_id,
            request_id=request.request_id,
            type=request.type,
            service=request.service,
            status=request.status,
            complaint=request.complaint,
            **added,
        )

    def entry(self) -> dict[str, Any]:
        """As kept in the outbox until it is on the bus."""
        return {"detail_type": self.detail_type(), "detail": self.model_dump(mode="json")}


class RequestFiled(EventDetail):
    summary = "A member filed a request."


class RequestRouted(EventDetail):
    summary = "The router handed a request to its service."


class InformationRequested(EventDetail):
    summary = "A service asked the member for a document or an answer."

    respond_before: Timestamp = Field(description="The member answers before this moment")


class MemberReplied(EventDetail):
    summary = "The member answered on a request."

    message_id: Ulid


class RequestWithdrawn(EventDetail):
    summary = "The member withdrew a request."


class RequestReclassified(EventDetail):
    summary = "An agent handed a request on to another service (or made it a complaint)."

    previous_service: str


class RequestDecided(EventDetail):
    summary = "A request was decided: it is processed."

    outcome: Outcome


class LetterIssued(EventDetail):
    summary = "A letter (PDF) joined the member's documents."

    document_id: Ulid
    kind: str = Field(description="The letter's kind")
    postal_dispatch: bool = Field(description="To be printed and posted (not paperless)")


class ComplaintDeadlineAtRisk(EventDetail):
    summary = "A complaint's acknowledgement or answer is due within 5 jours ouvrables."

    due_at: Timestamp


EVENTS: tuple[type[EventDetail], ...] = (
    RequestFiled,
    RequestRouted,
    InformationRequested,
    MemberReplied,
    RequestWithdrawn,
    RequestReclassified,
    RequestDecided,
    LetterIssued,
    ComplaintDeadlineAtRisk,
)
EVENTS_BY_NAME: dict[str, type[EventDetail]] = {e.detail_type(): e for e in EVENTS}
