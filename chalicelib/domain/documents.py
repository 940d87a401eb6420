"""Documents: the letters and PDFs "Mes courriers et documents" lists."""

from datetime import date

from chalicelib.domain import clock
from chalicelib.domain.model import Model
from chalicelib.domain.requests import Timestamp

ALLOWED_WINDOWS = (1, 3, 6, 12, 24)
DEFAULT_WINDOW = 24


class DocumentSummary(Model):
    document_id: str
    kind: str
    title: str
    created_at: Timestamp
    request_id: str | None = None
    size: int


class DocumentRecord(DocumentSummary):
    member_id: str
    sha256: str
    postal_dispatch: bool = False  # the member is not paperless: the print shop posts it

    def summary(self) -> DocumentSummary:
        return DocumentSummary.model_validate(
            self.model_dump(exclude={"member_id", "sha256", "postal_dispatch"})
        )


def window_start(today: date, months: int) -> date:
    """The first day a window of the last `months` months covers: a document of 30 days ago is
    in the last month's, one of 13 months ago only in the 24 months'."""
    return clock.months_before(today, months)


def pdf_filename(title: str, created_at: str) -> str:
    """A file name a member recognises in their downloads: `<titre>-<date>.pdf`, the date the
    letter's (Paris). The title is its kind's, never a member's words; it is written on the
    object, not in a download URL (`store/files.py`)."""
    import re
    import unicodedata

    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower() or "document"
    return f"{slug}-{clock.paris_date(created_at).isoformat()}.pdf"
