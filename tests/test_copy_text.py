"""The importer's column-wise text COPY (``importers.copy_text``) writes what psycopg's
``write_row`` wrote row by row, and the database reads back exactly the values, NULLs and
Cyrillic of the file."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import shapely
from psycopg.copy import Copy, FileWriter
from sqlalchemy import text

from importers.copy_text import copy_text, field_texts, scalar_text
from importers.staging import driver_connection

POINT_EWKB = shapely.to_wkb(
    shapely.set_srid(shapely.Point(71.43, 51.13), 4326), include_srid=True, byte_order=1
)
COLUMNS = {
    "n": ("int", np.array([1, None, 2**40, -3], dtype=object)),
    "height": ("float", np.array([12.3, None, float("nan"), 0.0], dtype=object)),
    "sized": ("float", np.array([1.5, 2.0, 1e16, 0.1])),
    "flag": ("bool", np.array([True, False, None, True], dtype=object)),
    "word": (
        "text",
        np.array(["Вяз приземистый", None, "tab\there\\back\nline\r", ""], dtype=object),
    ),
    "geom": ("ewkb", np.array([POINT_EWKB, None, POINT_EWKB, POINT_EWKB], dtype=object)),
}


def _by_write_row(connection, rows: list[tuple]) -> bytes:
    """The stream the importer wrote before: one ``write_row`` per row, psycopg's text dumpers."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor, Copy(cursor, writer=FileWriter(buffer)) as copy:
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


def _hexed(value):
    return value.hex() if isinstance(value, bytes) else value


def test_the_stream_is_what_write_row_made(db) -> None:
    connection = driver_connection(db)
    fields = [field_texts(kind, values) for kind, values in COLUMNS.values()]
    fields.append(scalar_text("int", 7))
    made = copy_text(fields, 4, connection.info.encoding)
    columns = [[_hexed(v) for v in values] for _, values in COLUMNS.values()]
    rows = list(zip(*columns, [7] * 4, strict=True))
    rows = [tuple(None if v != v else v for v in row) for row in rows]  # NaN: not measured
    assert made == _by_write_row(connection, rows)
    assert copy_text([], 0, "utf-8") == b""


def test_the_database_reads_back_values_nulls_and_cyrillic(db) -> None:
    db.execute(
        text(
            "CREATE TEMP TABLE copied (n int8, height numeric(5,1), sized float8, flag bool, "
            "word text, geom geometry(Point, 4326), same int) ON COMMIT DROP"
        )
    )
    connection = driver_connection(db)
    fields = [field_texts(kind, values) for kind, values in COLUMNS.values()]
    fields.append(scalar_text("int", None))
    with connection.cursor() as cursor, cursor.copy("COPY copied FROM STDIN") as copy:
        copy.write(copy_text(fields, 4, connection.info.encoding))
    got = db.execute(
        text("SELECT n, height, sized, flag, word, ST_AsText(geom), same FROM copied")
    ).all()
    assert [tuple(r) for r in got] == [
        (1, Decimal("12.3"), 1.5, True, "Вяз приземистый", "POINT(71.43 51.13)", None),
        (None, None, 2.0, False, None, None, None),
        (2**40, None, 1e16, None, "tab\there\\back\nline\r", "POINT(71.43 51.13)", None),
        (-3, Decimal("0.0"), 0.1, True, "", "POINT(71.43 51.13)", None),
    ]
