"""Regions: all 20, addressed by any code or name, with boundaries that locate points."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely import wkb
from sqlalchemy import func, select, text

from registry.errors import NotFound
from registry.regions.models import Region
from registry.regions.services import RegionPieces, list_regions, region_at, resolve_region

GEOD = Geod(ellps="WGS84")


def test_twenty_regions_with_codes_and_names_in_three_languages(db) -> None:
    regions = list_regions(db)
    assert len(regions) == 20
    assert {r.kato for r in regions} == {
        "10",
        "11",
        "15",
        "19",
        "23",
        "27",
        "31",
        "33",
        "35",
        "39",
        "43",
        "47",
        "55",
        "59",
        "61",
        "62",
        "63",
        "71",
        "75",
        "79",
    }
    assert all(r.iso_code == f"KZ-{r.kato}" for r in regions)
    assert [r.kind for r in regions].count("city") == 3
    assert resolve_region(db, "KZ-62").name_kk == "Ұлытау облысы"
    assert all(r.name_ru and r.name_kk and r.name_en and r.zones for r in regions)


@pytest.mark.parametrize(
    "reference, kato",
    [
        ("KZ-75", "75"),
        ("75", "75"),
        ("Almaty", "75"),
        ("Алматы", "75"),
        ("алматы", "75"),
        ("KZ-ALA", "75"),
        ("Almaty Region", "19"),
        ("Алматинская область", "19"),
        ("Алматы облысы", "19"),
        ("Нур-Султан", "71"),
        ("Шығыс Қазақстан облысы", "63"),
        (71, "71"),
        ("  kz-10 ", "10"),
    ],
)
def test_a_region_is_found_by_any_code_or_name(db, reference, kato) -> None:
    assert resolve_region(db, reference).kato == kato


def test_an_unknown_region_lists_the_valid_ones(db) -> None:
    with pytest.raises(NotFound) as caught:
        resolve_region(db, "Narnia")
    message = str(caught.value)
    assert "Narnia" in message and "KZ-75 (Almaty)" in message and "KZ-10 (Abai Region)" in message


def test_boundaries_are_valid_multipolygons_covering_the_country(db) -> None:
    rows = db.execute(
        select(Region.kato, func.ST_IsValid(Region.boundary), func.ST_AsBinary(Region.boundary))
    ).all()
    total_km2 = 0.0
    for kato, valid, blob in rows:
        assert valid, kato
        shape = wkb.loads(bytes(blob))
        assert shape.geom_type == "MultiPolygon"
        total_km2 += abs(GEOD.geometry_area_perimeter(shape)[0]) / 1e6
    assert 2_650_000 < total_km2 < 2_800_000  # Kazakhstan: 2,724,900 km²


@pytest.mark.parametrize(
    "lon, lat, kato",
    [
        (71.4304, 51.1282, "71"),  # Astana, Baiterek
        (76.9286, 43.2389, "75"),  # Almaty
        (69.5901, 42.3155, "79"),  # Shymkent
        (80.2275, 50.4111, "10"),  # Semey, Abai region
        (51.9238, 47.0945, "23"),  # Atyrau
    ],
)
def test_a_point_is_placed_in_its_region(db, lon, lat, kato) -> None:
    assert region_at(db, f"SRID=4326;POINT({lon} {lat})") == int(kato)


def test_a_point_abroad_has_no_region(db) -> None:
    assert region_at(db, "SRID=4326;POINT(37.6173 55.7558)") is None


def test_region_lookup_reprojects_from_utm(db) -> None:
    x, y = Transformer.from_crs(4326, 32642, always_xy=True).transform(71.4304, 51.1282)
    assert x > 100_000 and y > 5_000_000  # metres, not degrees
    assert region_at(db, f"SRID=32642;POINT({x} {y})") == 71


@pytest.mark.parametrize("city, oblast", [(71, 11), (75, 19)])
def test_where_outlines_overlap_the_city_wins(db, city, oblast) -> None:
    overlap = db.scalar(
        select(
            func.ST_AsEWKT(
                func.ST_PointOnSurface(
                    func.ST_Intersection(
                        select(Region.boundary).where(Region.id == city).scalar_subquery(),
                        select(Region.boundary).where(Region.id == oblast).scalar_subquery(),
                    )
                )
            )
        )
    )
    assert overlap is not None and "POINT" in overlap
    assert region_at(db, overlap) == city


def test_no_two_regions_claim_the_same_ground(db) -> None:
    """Only border slivers of the packaged outlines (well under a hectare) may be shared."""
    shared_m2 = db.execute(
        text(
            "SELECT a.region_id, b.region_id,"
            " sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography))"
            " FROM region_parts a JOIN region_parts b"
            " ON a.region_id < b.region_id AND ST_Overlaps(a.geom, b.geom)"
            " GROUP BY 1, 2"
        )
    ).all()
    assert all(area < 1_000 for _, _, area in shared_m2), shared_m2


def test_the_importers_region_lookup_agrees_with_the_database(db) -> None:
    """``RegionPieces`` repeats ``jasyl_region_at`` in GEOS so an import can place a million
    points at once; both must file every point under the same region, borders and cities too."""
    rng = np.random.default_rng(20251128)
    points = np.column_stack([rng.uniform(45.0, 88.0, 3000), rng.uniform(40.0, 56.0, 3000)])
    cities = [(71.4304, 51.1282), (76.8860, 43.2389), (69.5901, 42.3155)]  # and their edges
    near = [(x + dx, y + dy) for x, y in cities for dx in (-0.3, 0, 0.3) for dy in (-0.3, 0, 0.3)]
    points = np.vstack([points, near])
    ours = RegionPieces.load(db).regions_at(shapely.points(points))
    database = db.execute(
        text(
            "SELECT coalesce(jasyl_region_at(ST_SetSRID(ST_MakePoint(x, y), 4326)), 0) "
            "FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) "
            "WITH ORDINALITY AS p(x, y, n) ORDER BY n"
        ),
        {"xs": points[:, 0].tolist(), "ys": points[:, 1].tolist()},
    ).scalars()
    theirs = np.array(list(database))
    assert len(set(theirs)) > 15 and (theirs == 0).any(), "the sample spans regions and abroad"
    assert (ours == theirs).all(), points[ours != theirs][:5]
