"""The map page and the region pages: a Folium (Leaflet) map whose plants and green spaces come
as vector tiles, styled, filtered and clicked through ``web/static/jasyl-map.js``.

The page never carries plants itself (it weighs the same with a thousand or millions of them):
filters become tile query parameters, and a click asks ``/api/v1/plants/at`` what is there.
"""

from __future__ import annotations

import json
import time

import folium
from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext as _
from folium import JsCode
from folium.plugins import VectorGridProtobuf
from sqlalchemy import text

from registry.access import may_edit_inventory, readable_regions
from registry.benefits.rules import CO2_CLASS_BREAKS_KG
from registry.inventory import queries
from registry.inventory.models import ROMAN
from registry.regions.services import list_regions, resolve_region
from registry.species.services import list_species
from web.actors import current_actor
from web.basemap.views import add_basemaps
from web.db import read_connection, request_session
from web.i18n import language
from web.labels import STATUS_NAMES, condition_names, decimal_number

bp = Blueprint("map", __name__)

KAZAKHSTAN_CENTRE = (48.0, 67.0)
CONDITION_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]
NOT_ASSESSED_COLOUR = "#8c6bb1"  # unassessed plants: apart from the grades, not grey "other"
STATUS_COLOURS = {
    "alive": "#2e7d32",
    "dead": "#c62828",
    "removed": "#757575",
    "stump": "#8d6e63",
    "vacant": "#90caf9",
}
YEAR_BANDS = [(None, 1979, "#4a148c"), (1980, 1999, "#1565c0"), (2000, 2009, "#00897b")]
YEAR_BANDS += [(2010, 2019, "#7cb342"), (2020, None, "#fdd835")]
SPECIES_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
SPECIES_COLOURS += ["#a6761d", "#1f78b4", "#b2df8a", "#fb9a99"]

# Outlines simplified by 0.03° (about 3 km) need no third decimal (about 100 m) in the page.
REGIONS_GEOJSON = text(
    """
    SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary_simple, 0.03), 2)::json,
        'properties', json_build_object('iso', iso_code, 'name', CASE :lang
            WHEN 'kk' THEN name_kk WHEN 'en' THEN name_en ELSE name_ru END))))
    FROM regions
    """
)
COMMON_SPECIES = text(
    """
    SELECT species_id FROM plants WHERE published
    GROUP BY species_id ORDER BY count(*) DESC LIMIT :n
    """
)
# Styles are looked up by MVT layer name; the dict is raw JS because folium would camel-case
# the keys ("green_spaces" → "greenSpaces") and the styles would silently never apply.
PLANT_STYLES = JsCode("{plants: Jasyl.plantStyle, plants_grid: Jasyl.gridStyle}")
SPACE_STYLES = JsCode("{green_spaces: Jasyl.spaceStyle}")


