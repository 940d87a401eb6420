"""Answer models of the routes whose data has no model of its own in `domain/`.

Each route builds its answer through its model, and `api/openapi.py` publishes the same model:
the answer and the document cannot drift apart.
"""

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from chalicelib.domain.catalog import Service
from chalicelib.domain.documents import DocumentSummary
from chalicelib.domain.members import Relationship
from chalicelib.domain.model import Model
from chalicelib.domain.requests import (
    AgentHistoryEntry,
    AgentMessage,
    Attachment,
    DocumentRef,
    Outcome,
    RequestDetail,
    RequestSummary,
    Timestamp,
)
from chalicelib.domain.states import Status

Cursor = Annotated[
    str | None,
    Field(description="Opaque cursor of the next page, null on the last page"),
]


# -- errors -------------------------------------------------------------------------------------


class ErrorField(Model):
    field: str = Field(
        description="Where the error is: a body path (`data.amount`, `upload_ids[0]`), a query "
        "parameter or a header name",
        examples=["data.amount"],
    )
    message: str = Field(description="What is wrong, in French, fit to show the member")


class ErrorDetail(Model):
    code: str = Field(description="Stable, machine-readable code; one per HTTP status")
    message: str = Field(description="What happened, in French, fit to show the member")
    fields: list[ErrorField] = Field(description="The fields at fault; may be empty")


class ErrorAnswer(Model):
    """Every error answer of the API."""

    error: ErrorDetail


# -- reference data -----------------------------------------------------------------------------


class AgeRange(Model):
    min: int = Field(description="The youngest age, in whole years")
    max: int = Field(description="The oldest age, in whole years (the day before the next)")


class CatalogType(Model):
    type: str = Field(description="Request type code, the `type` of `POST /requests`")
    label: str
    service: Service = Field(description="The service that handles this type")
    data_schema: dict[str, Any] = Field(
        description="JSON Schema (2020-12) of this type's `data` in `POST /requests`"
    )
    attachments_required: bool
    attachments_allowed: bool
    description_required: bool
    beneficiary_ages: AgeRange | None = Field(
        description="The ages of the beneficiaries this type may concern, null if any"
    )
    beneficiary_relationships: list[Relationship] | None = Field(
        description="The bonds to the member of the beneficiaries this type may concern "
        "(`relationship` in `GET /me/beneficiaries`), null if any"
    )


class CatalogCategory(Model):
    code: str = Field(examples=["sante"])
    label: str
    types: list[CatalogType]


class Choice(Model):
    code: str
    label: str


class Subject(Model):
    code: str = Field(description="The `data.subject` of a `contact.demande`")
    label: str
    details: list[Choice] = Field(description="The `data.detail` codes this subject admits")


class StatusShown(Model):
    code: Status
    label: str = Field(description="As the member reads it, in French")
    icon: str = Field(description="The portal's icon: `sablier`, `action`, `coche`, `retire`")
    color: str = Field(description="`orange`, `green` or `grey`")


class CatalogAnswer(Model):
    categories: list[CatalogCategory]
    subjects: list[Subject] = Field(description="The contact form's two drop-downs")
    specialties: list[Choice] = Field(
        description="Partner specialties, the `specialty` of `GET /professionals`"
    )
    services: list[Choice] = Field(
        description="Génération's services, as the access log (`GET /me/access-log`) names them"
    )
    statuses: list[StatusShown] = Field(
        description="Each state of a request, with its label and icon (see « Dialogue »)"
    )


class PhoneLine(Model):
    label: str
    number: str
    note: str
    hours: str = Field(description="Opening hours, in French")


class MailingAddress(Model):
    label: str
    lines: list[str]
    postal_code: str
    city: str
    country: str = Field(description="ISO 3166-1 alpha-2")


class Mediator(Model):
    label: str
    name: str
    address: str
    website: str


class ContactAnswer(Model):
    phones: list[PhoneLine]
    addresses: list[MailingAddress]
    mediator: Mediator = Field(description="The consumer mediator, last step of an appeal")


# -- files --------------------------------------------------------------------------------------


class UploadTicket(Model):
    """A presigned S3 POST: send `fields` then the file (last) as multipart/form-data to `url`."""

    upload_id: str = Field(description="ULID; pass it in `upload_ids` of `POST /requests`")
    url: str = Field(description="Where the browser POSTs the form")
    fields: dict[str, str] = Field(description="Form fields to send as they are, before the file")
    expires_at: Timestamp = Field(description="The form is refused after this moment")
    max_size: int = Field(description="Largest accepted file, in bytes: the declared size")


class DownloadLink(Model):
    """A presigned GET, valid a few minutes; the file comes as an attachment."""

    url: str
    expires_at: Timestamp


# -- requests -----------------------------------------------------------------------------------


class TimelineMonth(Model):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])
    requests: list[RequestSummary] = Field(description="Newest first")


class Timeline(Model):
    months: list[TimelineMonth] = Field(description="Newest first; a page holds whole months")
    next_cursor: Cursor


class DocumentList(Model):
    documents: list[DocumentSummary] = Field(description="Newest first")


# -- back office --------------------------------------------------------------------------------


class WorkItem(RequestSummary):
    member_id: str
    service: str
    complaint: bool
    due_at: Timestamp | None = Field(description="When an answer is owed, null if none")
    outcome: Outcome | None
    needs_attention: bool = Field(
        description="Its service's handler gave up on it: an agent must take it over"
    )
    unanswered: bool = Field(
        default=False, description="The member let the service's question go unanswered"
    )
    acknowledgement_due_at: Timestamp | None = Field(
        default=None, description="When a complaint's acknowledgement is owed, null if none"
    )
    deadline_at_risk: Timestamp | None = Field(
        default=None,
        description="An open complaint's deadline (its acknowledgement while not sent, else its "
        "answer) overdue or due within 5 jours ouvrables: why it heads the list; null otherwise",
    )


class WorkList(Model):
    requests: list[WorkItem] = Field(description="Oldest first, urgent ones before the others")
    next_cursor: Cursor


class AgentAttachment(Attachment):
    download: DownloadLink


class AgentRequestView(RequestDetail):
    """A request's detail as an agent sees it: whose it is, its attachments downloadable."""

    member_id: str
    acknowledgement_due_at: Timestamp | None = Field(
        description="When a complaint's acknowledgement is owed, null if none"
    )
    attachments: list[AgentAttachment]  # type: ignore[assignment]  # each with its download
    history: Sequence[AgentHistoryEntry] = Field(description="Who acted: the agent's id too")
    messages: Sequence[AgentMessage] = Field(default_factory=list)
    needs_attention: bool = False
    unanswered: bool = False
    deadline_at_risk: Timestamp | None = Field(
        default=None,
        description="An open complaint's deadline (its acknowledgement while not sent, else its "
        "answer) overdue or due within 5 jours ouvrables; null otherwise",
    )
    related_request: str | None = Field(
        default=None,
        description="The back-office path of the request a complaint contests, if any: "
        "through the complaint (`?complaint=`), which the complaint's service may read",
    )


class DecisionAnswer(AgentRequestView):
    letter: DocumentRef = Field(
        description="The letter the decision owes the member: in their documents once rendered by "
        "the service, a moment later"
    )
