"""A region's rain, supplied by a person: yearly precipitation and rain events, with a source.

Rain interception needs the number of rain events a year, and no source the registry trusts
gives it for Kazakh cities (``reference/precipitation.csv`` leaves it empty): nothing is
invented. The ministry (or an admin) who has a count sets it with ``jasyl benefits rain set``;
the change is audited (entity ``region_precipitation``) and the region's benefit tallies are
recounted in the same transaction, so every total that reads them moves at once. A later
``sync_reference`` does not overwrite a row that carries an events count (see ``reference``).

The recount holds a SHARE lock on ``plants`` until the commit: a plant written meanwhile would
have its figures booked with the old rain, so writers wait (seconds for a large region).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access import Actor, require_ministry
from registry.audit.services import record_changes, record_creation
from registry.benefits.models import RegionPrecipitation
from registry.errors import InvalidValue
from registry.regions.services import resolve_region

MAX_ANNUAL_MM = 5000.0  # wetter than any Kazakh station by far: a typo, not a climate
MAX_EVENTS = 365
SOURCE_CHARS = 500
FIELDS = ("annual_mm", "rain_events_per_year", "source")

# The region's tallies from its plants, as revision 0026's trigger books them (per plant
# ``jasyl_plant_benefit``, rounded to 0.001 before it is added).
FORGET = text("DELETE FROM benefit_tallies WHERE region_id = :region")
RECOUNT = text(
    """
    INSERT INTO benefit_tallies (region_id, green_space_id, plants, trees, without_method,
        without_dbh, outside_range, not_assessed, without_rain, co2_stored_kg,
        co2_sequestered_kg, rain_m3)
    SELECT p.region_id, p.green_space_id, count(*),
        sum(CASE WHEN b.kind = 'computed' THEN p.quantity ELSE 0 END),
        count(*) FILTER (WHERE b.kind = 'no_method'),
        count(*) FILTER (WHERE b.kind = 'no_dbh'),
        count(*) FILTER (WHERE b.kind = 'computed' AND b.outside_range),
        count(*) FILTER (WHERE b.kind = 'computed' AND b.co2_sequestered_kg IS NULL),
        count(*) FILTER (WHERE b.kind = 'computed' AND b.rain_m3 IS NULL),
        sum(coalesce(b.co2_stored_kg, 0)), sum(coalesce(b.co2_sequestered_kg, 0)),
        sum(coalesce(b.rain_m3, 0))
    FROM (SELECT jasyl_benefit_constants() AS k OFFSET 0) kc, plants p,
         jasyl_plant_benefit(p, kc.k) b
    WHERE p.region_id = :region
    GROUP BY p.region_id, p.green_space_id
    """
)


def check_rain(annual_mm: float, events: int, source: str) -> tuple[float, int, str]:
    """The three values as stored, or an error naming the one that cannot be."""
    if not math.isfinite(annual_mm) or not 0 < annual_mm <= MAX_ANNUAL_MM:
        raise InvalidValue("annual_mm", f"must be above 0 and at most {MAX_ANNUAL_MM:g}", annual_mm)
    if not 1 <= events <= MAX_EVENTS:
        raise InvalidValue("events", f"must be a count of 1 to {MAX_EVENTS} a year", events)
    source = source.strip()
    if not source:
        raise InvalidValue("source", "is required: where the figures come from")
    if len(source) > SOURCE_CHARS:
        raise InvalidValue("source", f"is longer than {SOURCE_CHARS} characters", source[:80])
    return annual_mm, events, source


def set_rain(
    session: Session, actor: Actor, region: str, annual_mm: float, events: int, source: str
) -> dict[str, Any]:
    """Store the region's precipitation and rain events, audited, and recount its tallies."""
    found = resolve_region(session, region)
    require_ministry(session, actor, "set", "rain reference data", found.id, found.id)
    annual_mm, events, source = check_rain(annual_mm, events, source)
    session.execute(text("LOCK TABLE plants IN SHARE MODE"))
    row = session.get(RegionPrecipitation, found.id, with_for_update=True)
    new = {"annual_mm": annual_mm, "rain_events_per_year": float(events), "source": source}
    if row is None:
        session.add(RegionPrecipitation(region_id=found.id, **new))
        record_creation(session, actor, "region_precipitation", found.id, found.id, new)
    else:
        changes = {f: (getattr(row, f), new[f]) for f in FIELDS if getattr(row, f) != new[f]}
        for field, (_, value) in changes.items():
            setattr(row, field, value)
        record_changes(session, actor, "region_precipitation", found.id, found.id, changes)
    session.flush()
    session.execute(FORGET, {"region": found.id})  # apart: a CTE's DELETE is unseen by the INSERT
    session.execute(RECOUNT, {"region": found.id})
    return {"region": found.iso_code, **new}
