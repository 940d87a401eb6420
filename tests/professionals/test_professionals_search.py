"""`GET /professionals` through the app, against the moto stack, with a real member token."""

from __future__ import annotations

import math
from typing import Any

import pytest

from chalicelib.domain.cursor import encode_cursor
from chalicelib.domain.professionals import Professional
from tests.conftest import Api, SignedIn

# Place Léon-Blum, the town hall of Paris 11e: where a 75011 search measures from.
PARIS_11E = (48.8585, 2.3795)


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _search(api: Api, who: SignedIn, **params: Any) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"/professionals?{query}", who)


def _ids(professionals: list[Professional]) -> set[str]:
    return {p.professional_id for p in professionals}


def _of(directory: list[Professional], specialty: str, department: str) -> list[Professional]:
    return [p for p in directory if p.specialty == specialty and p.department == department]


def _all_pages(api: Api, who: SignedIn, **params: Any) -> list[dict[str, Any]]:
    answer = _search(api, who, **params)
    assert answer.status == 200, answer.body
    pages = [answer.body]
    while pages[-1]["next_cursor"]:
        answer = _search(api, who, **params, cursor=pages[-1]["next_cursor"])
        assert answer.status == 200, answer.body
        pages.append(answer.body)
    return pages


def test_opticians_near_paris_11e_come_nearest_first_with_true_distances(
    api: Api, alice: SignedIn, directory: list[Professional]
) -> None:
    answer = _search(api, alice, specialty="opticien", postal_code="75011")

    assert answer.status == 200, answer.body
    body = answer.body
    assert body["area"] == {
        "postal_code": "75011",
        "city": "Paris 11e Arrondissement",
        "department": "75",
        "department_name": "Paris",
        "radius_km": None,
        "departments": ["75"],
    }
    found = body["professionals"]
    assert len(found) == 20  # the default page
    distances = [p["distance_km"] for p in found]
    assert distances == sorted(distances)
    by_id = {p.professional_id: p for p in directory}
    for item in found:
        seeded = by_id[item["professional_id"]]
        expected = _haversine_km(PARIS_11E, (seeded.latitude, seeded.longitude))
        assert item["distance_km"] == pytest.approx(expected, abs=0.15)
        assert item["specialty"] == "opticien"
        assert item["specialty_label"] == "Opticien-lunetier"
        assert item["city"] == "Paris"
        assert item["postal_code"].startswith("750")
        assert item["name"] == seeded.name
        assert item["phone"].startswith("01 ")
    assert distances[0] < 1.5  # there are opticians in the 11e itself
    assert distances[-1] < 12  # nothing in Paris is farther than that from the 11e


def test_paging_reaches_the_end_with_every_practitioner_once(
    api: Api, alice: SignedIn, directory: list[Professional]
) -> None:
    pages = _all_pages(api, alice, specialty="opticien", postal_code="75011", limit=5)

    listed = [p for body in pages for p in body["professionals"]]
    expected = _ids(_of(directory, "opticien", "75"))
    assert len(pages) == math.ceil(len(expected) / 5)
    assert all(len(body["professionals"]) == 5 for body in pages[:-1])
    assert [p["professional_id"] for p in listed].count(listed[0]["professional_id"]) == 1
    assert len({p["professional_id"] for p in listed}) == len(listed)
    assert {p["professional_id"] for p in listed} == expected
    distances = [p["distance_km"] for p in listed]
    assert distances == sorted(distances)
    assert pages[-1]["next_cursor"] is None


def test_a_cursor_alone_continues_its_search(
    api: Api, alice: SignedIn, directory: list[Professional]
) -> None:
    first = _search(api, alice, specialty="pharmacien", postal_code="75011", limit=10).body
    alone = api.get(f"/professionals?cursor={first['next_cursor']}&limit=10", alice)
    repeated = _search(
        api,
        alice,
        specialty="pharmacien",
        postal_code="75011",
        limit=10,
        cursor=first["next_cursor"],
    )

    assert alone.status == 200, alone.body
    assert alone.body == repeated.body
    assert {p["professional_id"] for p in alone.body["professionals"]}.isdisjoint(
        p["professional_id"] for p in first["professionals"]
    )


