"""Load the species catalogue shipped in ``catalogue.csv`` into the ``species`` table.

Migrations call ``sync_catalogue``; it upserts by ``code`` so a later migration can call it again
after the file grows, without touching plants that already point at a species.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

CATALOGUE_CSV = Path(__file__).with_name("catalogue.csv")


def catalogue_rows() -> Iterator[dict[str, Any]]:
    with CATALOGUE_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            row["zones"] = [z for z in row["zones"].split(";") if z]
            row["aliases"] = [a.strip() for a in row["aliases"].split(";") if a.strip()]
            yield row


def sync_catalogue(connection: Connection) -> int:
    rows = list(catalogue_rows())
    for row in rows:
        connection.execute(UPSERT_SPECIES, row)
    return len(rows)


UPSERT_SPECIES = text(
    """
    INSERT INTO species (code, latin, name_ru, name_kk, name_en, rank, genus, life_form,
                         leaf_type, max_height_m, max_trunk_diameter_cm, zones, aliases)
    VALUES (:code, :latin, :name_ru, :name_kk, :name_en, :rank, :genus, :life_form, :leaf_type,
            CAST(:max_height_m AS numeric), CAST(:max_trunk_diameter_cm AS numeric), :zones,
            :aliases)
    ON CONFLICT (code) DO UPDATE SET
        latin = EXCLUDED.latin, name_ru = EXCLUDED.name_ru, name_kk = EXCLUDED.name_kk,
        name_en = EXCLUDED.name_en, rank = EXCLUDED.rank, genus = EXCLUDED.genus,
        life_form = EXCLUDED.life_form, leaf_type = EXCLUDED.leaf_type,
        max_height_m = EXCLUDED.max_height_m,
        max_trunk_diameter_cm = EXCLUDED.max_trunk_diameter_cm,
        zones = EXCLUDED.zones,
        -- aliases users kept (jasyl species alias keep) survive a later sync
        aliases = EXCLUDED.aliases
            || ARRAY(SELECT a FROM unnest(species.aliases) a WHERE a <> ALL(EXCLUDED.aliases))
    """
)
