"""`POST /uploads`: a presigned POST for one file, straight from the browser to S3."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Response
from ulid import ULID

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.schemas import UploadTicket
from chalicelib.domain import uploads as rules
from chalicelib.domain.errors import (
    FieldError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.store.uploads import UPLOAD_RECORD_TTL, Upload, UploadRepository

blueprint = ApiBlueprint(__name__)


@blueprint.route("/uploads", methods=["POST"])
def create_upload() -> Response:
    member_id = current_member_id()
    wanted = body.validated(rules.UploadRequest, body.json_body(blueprint.current_request))
    if wanted.content_type not in rules.SIGNATURES:
        raise UnsupportedMediaType(
            "Formats acceptés: PDF, JPEG, PNG, GIF.",
            [FieldError("content_type", "Format non accepté.")],
        )
    if wanted.size > rules.MAX_FILE_BYTES:
        raise PayloadTooLarge(
            "Un fichier ne peut dépasser 5 Mo.", [FieldError("size", "5 Mo au plus.")]
        )
    filename = rules.clean_filename(wanted.filename)
    if not filename:
        raise ValidationFailed("Nom de fichier invalide.", [FieldError("filename", "Invalide.")])
    now = datetime.now(UTC)
    upload = Upload(
        upload_id=str(ULID.from_datetime(now)),
        member_id=member_id,
        filename=filename,
        content_type=wanted.content_type,
        declared_size=wanted.size,
        expires_at=int((now + UPLOAD_RECORD_TTL).timestamp()),
    )
    ticket = UploadTicket.model_validate(UploadRepository().create(member_id, upload, now))
    return json_response(ticket.model_dump(mode="json"), 201)
