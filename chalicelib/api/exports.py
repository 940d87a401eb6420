"""A member's export of their data: `POST /me/exports`, `GET /me/exports/{export_id}`."""

from __future__ import annotations

from chalice.app import Response
from pydantic import ConfigDict

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, error_response, json_response
from chalicelib.api.route_docs import EXPORTS_PER_DAY, MEMBERS_ONLY
from chalicelib.domain import clock
from chalicelib.domain.errors import ExportBuilding
from chalicelib.domain.exports import ExportAnswer
from chalicelib.domain.model import Model
from chalicelib.services import exporting
from chalicelib.store.unit_of_work import unit_of_work

blueprint = ApiBlueprint(__name__)


class NewExport(Model):
    """`POST /me/exports`: nothing to choose, `{}` or no body."""

    model_config = ConfigDict(extra="forbid")


@blueprint.route(
    "/me/exports",
    methods=["POST"],
    tag="member",
    answer=ExportAnswer,
    status=202,
    answer_description="Accepted: the export is building (`Location` is where to follow it).",
    answer_headers=("Location",),
    body=NewExport,
    body_required=False,
    errors={
        400: "Malformed JSON, not an object, or an unknown field.",
        403: MEMBERS_ONLY,
        409: "One of the member's exports is still building: one at a time. `Location` names "
        "that export, to follow it instead.",
        429: f"The member asked for {EXPORTS_PER_DAY} exports today (Paris time): `Retry-After` "
        "is midnight. An export that could not be queued (503) is not counted.",
        503: "The export could not be queued: nothing was started, retry.",
    },
    error_headers={409: {"Location": "The export building, relative to the API root: follow it."}},
)
def start_export() -> Response:
    """Export all the member's data.

    Builds, in the background, one zip of everything Génération holds on the member in
    « Démarches »: `profile.json`, `beneficiaries.json`, `requests.json` (every request with
    its history, messages and what was filed, IBANs masked), the letters' PDFs, the
    attachments still held and a `README.txt` in French saying what each file is. Follow it
    with `GET /me/exports/{export_id}`: once `ready`, its link lives 24 hours; the zip is
    deleted after 7 days. One export at a time: 409 while one is building, its `Location`
    the export building, to follow as this answer's would be. A few a day (each reads and
    copies every file the member has): beyond, 429 until midnight, Paris time.
    """
    body.validated(NewExport, body.json_body_or_empty(blueprint.current_request))
    try:
        answer = exporting.start_export(unit_of_work(), current_member_id(), clock.now())
    except ExportBuilding as building:
        return error_response(building, {"Location": _location(building.export_id)})
    return json_response(answer, 202, {"Location": _location(answer.export_id)})


def _location(export_id: str) -> str:
    """Where an export is followed, relative to the API root."""
    return f"/me/exports/{export_id}"


@blueprint.route(
    "/me/exports/{export_id}",
    methods=["GET"],
    tag="member",
    answer=ExportAnswer,
    errors={403: MEMBERS_ONLY, 404: "No such export for this member (or gone after 7 days)."},
)
def export_status(export_id: str) -> Response:
    """An export of the member's data.

    `building`, then `ready` with `url` (a presigned GET of the zip, made afresh at each call,
    valid a few minutes) until `expires_at`, 24 hours after it was ready; then `expired`. An
    export whose build never finished is `expired` too: ask for another.
    """
    answer = exporting.export_status(unit_of_work(), current_member_id(), export_id, clock.now())
    return json_response(answer)
