"""Builders of real survey files (shapefiles, GeoPackage, CSV, XLSX) for the importer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

ASTANA_LONLAT = [(71.4304 + 0.0004 * i, 51.1282 + 0.0003 * i) for i in range(10)]
ALMATY_LONLAT = (76.9286, 43.2389)


def survey_frame(rows: int = 3, **overrides: list[Any]) -> pd.DataFrame:
    """Russian DBF-truncated columns, as contractors deliver them."""
    data: dict[str, list[Any]] = {
        "ИНВ_НОМ": [f"A-{i + 1}" for i in range(rows)],
        "ПОРОДА": ["Вяз приземистый", "ель колючая", "Берёза повислая"][:rows],
        "ДИАМ_СМ": [24.0, 30.0, 18.5][:rows],
        "ВЫС_М": [8.5, 12.0, 9.0][:rows],
        "СОСТ": ["хорошее", "II", "аварийное"][:rows],
        "ВОЗР_ЛЕТ": [20, 35, 15][:rows],
        "ПРИМ": ["у школы №5", "", "двор"][:rows],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def points(epsg: int, lonlat: list[tuple[float, float]]) -> list[shapely.Point]:
    to = Transformer.from_crs(4326, epsg, always_xy=True)
    return [shapely.Point(to.transform(x, y)) for x, y in lonlat]


def write_shapefile(
    path: Path,
    frame: pd.DataFrame,
    *,
    epsg: int = 32642,
    encoding: str = "cp1251",
    cpg: bool = False,
    prj: bool = True,
    ldid: int | None = None,
    geometry: list[Any] | None = None,
) -> Path:
    """Write ``frame`` as a shapefile; drop ``.cpg``/``.prj`` and set the LDID byte as asked."""
    geoms = geometry if geometry is not None else points(epsg, ASTANA_LONLAT[: len(frame)])
    survey = geopandas.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{epsg}")
    pyogrio.write_dataframe(survey, path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    if not prj:
        path.with_suffix(".prj").unlink()
    if ldid is not None:
        dbf = path.with_suffix(".dbf")
        data = bytearray(dbf.read_bytes())
        data[29] = ldid
        dbf.write_bytes(bytes(data))
    return path
