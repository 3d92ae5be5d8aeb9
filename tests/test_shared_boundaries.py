"""Our package-sourced region boundaries against an independent source (geokz, in ../shared)."""

from __future__ import annotations

import pyogrio
import pytest
from pyproj import Geod
from shapely import wkb
from sqlalchemy import func, select

from registry.regions.models import Region

pytestmark = pytest.mark.shared
GEOD = Geod(ellps="WGS84")


def test_each_region_matches_geokz_in_area_and_place(db, shared_data) -> None:
    geokz = pyogrio.read_dataframe(
        shared_data / "kz-admin-geokz-2024" / "kaz_admbnda_adm1_2024.shp"
    )
    assert len(geokz) == 20
    ours = {
        kato: wkb.loads(bytes(blob))
        for kato, blob in db.execute(select(Region.kato, func.ST_AsBinary(Region.boundary)))
    }
    for row in geokz.itertuples():
        kato = row.ADM1_PCODE.removeprefix("KZ")
        mine = ours[kato]
        theirs_area = abs(GEOD.geometry_area_perimeter(row.geometry)[0])
        mine_area = abs(GEOD.geometry_area_perimeter(mine)[0])
        assert mine_area == pytest.approx(theirs_area, rel=0.08), row.ADM1_EN
        assert (
            mine.contains(row.geometry.representative_point())
            or mine.distance(row.geometry.representative_point()) < 0.05
        ), row.ADM1_EN


def test_regional_centres_fall_in_their_region(db, shared_data) -> None:
    """Each centre (Semey, Kokshetau … Baikonur) lies in the region geokz names for it."""
    centres = pyogrio.read_dataframe(
        shared_data / "kz-admin-geokz-2024" / "kaz_admbnda_cnt1_2022.shp"
    )
    by_kato = dict(db.execute(select(Region.kato, Region.id)).all())
    found, expected = {}, {}
    for row in centres.itertuples():
        found[row.NAME_EN] = db.scalar(
            select(func.jasyl_region_at(func.ST_GeomFromText(row.geometry.wkt, 4326)))
        )
        expected[row.NAME_EN] = by_kato[row.ADM1_PCODE.removeprefix("KZ")]
    assert len(found) == len(centres) == 21
    assert found == expected
