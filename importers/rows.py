"""Turning a batch of survey records into validated registry values, vectorised.

Each field's rule (``registry.inventory.rules``, the species index, the condition vocabulary) runs
once per distinct cell value (and species, for size limits), not once per record: a million-tree
survey has a few thousand distinct heights, so validation costs little more than reading.
Failures become ``Problem`` rows naming the file, row, column, value and the rule's reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers import crs as crs_rules
from importers.fields import Column, Mapping
from importers.report import Problem
from importers.sources import Batch
from importers.vocabulary import condition_of, form_of, status_of
from registry.errors import InvalidValue, NotFound
from registry.inventory import rules
from registry.regions.models import Region
from registry.regions.services import RegionPieces
from registry.species.models import Species
from registry.species.services import SpeciesIndex

# "Picea pungens Engelm.", "Ulmus pumila L.", "Tilia x americana (L.) Karst." → the binomial.
AUTHORITY = re.compile(
    r"^\s*([A-Za-z]+(?:\s+[x×])?\s+[a-z][a-z-]+(?:\s+(?:var|subsp|ssp|f)\.\s*[a-z-]+)?)"
    r"\s+[A-Z(].*$"
)
TRUE_WORDS = {"1", "да", "yes", "true", "иә", "ия", "y", "д", "+"}
STAGING_COLUMNS = (
    "row_no",
    "inventory_number",
    "species_id",
    "planting_form",
    "geom",
    "quantity",
    "length_m",
    "area_m2",
    "planting_year",
    "age_years",
    "height_m",
    "trunk_diameter_cm",
    "crown_diameter_m",
    "condition",
    "hazardous",
    "status",
    "address",
    "notes",
    "place",  # the Z-order of the row's location: the merge inserts in this order
)


def empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return value is pd.NaT


def strip_authority(name: str) -> str:
    """The Latin binomial without the botanist's name that surveys often append."""
    found = AUTHORITY.match(name)
    return found.group(1) if found else name


