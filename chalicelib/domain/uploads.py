"""Attachments: which files a member may send, and how we know a file is what it says."""

import re
import unicodedata

from pydantic import ConfigDict, Field

from chalicelib.domain.model import JsonInt, Model

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 15 * 1024 * 1024
UPLOAD_URL_SECONDS = 15 * 60
DOWNLOAD_URL_SECONDS = 5 * 60

# The first bytes of each accepted type: a file is what its bytes say, not its name.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
SIGNATURE_BYTES = max(len(s) for sigs in SIGNATURES.values() for s in sigs)


class UploadRequest(Model):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100, examples=["application/pdf"])
    size: JsonInt = Field(gt=0, description="Taille en octets, 5 Mo au plus")


class Upload(Model):
    """The record of one presigned POST: whose, what was announced, and which request used it."""

    upload_id: str
    member_id: str
    filename: str
    content_type: str
    declared_size: int
    expires_at: int
    used_by: str | None = None


def matches_signature(content_type: str, head: bytes) -> bool:
    return any(head.startswith(signature) for signature in SIGNATURES.get(content_type, ()))


# A name a file is saved under opens it with the program of its extension: each type's own
# (the first, the one given to a name that has none of them).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
}
NAME_MAX = 120

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(filename: str) -> str:
    """Kept for display only: no path, no control characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", filename)
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _CONTROL.sub("", name).strip().lstrip(".")
    return name[-NAME_MAX:] if len(name) > NAME_MAX else name


# The name shown for a file whose own name leaves nothing to show once cleaned.
NEUTRAL_NAMES = {
    "application/pdf": "document.pdf",
    "image/jpeg": "image.jpg",
    "image/png": "image.png",
    "image/gif": "image.gif",
}


def display_filename(filename: str, content_type: str) -> str:
    """The name a member reads and a browser saves the file as: theirs cleaned
    (`clean_filename`), or a neutral one of the file's type when nothing of theirs is left
    (only control characters, a path, dots); ending with an extension of the type its bytes
    are checked to be, never with another (« releve.html » is « releve.html.pdf »: only the
    first bytes are checked, and a PDF named as a page would open as one)."""
    name = clean_filename(filename) or NEUTRAL_NAMES.get(content_type, "document")
    extensions = EXTENSIONS.get(content_type)
    if extensions and not name.lower().endswith(extensions):
        base = name.rstrip(". ")[-(NAME_MAX - len(extensions[0])) :]
        name = base + extensions[0] if base.strip() else NEUTRAL_NAMES[content_type]
    return name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    from urllib.parse import quote

    ascii_name = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode().replace('"', "")
    ) or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
