"""S3, in one place: presigned POSTs and GETs, reading what a member sent, copies and writes
encrypted under the stack's key, and deletions.

The API never carries file bytes: a browser posts an upload straight to the bucket, and a
download is a presigned GET valid a few minutes. A file's name (a member's own file name, a
letter's title) is written on the object, as its `Content-Disposition`, never in a URL: S3's
access logs keep every URL, with the member id of the key, for a year.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.domain import clock
from chalicelib.domain import uploads as rules
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.settings import get_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inspected:
    """A staged object as read once: its real size, its first bytes, its digest and ETag."""

    size: int
    head: bytes
    sha256: str
    etag: str


def s3() -> Any:
    return aws.client("s3")


def bucket() -> str:
    return get_settings().bucket_name


def encryption() -> dict[str, str]:
    """Server-side encryption under the stack's own key, asked for explicitly on every write."""
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": get_settings().kms_key_id}


def _unavailable(what: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"{what} momentanément indisponible.")


class FileStore:
    def presigned_post(
        self, key: str, content_type: str, max_size: int, seconds: int
    ) -> dict[str, Any]:
        """A form that uploads exactly one object at `key`, of this type, of 1 to max_size
        bytes: the policy fixes all three."""
        try:
            form: dict[str, Any] = s3().generate_presigned_post(
                Bucket=bucket(),
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_size]],
                ExpiresIn=seconds,
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("Téléversement") from error
        return form

    def inspect(self, key: str, max_size: int) -> Inspected | None:
        """Read the object once; None when it is absent. Past `max_size` it is not read: its
        size alone answers."""
        try:
            answer = s3().get_object(Bucket=bucket(), Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
                return None
            raise _unavailable("Stockage des fichiers") from error
        except BotoCoreError as error:
            raise _unavailable("Stockage des fichiers") from error
        size = int(answer["ContentLength"])
        etag = str(answer["ETag"])
        if size > max_size:
            answer["Body"].close()
            return Inspected(size, b"", "", etag)
        digest = hashlib.sha256()
        head = b""
        for chunk in answer["Body"].iter_chunks(chunk_size=256 * 1024):
            if len(head) < rules.SIGNATURE_BYTES:
                head += chunk[: rules.SIGNATURE_BYTES - len(head)]
            digest.update(chunk)
        return Inspected(size, head, digest.hexdigest(), etag)

    def keys_under(self, prefix: str) -> set[str]:
        """The keys of the objects under `prefix`, every page read."""
        found: set[str] = set()
        try:
            for page in (
                s3().get_paginator("list_objects_v2").paginate(Bucket=bucket(), Prefix=prefix)
            ):
                found.update(str(o["Key"]) for o in page.get("Contents", []))
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("Stockage des fichiers") from error
        return found

    def copy(
        self, source: str, destination: str, etag: str, content_type: str, download_name: str
    ) -> None:
        """Copy the very bytes that were checked (`etag`), encrypted, saved by a browser as
        `download_name`."""
        try:
            s3().copy_object(
                Bucket=bucket(),
                Key=destination,
                CopySource={"Bucket": bucket(), "Key": source},
                CopySourceIfMatch=etag,
                **encryption(),
                MetadataDirective="REPLACE",
                ContentType=content_type,
                ContentDisposition=rules.content_disposition(download_name),
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("Stockage des fichiers") from error

    def put(
        self,
        key: str,
        body: bytes,
        content_type: str,
        download_name: str | None = None,
        **condition: str,
    ) -> None:
        """Write an object, encrypted; with `download_name`, the name a browser saves it as."""
        named = (
            {}
            if download_name is None
            else {"ContentDisposition": rules.content_disposition(download_name)}
        )
        s3().put_object(Bucket=bucket(), Key=key, Body=body, ContentType=content_type,
                        **named, **condition, **encryption())  # fmt: skip

    def create(self, key: str, body: bytes, content_type: str, download_name: str) -> bytes:
        """Write the object only if the key holds none (`If-None-Match: *`, which looks at the
        current version), and answer the bytes it then holds: ours, or those of the write that
        came first, read back. Two writes of one key (an owed letter's id is fixed) thus leave
        the first's bytes, which both describe. S3 answers 409 to a write racing another on the
        same key: raised, the key's bytes unknown yet; the caller's retry reads them."""
        try:
            self.put(key, body, content_type, download_name, IfNoneMatch="*")
        except ClientError as error:
            if error.response["Error"]["Code"] != "PreconditionFailed":
                raise
            return self.read(key)
        return body

    def read(self, key: str) -> bytes:
        return bytes(s3().get_object(Bucket=bucket(), Key=key)["Body"].read())

    def delete(self, keys: Sequence[str]) -> None:
        """Best effort: what is left is expired by the bucket's lifecycle or found by the log."""
        if not keys:
            return
        try:
            s3().delete_objects(
                Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )
        except (ClientError, BotoCoreError) as error:
            logger.error("could not delete %d objects: %s", len(keys), type(error).__name__)

    def purge(self, prefixes: Sequence[str]) -> int:
        """Delete every object under each prefix for good: each version and delete marker (a
        plain delete of a versioned object would keep its bytes 30 more days). Raises if S3
        refuses one: what is due is retried by the next run. Returns how many versions went."""
        deleted = 0
        pages = s3().get_paginator("list_object_versions")
        for prefix in prefixes:
            for page in pages.paginate(Bucket=bucket(), Prefix=prefix):
                versions = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
                ]
                if not versions:
                    continue
                answer = s3().delete_objects(
                    Bucket=bucket(), Delete={"Objects": versions, "Quiet": True}
                )
                if answer.get("Errors"):
                    codes = sorted({e.get("Code", "?") for e in answer["Errors"]})
                    raise _unavailable(f"Suppression ({', '.join(codes)})")
                deleted += len(versions)
        return deleted

    def presigned_download(self, key: str, content_type: str, now: datetime) -> dict[str, str]:
        """A GET of the object, which names itself (`Content-Disposition`, set when written):
        the URL holds ids only."""
        try:
            url = s3().generate_presigned_url(
                "get_object",
                Params={"Bucket": bucket(), "Key": key, "ResponseContentType": content_type},
                ExpiresIn=rules.DOWNLOAD_URL_SECONDS,
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("Téléchargement") from error
        return {
            "url": str(url),
            "expires_at": clock.iso_z(now + timedelta(seconds=rules.DOWNLOAD_URL_SECONDS)),
        }
