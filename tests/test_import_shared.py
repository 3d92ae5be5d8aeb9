"""The real Alessandria (Italy) tree inventory: Italian fields and words, size classes, EPSG:3003.

It lies in Italy, so the right outcome in a Kazakh registry is a full check through a mapping
file (columns, condition and status words, size classes, species aliases) that ends with every
well-formed record refused as "outside Kazakhstan", and nothing written.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from importers.services import ImportOptions, import_file
from importers.vocabulary import STATUSES
from registry.access import Actor
from registry.inventory.models import Plant

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