def test_a_search_reads_one_partition_with_one_query(
    api: Api, alice: SignedIn, directory: list[Professional], aws_calls: list[str]
) -> None:
    api.get("/me", alice)  # the account binding is read on a container's first call: not here
    aws_calls.clear()
    first = _search(api, alice, specialty="opticien", postal_code="75011", limit=5)
    assert aws_calls == ["dynamodb.Query"]

    aws_calls.clear()
    _search(api, alice, specialty="opticien", postal_code="75011", cursor=first.body["next_cursor"])
    assert aws_calls == ["dynamodb.Query"]


@pytest.mark.parametrize(
    ("postal_code", "department", "department_name", "city"),
    [
        ("20000", "2A", "Corse-du-Sud", "Ajaccio"),
        ("20200", "2B", "Haute-Corse", "Bastia"),
        ("97400", "974", "La Réunion", "Saint-Denis"),
    ],
)
def test_corsica_and_overseas_postal_codes_search_their_own_department(
    api: Api,
    alice: SignedIn,
    directory: list[Professional],
    postal_code: str,
    department: str,
    department_name: str,
    city: str,
) -> None:
    pages = _all_pages(api, alice, specialty="medecin_generaliste", postal_code=postal_code)

    area = pages[0]["area"]
    assert (area["department"], area["department_name"], area["city"]) == (
        department,
        department_name,
        city,
    )
    listed = [p for body in pages for p in body["professionals"]]
    assert {p["professional_id"] for p in listed} == _ids(
        _of(directory, "medecin_generaliste", department)
    )
    assert listed, "the directory has GPs in every département"
    prefix = "20" if department in ("2A", "2B") else department
    assert all(p["postal_code"].startswith(prefix) for p in listed)


def test_an_island_is_not_widened_by_a_radius_that_reaches_only_sea(
    api: Api, alice: SignedIn, directory: list[Professional], aws_calls: list[str]
) -> None:
    api.get("/me", alice)  # the account binding is read on a container's first call: not here
    aws_calls.clear()
    answer = _search(api, alice, specialty="infirmier", postal_code="97400", radius_km=100)

    assert answer.status == 200, answer.body
    assert answer.body["area"]["departments"] == ["974"]
    assert aws_calls == ["dynamodb.Query"]
    assert all(p["postal_code"].startswith("974") for p in answer.body["professionals"])


@pytest.mark.parametrize(
    ("postal_code", "area", "widest"),
    [
        (
            "97133",
            {
                "city": "Saint-Barthélemy",
                "department": "977",
                "department_name": "Saint-Barthélemy",
            },
            ["977", "978"],  # Saint-Martin, 32 km away; Guadeloupe is 200 km south
        ),
        (
            "97150",
            {"city": "Saint-Martin", "department": "978", "department_name": "Saint-Martin"},
            ["978", "977"],
        ),
        (
            "97500",
            {
                "city": "Saint-Pierre",
                "department": "975",
                "department_name": "Saint-Pierre-et-Miquelon",
            },
            ["975"],
        ),
    ],
)
def test_a_collectivite_d_outre_mer_is_placed_and_has_no_partner_nearby(
    api: Api,
    alice: SignedIn,
    directory: list[Professional],
    aws_calls: list[str],
    postal_code: str,
    area: dict[str, str],
    widest: list[str],
) -> None:
    """Saint-Barthélemy, Saint-Martin and Saint-Pierre-et-Miquelon answered 404 « Aucune
    commune ne correspond au code postal » to the members who live there. The place is known;
    the network has no partner there, nor within the widest radius (Guadeloupe's, seeded, are
    200 km away): the answer is the empty list."""
    api.get("/me", alice)  # the account binding is read on a container's first call: not here
    aws_calls.clear()
    alone = _search(api, alice, specialty="medecin_generaliste", postal_code=postal_code)
    widened = _search(
        api, alice, specialty="medecin_generaliste", postal_code=postal_code, radius_km=100
    )

    assert alone.status == 200, alone.body
    assert alone.body == {
        "professionals": [],
        "next_cursor": None,
        "area": {
            "postal_code": postal_code,
            **area,
            "radius_km": None,
            "departments": [area["department"]],
        },
    }
    assert widened.status == 200, widened.body
    assert widened.body["professionals"] == []
    assert widened.body["next_cursor"] is None
    assert widened.body["area"] == {
        **alone.body["area"],
        "radius_km": 100.0,
        "departments": widest,
    }
    assert "971" in {p.department for p in directory}
    # Each partition the answers name was read, once each, and no other.
    assert aws_calls == ["dynamodb.Query"] * (1 + len(widest))


