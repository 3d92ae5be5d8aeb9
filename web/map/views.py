"""The map page: a Folium (Leaflet) map whose plants and green spaces come as vector tiles."""

from __future__ import annotations

import json

import folium
from flask import Blueprint, render_template
from folium import JsCode
from folium.plugins import VectorGridProtobuf
from sqlalchemy import text

from web.db import read_connection

bp = Blueprint("map", __name__)

KAZAKHSTAN_CENTRE = (48.0, 67.0)
CONDITION_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]

REGIONS_GEOJSON = text(
    """
    SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary_simple, 0.01), 4)::json,
        'properties', json_build_object('iso', iso_code, 'name_en', name_en, 'name_ru', name_ru,
                                        'name_kk', name_kk))))
    FROM regions
    """
)

PLANT_STYLE = JsCode(
    "function(p, z) { var c = " + json.dumps(CONDITION_COLOURS) + ";"
    " return {radius: z > 16 ? 5 : (z > 14 ? 3 : 2), fill: true, weight: 0,"
    " fillColor: c[(p.condition || 1) - 1], fillOpacity: 0.85}; }"
)
GRID_STYLE = JsCode(
    "function(p, z) { var c = " + json.dumps(CONDITION_COLOURS) + ";"
    " var r = Math.min(14, 2 + Math.log(p.plants + 1) * 1.6);"
    " return {radius: r, fill: true, weight: 1, color: '#ffffff',"
    " fillColor: c[Math.round(p.condition) - 1], fillOpacity: 0.75}; }"
)
SPACE_STYLE = JsCode(
    "function(p, z) { return {fill: true, weight: 1, color: '#2e7d32',"
    " fillColor: p.category === 'public' ? '#66bb6a' : '#a5d6a7', fillOpacity: 0.35}; }"
)


def build_map() -> folium.Map:
    """The national map: region outlines from the database, plants and green spaces as tiles."""
    with read_connection() as connection:
        regions = connection.execute(REGIONS_GEOJSON).scalar()
    m = folium.Map(
        location=KAZAKHSTAN_CENTRE, zoom_start=5, tiles=None, prefer_canvas=True, control_scale=True
    )
    folium.GeoJson(
        regions,
        name="Regions",
        style_function=lambda _: {"color": "#455a64", "weight": 1.2, "fillOpacity": 0.03},
        tooltip=folium.GeoJsonTooltip(fields=["name_en", "name_ru", "name_kk"], labels=False),
    ).add_to(m)
    VectorGridProtobuf(
        "/tiles/green_spaces/{z}/{x}/{y}.pbf",
        "Green spaces",
        {
            "vectorTileLayerStyles": {"green_spaces": SPACE_STYLE},
            "maxNativeZoom": 18,
            "rendererFactory": JsCode("L.canvas.tile"),
        },
    ).add_to(m)
    VectorGridProtobuf(
        "/tiles/plants/{z}/{x}/{y}.pbf",
        "Plants",
        {
            "vectorTileLayerStyles": {"plants": PLANT_STYLE, "plants_grid": GRID_STYLE},
            "maxNativeZoom": 18,
            "rendererFactory": JsCode("L.canvas.tile"),
        },
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


@bp.get("/")
def index() -> str:
    root = build_map().get_root()
    root.render()  # plugins add their JS/CSS links to the header during render
    return render_template(
        "map/index.html",
        map_header=root.header.render(),
        map_html=root.html.render(),
        map_script=root.script.render(),
        legend=[(f"{grade}", colour) for grade, colour in enumerate(CONDITION_COLOURS, 1)],
    )
