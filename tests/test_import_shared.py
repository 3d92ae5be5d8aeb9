"""The real Alessandria (Italy) tree inventory: Italian fields and words, size classes, EPSG:3003.

It lies in Italy, so the right outcome in a Kazakh registry is a full check through a mapping
file (columns, condition and status words, size classes, species aliases) that ends with every
well-formed record refused as "outside Kazakhstan", and nothing written.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import geopandas
import pandas
import pytest
from sqlalchemy import func, select, text

from importers.services import ImportOptions, import_file
from importers.vocabulary import STATUSES
from registry.access import Actor
from registry.inventory.models import Plant
from registry.species.services import SpeciesIndex

MAPPING = """
[columns]
species = "Essenza"
inventory_number = "Identificativo"
condition = "StatoVegetativo"
status = "Tipologia"
height = "RangeAltezza"
trunk_diameter = "RangeDiametroFusto"

[values.condition]
Ottimo = 1
Buono = 1
Discreto = 2
Mediocre = 3
Pessimo = 4
Morto = 6

[values.status]
Albero = "alive"
Neoimpianto = "alive"
Ceppaia = "stump"
Fallanza = "vacant"

[values.height]
"1) < 10m" = 8
"2) 10 - 16m" = 13
"3) 16 - 20m" = 18
"4) 20 - 30m" = 25
"5) > 30m" = 32

[values.trunk_diameter]
"1) <= 20cm" = 15
"2) 20cm< & <=50cm" = 35
"3) 50cm< & <=100cm" = 75
"4) >100cm" = 110

[defaults]
condition = 1