def build_map(lang: str, centre=KAZAKHSTAN_CENTRE, zoom: int = 5) -> tuple[folium.Map, dict]:
    """The map over the configured basemaps (``web.basemap``) with regions from the database,
    plants and green spaces as vector tiles, and,
    for those who may read planting plans, a "Planned plantings" layer (off until chosen) that
    the page script fills per view from ``/api/v1/planting/planned``."""
    with read_connection() as connection:
        regions = connection.execute(REGIONS_GEOJSON, {"lang": lang}).scalar()
    m = folium.Map(location=centre, zoom_start=zoom, tiles=None, prefer_canvas=True)
    basemaps = add_basemaps(m, lang)
    outlines = folium.GeoJson(
        regions,
        name=_("Regions"),
        style_function=lambda _: {"color": "#455a64", "weight": 1.2, "fillOpacity": 0.03},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(m)
    spaces = VectorGridProtobuf(
        "/tiles/green_spaces/{z}/{x}/{y}.pbf",
        _("Green spaces"),
        {
            "vectorTileLayerStyles": SPACE_STYLES,
            "maxNativeZoom": 18,
            "rendererFactory": JsCode("L.canvas.tile"),
        },
    ).add_to(m)
    plants = VectorGridProtobuf(
        "/tiles/plants/{z}/{x}/{y}.pbf",
        _("Plants"),
        {
            "vectorTileLayerStyles": PLANT_STYLES,
            "maxNativeZoom": 18,
            "rendererFactory": JsCode("L.canvas.tile"),
        },
    ).add_to(m)
    names = {
        "map": m.get_name(),
        "plants": plants.get_name(),
        "spaces": spaces.get_name(),
        "regions": outlines.get_name(),
        "basemaps": basemaps,
    }
    if sees_plans(current_actor()):
        planned = folium.FeatureGroup(name=_("Planned plantings"), show=False).add_to(m)
        names["planned"] = planned.get_name()
    folium.LayerControl(collapsed=False, position="bottomright").add_to(m)
    return m, names


def sees_plans(actor) -> bool:
    """Whether the actor may read some region's planting plans (``registry.access``)."""
    return readable_regions(actor) != frozenset()


_common: dict[str, tuple[float, list[int]]] = {}
COMMON_SPECIES_SECONDS = 600


def common_species() -> list[int]:
    """The species the legend names when colouring by species: the most planted, counted at
    most every ten minutes per process (a full count of millions of plants per page is not)."""
    key = current_app.config["DATABASE_URL"]
    counted_at, species = _common.get(key, (0.0, []))
    if time.monotonic() - counted_at > COMMON_SPECIES_SECONDS:
        with read_connection() as connection:
            rows = connection.execute(COMMON_SPECIES, {"n": len(SPECIES_COLOURS)})
            species = [row[0] for row in rows]
        _common[key] = (time.monotonic(), species)
    return species


def planned_texts(names: dict) -> dict:
    """Labels and address of the "Planned plantings" layer, for pages that have it."""
    if "planned" not in names:
        return {}
    return {
        "planned": _("Planned plantings"),
        "plannedNote": _("Planned plantings: areas and green spaces of planting plans"),
        "plannedUrl": url_for("planting.planned"),
        "planPage": _("The plan and its projected benefits"),
    }


# CO₂ stored per plant record, light → dark (``CO2_CLASS_BREAKS_KG``: 6 classes); plants
# without a figure (shrubs, hedges, no trunk diameter) are drawn hollow, apart from the classes.
CO2_COLOURS = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"]
NO_FIGURE_COLOUR = "#ffffff"


def co2_classes() -> list[dict]:
    """The legend of the "CO₂ stored" mode: class 1–6 (as the tiles' ``co2``) in tonnes."""
    tonnes = [decimal_number(kg / 1000, 1) for kg in CO2_CLASS_BREAKS_KG]
    labels = [f"< {tonnes[0]}"]
    labels += [f"{lo}–{hi}" for lo, hi in zip(tonnes, tonnes[1:], strict=False)]
    labels.append(f"≥ {tonnes[-1]}")
    return [
        {"value": n, "colour": colour, "label": f"{label} {_('t CO₂')}"}
        for n, (label, colour) in enumerate(zip(labels, CO2_COLOURS, strict=True), start=1)
    ]


def map_settings(session, names: dict, lang: str) -> dict:
    """What the page script needs: layer names, colours, legend labels in the reader's language."""
    actor = current_actor()
    common = common_species()
    species = {s.id: s for s in list_species(session)}
    return {
        "layers": names,
        "canEdit": may_edit_inventory(actor),
        "newPlantUrl": url_for("editing.new_plant"),
        "newGreenSpaceUrl": url_for("editing.new_green_space"),
        "conditions": [
            {"value": g, "colour": c, "label": f"{ROMAN[g]} · {name}"}
            for (g, name), c in zip(condition_names().items(), CONDITION_COLOURS, strict=True)
        ],
        "notAssessed": {"colour": NOT_ASSESSED_COLOUR, "label": _("not assessed")},
        "statuses": [
            {"value": s, "colour": c, "label": str(STATUS_NAMES[s])}
            for s, c in STATUS_COLOURS.items()
        ],
        "years": [
            {"from": lo, "to": hi, "colour": c, "label": f"{lo or '…'}–{hi or '…'}"}
            for lo, hi, c in YEAR_BANDS
        ],
        "co2": co2_classes(),
        "noFigure": {
            "colour": NO_FIGURE_COLOUR,
            "label": _("no figure (shrub, hedge, no diameter)"),
        },
        "species": [
            {"value": sid, "colour": c, "label": species[sid].name(lang)}
            for sid, c in zip(common, SPECIES_COLOURS, strict=False)
            if sid in species
        ],
        "text": {
            "other": _("other or unknown"),
            "cells": _("At low zoom: plants counted per cell, coloured by mean condition"),
            "co2Note": _("CO₂ stored per plant record, estimates; shown from zoom 13"),
            "nothing": _("Nothing found"),
            "addHint": _("Click the map where the new plant stands"),
            "reportPlace": _("Report this place"),
            "reportUrl": url_for("public_reports.new_report"),
            "locate": _("Show where I am"),
            "accuracy": _("You are within {distance} m of this point"),
            "noPosition": _("Your position is not known"),
            **planned_texts(names),
        },
    }


def page(template: str, centre=KAZAKHSTAN_CENTRE, zoom: int = 5, **context) -> str:
    lang = language()
    m, names = build_map(lang, centre, zoom)
    root = m.get_root()
    root.render()  # plugins add their JS/CSS links to the header during render
    with request_session() as session:
        settings = map_settings(session, names, lang)
        species = sorted(list_species(session), key=lambda s: s.name(lang))
        regions = list_regions(session)
    return render_template(
        template,
        map_header=root.header.render(),
        map_html=root.html.render(),
        map_script=root.script.render(),
        settings=json.dumps(settings, ensure_ascii=False),
        species=species,
        regions=regions,
        lang=lang,
        can_edit=settings["canEdit"],
        **context,
    )


@bp.get("/")
def index() -> str:
    return page("map/index.html")


@bp.get("/regions")
def regions() -> str:
    with request_session() as session:
        found = list_regions(session)
    return render_template("map/regions.html", regions=found, lang=language())


@bp.get("/regions/<reference>")
def region(reference: str) -> str:
    actor = current_actor()
    with request_session() as session:
        found = resolve_region(session, reference)
        numbers = queries.region_numbers(session, actor, found.id)
        with read_connection() as connection:
            bounds = connection.execute(
                text("SELECT ST_Extent(boundary_simple)::box2d::text FROM regions WHERE id = :r"),
                {"r": found.id},
            ).scalar()
    return page(
        "map/region.html",
        region=found,
        numbers=numbers,
        bounds=bounds,
        colours=CONDITION_COLOURS,
        not_assessed_colour=NOT_ASSESSED_COLOUR,
    )
