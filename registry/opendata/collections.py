"""The layers Jasyl publishes (OGC API collections and exports), declared once.

Each ``Collection`` names its table, key, geometry and the properties it shows, with the SQL that
computes each one. Public readers get the public properties of published rows; staff (see
``registry.access.sees_internal_fields``) also get the internal ones and unpublished rows. Adding a
layer (planting events, nurseries) is one ``Collection(...)`` entry in ``COLLECTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.errors import NotFound


@dataclass(frozen=True)
class Property:
    """One attribute of a feature: its public name, the SQL computing it over alias ``t``."""

    name: str
    sql: str
    type: str = "string"  # string | integer | number | boolean | date-time
    internal: bool = False
    title: str = ""
    import_field: str = ""  # the importer's field this column fills on a re-import


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    source: str  # FROM clause; the main table is aliased ``t``
    geometry: str
    # Where the spatial index is when not on ``geometry``: its Web Mercator copy (plants,
    # revision 0019), looked up with ``jasyl_mercator_box`` of a box in degrees.
    mercator: str | None = None
    key: str = "t.id"
    published: str | None = "t.published"
    temporal: str | None = "t.updated_at"
    region: str | None = "t.region_id"
    keywords: tuple[str, ...] = ()
    properties: tuple[Property, ...] = field(default_factory=tuple)
    # SQL text naming the stored row versions a feature is read from (PostgreSQL's ``xmin``
    # changes with every write of a row): the public files' version key hashes it per row
    # (``registry.opendata.public_files``), so it must cover the joined rows the properties show.
    row_version: str = "t.xmin::text"

    def overlaps_box(self, shape: str) -> str:
        """SQL: the geometry's box overlaps ``shape``'s (degrees), through the spatial index."""
        if self.mercator:
            return f"{self.mercator} && jasyl_mercator_box({shape})"
        return f"{self.geometry} && {shape}"

    def visible(self, internal: bool) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if internal or not p.internal)

    def prop(self, name: str, internal: bool) -> Property | None:
        return next((p for p in self.visible(internal) if p.name == name), None)


def _latest_ndvi(column: str) -> str:
    """SQL for one figure of a green space's newest NDVI measurement (NULL before any)."""
    return (
        f"(SELECT {column} FROM green_space_ndvi n WHERE n.green_space_id = t.id "  # noqa: S608
        "ORDER BY n.acquired_on DESC, n.id DESC LIMIT 1)"
    )


def _benefit(column: str) -> str:
    """SQL for one of a plant's benefit figures (revision 0026; NULL where none is computed):
    a scalar subquery, so counting features never computes it, only the rows returned."""
    return f"(SELECT b.{column}::float8 FROM jasyl_plant_benefit(t, jasyl_benefit_constants()) b)"  # noqa: S608


REGION_CODE = Property("region", "(SELECT iso_code FROM regions r WHERE r.id = t.region_id)")
UPDATED = Property("updated_at", "t.updated_at", "date-time")
PUBLISHED = Property("published", "t.published", "boolean", internal=True)
NOTES = Property("notes", "t.notes", internal=True)

PLANTS = Collection(
    id="plants",
    title="Plants",
    description="Trees and shrubs of urban green spaces: single plants, rows, groups, hedges.",
    source="plants t LEFT JOIN species s ON s.id = t.species_id",  # a stump may have none
    row_version="t.xmin::text || '.' || coalesce(s.xmin::text, '')",
    geometry="t.geom",
    mercator="t.geom_3857",
    keywords=("trees", "shrubs", "inventory", "деревья", "ағаштар"),
    properties=(
        Property("inventory_number", "t.inventory_number", import_field="inventory_number"),
        Property("species", "s.latin", import_field="species"),
        Property("species_id", "t.species_id", "integer"),
        Property("species_ru", "s.name_ru"),
        Property("species_kk", "s.name_kk"),
        Property("planting_form", "t.planting_form::text", import_field="planting_form"),
        Property("quantity", "t.quantity", "integer", import_field="quantity"),
        Property("length_m", "t.length_m::float8", "number", import_field="length_m"),
        Property("area_m2", "t.area_m2::float8", "number", import_field="area_m2"),
        Property("planting_year", "t.planting_year", "integer", import_field="planting_year"),
        Property("age_years", "t.age_years", "integer", import_field="age_years"),
        Property("height_m", "t.height_m::float8", "number", import_field="height"),
        Property(
            "trunk_diameter_cm",
            "t.trunk_diameter_cm::float8",
            "number",
            import_field="trunk_diameter",
        ),
        Property(
            "crown_diameter_m",
            "t.crown_diameter_m::float8",
            "number",
            import_field="crown_diameter",
        ),
        Property("condition", "t.condition", "integer", import_field="condition"),
        Property("hazardous", "t.hazardous", "boolean", import_field="hazardous"),
        Property("status", "t.status::text", import_field="status"),
        Property("address", "t.address", import_field="address"),
        Property("green_space_id", "t.green_space_id", "integer"),
        Property(
            "co2_stored_kg", _benefit("co2_stored_kg"), "number", title="CO₂ stored, kg (estimate)"
        ),
        Property(
            "co2_sequestered_kg_per_year",
            _benefit("co2_sequestered_kg"),
            "number",
            title="CO₂ sequestered, kg per year (estimate)",
        ),
        Property(
            "rain_intercepted_m3_per_year",
            _benefit("rain_m3"),
            "number",
            title="Rain intercepted, m³ per year (estimate)",
        ),
        REGION_CODE,
        UPDATED,
        Property("notes", "t.notes", internal=True, import_field="notes"),
        PUBLISHED,
    ),
)

