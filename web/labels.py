"""Names of the registry's codes (condition grades, statuses, forms, categories, the nursery
ledger's stages and kinds) in the reader's language, and numbers written the reader's way, for
templates. Condition grades carry their kk/ru/en names in the model itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from numbers import Number
from typing import Any

from flask import Flask, g
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from registry.inventory.models import CONDITION_GRADES
from registry.nursery.models import (
    LossCause,
    MovementKind,
    RootSystem,
    ShipmentStatus,
    Stage,
)
from web.db import read_connection
from web.i18n import language

STATUS_NAMES = {
    "alive": _l("alive"),
    "dead": _l("dead"),
    "removed": _l("removed"),
    "stump": _l("stump"),
    "vacant": _l("vacant site"),
}
FORM_NAMES = {
    "solitary": _l("solitary"),
    "row": _l("row"),
    "group": _l("group"),
    "hedge": _l("hedge"),
    "massif": _l("massif"),
}
CATEGORY_NAMES = {
    "public": _l("public use"),
    "limited": _l("limited use"),
    "special": _l("special purpose"),
}
# The nursery's codes, keyed by their enums (a StrEnum member and its text look up alike).
STAGE_NAMES = {
    Stage.SOWN: _l("sown"),
    Stage.SEEDLINGS: _l("seedlings"),
    Stage.TRANSPLANTED: _l("transplanted saplings"),
    Stage.READY: _l("ready to dispatch"),
}
ROOT_SYSTEM_NAMES = {RootSystem.OPEN: _l("open roots"), RootSystem.CLOSED: _l("closed roots")}
MOVEMENT_NAMES = {
    MovementKind.SOWING: _l("sowing"),
    MovementKind.RECEIPT: _l("receipt"),
    MovementKind.GERMINATION: _l("germination count"),
    MovementKind.TRANSPLANT_OUT: _l("transplanted out"),
    MovementKind.TRANSPLANT_IN: _l("transplanted in"),
    MovementKind.STOCKTAKE: _l("stocktake"),
    MovementKind.LOSS: _l("loss"),
    MovementKind.DISPATCH: _l("dispatch"),
    MovementKind.REVERSAL: _l("reversal"),
}
LOSS_CAUSE_NAMES = {
    LossCause.FROST: _l("frost"),
    LossCause.DROUGHT: _l("drought"),
    LossCause.PESTS: _l("pests"),
    LossCause.DISEASE: _l("disease"),
    LossCause.CULLING: _l("culling"),
    LossCause.OTHER: _l("other cause"),
}
SHIPMENT_STATUS_NAMES = {
    ShipmentStatus.DISPATCHED: _l("dispatched"),
    ShipmentStatus.RECEIVED: _l("received"),
}
ZONE_NAMES = {
    "forest_steppe": _l("forest-steppe"),
    "steppe": _l("steppe"),
    "dry_steppe": _l("dry steppe"),
    "semi_desert": _l("semi-desert"),
    "desert": _l("desert"),
    "foothill": _l("foothills"),
    "mountain": _l("mountains"),
}
CARE_KIND_NAMES = {
    "watering": _l("watering"),
    "pruning_formative": _l("formative pruning"),
    "pruning_sanitary": _l("sanitary pruning"),
    "crown_reduction": _l("crown reduction"),
    "sanitary_felling": _l("sanitary felling"),
    "stump_removal": _l("stump removal"),
    "fertilising": _l("fertilising"),
    "pest_control": _l("pest control"),
    "mowing": _l("mowing"),
    "winter_protection": _l("winter protection"),
    "irrigation_repair": _l("irrigation repair"),
}
REPORT_STATUS_NAMES = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "approved": _l("approved"),
    "returned": _l("returned"),
}
# Units of planting and care quantities (pieces, running metres, m², m³, hectares).
UNIT_NAMES = {
    "pieces": _l("pcs"),
    "running_m": _l("running m"),
    "m2": "m²",
    "m3": "m³",
    "ha": _l("ha"),
}
LANGUAGE_COLUMN = {"ru": 0, "kk": 1, "en": 2}


def condition_names() -> dict[int, str]:
    column = LANGUAGE_COLUMN.get(language(), 0)
    return {grade: names[column] for grade, names in CONDITION_GRADES.items()}


def export_terms() -> dict[str, dict[str, str]]:
    """The names of the codes a report's CSV/XLSX carries (planting forms, units, kinds of care,
    unassessed condition), in the current request's language, for ``registry.reports.exports``."""
    return {
        "planting_form": {code: str(name) for code, name in FORM_NAMES.items()},
        "unit": {code: str(name) for code, name in UNIT_NAMES.items()},
        "kind": {code: str(name) for code, name in CARE_KIND_NAMES.items()},
        "condition": {"not_assessed": str(_l("not assessed"))},
    }