[species]
"Tilia X Americana" = "tilia_sp"
"Tilia X Europaea" = "tilia_sp"
"Platanus Acerifolia" = "Platanus orientalis"
"""


@pytest.mark.shared
def test_alessandria_inventory_checks_through_a_mapping(db, shared_data: Path, tmp_path) -> None:
    path = shared_data / "trees-alessandria-gpkg" / "alberi.gpkg"
    mapping = tmp_path / "alessandria.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    report = import_file(
        db, Actor.system("test"), path, region="KZ-71", options=ImportOptions(mapping=mapping)
    )
    assert report.status == "rejected" and report.rows_read == 16484
    assert report.encoding == "utf-8 (geopackage (always UTF-8))" and report.crs == "EPSG:3003"
    codes = Counter(p.code for p in report.errors)
    assert set(codes) <= {
        *("outside_kazakhstan", "needs_confirmation", "species"),
        *("invalid_value", "duplicate_number"),
    }
    # The aliased and catalogue species pass; only Italy stops them.
    assert codes["outside_kazakhstan"] > 8000
    outside = next(p for p in report.errors if p.code == "outside_kazakhstan")
    assert outside.message.startswith("lies outside Kazakhstan's regions (lon 8.")
    # Species the catalogue does not hold as written are proposals, never taken for a neighbour.
    unknown = [p for p in report.errors if p.code == "needs_confirmation" and p.value]
    assert unknown and all(p.field == "Essenza" for p in unknown)
    assert all(p.message.startswith("needs confirmation: ") for p in unknown)
    assert "Tilia X Americana" not in {p.value for p in unknown}
    assert {p.written for p in report.proposals} == {p.value for p in unknown}
    assert not [p for p in report.errors if p.field == "StatoVegetativo"]
    unmapped = {p.value for p in report.errors if p.field == "Tipologia"}
    assert unmapped and not unmapped & {"Albero", "Neoimpianto", "Ceppaia", "Fallanza"}
    assert next(p for p in report.errors if p.field == "Tipologia").message == (
        f"is not a status: use a word in any form ({STATUSES.accepted()}), "
        "or translate it in the mapping's [values.status]"
    )
    assert db.scalar(select(func.count()).select_from(Plant)) == 0


@pytest.mark.shared
def test_alessandria_moved_onto_astana_stores_what_it_says(db, shared_data: Path, tmp_path):
    """The same inventory moved onto Astana (a copy in the test's folder, shrunk to fit the
    city): with no default condition, what it leaves empty stays empty, its stumps and vacant
    sites without species keep their status, its dead trees are dead. Value by value."""
    source = geopandas.read_file(shared_data / "trees-alessandria-gpkg" / "alberi.gpkg")
    # Its species the catalogue holds as written (or confirmed in the mapping's [species]);
    # the rest would stop the import as proposals, which tests/test_species_proposals.py covers.
    index = SpeciesIndex.load(db, {"Tilia X Americana": "tilia_sp", "Tilia X Europaea": "tilia_sp",
                                   "Platanus Acerifolia": "platanus_orientalis"})  # fmt: skip
    known = {n for n in source.Essenza.dropna().unique() if index.match(str(n))}
    source = source[source.Essenza.isna() | source.Essenza.isin(known)].copy()
    lonlat = source.to_crs(4326)
    x, y = lonlat.geometry.x, lonlat.geometry.y
    moved = lonlat.set_geometry(geopandas.points_from_xy(
        71.43 + (x - x.mean()) * 0.5, 51.13 + (y - y.mean()) * 0.5), crs=4326)  # fmt: skip
    path = tmp_path / "alberi_astana.gpkg"
    moved.to_file(path)
    mapping = tmp_path / "astana.toml"
    moved_mapping = MAPPING.replace("[defaults]\ncondition = 1\n", "").replace(
        'Fallanza = "vacant"\n',
        'Fallanza = "vacant"\n"posta vuota" = "vacant"\nMoncone = "stump"\ndismesso = "removed"\n',
    )
    mapping.write_text(moved_mapping, encoding="utf-8")
    options = ImportOptions(mapping=mapping, allow_partial=True)
    report = import_file(db, Actor.system("test"), path, region="KZ-71", options=options)
    assert report.status == "done" and report.imported > 10000, Counter(
        p.code for p in report.errors
    )
    assert {p.code for p in report.errors} <= {"species", "duplicate_number", "invalid_value"}
    too_thick = {(p.value, p.message) for p in report.errors if p.field == "RangeDiametroFusto"}
    # the file's own words, and what they were read as (it showed only 110)
    assert any(
        value == "4) >100cm" and message.startswith("read as 110 ([values.trunk_diameter]): ")
        for value, message in too_thick
    ), too_thick
    stored = {
        r[0]: r[1:]
        for r in db.execute(
            text(
                "SELECT p.inventory_number, p.species_id IS NULL, p.condition, p.height_m::float8, "
                "p.trunk_diameter_cm::float8, p.status::text FROM plants p"
            )
        )  # fmt: skip
    }
    grades = {"Ottimo": 1, "Buono": 1, "Discreto": 2, "Mediocre": 3, "Pessimo": 4, "Morto": 6}
    heights = {"1) < 10m": 8, "2) 10 - 16m": 13, "3) 16 - 20m": 18, "4) 20 - 30m": 25,
               "5) > 30m": 32}  # fmt: skip
    statuses = {"Ceppaia": "stump", "Fallanza": "vacant", "posta vuota": "vacant",
                "Moncone": "stump", "dismesso": "removed"}  # fmt: skip
    seen = Counter()
    repeated = set(source.Identificativo[source.Identificativo.duplicated()].astype(str))
    for row in source.itertuples():
        got = stored.get(str(row.Identificativo))
        if got is None or str(row.Identificativo) in repeated:  # one number, two trees: refused
            continue
        no_species, condition, height, _, status = got
        assert no_species == pandas.isna(row.Essenza), row
        assert condition == grades.get(row.StatoVegetativo), row  # None: not assessed
        assert height == heights.get(row.RangeAltezza), row  # None: not measured
        dead = row.StatoVegetativo == "Morto" and row.Tipologia in ("Albero", "Neoimpianto")
        assert status == ("dead" if dead else statuses.get(row.Tipologia, "alive")), row
        seen[(status, no_species, condition is None)] += 1
    # Each row was checked above; these say the check met every kind, many times.
    assert seen[("stump", True, True)] > 200 and seen[("vacant", True, True)] > 700
    assert seen[("dead", False, False)] > 50
    assert sum(n for (_, _, unassessed), n in seen.items() if unassessed) > 1500
