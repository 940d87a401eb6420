"""`POST /uploads`: a presigned POST for one file, straight from the browser to S3."""

from __future__ import annotations

from typing import Annotated

from chalice.app import Response
from pydantic import Field, WithJsonSchema

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.route_docs import MAX_BODY_KB, MAX_FILE_MB, MEMBERS_ONLY, UNUSED_UPLOADS_MAX
from chalicelib.api.schemas import UploadTicket
from chalicelib.domain import clock
from chalicelib.domain import uploads as rules
from chalicelib.domain.model import JsonInt
from chalicelib.services import filing
from chalicelib.store.unit_of_work import unit_of_work

blueprint = ApiBlueprint(__name__)


# The body, validated as the domain's, with a schema that also says what the route then accepts:
# another type answers 415, a larger size 413 (`services.filing`), rather than 422.
class UploadRequest(rules.UploadRequest):
    content_type: Annotated[
        str,
        Field(min_length=1, max_length=100),
        WithJsonSchema({"type": "string", "enum": list(rules.SIGNATURES)}),
    ]
    size: Annotated[
        JsonInt,
        Field(gt=0, description="Taille en octets, 5 Mo au plus"),
        WithJsonSchema({"type": "integer", "exclusiveMinimum": 0, "maximum": rules.MAX_FILE_BYTES}),
    ]


@blueprint.route(
    "/uploads",
    methods=["POST"],
    tag="uploads",
    answer=UploadTicket,
    status=201,
    answer_description="The presigned POST.",
    body=UploadRequest,
    examples={"pdf": {"filename": "facture.pdf", "content_type": "application/pdf", "size": 48213}},
    errors={
        403: MEMBERS_ONLY,
        413: f"The declared size is above {MAX_FILE_MB} MB, or the body above {MAX_BODY_KB} KB.",
        415: "`content_type` is not PDF, JPEG, PNG or GIF, or the body is not JSON.",
        422: "A field breaks its schema (e.g. a size of 0, an empty file name).",
        429: f"The member has {UNUSED_UPLOADS_MAX} uploads neither used nor expired: "
        "`Retry-After` is when the oldest one expires.",
    },
)
def create_upload() -> Response:
    """Get a presigned POST to upload one file.

    Declares a file and answers a presigned S3 POST whose policy fixes the object key, the
    content type and the size range: the browser sends `fields` then the file, as
    multipart/form-data, to `url` before `expires_at`. PDF, JPEG, PNG and GIF only; 5 MB at
    most. The file's first bytes are checked against its type when the upload is used by
    `POST /requests`. `filename` is only shown back, cleaned (no path, no control characters); a
    name that cleaning empties is shown as a neutral one (`document.pdf`), and one whose
    extension is not of `content_type` gets the type's (`releve.html` is `releve.html.pdf`):
    the file is downloaded under that name.
    """
    wanted = body.validated(UploadRequest, body.json_body(blueprint.current_request))
    ticket = filing.create_upload(unit_of_work(), current_member_id(), wanted, clock.now())
    return json_response(UploadTicket.model_validate(ticket), 201)
