"""Reference data routes: `GET /catalog`, `GET /contact`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice.app import Response

from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.schemas import CatalogAnswer, ContactAnswer
from chalicelib.domain.catalog import catalog_document
from chalicelib.domain.contact import CONTACT

blueprint = ApiBlueprint(__name__)


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    return CatalogAnswer.model_validate(catalog_document()).model_dump(mode="json")


@lru_cache(maxsize=1)
def _contact() -> dict[str, Any]:
    return ContactAnswer.model_validate(CONTACT).model_dump(mode="json")


@blueprint.route("/catalog", methods=["GET"], tag="reference", answer=CatalogAnswer)
def get_catalog() -> Response:
    """The catalogue: démarches, contact form choices, partner specialties.

    What a member can file, by category (`sante`, `vie_personnelle`, `contact`), with the French
    labels the portal shows and, for each type, the JSON Schema of its `data`: the very schema
    `POST /requests` validates with. Also the contact form's two drop-downs (`subjects`) and the
    partner specialties. The same for every signed-in user.
    """
    return json_response(_catalog())


@blueprint.route("/contact", methods=["GET"], tag="reference", answer=ContactAnswer)
def get_contact() -> Response:
    """How to reach Génération.

    Phone numbers with their opening hours, postal addresses, and the consumer mediator.
    """
    return json_response(_contact())
