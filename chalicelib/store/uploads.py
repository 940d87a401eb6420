"""Uploads: presigned POSTs into `uploads/<member>/`, then checked and copied under the request.

The API never carries file bytes. Before a request is written every upload is checked (owner,
unused, present, real size, first bytes); only then are the files copied, and the copies are
removed again if the request cannot be written: a refused request leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from chalicelib import aws
from chalicelib.domain import uploads as rules
from chalicelib.domain.errors import FieldError, ServiceUnavailable, ValidationFailed
from chalicelib.domain.requests import Attachment, iso_z
from chalicelib.settings import get_settings
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, serialize, table

logger = logging.getLogger(__name__)

UPLOAD_RECORD_TTL = timedelta(days=1)  # as long as the bucket keeps `uploads/`


class Upload(BaseModel):
    upload_id: str
    member_id: str
    filename: str
    content_type: str
    declared_size: int
    expires_at: int
    used_by: str | None = None


@dataclass(frozen=True)
class Staged:
    upload: Upload
    size: int
    sha256: str
    etag: str


def s3() -> Any:
    return aws.client("s3")


def bucket() -> str:
    return get_settings().bucket_name


def encryption() -> dict[str, str]:
    """Server-side encryption under the stack's own key, asked for explicitly on every write."""
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": get_settings().kms_key_id}


class UploadRepository:
    def create(self, member_id: str, upload: Upload, now: datetime) -> dict[str, Any]:
        """Store the upload record and answer a presigned POST fixing key, type and size."""
        key = keys.staged_object(member_id, upload.upload_id)
        try:
            form = s3().generate_presigned_post(
                Bucket=bucket(),
                Key=key,
                Fields={"Content-Type": upload.content_type},
                Conditions=[
                    {"Content-Type": upload.content_type},
                    ["content-length-range", 1, upload.declared_size],
                ],
                ExpiresIn=rules.UPLOAD_URL_SECONDS,
            )
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable("Téléversement momentanément indisponible.") from error
        self.record(upload)
        return {
            "upload_id": upload.upload_id,
            "url": form["url"],
            "fields": form["fields"],
            "expires_at": iso_z(now + timedelta(seconds=rules.UPLOAD_URL_SECONDS)),
            "max_size": upload.declared_size,
        }

    def record(self, upload: Upload) -> None:
        item = {**keys.upload_key(upload.member_id, upload.upload_id), "entity": "upload",
                **upload.model_dump()}  # fmt: skip
        dynamodb().put_item(TableName=table(), Item=serialize(item))

    def get_many(self, member_id: str, upload_ids: Sequence[str]) -> dict[str, Upload]:
        """One BatchGetItem; only this member's uploads can be found (the key holds the member)."""
        if not upload_ids:
            return {}
        request = {
            table(): {
                "Keys": [serialize(keys.upload_key(member_id, u)) for u in set(upload_ids)],
                "ConsistentRead": True,
            }
        }
        found: dict[str, Upload] = {}
        for _ in range(5):
            answer = dynamodb().batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table(), []):
                upload = Upload.model_validate(deserialize(item))
                found[upload.upload_id] = upload
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise ServiceUnavailable("Service momentanément surchargé, réessayez.")


def check_uploads(member_id: str, upload_ids: Sequence[str], now: datetime) -> list[Staged]:
    """Every upload this member's, unused, present, within limits and of its declared type."""
    uploads = UploadRepository().get_many(member_id, upload_ids)
    errors: list[FieldError] = []
    staged: list[Staged] = []
    for index, upload_id in enumerate(upload_ids):
        field = f"upload_ids[{index}]"
        upload = uploads.get(upload_id)
        if upload is None or upload.expires_at <= int(now.timestamp()):
            errors.append(FieldError(field, f"Pièce jointe {upload_id} inconnue ou expirée."))
            continue
        if upload.used_by is not None:
            errors.append(FieldError(field, f"Pièce jointe {upload_id} déjà utilisée."))
            continue
        found = _inspect(member_id, upload)
        if isinstance(found, str):
            errors.append(FieldError(field, f"Pièce jointe {upload_id}: {found}"))
        else:
            staged.append(found)
    if sum(s.size for s in staged) > rules.MAX_TOTAL_BYTES:
        errors.append(FieldError("upload_ids", "Les pièces jointes dépassent 15 Mo au total."))
    if errors:
        raise ValidationFailed("Pièces jointes refusées.", errors)
    return staged


