"""Documents: the letters and PDFs "Mes courriers et documents" lists."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from chalicelib.domain.requests import Timestamp

ALLOWED_WINDOWS = (1, 3, 6, 12, 24)
DEFAULT_WINDOW = 24


class DocumentSummary(BaseModel):
    document_id: str
    kind: str
    title: str
    created_at: Timestamp
    request_id: str | None = None
    size: int


class DocumentRecord(DocumentSummary):
    member_id: str
    sha256: str

    def summary(self) -> DocumentSummary:
        return DocumentSummary.model_validate(self.model_dump(exclude={"member_id", "sha256"}))


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has a 28th


def window_start(today: date, months: int) -> date:
    """The first day a window of the last `months` months covers: a document of 30 days ago is
    in the last month's, one of 13 months ago only in the 24 months'."""
    return months_before(today, months)


def pdf_filename(title: str, created_at: str) -> str:
    """A file name a member recognises in their downloads: `<titre>-<date>.pdf`."""
    import re
    import unicodedata

    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower() or "document"
    return f"{slug}-{created_at[:10]}.pdf"
