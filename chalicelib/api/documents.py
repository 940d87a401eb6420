""" "Mes courriers et documents": the member's letters, filtered on the last N months."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Response

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.schemas import DocumentList, DownloadLink
from chalicelib.domain import documents as rules
from chalicelib.domain.demarches import PARIS
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.store.documents import PDF, DocumentRepository
from chalicelib.store.uploads import presigned_download

blueprint = ApiBlueprint(__name__)


@blueprint.route("/documents", methods=["GET"])
def list_documents() -> Response:
    member_id = current_member_id()
    params = body.query(blueprint.current_request, {"months"})
    raw = params.get("months", str(rules.DEFAULT_WINDOW))
    months = body.ascii_int(raw)
    if months is None or months not in rules.ALLOWED_WINDOWS:
        raise ValidationFailed(
            "Période invalide.", [FieldError("months", "1, 3, 6, 12 ou 24 mois.")]
        )
    today = datetime.now(UTC).astimezone(PARIS).date()
    cutoff = rules.window_start(today, months).isoformat()
    documents = DocumentRepository().since(member_id, cutoff)
    return json_response(DocumentList(documents=documents).model_dump(mode="json"))


@blueprint.route("/documents/{document_id}/download", methods=["GET"])
def download_document(document_id: str) -> Response:
    repository = DocumentRepository()
    record = repository.get(current_member_id(), document_id)
    link = presigned_download(
        repository.object_key(record),
        rules.pdf_filename(record.title, record.created_at),
        PDF,
        datetime.now(UTC),
    )
    return json_response(DownloadLink.model_validate(link).model_dump(mode="json"))