def test_ajaccio_reaches_haute_corse_only_with_a_wide_radius(
    api: Api, alice: SignedIn, directory: list[Professional]
) -> None:
    near = _search(api, alice, specialty="pharmacien", postal_code="20000", radius_km=20)
    wide = _search(api, alice, specialty="pharmacien", postal_code="20000", radius_km=60)

    assert near.body["area"]["departments"] == ["2A"]
    assert wide.body["area"]["departments"] == ["2A", "2B"]


def test_a_radius_across_the_rhone_brings_in_avignon(
    api: Api, alice: SignedIn, directory: list[Professional], aws_calls: list[str]
) -> None:
    """Villeneuve-lès-Avignon (Gard) faces Avignon (Vaucluse) across the Rhône: its nearest
    GPs are in another département, which only a radius reaches."""
    alone = _all_pages(api, alice, specialty="medecin_generaliste", postal_code="30400")
    aws_calls.clear()
    widened = _all_pages(
        api, alice, specialty="medecin_generaliste", postal_code="30400", radius_km=10
    )

    gard = _ids(_of(directory, "medecin_generaliste", "30"))
    assert {p["professional_id"] for body in alone for p in body["professionals"]} == gard

    area = widened[0]["area"]
    assert area["departments"] == ["30", "13", "84"]
    # One Query per partition read, on every page.
    assert aws_calls == ["dynamodb.Query"] * len(area["departments"]) * len(widened)

    listed = [p for body in widened for p in body["professionals"]]
    neighbours = [p for p in listed if p["professional_id"] not in gard]
    assert neighbours, "Avignon's GPs are within 10 km"
    assert all(p["postal_code"].startswith(("84", "13")) for p in neighbours)
    assert all(p["distance_km"] <= 10 for p in neighbours)
    assert listed[0]["professional_id"] not in gard  # the nearest is across the river
    assert listed[0]["distance_km"] < alone[0]["professionals"][0]["distance_km"]
    distances = [p["distance_km"] for p in listed]
    assert distances == sorted(distances)
    # Everything of the Gard stays; beyond 10 km, nothing of the neighbours.
    assert gard <= {p["professional_id"] for p in listed}
    others = [
        p
        for p in directory
        if p.specialty == "medecin_generaliste" and p.department in ("84", "13")
    ]
    assert {p["professional_id"] for p in neighbours} == {
        p.professional_id
        for p in others
        if _haversine_km((43.96414, 4.79684), (p.latitude, p.longitude)) <= 10
    }


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"specialty": "plombier", "postal_code": "75011"}, ["specialty"]),
        ({"postal_code": "75011"}, ["specialty"]),
        ({"specialty": "opticien", "postal_code": "7501"}, ["postal_code"]),
        ({"specialty": "opticien", "postal_code": "75O11"}, ["postal_code"]),
        ({"specialty": "opticien", "postal_code": "2A004"}, ["postal_code"]),
        ({"specialty": "opticien"}, ["postal_code"]),
        ({"specialty": "opticien", "postal_code": "75011", "radius_km": "abc"}, ["radius_km"]),
        ({"specialty": "opticien", "postal_code": "75011", "radius_km": "0"}, ["radius_km"]),
        ({"specialty": "opticien", "postal_code": "75011", "radius_km": "500"}, ["radius_km"]),
        ({"specialty": "opticien", "postal_code": "75011", "radius_km": "-5"}, ["radius_km"]),
        ({"specialty": "opticien", "postal_code": "75011", "limit": "0"}, ["limit"]),
        (
            {"specialty": "x", "postal_code": "y", "radius_km": "z"},
            ["specialty", "postal_code", "radius_km"],
        ),
    ],
)
def test_bad_input_is_422_naming_the_field(
    api: Api, alice: SignedIn, params: dict[str, str], fields: list[str]
) -> None:
    answer = _search(api, alice, **params)

    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "validation_error"
    assert [f["field"] for f in answer.body["error"]["fields"]] == fields
    assert all(f["message"] for f in answer.body["error"]["fields"])


