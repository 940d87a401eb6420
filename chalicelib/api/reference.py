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


@blueprint.route("/catalog", methods=["GET"])
def get_catalog() -> Response:
    return json_response(_catalog())


@blueprint.route("/contact", methods=["GET"])
def get_contact() -> Response:
    return json_response(_contact())