def local_name(row: Mapping[str, Any]) -> str:
    """A species' name in the reader's language from a report row carrying ``name_ru``,
    ``name_kk`` and ``name_en`` (Russian when that language's name is missing)."""
    return row.get(f"name_{language()}") or row["name_ru"]


def seed_origin_name(row: Mapping[str, Any]) -> str:
    """A seed provenance as a reader names it: "seed zone · collection place", or the supplier
    of stock the nursery bought rather than grew from its own seed lot."""
    if row.get("supplier") is not None:
        return str(_l("bought from %(supplier)s", supplier=row["supplier"]))
    return " · ".join(part for part in (row["seed_zone"], row.get("collection_place")) if part)


NAMES = text(
    """
    SELECT 'region', iso_code, name_kk, name_ru, name_en FROM regions
    UNION ALL SELECT 'species', code, name_kk, name_ru, name_en FROM species
    """
)


def _names() -> dict[tuple[str, str], dict[str, str]]:
    """Every region's and species' names, read once per request (20 regions and a catalogue
    of a few hundred taxa: cheaper than a join in every query that groups by code)."""
    if "jasyl_names" not in g:
        with read_connection() as connection:
            g.jasyl_names = {
                (kind, code): {"kk": kk, "ru": ru, "en": en}
                for kind, code, kk, ru, en in connection.execute(NAMES)
            }
    return g.jasyl_names


def _named(kind: str, code: str | None) -> str:
    if code is None:
        return ""
    names = _names().get((kind, code))
    if names is None:
        return code  # not in the reference: the code is all there is to show
    return names.get(language()) or names["ru"]


def region_name(iso_code: str | None) -> str:
    """A region's name in the reader's language from its ISO code (KZ-75 → Алматы / Almaty)."""
    return _named("region", iso_code)


def species_name(code: str | None) -> str:
    """A species' name in the reader's language from its catalogue code (``ulmus_pumila`` →
    Вяз приземистый / Siberian elm), for the tables that group by code."""
    return _named("species", code)


REGION_CODE = re.compile(r"\bKZ-\d{2}\b")


def with_region_names(text: str | None) -> str:
    """A stored note with its region codes read out ("shipment 4 to KZ-71" → "shipment 4 to
    Astana"), for ledgers whose reasons the services wrote with codes."""
    return REGION_CODE.sub(lambda found: region_name(found.group()), text or "")


def whole_number(value: Number | None) -> str:
    """A count or sum of money rounded to a whole number and grouped the reader's way: 4 511 501
    in Kazakh and Russian, 4,511,501 in English (an empty cell for no value)."""
    return "" if value is None else format_decimal(round(value), format="#,##0")


def decimal_number(value: Number | None, places: int = 1) -> str:
    """A measure or a rate with at least ``places`` decimals (and up to two), written the
    reader's way: 12,5 in Kazakh and Russian, 12.5 in English (an empty cell for no value)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0." + "0" * places + "#" * max(0, 2 - places))


def init_app(app: Flask) -> None:
    app.add_template_filter(whole_number, "number")
    app.add_template_filter(decimal_number, "decimal")
    app.add_template_filter(with_region_names, "region_names")
    app.add_template_global(local_name)
    app.add_template_global(seed_origin_name)
    app.add_template_global(region_name)
    app.add_template_global(species_name)

    @app.context_processor
    def labels() -> dict:
        return {
            "condition_names": condition_names(),
            "status_names": STATUS_NAMES,
            "form_names": FORM_NAMES,
            "category_names": CATEGORY_NAMES,
            "stage_names": STAGE_NAMES,
            "root_system_names": ROOT_SYSTEM_NAMES,
            "movement_names": MOVEMENT_NAMES,
            "loss_cause_names": LOSS_CAUSE_NAMES,
            "shipment_status_names": SHIPMENT_STATUS_NAMES,
            "zone_names": ZONE_NAMES,
            "care_kind_names": CARE_KIND_NAMES,
            "unit_names": UNIT_NAMES,
            "report_status_names": REPORT_STATUS_NAMES,
        }