def test_unknown_well_formed_postal_code_is_404_with_a_clear_message(
    api: Api, alice: SignedIn
) -> None:
    answer = _search(api, alice, specialty="opticien", postal_code="99999")

    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
    assert "99999" in answer.body["error"]["message"]
    assert "code postal" in answer.body["error"]["message"]


def test_an_unknown_parameter_is_refused(api: Api, alice: SignedIn) -> None:
    answer = _search(api, alice, specialty="opticien", postal_code="75011", rayon="5")

    assert answer.status == 400
    assert answer.body["error"]["fields"][0]["field"] == "rayon"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        # Answered 200 with the pharmacists: the last value was taken, the first dropped.
        ("specialty=opticien&specialty=pharmacien&postal_code=75011", "specialty"),
        # Answered Marseille's opticians to a member who typed Paris first.
        ("specialty=opticien&postal_code=75011&postal_code=13001", "postal_code"),
    ],
)
def test_a_parameter_given_twice_is_refused(
    api: Api, alice: SignedIn, directory: list[Professional], query: str, field: str
) -> None:
    answer = api.get(f"/professionals?{query}", alice)

    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "bad_request"
    assert answer.body["error"]["fields"] == [
        {"field": field, "message": "Paramètre donné plusieurs fois."}
    ]


def test_a_forged_cursor_is_400(api: Api, alice: SignedIn, directory: list[Professional]) -> None:
    cursor = _search(api, alice, specialty="opticien", postal_code="75011", limit=5).body[
        "next_cursor"
    ]
    middle = len(cursor) // 2
    tampered = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    resigned = encode_cursor(
        {
            "kind": "professionals",
            "specialty": "opticien",
            "postal_code": "75011",
            "radius_km": None,
            "distance_m": 0,
            "professional_id": "0",
        },
        "not-the-server-secret",
    )

    for forged in (tampered, resigned, "bm90LWEtY3Vyc29y", "%%%"):
        answer = _search(api, alice, specialty="opticien", postal_code="75011", cursor=forged)
        assert answer.status == 400, forged
        assert answer.body["error"]["code"] == "bad_request"


def test_a_cursor_given_with_another_search_is_400(
    api: Api, alice: SignedIn, directory: list[Professional]
) -> None:
    cursor = _search(api, alice, specialty="opticien", postal_code="75011", limit=5).body[
        "next_cursor"
    ]

    answer = _search(api, alice, specialty="pharmacien", postal_code="75011", cursor=cursor)

    assert answer.status == 400
    assert answer.body["error"]["fields"][0]["field"] == "cursor"


def test_the_search_needs_a_token(api: Api) -> None:
    answer = api.get("/professionals?specialty=opticien&postal_code=75011")

    assert answer.status == 401
