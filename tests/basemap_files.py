"""Small basemap archives the tests make themselves: MBTiles and PMTiles of a few PNG tiles,
and of vector tiles in the Protomaps basemap's layers.

Each PNG tile is a plain colour (256 × 256) that says which tile it is, so a test can tell from
the bytes the server sends (or the pixels the browser draws) that the right tile came back. Each
vector tile is land with water over its western half and a main road across it, so a page that
draws it shows the style's colours for land and water side by side.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import sqlite3
from pathlib import Path

import mapbox_vector_tile
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write
from shapely.geometry import LineString, box

from gis.basemap import tile_ranges, tile_xy

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


def vector_tile() -> bytes:
    """One gzipped Mapbox Vector Tile (extent 4096): earth, water west of the middle, a road."""
    layers = [
        {"name": "earth", "features": [{"geometry": box(0, 0, 4096, 4096).wkt, "properties": {}}]},
        {
            "name": "water",
            "features": [{"geometry": box(0, 0, 2048, 4096).wkt, "properties": {"kind": "water"}}],
        },
        {
            "name": "roads",
            "features": [
                {
                    "geometry": LineString([(0, 2048), (4096, 2048)]).wkt,
                    "properties": {"kind": "major_road", "kind_detail": "primary"},
                }
            ],
        },
    ]
    return gzip.compress(mapbox_vector_tile.encode(layers))


def vector_tiles(lat: float = 51.1282, lon: float = 71.4304, zooms: range = range(15)) -> dict:
    """The tile holding Astana and its eight neighbours at each zoom, all the same tile."""
    tile, tiles = vector_tile(), {}
    for z in zooms:
        x, y = tile_xy(lon, lat, z)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if 0 <= x + dx < 1 << z and 0 <= y + dy < 1 << z:
                    tiles[(z, x + dx, y + dy)] = tile
    return tiles


def make_vector_mbtiles(path: Path) -> Path:
    """An MBTiles of vector tiles (format ``pbf``, each tile gzipped, as tippecanoe writes)."""
    make_mbtiles(path, vector_tiles())
    with sqlite3.connect(path) as db:
        db.execute("UPDATE metadata SET value = 'pbf' WHERE name = 'format'")
    db.close()
    return path


def make_vector_pmtiles(path: Path) -> Path:
    return make_pmtiles(path, vector_tiles(), TileType.MVT, Compression.GZIP)


def make_mbtiles(path: Path, tiles: dict = TILES) -> Path:
    """An MBTiles 1.3 file: ``tile_row`` counted from the south, as the specification says.
    ``tiles`` maps z/x/y to a colour, or to a tile's bytes."""
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
            [(z, x, (1 << z) - 1 - y, tile_bytes(c)) for (z, x, y), c in tiles.items()],
        )
    db.close()
    return path


def tile_bytes(tile: tuple[int, int, int] | bytes) -> bytes:
    return tile if isinstance(tile, bytes) else tile_png(tile)


def make_pmtiles(
    path: Path,
    tiles: dict = TILES,
    tile_type: TileType = TileType.PNG,
    compression: Compression = Compression.NONE,
) -> Path:
    """A PMTiles v3 file of the same tiles, written with the ``pmtiles`` package."""
    with write(str(path)) as writer:
        for (z, x, y), tile in sorted(tiles.items(), key=lambda t: zxy_to_tileid(*t[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), tile_bytes(tile))
        writer.finalize(
            {
                "tile_type": tile_type,
                "tile_compression": compression,
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


def area_mbtiles(
    path: Path, bbox: tuple[float, float, float, float], zooms, data: bytes, fmt: str = "png"
) -> int:
    """An MBTiles file holding ``data`` (tiles of format ``fmt``) as every tile over ``bbox`` at
    ``zooms`` (west, south, east, north); returns how many tiles it holds."""
    ranges = tile_ranges(bbox, zooms)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "area"), ("format", fmt)])
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for r in ranges for z, x, y in r.tiles()],
        )
    db.close()
    return sum(r.count for r in ranges)
