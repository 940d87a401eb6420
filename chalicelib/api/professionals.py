"""`GET /professionals`: partner health professionals near a postal code, nearest first.

`?specialty=<code of GET /catalog>&postal_code=<5 digits>[&radius_km=<0-100>][&limit=<1-50>]`
searches the postal code's département; `radius_km` adds the practitioners of the neighbouring
départements that lie within it. `?cursor=<next_cursor>` continues a search (its parameters
may be repeated beside it, and must then be the same).

The answer: `{"professionals": [...], "next_cursor": str | null, "area": {...}}`, where `area`
says where distances are measured from and which départements were read.
"""

from chalice.app import Response

from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.queries import ProfessionalsQuery
from chalicelib.domain.catalog import SPECIALTIES_BY_CODE
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, FieldError, NotFound
from chalicelib.domain.model import Model
from chalicelib.domain.professionals import (
    Position,
    Professional,
    Ranked,
    Search,
    SearchRequest,
    cursor_payload,
    page,
    place_index,
    rank,
    read_cursor_payload,
)
from chalicelib.settings import get_settings
from chalicelib.store.dynamo import parallel_map
from chalicelib.store.professionals import ProfessionalRepository

blueprint = ApiBlueprint(__name__)

# Partitions of a wide search are read side by side (the store's shared pool): the latency of
# one Query, not the sum.


class ProfessionalAnswer(Model):
    professional_id: str
    name: str
    specialty: str
    specialty_label: str
    address: str
    postal_code: str
    city: str
    phone: str
    distance_km: float

    @classmethod
    def of(cls, ranked: Ranked) -> "ProfessionalAnswer":
        p = ranked.professional
        return cls(
            professional_id=p.professional_id,
            name=p.name,
            specialty=p.specialty,
            specialty_label=SPECIALTIES_BY_CODE[p.specialty].label,
            address=p.address,
            postal_code=p.postal_code,
            city=p.city,
            phone=p.phone,
            distance_km=ranked.distance_km,
        )


class AreaAnswer(Model):
    postal_code: str
    city: str
    department: str
    department_name: str
    radius_km: float | None
    departments: list[str]


class ProfessionalsAnswer(Model):
    professionals: list[ProfessionalAnswer]
    next_cursor: str | None
    area: AreaAnswer


@blueprint.route(
    "/professionals",
    methods=["GET"],
    tag="professionals",
    answer=ProfessionalsAnswer,
    query=ProfessionalsQuery,
    errors={
        400: "An unknown or repeated query parameter, or a cursor forged, of another route, or "
        "given beside parameters of another search.",
        404: "No commune has this (well-formed) postal code.",
        422: "A parameter is missing or invalid; `fields` names each one.",
    },
)
def search_professionals() -> Response:
    """Partner health professionals near a postal code, nearest first.

    Searches the practitioners of a specialty in the postal code's département (the few codes
    whose communes lie in two départements search both), nearest first from the code's main
    commune (its most populous; the town hall, or the arrondissement's in Paris, Lyon and
    Marseille), with `distance_km`. `radius_km` adds those of the neighbouring départements
    that lie within the radius. `area` says where distances are measured from and which
    départements were read. Saint-Pierre-et-Miquelon, Saint-Barthélemy and Saint-Martin,
    collectivités d'outre-mer, count as départements of their own (975, 977, 978).

    `specialty` and `postal_code` are required to start a search; `cursor` alone continues one
    (the search's parameters may be repeated beside it, and must then be the same).
    """
    query = ProfessionalsQuery.from_request(blueprint.current_request)
    request = SearchRequest(
        query.specialty, query.postal_code, query.radius_km, query.limit, query.cursor
    )
    secret = get_settings().cursor_secret
    after: Position | None = None
    if request.cursor is None:
        search = request.search()
    else:
        search, after = read_cursor_payload(decode_cursor(request.cursor, secret))
        if not request.continues(search):
            raise BadRequest(
                "Ce curseur continue une autre recherche.",
                [FieldError("cursor", "Il ne correspond pas aux paramètres donnés.")],
            )

    places = place_index()
    origin = places.place(search.postal_code)
    if origin is None:
        raise NotFound(
            f"Aucune commune ne correspond au code postal {search.postal_code}. "
            "Vérifiez-le, ou cherchez avec celui d'une commune voisine."
        )
    departments = places.departments_within(origin, search.radius_km)
    found = _read(search, departments)
    ranked = rank(found, origin, search.radius_km)
    taken, next_after = page(ranked, after, request.limit)
    answer = ProfessionalsAnswer(
        professionals=[ProfessionalAnswer.of(r) for r in taken],
        next_cursor=encode_cursor(cursor_payload(search, next_after), secret)
        if next_after
        else None,
        area=AreaAnswer(
            postal_code=origin.postal_code,
            city=origin.city,
            department=origin.department,
            department_name=places.department(origin.department).name,
            radius_km=search.radius_km,
            departments=departments,
        ),
    )
    return json_response(answer)


def _read(search: Search, departments: list[str]) -> list[Professional]:
    repository = ProfessionalRepository()
    if len(departments) == 1:
        return repository.in_department(search.specialty, departments[0])
    partitions = parallel_map(
        lambda department: repository.in_department(search.specialty, department), departments
    )
    return [p for partition in partitions for p in partition]