def whole(value: Any) -> Any:
    """``12.0`` read from a DBF number column is the whole number 12."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


@dataclass
class Clean:
    """Validated values of one batch, aligned on ``row_no``; ``good`` marks rows without errors."""

    values: dict[str, np.ndarray]
    good: np.ndarray
    problems: list[Problem] = field(default_factory=list)

    def rows(self, keep: np.ndarray | None = None) -> list[tuple]:
        """Rows ``keep`` (indexes or a mask; the good ones by default), as staging takes them."""
        keep = self.good if keep is None else keep
        columns = [self.values[name][keep].tolist() for name in STAGING_COLUMNS]
        return list(zip(*columns, strict=True))


class Normaliser:
    """Validates batches of one survey, given its columns, CRS, mapping and the catalogue."""

    def __init__(
        self,
        file_name: str,
        columns: dict[str, Column],
        source_crs: CRS,
        mapping: Mapping,
        species: SpeciesIndex,
        region: tuple[Region, RegionPieces],
    ) -> None:
        self.file_name = file_name
        self.columns = columns
        self.source_crs = source_crs
        self.mapping = mapping
        self.species = species
        self.target, self.pieces = region
        self.by_id: dict[int, Species] = {s.id: s for s in species.by_code.values()}

    # -- entry ------------------------------------------------------------------------------------
    def normalise(self, batch: Batch, geometry: np.ndarray) -> Clean:
        """Validate one batch whose geometries are already in the source CRS."""
        n = len(batch.frame)
        rows = np.arange(batch.first_row, batch.first_row + n)
        out = Clean({"row_no": rows}, np.ones(n, dtype=bool))
        self.frame, self.rows, self.out = batch.frame, rows, out
        self._geometry(geometry)
        self._species()
        self._measures()
        self._counts()
        self._condition()
        self._texts()
        self._placement()
        return out

    # -- helpers ----------------------------------------------------------------------------------
    def cells(self, name: str) -> np.ndarray:
        """The raw cells of a field's column, translated by the mapping, defaults filled in."""
        column = self.columns.get(name)
        n = len(self.frame)
        if column is None:
            values = np.full(n, self.mapping.defaults.get(name), dtype=object)
        else:
            values = self.frame[column.source].to_numpy(dtype=object)
        translate = self.mapping.values.get(name)
        if translate:
            values = np.array([translate.get(str(v), v) for v in values], dtype=object)
        default = self.mapping.defaults.get(name)
        if default is not None and column is not None:
            values = np.array([default if empty(v) else v for v in values], dtype=object)
        return values

    def source_name(self, name: str) -> str:
        column = self.columns.get(name)
        return column.source if column else name

    def reject(self, index: np.ndarray, name: str, value: Any, code: str, message: str) -> None:
        for i in np.flatnonzero(index) if index.dtype == bool else index:
            self.out.good[i] = False
            self.out.problems.append(
                Problem(self.file_name, int(self.rows[i]), name, _shown(value), code, message)
            )

    def warn(self, index: np.ndarray, name: str, value: Any, code: str, message: str) -> None:
        for i in np.flatnonzero(index):
            self.out.problems.append(
                Problem(
                    self.file_name, int(self.rows[i]), name, _shown(value), code, message, "warning"
                )
            )

    def by_unique(
        self,
        name: str,
        values: np.ndarray,
        rule: Callable[..., Any],
        *extra: np.ndarray,
        code: str = "invalid_value",
    ) -> np.ndarray:
        """Run ``rule(value, *extra)`` once per distinct combination; reject the rows it refuses."""
        keys = [pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)]
        keys += [pd.factorize(pd.Series(e, dtype=object), use_na_sentinel=False) for e in extra]
        combined = keys[0][0].astype(np.int64)
        for codes, uniques in keys[1:]:
            combined = combined * (len(uniques) + 1) + codes
        distinct, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        results = np.empty(len(distinct), dtype=object)
        for k, i in enumerate(first):
            args = [values[i]] + [e[i] for e in extra]
            try:
                results[k] = rule(*args)
            except (InvalidValue, NotFound) as exc:
                results[k] = _Refused(exc)
        refused = np.array([isinstance(r, _Refused) for r in results])
        for k in np.flatnonzero(refused):
            exc = results[k].exc
            message = exc.reason if isinstance(exc, InvalidValue) else exc.message
            value = values[first[k]]
            self.reject(inverse == k, self.source_name(name), value, code, message)
            results[k] = None
        return results[inverse]

    # -- fields -----------------------------------------------------------------------------------
    def _geometry(self, geometry: np.ndarray) -> None:
        # A copy either way: the lines below replace geometries in it.
        geometry = shapely.force_2d(geometry) if shapely.has_z(geometry).any() else geometry.copy()
        single = (shapely.get_type_id(geometry) == 4) & (shapely.get_num_geometries(geometry) == 1)
        if single.any():
            geometry[single] = shapely.get_geometry(geometry[single], 0)
        missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
        self.reject(missing, "geometry", None, "invalid_geometry", "a location is required")
        invalid = ~missing & ~shapely.is_valid(geometry)
        for i in np.flatnonzero(invalid):
            repaired = shapely.make_valid(geometry[i])
            if repaired.geom_type == geometry[i].geom_type and not repaired.is_empty:
                geometry[i] = repaired
                self.warn(
                    np.arange(len(geometry)) == i,
                    "geometry",
                    None,
                    "repaired_geometry",
                    "the geometry was not valid and was repaired without changing its shape type",
                )
            else:
                self.reject(
                    np.array([i]),
                    "geometry",
                    shapely.is_valid_reason(geometry[i]),
                    "invalid_geometry",
                    "the geometry is not valid (self-intersecting or broken)",
                )
        usable = ~missing & self.out.good
        lonlat = np.full(len(geometry), None, dtype=object)
        lonlat[usable] = crs_rules.to_wgs84(geometry[usable], self.source_crs)
        if self.source_crs.is_geographic:
            self._swapped(lonlat, usable)
        self.geometry = lonlat
        self.kinds = crs_rules.type_names(lonlat)
        ewkb = np.full(len(geometry), None, dtype=object)
        good = self.out.good.copy()
        ewkb[good] = crs_rules.ewkb_4326(lonlat[good].astype(object))
        self.out.values["geom"] = ewkb

    def _swapped(self, lonlat: np.ndarray, usable: np.ndarray) -> None:
        points = shapely.point_on_surface(lonlat[usable])
        turned = np.zeros(len(lonlat), dtype=bool)
        turned[usable] = crs_rules.swapped(shapely.get_x(points), shapely.get_y(points))
        for i in np.flatnonzero(turned):
            x, y = shapely.get_coordinates(lonlat[i])[0]
            self.reject(
                np.array([i]),
                "geometry",
                f"{x:.5f} {y:.5f}",
                "swapped_coordinates",
                "lies outside Kazakhstan; longitude and latitude look swapped",
            )

    def _species(self) -> None:
        found = self.by_unique("species", self.cells("species"), self._one_species, code="species")
        self.species_of = found
        self.out.values["species_id"] = np.array(
            [s.id if s is not None else None for s in found], dtype=object
        )

    def _one_species(self, value: Any) -> Species:
        if empty(value):
            raise InvalidValue("species", "is empty; every record needs a species")
        name = str(value).strip()
        for candidate in (name, strip_authority(name)):
            match = self.species.match(candidate)
            if match:
                return match.species
        return self.species.require(strip_authority(name))

    def _measure(
        self, name: str, target: str, limit: Callable[[Species | None], Decimal]
    ) -> np.ndarray:
        factor = self.columns[name].factor if name in self.columns else 1.0

        def rule(value: Any, species: Species | None) -> float | None:
            number = rules.to_decimal(target, value)
            if number is None:
                return None
            number = number * Decimal(str(factor))
            if name == "trunk_circumference":
                number = number / Decimal(str(math.pi))
            checked = rules.check_measure(target, number, limit(species), species)
            return float(round(checked, 1)) if checked is not None else None

        return self.by_unique(name, self.cells(name), rule, self.species_of)

    def _measures(self) -> None:
        height = self._measure("height", "height_m", lambda s: s.max_height_m if s else 999)
        trunk_name = "trunk_diameter"
        if "trunk_diameter" not in self.columns and "trunk_circumference" in self.columns:
            trunk_name = "trunk_circumference"
        trunk = self._measure(
            trunk_name, "trunk_diameter_cm", lambda s: s.max_trunk_diameter_cm if s else 999
        )
        crown = self._measure(
            "crown_diameter", "crown_diameter_m", lambda s: rules.MAX_CROWN_DIAMETER_M
        )
        self.out.values.update(height_m=height, trunk_diameter_cm=trunk, crown_diameter_m=crown)
        for name in ("length_m", "area_m2"):
            factor = self.columns[name].factor if name in self.columns else 1.0
            self.out.values[name] = self.by_unique(
                name, self.cells(name), lambda v, n=name, f=factor: _non_negative(n, v, f)
            )

    def _counts(self) -> None:
        def quantity(value: Any) -> int:
            return rules.check_quantity(1 if empty(value) else whole(value))

        self.out.values["quantity"] = self.by_unique("quantity", self.cells("quantity"), quantity)
        self.out.values["planting_year"] = self.by_unique(
            "planting_year",
            self.cells("planting_year"),
            lambda v: None if empty(v) else rules.check_planting_year(whole(v)),
        )
        self.out.values["age_years"] = self.by_unique(
            "age_years",
            self.cells("age_years"),
            lambda v: None if empty(v) else rules.check_age(whole(v)),
        )
        forms = self.by_unique("planting_form", self.cells("planting_form"), self._form, self.kinds)
        self.out.values["planting_form"] = np.array(
            [f.value if f is not None else None for f in forms], dtype=object
        )

    def _form(self, value: Any, kind: str) -> Any:
        if not kind:
            return None  # no usable geometry: already rejected
        sample = {
            "Point": shapely.Point(0, 0),
            "LineString": shapely.LineString([(0, 0), (1, 1)]),
            "MultiLineString": shapely.MultiLineString([[(0, 0), (1, 1)]]),
            "Polygon": shapely.box(0, 0, 1, 1),
            "MultiPolygon": shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
        }.get(kind, shapely.MultiPoint([(0, 0), (1, 1)]))
        return rules.check_form(form_of(value), sample)

    def _condition(self) -> None:
        def condition(value: Any) -> tuple[int, bool]:
            if empty(value) and "condition" not in self.columns:
                return 1, False
            return condition_of(whole(value))

        graded = self.by_unique("condition", self.cells("condition"), condition)
        self.out.values["condition"] = np.array([g[0] if g else None for g in graded], dtype=object)
        hazardous = np.array([bool(g and g[1]) for g in graded], dtype=bool)
        if "hazardous" in self.columns:
            flagged = np.array(
                [str(whole(v)).strip().lower() in TRUE_WORDS for v in self.cells("hazardous")]
            )
            hazardous |= flagged
        self.out.values["hazardous"] = hazardous.astype(object)
        status = self.by_unique("status", self.cells("status"), status_of)
        self.out.values["status"] = np.array(
            [s.value if s is not None else None for s in status], dtype=object
        )

    def _placement(self) -> None:
        """Refuse rows outside the survey's region, by the rule the database's trigger follows;
        keep each row's spot (a point on its surface) and its Z-order ``place``."""
        usable = np.flatnonzero(self.out.good)
        spots = self.geometry[usable].astype(object)
        shaped = shapely.get_type_id(spots) != 0  # a point is its own spot
        spots[shaped] = shapely.point_on_surface(spots[shaped])
        self.spots = np.full(len(self.rows), None, dtype=object)
        self.spots[usable] = spots
        place = np.full(len(self.rows), None, dtype=object)
        place[usable] = z_order(spots)
        self.out.values["place"] = place
        found = self.pieces.regions_at(spots)
        astray = found != self.target.id
        for i, region_id, spot in zip(usable[astray], found[astray], spots[astray], strict=True):
            code, message = astray_from(self.pieces, self.target, int(region_id), spot)
            self.reject(np.array([i]), "geometry", None, code, message)

    def _texts(self) -> None:
        numbers = self._text_column("inventory_number").to_numpy(dtype=object)
        numbers[numbers == ""] = None  # numbered by the registry (pandas' str dtype would say NaN)
        self.out.values["inventory_number"] = numbers
        for name in ("address", "notes"):
            self.out.values[name] = self._text_column(name).to_numpy()

    def _text_column(self, name: str) -> pd.Series:
        """Stripped text, "" for empty cells; whole numbers from DBF number columns lose ".0"."""
        cells = pd.Series(self.cells(name), dtype=object)
        missing = cells.isna()
        if pd.api.types.infer_dtype(cells, skipna=True) in {
            "floating",
            "integer",
            "mixed-integer-float",
        }:
            cells = cells.map(whole, na_action="ignore")
        text = cells.astype(str).str.strip()
        return text.where(~missing, "")


