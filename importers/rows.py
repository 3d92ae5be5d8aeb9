"""Turning a batch of survey records into validated registry values, vectorised.

Each field's rule (``registry.inventory.rules``, the species index, the condition vocabulary) runs
once per distinct cell value (and species, for size limits), not once per record: a million-tree
survey has a few thousand distinct heights, so validation costs little more than reading.
Failures become ``Problem`` rows naming the file, row, column, value and the rule's reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers import crs as crs_rules
from importers.fields import TARGET_UNITS, Column, Mapping
from importers.report import Problem
from importers.sources import Batch
from importers.vocabulary import (
    WORD_FIELDS,
    WordTally,
    condition_of,
    form_of,
    status_of,
    translated,
)
from registry.errors import InvalidValue, NeedsConfirmation, NotFound
from registry.inventory import rules
from registry.inventory.models import PlantingForm, PlantStatus
from registry.regions.models import Region
from registry.regions.services import RegionPieces
from registry.species.models import Species
from registry.species.services import Proposal, SpeciesIndex

PI = Decimal(str(math.pi))
DEAD_GRADE = 5  # V and VI of the sanitary scale: сухостой, dead standing trees
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


empty = rules.is_empty  # one meaning of an empty cell for plants and green spaces


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
        self.proposals: dict[str, Proposal] = {}  # names a person must confirm, by name
        self.words = WordTally()  # the word columns' distinct cells, for a mapping template

    # -- entry ------------------------------------------------------------------------------------
    def normalise(self, batch: Batch, geometry: np.ndarray) -> Clean:
        """Validate one batch whose geometries are already in the source CRS."""
        n = len(batch.frame)
        rows = np.arange(batch.first_row, batch.first_row + n)
        out = Clean({"row_no": rows}, np.ones(n, dtype=bool))
        self.frame, self.rows, self.out = batch.frame, rows, out
        self._geometry(geometry)
        for name in WORD_FIELDS:
            if (column := self.columns.get(name)) is not None and not column.parts:
                self.words.add(name, batch.frame[column.source])
        self._condition()
        self._species()
        self._measures()
        self._counts()
        self._texts()
        self._placement()
        return out

    # -- helpers ----------------------------------------------------------------------------------
    def cells(self, name: str) -> np.ndarray:
        """The raw cells of a field's column, translated by the mapping, defaults filled in."""
        column = self.columns.get(name)
        n = len(self.frame)
        translate = self.mapping.values.get(name)
        default = self.mapping.defaults.get(name)
        if column is None:
            values = np.full(n, default, dtype=object)
        elif not translate and default is None and self.frame[column.source].dtype.kind in "fiu":
            # A number column as numpy holds it: ``distinct`` factorizes it without a Python
            # object per cell, and hands each rule the distinct value as a Python number.
            return self.frame[column.source].to_numpy()
        else:
            values = self.frame[column.source].to_numpy(dtype=object)
        if translate:
            values = translated(name, values, translate)
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
        results, inverse = self.distinct(name, values, rule, *extra, code=code)
        return results[inverse]

    def distinct(
        self,
        name: str,
        values: np.ndarray,
        rule: Callable[..., Any],
        *extra: np.ndarray,
        code: str = "invalid_value",
    ) -> tuple[np.ndarray, np.ndarray]:
        """``by_unique`` before the gather: each distinct combination's result (None where
        refused) and each row's index into them, to derive several columns from one rule."""
        keys = [_factorized(values)] + [_factorized(e) for e in extra]
        combined = keys[0][0].astype(np.int64)
        for codes, uniques in keys[1:]:
            combined = combined * (len(uniques) + 1) + codes
        distinct, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        results = np.empty(len(distinct), dtype=object)
        for k, i in enumerate(first):
            args = [_python(values[i])] + [e[i] for e in extra]
            try:
                results[k] = rule(*args)
            except (InvalidValue, NotFound) as exc:
                results[k] = _Refused(exc)
        refused = np.array([isinstance(r, _Refused) for r in results])
        for k in np.flatnonzero(refused):
            exc = results[k].exc
            message = exc.reason if isinstance(exc, InvalidValue) else exc.message
            value, message = self._as_in_file(name, first[k], _python(values[first[k]]), message)
            why = exc.code if isinstance(exc, NeedsConfirmation) else code
            self.reject(inverse == k, self.source_name(name), value, why, message)
            results[k] = None
        return results, inverse

    def _as_in_file(self, name: str, row: int, value: Any, message: str) -> tuple[Any, str]:
        """The file's own cell, and what the mapping's value table made of it, for a report:
        "3) 50cm< & <=100cm" read as 75, not a 75 the person never wrote."""
        column = self.columns.get(name)
        if column is None or name not in self.mapping.values:
            return value, message
        cell = self.frame[column.source].iloc[row]
        if empty(cell) or str(cell) == str(value):
            return value, message
        return cell, f"read as {_shown(value)} ([values.{name}]): {message}"

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
        found, rows = self.distinct(
            "species", self.cells("species"), self._one_species, self.statuses, code="species"
        )
        self.species_of = found[rows]
        ids = np.array([s.id if s is not None else None for s in found], dtype=object)
        self.out.values["species_id"] = ids[rows]  # one attribute read per distinct species

    def _one_species(self, value: Any, status: str) -> Species | None:
        """The catalogue species a cell names as written (``SpeciesIndex.match``); any other
        name is refused as a proposal for a person to confirm, never taken for its nearest.
        An empty cell is no species, which only a stump, vacant site or removed tree may be."""
        if empty(value):
            rules.check_species_for_status(None, PlantStatus(status))
            return None
        name = str(whole(value)).strip()
        match = self.species.match(name)
        if match:
            return match.species
        if name not in self.proposals:  # the fuzzy search once per distinct name, not per row
            self.proposals[name] = self.species.propose(name)
        raise NeedsConfirmation("species", proposal_message(self.proposals[name]))

    def _measure(
        self, name: str, target: str, limit: Callable[[Species | None], Decimal]
    ) -> np.ndarray:
        column = self.columns.get(name) or Column(name, name)
        circumference = name == "trunk_circumference"
        unit = TARGET_UNITS.get(name, "")

        def rule(value: Any, species: Species | None) -> float | None:
            number = rules.to_decimal(target, value)
            if number is None:
                return None  # empty: not measured
            converted = number * Decimal(str(column.factor))
            try:
                if circumference:  # checked as a circumference, stored as its diameter
                    girth = rules.check_measure(
                        name, converted, round(limit(species) * PI, 1), species
                    )
                    return float(round(girth / PI, 1))
                checked = rules.check_measure(target, converted, limit(species), species)
            except InvalidValue as exc:
                if column.factor == 1:
                    raise
                said = f"{value} {column.unit} = {round(converted, 1)} {unit}"
                raise InvalidValue(exc.field, f"{said}: {exc.reason}", value) from None
            return float(round(checked, 1))

        return self.by_unique(name, self.cells(name), rule, self.species_of)

    def _measures(self) -> None:
        height = self._measure("height", "height_m", rules.height_limit)
        trunk_name = "trunk_diameter"
        if "trunk_diameter" not in self.columns and "trunk_circumference" in self.columns:
            trunk_name = "trunk_circumference"
        trunk = self._measure(trunk_name, "trunk_diameter_cm", rules.trunk_limit)
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
        found, rows = self.distinct(
            "planting_form", self.cells("planting_form"), self._form, self.kinds
        )
        values = np.array([f.value if f is not None else None for f in found], dtype=object)
        self.out.values["planting_form"] = values[rows]
        self._sizes_of_points(found[rows])

    def _sizes_of_points(self, forms: np.ndarray) -> None:
        """A hedge marked by a point has no length in its geometry, a group or massif no area:
        the mapped column gives it, or the report says it is unknown (never a made-up one)."""
        points = (self.kinds == "Point") & self.out.good
        for form, size, unit in (
            (PlantingForm.HEDGE, "length_m", "length"),
            (PlantingForm.GROUP, "area_m2", "area"),
            (PlantingForm.MASSIF, "area_m2", "area"),
        ):
            unknown = (
                points & (forms == form) & pd.isna(pd.Series(self.out.values[size])).to_numpy()
            )
            if unknown.any():
                self.warn(unknown, self.source_name(size), None, f"unknown_{unit}",
                          f"a {form.value} marked by a point: its {unit} is unknown (no "
                          f"{size} column), stored empty")  # fmt: skip

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
        return rules.check_form(None if empty(value) else form_of(value), sample)

    def _condition(self) -> None:
        """Condition, hazard and status. An empty or absent condition is "not assessed" (None),
        never grade I. A condition cell may say what the tree is rather than how it is
        (сухостой, пень, вакантное место): without a status of its own, the record takes that
        status (a dead grade V or VI is a dead tree), and a stump or a vacant site no grade."""
        graded, rows = self.distinct("condition", self.cells("condition"), condition_cell)
        assessed = [g if isinstance(g, tuple) else (None, False) for g in graded]
        self.out.values["condition"] = np.array([a[0] for a in assessed], dtype=object)[rows]
        hazardous = np.array([a[1] for a in assessed], dtype=bool)[rows]
        implied = np.array([_implied_status(g) for g in graded], dtype=object)[rows]
        said, said_rows = self.distinct("status", self.cells("status"), status_cell)
        said = np.array([s.value if s is not None else None for s in said], dtype=object)
        statuses = said[said_rows]
        silent = pd.isna(statuses)  # no status in the file: the condition's, else alive
        statuses[silent] = implied[silent]
        statuses[pd.isna(statuses)] = PlantStatus.ALIVE.value
        # Grades V and VI are dead trees (сухостой): "alive" beside them is not stored alive.
        dead = (implied == PlantStatus.DEAD.value) & (statuses == PlantStatus.ALIVE.value)
        statuses[dead] = PlantStatus.DEAD.value
        said_alive = dead & ~silent
        if said_alive.any():
            column = self.columns["status"].source  # the file's own words, before the mapping
            cells = self.frame[column].to_numpy(dtype=object)
            for value in pd.unique(cells[said_alive]):
                self.warn(said_alive & (cells == value), self.source_name("status"), value,
                          "dead_by_condition", "the condition says the tree is dead (grade V "
                          "or VI): stored as dead, not alive")  # fmt: skip
        if "hazardous" in self.columns:
            flagged = np.array(
                [str(whole(v)).strip().lower() in TRUE_WORDS for v in self.cells("hazardous")]
            )
            hazardous |= flagged
        self.out.values["hazardous"] = hazardous.astype(object)
        self.statuses = statuses
        self.out.values["status"] = statuses

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
        column = self.columns.get(name)
        if (
            column is not None
            and name not in self.mapping.values
            and name not in self.mapping.defaults
        ):
            read = self.frame[column.source]
            if read.dtype != object and pd.api.types.is_string_dtype(read.dtype):
                return read.str.strip().fillna("")  # a text column as read: no object per cell
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


