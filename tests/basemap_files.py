"""Small basemap archives the tests make themselves: MBTiles and PMTiles of a few PNG tiles.

Each tile is a plain colour (256 × 256) that says which tile it is, so a test can tell from the
bytes the server sends (or the pixels the browser draws) that the right tile came back.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
from pathlib import Path

from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from gis.basemap import tile_ranges

# Astana at zoom 10 and one tile of it at zoom 14; the country at zoom 0.
TILES = {
    (0, 0, 0): (200, 200, 200),
    (10, 715, 342): (250, 230, 180),
    (14, 11442, 5475): (120, 170, 250),
}
ATTRIBUTION = "© Jasyl test basemap"
# A third party's tile service, as a deployment would list it.
STREETS = {
    "id": "streets",
    "name": {"kk": "Көшелер", "ru": "Улицы", "en": "Streets"},
    "url": "https://tiles.example.kz/streets/{z}/{x}/{y}.png",
    "attribution": "© Example streets",
    "max_zoom": 18,
}


def tile_png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, format="PNG")
    return out.getvalue()


def make_mbtiles(path: Path, tiles: dict = TILES) -> Path:
    """An MBTiles 1.3 file: ``tile_row`` counted from the south, as the specification says."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        db.executemany(
            "INSERT INTO metadata VALUES (?, ?)",
            [("name", "test"), ("format", "png"), ("minzoom", "0"), ("maxzoom", "14")],
        )
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, tile_png(c)) for (z, x, y), c in tiles.items()],
        )
    db.close()
    return path


def make_pmtiles(path: Path, tiles: dict = TILES) -> Path:
    """A PMTiles v3 file of the same tiles, written with the ``pmtiles`` package."""
    with write(str(path)) as writer:
        for (z, x, y), colour in sorted(tiles.items(), key=lambda t: zxy_to_tileid(*t[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), tile_png(colour))
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": 0,
                "max_zoom": 14,
                "min_lon_e7": -1800000000,
                "min_lat_e7": -850000000,
                "max_lon_e7": 1800000000,
                "max_lat_e7": 850000000,
                "center_zoom": 10,
                "center_lon_e7": 714304000,
                "center_lat_e7": 511282000,
            },
            {"name": "test"},
        )
    return path


def basemaps_setting(file: Path, basemap_id: str = "city", max_zoom: int = 14) -> str:
    """``JASYL_BASEMAPS`` for one self-hosted archive."""
    names = {"kk": "Қала картасы", "ru": "Карта города", "en": "City map"}
    entry = {"id": basemap_id, "name": names, "file": str(file), "attribution": ATTRIBUTION}
    return json.dumps([{**entry, "max_zoom": max_zoom}], ensure_ascii=False)


def two_basemaps(folder: Path) -> str:
    """A city map (MBTiles) shown first, and imagery (PMTiles) offered in the switcher."""
    city = json.loads(basemaps_setting(make_mbtiles(folder / "city.mbtiles")))[0]
    imagery = json.loads(basemaps_setting(make_pmtiles(folder / "imagery.pmtiles"), "imagery"))[0]
    imagery["name"] = {"kk": "Ғарыш суреті", "ru": "Снимок", "en": "Imagery"}
    imagery["attribution"] = "© Imagery of the test"
    return json.dumps([city, imagery], ensure_ascii=False)


def noise_png(seed: int = 7) -> bytes:
    """A tile of random pixels: PNG cannot shrink it (~190 KB), so a few weigh megabytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (256, 256), random.Random(seed).randbytes(256 * 256 * 3)).save(
        out, format="PNG"
    )
    return out.getvalue()


def area_mbtiles(path: Path, bbox: tuple[float, float, float, float], zooms, data: bytes) -> int:
    """An MBTiles file holding ``data`` as every tile over ``bbox`` at ``zooms`` (west, south,
    east, north); returns how many tiles it holds."""
    ranges = tile_ranges(bbox, zooms)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "area"), ("format", "png")])
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for r in ranges for z, x, y in r.tiles()],
        )
    db.close()
    return sum(r.count for r in ranges)