@dataclass(frozen=True)
class _Refused:
    exc: InvalidValue | NotFound


def _non_negative(name: str, value: Any, factor: float) -> float | None:
    number = rules.to_decimal(name, value)
    if number is None:
        return None
    if number < 0:
        raise InvalidValue(name, "must not be negative", value)
    return float(round(number * Decimal(str(factor)), 1))


def _shown(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float | int | str | bool):
        return value
    return str(value)


def z_order(points: np.ndarray) -> list[int]:
    """Each point's Z-order (Morton) code of its longitude and latitude, interleaved at 31 bits
    each (under 2 cm): near places get near codes, as with a geohash, so plants inserted in this
    order land on the same pages of the spatial index, which keeps them in the buffer cache.
    Python ints, as COPY takes them (not numpy's)."""
    lonlat = shapely.get_coordinates(points)
    scale = 2**31 - 1
    x = ((lonlat[:, 0] + 180) / 360 * scale).astype(np.uint64)
    y = ((lonlat[:, 1] + 90) / 180 * scale).astype(np.uint64)
    return (_spread_bits(x) | (_spread_bits(y) << np.uint64(1))).astype(np.int64).tolist()


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """The 32 low bits of each value moved to the even bit positions of 64."""
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def astray_from(pieces: RegionPieces, target: Region, region_id: int, spot: Any) -> tuple[str, str]:
    """The code and message refusing a record at ``spot`` that lies in ``region_id`` (0: in no
    region) instead of the survey's ``target`` region: plants and green spaces say it alike."""
    where = f"lon {spot.x:.5f}, lat {spot.y:.5f}"
    if region_id == 0:
        return "outside_kazakhstan", f"lies outside Kazakhstan's regions ({where})"
    other = pieces.regions[region_id]
    return (
        "outside_region",
        f"lies in {other.name_en} ({other.iso_code}), not in {target.name_en} "
        f"({target.iso_code}) ({where})",
    )