def _factorized(values: np.ndarray) -> tuple[np.ndarray, Any]:
    """Codes and distinct values of a column; a missing value is a value of its own."""
    if values.dtype != object:
        return pd.factorize(values, use_na_sentinel=False)
    return pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)


def _python(value: Any) -> Any:
    """A numpy number as the Python number the rules expect (12.0, 2020), else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def proposal_message(proposal: Proposal) -> str:
    """Why a species name stops the import, what it might be, and how to settle it."""
    why = {
        "near": "is not in the catalogue as written; it is spelled like",
        "genus": "is not in the catalogue; its genus holds",
        "code": "is not in the catalogue; as a survey code it could be",
        "unknown": "is not in the catalogue and no species is close",
    }[proposal.reason]
    listed = f" {proposal.listed()}" if proposal.candidates else ""
    return (
        f"needs confirmation: {why}{listed}. Confirm the species in the mapping's [species] "
        "(jasyl import FILE --dry-run --write-mapping MAP.toml writes the proposals) or add "
        "it to the catalogue (jasyl species add)"
    )


def condition_cell(value: Any) -> tuple[int, bool] | PlantStatus | None:
    """A condition cell: (grade, hazardous), a status it names (пень), or None: not assessed."""
    if empty(value):
        return None
    try:
        return condition_of(whole(value))
    except InvalidValue as refused:
        try:
            said = status_of(value)
        except InvalidValue:
            raise refused from None
        if said == PlantStatus.ALIVE:
            raise
        return said


def _implied_status(graded: tuple[int, bool] | PlantStatus | None) -> str | None:
    """The status a condition cell implies: the one it names (пень), dead for grades V and VI
    (сухостой), else none."""
    if isinstance(graded, PlantStatus):
        return graded.value
    if graded is not None and graded[0] >= DEAD_GRADE:
        return PlantStatus.DEAD.value
    return None


def status_cell(value: Any) -> PlantStatus | None:
    """A status cell's status, or None when the cell is empty (or is not a status word and
    so refused by ``status_of``)."""
    if empty(value):
        return None
    return status_of(value)


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