GREEN_SPACES = Collection(
    id="green_spaces",
    title="Green spaces",
    description="Parks, squares, boulevards and other green spaces (ГОСТ 28329-89 categories).",
    source="green_spaces t",
    row_version=f"t.xmin::text || '.' || coalesce({_latest_ndvi('n.xmin::text')}, '')",
    geometry="t.geom",
    keywords=("parks", "green spaces", "скверы", "саябақтар"),
    properties=(
        Property("name", "t.name"),
        Property("category", "t.category::text"),
        Property("kind", "t.kind"),
        Property("balance_holder", "t.balance_holder"),
        Property("area_m2", "round(t.area_m2::numeric, 1)::float8", "number"),
        Property("ndvi_date", _latest_ndvi("n.acquired_on"), "date-time"),
        Property("ndvi_mean", _latest_ndvi("round(n.ndvi_mean::numeric, 3)::float8"), "number"),
        Property(
            "vegetated_share",
            _latest_ndvi("round(n.vegetated_share::numeric, 3)::float8"),
            "number",
        ),
        REGION_CODE,
        UPDATED,
        NOTES,
        PUBLISHED,
    ),
)

REGIONS = Collection(
    id="regions",
    title="Regions",
    description="The oblasts and cities of republican significance (ISO 3166-2:KZ, KATO).",
    source="regions t",
    geometry="t.boundary_simple",
    published=None,
    temporal=None,
    region="t.id",
    keywords=("regions", "области", "облыстар"),
    properties=(
        Property("iso_code", "t.iso_code"),
        Property("kato", "t.kato"),
        Property("kind", "t.kind"),
        Property("name_en", "t.name_en"),
        Property("name_ru", "t.name_ru"),
        Property("name_kk", "t.name_kk"),
        Property("centre", "t.centre"),
    ),
)

NURSERIES = Collection(
    id="nurseries",
    title="Forest nurseries",
    description="Forest nurseries: where they are and who runs them (stock is for staff only).",
    source="nurseries t",
    geometry="t.location",
    published=None,
    temporal="t.created_at",
    keywords=("nurseries", "питомники", "көшетхана"),
    properties=(
        Property("code", "t.code"),
        Property("name", "t.name"),
        Property("operator", "t.operator"),
        Property("zones", "array_to_string(t.zones, ',')"),
        REGION_CODE,
    ),
)

PLANTING_EVENTS = Collection(
    id="planting_events",
    title="Planting events",
    description="Plantings done, located by their green space; public once the space is.",
    source=(
        "planting_events t JOIN species s ON s.id = t.species_id "
        "LEFT JOIN green_spaces g ON g.id = t.green_space_id"
    ),
    row_version="t.xmin::text || '.' || s.xmin::text || '.' || coalesce(g.xmin::text, '')",
    geometry="g.geom",
    published="coalesce(g.published, false)",
    temporal="t.planted_on",
    keywords=("planting", "посадка", "отырғызу"),
    properties=(
        Property("planted_on", "t.planted_on", "date-time"),
        Property("year", "t.year", "integer"),
        Property("species", "s.latin"),
        Property("species_ru", "s.name_ru"),
        Property("species_kk", "s.name_kk"),
        Property("planting_form", "t.planting_form::text"),
        Property("quantity", "t.quantity::float8", "number"),
        Property("unit", "t.unit::text"),
        Property("green_space_id", "t.green_space_id", "integer"),
        Property("performer_kind", "t.performer_kind::text"),
        Property("performer", "t.performer", internal=True),
        REGION_CODE,
        NOTES,
    ),
)

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (PLANTS, GREEN_SPACES, REGIONS, NURSERIES, PLANTING_EVENTS)
}


def get_collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"no collection {collection_id!r}; collections: {', '.join(COLLECTIONS)}",
            collection=collection_id,
        ) from None