def _inspect(member_id: str, upload: Upload) -> Staged | str:
    """Read the staged object once: its real size, its first bytes and its SHA-256."""
    key = keys.staged_object(member_id, upload.upload_id)
    try:
        answer = s3().get_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
            return "fichier non reçu (téléversement absent)."
        raise ServiceUnavailable("Stockage des fichiers momentanément indisponible.") from error
    except BotoCoreError as error:
        raise ServiceUnavailable("Stockage des fichiers momentanément indisponible.") from error
    size = int(answer["ContentLength"])
    if size > min(upload.declared_size, rules.MAX_FILE_BYTES):
        answer["Body"].close()
        return "fichier trop volumineux (5 Mo au plus, et pas plus que la taille annoncée)."
    digest = hashlib.sha256()
    head = b""
    for chunk in answer["Body"].iter_chunks(chunk_size=256 * 1024):
        if len(head) < rules.SIGNATURE_BYTES:
            head += chunk[: rules.SIGNATURE_BYTES - len(head)]
        digest.update(chunk)
    if not rules.matches_signature(upload.content_type, head):
        return f"le contenu ne correspond pas au type déclaré ({upload.content_type})."
    return Staged(upload, size, digest.hexdigest(), str(answer["ETag"]))


def copy_to_request(
    member_id: str, month: str, request_id: str, staged: Sequence[Staged]
) -> list[Attachment]:
    """Copy checked uploads under the request, encrypted; all or nothing."""
    copied: list[str] = []
    attachments: list[Attachment] = []
    try:
        for item in staged:
            destination = keys.attachment_object(
                member_id, month, request_id, item.upload.upload_id
            )
            s3().copy_object(
                Bucket=bucket(),
                Key=destination,
                CopySource={
                    "Bucket": bucket(),
                    "Key": keys.staged_object(member_id, item.upload.upload_id),
                },
                CopySourceIfMatch=item.etag,  # the very bytes we checked
                **encryption(),
                MetadataDirective="REPLACE",
                ContentType=item.upload.content_type,
            )
            copied.append(destination)
            attachments.append(
                Attachment(
                    attachment_id=item.upload.upload_id,
                    filename=item.upload.filename,
                    content_type=item.upload.content_type,
                    size=item.size,
                    sha256=item.sha256,
                )
            )
    except (ClientError, BotoCoreError) as error:
        delete_objects(copied)
        raise ServiceUnavailable("Stockage des fichiers momentanément indisponible.") from error
    return attachments


def delete_objects(object_keys: Sequence[str]) -> None:
    """Best effort: what is left is expired by the bucket's lifecycle or found by the log."""
    if not object_keys:
        return
    try:
        s3().delete_objects(
            Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in object_keys], "Quiet": True}
        )
    except (ClientError, BotoCoreError) as error:
        logger.error("could not delete %d objects: %s", len(object_keys), type(error).__name__)


def presigned_download(key: str, filename: str, content_type: str, now: datetime) -> dict[str, str]:
    try:
        url = s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket(),
                "Key": key,
                "ResponseContentDisposition": rules.content_disposition(filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=rules.DOWNLOAD_URL_SECONDS,
        )
    except (ClientError, BotoCoreError) as error:
        raise ServiceUnavailable("Téléchargement momentanément indisponible.") from error
    return {
        "url": str(url),
        "expires_at": iso_z(now + timedelta(seconds=rules.DOWNLOAD_URL_SECONDS)),
    }
