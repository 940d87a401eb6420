"""What a route says about itself beyond its path: given with the route (keywords of
`ApiBlueprint.route`, summary and description from the view's docstring) and read back by
`api/openapi.py`, which walks the app's routes.

Nothing here is built at import but the small record of each route; the schemas are generated
from its models when `GET /openapi.json` is first asked for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from chalicelib.api.lazy import target
from chalicelib.domain.catalog import REQUEST_TYPES
from chalicelib.domain.uploads import MAX_FILE_BYTES
from chalicelib.settings import Settings

# A body: its model, an adapter (a union), or a function answering the adapter (built on demand).
BodyModel = type[BaseModel] | TypeAdapter[Any] | Callable[[], TypeAdapter[Any]]


@dataclass(frozen=True)
class Header:
    """A request header a route reads."""

    name: str
    schema: Mapping[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class RouteDocs:
    """Given as keywords of `ApiBlueprint.route`. The summary and description are the view's
    docstring (its first line, then the rest), as Chalice's own swagger generator reads them."""

    tag: str
    answer: type[BaseModel] | None  # None: a free-form JSON object
    status: int = 200
    answer_description: str = "OK"
    answer_headers: tuple[str, ...] = ()  # names of `components.headers`
    query: type[BaseModel] | None = None  # its fields are the query parameters
    body: BodyModel | None = None
    body_name: str | None = None  # names a body schema that is not a model (a union)
    body_required: bool = True  # False: no body reads as `{}`
    examples: Mapping[str, Any] = field(default_factory=dict)  # of the body, by name
    headers: tuple[Header, ...] = ()
    errors: Mapping[int, str] = field(default_factory=dict)  # status: when it is answered
    # status: the headers that error answer carries on this route only (name: what it says)
    error_headers: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    public: bool = False  # no token needed
    appendix: Callable[[], str] | None = None  # text made from data, ending the description

    def body_adapter(self) -> TypeAdapter[Any] | None:
        body = self.body
        if body is None or isinstance(body, TypeAdapter):
            return body
        if isinstance(body, type):
            return TypeAdapter(body)
        return body()

    def summary_and_description(self, view: Callable[..., Any]) -> tuple[str, str]:
        first, _, rest = (inspect.getdoc(view) or "").partition("\n")
        summary = first.strip().removesuffix(".")  # a title, in the document
        description = _unwrapped(rest.strip())
        if self.appendix is not None:
            description = f"{description}\n\n{self.appendix()}".strip()
        return summary, description


def _unwrapped(text: str) -> str:
    """A docstring's paragraphs and list items on one line each, as the source wraps them only
    to fit its width (Markdown tables and list items keep their own lines)."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        continues = (
            lines
            and lines[-1]
            and stripped
            and not stripped.startswith(("- ", "|"))
            and not lines[-1].startswith("|")
        )
        if continues:
            lines[-1] = f"{lines[-1]} {stripped}"
        else:
            lines.append(stripped)
    return "\n".join(lines)


# Keyed by the function Chalice calls; filled by `ApiBlueprint.route`.
_DOCS: dict[Callable[..., Any], RouteDocs] = {}


def document(view_function: Callable[..., Any], docs: RouteDocs) -> None:
    _DOCS[view_function] = docs


def docs_of(view_function: Callable[..., Any]) -> RouteDocs | None:
    """What the route of this function says about itself (of the route's own view, for a route
    the app registered from its table: `api/lazy.py`); None for a route not declared with its
    documentation (not through `ApiBlueprint`)."""
    return _DOCS.get(target(view_function))


# -- wording and tables the routes' documentation shares -------------------------------------------

MEMBERS_ONLY = "An agent's token: this space is for members."
MAX_BODY_KB = int(Settings.model_fields["max_body_bytes"].default) // 1024
# A member's limits as every stage sets them (API.md, "Limits").
UNUSED_UPLOADS_MAX = int(Settings.model_fields["unused_uploads_max"].default)
REQUESTS_PER_DAY = int(Settings.model_fields["requests_per_day"].default)
REPLIES_PER_DAY = int(Settings.model_fields["replies_per_day"].default)
EXPORTS_PER_DAY = int(Settings.model_fields["exports_per_day"].default)
MAX_FILE_MB = MAX_FILE_BYTES // (1024 * 1024)


def request_types_table() -> str:
    """The démarche types of the catalogue, as a Markdown table."""
    rows = [
        f"| `{t.type}` | {t.label} | {t.attachments.value} |"
        + (" required |" if t.description_required else " optional |")
        for t in REQUEST_TYPES
    ]
    return "\n".join(
        ["| `type` | label | attachments | `description` |", "|---|---|---|---|", *rows]
    )
