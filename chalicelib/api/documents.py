""" "Mes courriers et documents": the member's letters, filtered on the last N months."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.queries import DocumentsQuery
from chalicelib.api.route_docs import MEMBERS_ONLY
from chalicelib.api.schemas import DocumentList, DownloadLink
from chalicelib.domain import clock
from chalicelib.services import following
from chalicelib.store.unit_of_work import unit_of_work

blueprint = ApiBlueprint(__name__)


@blueprint.route(
    "/documents",
    methods=["GET"],
    tag="documents",
    answer=DocumentList,
    query=DocumentsQuery,
    errors={
        400: "An unknown query parameter.",
        403: MEMBERS_ONLY,
        422: "`months` is not one of the allowed windows.",
    },
)
def list_documents() -> Response:
    """The member's letters and documents, newest first.

    The documents of the last `months` months, as « Mes courriers et documents » lists them.
    """
    member_id = current_member_id()
    months = DocumentsQuery.from_request(blueprint.current_request).months
    documents = following.documents(unit_of_work(), member_id, months, clock.now())
    return json_response(DocumentList(documents=documents))


@blueprint.route(
    "/documents/{document_id}/download",
    methods=["GET"],
    tag="documents",
    answer=DownloadLink,
    errors={403: MEMBERS_ONLY, 404: "No such document for this member."},
)
def download_document(document_id: str) -> Response:
    """Download a document (PDF).

    A presigned GET of the PDF, valid a few minutes, saved as `<title>-<date>.pdf`.
    """
    link = following.document_link(unit_of_work(), current_member_id(), document_id, clock.now())
    return json_response(DownloadLink.model_validate(link))
