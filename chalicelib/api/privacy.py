"""What a member may know of their file: `GET /me/access-log`."""

from __future__ import annotations

from chalice.app import Response
from pydantic import Field

from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.queries import AccessLogQuery
from chalicelib.api.route_docs import MEMBERS_ONLY
from chalicelib.api.schemas import Cursor
from chalicelib.domain.access import AccessEntry
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, FieldError
from chalicelib.domain.model import Model
from chalicelib.services import privacy
from chalicelib.settings import get_settings
from chalicelib.store.unit_of_work import unit_of_work

blueprint = ApiBlueprint(__name__)


class AccessLogAnswer(Model):
    entries: list[AccessEntry] = Field(description="Newest first")
    next_cursor: Cursor


@blueprint.route(
    "/me/access-log",
    methods=["GET"],
    tag="member",
    answer=AccessLogAnswer,
    query=AccessLogQuery,
    errors={
        400: "An unknown query parameter, or a forged or foreign cursor.",
        403: MEMBERS_ONLY,
        422: "`limit` malformed.",
    },
)
def access_log() -> Response:
    """Who consulted the member's file.

    Every read of one of the member's requests by a service's agent, and every action an agent
    took on it, newest first: the service and the action, never the agent's name.
    """
    member_id = current_member_id()
    query = AccessLogQuery.from_request(blueprint.current_request)
    start = None
    if query.cursor is not None:
        payload = decode_cursor(query.cursor, get_settings().cursor_secret)
        if payload.get("log") != member_id:
            raise BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
        start = payload["start"]
    records, last = privacy.access_log(unit_of_work(), member_id, query.limit, start)
    next_cursor = (
        encode_cursor({"log": member_id, "start": last}, get_settings().cursor_secret)
        if last
        else None
    )
    entries = [AccessEntry.model_validate(r.model_dump(include=set(AccessEntry.model_fields)))
               for r in records]  # fmt: skip
    answer = AccessLogAnswer(entries=entries, next_cursor=next_cursor)
    return json_response(answer)
