"""Big downloads stream: GeoJSON/CSV leave batch by batch in bounded memory, matching the filter;
``jasyl export`` draws its progress bar on a terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
import tracemalloc
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text

from registry.db import engine_for
from registry.opendata import services
from web import create_app

PLANTS = 30_000
BATCH = 250  # rows a chunk: 120 chunks for the whole layer
FILL = text(
    """
    INSERT INTO plants (inventory_number, species_id, planting_form, geom, quantity, condition,
                        status, address, notes, height_m, planting_year)
    SELECT 'S' || n, (SELECT array_agg(id ORDER BY id) FROM species)[1 + n % 7], 'solitary',
           ST_SetSRID(ST_MakePoint(71.40 + (n % 200) * 0.0002, 51.10 + (n / 200) * 0.0002), 4326),
           1, 1 + n % 5, 'alive', 'көше Абай, ' || n, '', 3 + n % 20, 1980 + n % 40
    FROM generate_series(1, :n) AS n
    """
)


@pytest.fixture
def many_plants(clean):
    with engine_for(clean).begin() as conn:
        conn.execute(FILL, {"n": PLANTS})
    return clean


def _ids_in_sql(database_url: str, where: str) -> list[int]:
    with engine_for(database_url).connect() as conn:
        sql = f"SELECT p.id FROM plants p WHERE p.published AND {where} ORDER BY p.id"
        return list(conn.execute(text(sql)).scalars())


def test_a_big_geojson_download_streams_batch_by_batch_in_bounded_memory(
    many_plants, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(services, "EXPORT_BATCH", BATCH)
    client = create_app({"TESTING": True}).test_client()
    tracemalloc.start()
    try:
        response = client.get("/ogc/collections/plants/download?format=geojson", buffered=False)
        assert response.status_code == 200 and response.is_streamed
        assert response.headers["Content-Disposition"] == 'attachment; filename="plants.geojson"'
        chunks = iter(response.response)
        head = [next(chunks), next(chunks)]
        # rows deleted now, after the first batch left, are gone from the later batches: the
        # body is read from the database as it is sent, not built beforehand
        with engine_for(many_plants).begin() as conn:
            conn.execute(text("DELETE FROM plants WHERE inventory_number = :n"),
                         {"n": f"S{PLANTS}"})  # fmt: skip
        tracemalloc.reset_peak()
        sizes = []
        with (tmp_path / "plants.geojson").open("wb") as saved:  # to disk, not to memory
            saved.write(b"".join(head))
            for chunk in chunks:
                sizes.append(len(chunk))
                saved.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    body = (tmp_path / "plants.geojson").read_bytes()
    features = json.loads(body)["features"]
    assert len(features) == PLANTS - 1
    assert f"S{PLANTS}" not in {f["properties"]["inventory_number"] for f in features}
    assert len(sizes) >= PLANTS // BATCH - 1  # one chunk a batch
    assert max(sizes) < len(body) / 10
    # while the last 119 batches were sent, memory grew by a fraction of the body (~18 MB):
    # one batch's rows and text, whatever the layer's size
    assert peak < len(body) / 4, (peak, len(body))


def test_the_download_holds_what_the_map_and_a_cql2_filter_select(many_plants, monkeypatch) -> None:
    monkeypatch.setattr(services, "EXPORT_BATCH", 40)  # keyset pages under the filters
    client = create_app({"TESTING": True}).test_client()
    with engine_for(many_plants).connect() as conn:
        species = conn.execute(text("SELECT species_id FROM plants WHERE inventory_number = 'S3'"))
        species = species.scalar()
    query = (
        f"species={species}&condition=1,2&region=KZ-71&year_from=1990&year_to=2000"
        "&filter=" + quote("height_m BETWEEN 5 AND 10 OR address LIKE '%5'")
    )
    response = client.get(f"/ogc/collections/plants/download?format=csv&{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Kazakh addresses
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    truth = _ids_in_sql(
        many_plants,
        f"p.species_id = {species} AND p.condition IN (1, 2) AND p.region_id = 71 "
        "AND p.planting_year BETWEEN 1990 AND 2000 "
        "AND (p.height_m BETWEEN 5 AND 10 OR p.address LIKE '%5')",
    )
    assert [int(r["id"]) for r in rows] == truth and len(truth) > 40
    assert rows[0]["address"].startswith("көше Абай")
    bad = client.get("/ogc/collections/plants/download?format=geojson&filter=" + quote("x = 1"))
    assert bad.status_code == 400 and "not a queryable" in bad.get_json()["description"]
    unknown = client.get("/ogc/collections/plants/download?format=csv&region=KZ-99")
    assert unknown.status_code in (400, 404) and unknown.mimetype == "application/json"


def test_jasyl_export_draws_a_progress_bar_on_a_terminal(many_plants, tmp_path: Path) -> None:
    """Run the real command on a pseudo-terminal, as a forester would at a console."""
    target = tmp_path / "astana.gpkg"
    command = [str(Path(sys.executable).with_name("jasyl")), "export", "--layer", "plants",
               "--format", "gpkg", "--output", str(target), "--region", "KZ-71",
               "--cql", "condition IN (1, 2)"]  # fmt: skip
    leader, follower = pty.openpty()
    env = {**os.environ, "DATABASE_URL": many_plants, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    shown = b""
    while True:  # read as it comes, so the bar's redraws never fill the terminal's buffer
        try:
            piece = os.read(leader, 65536)
        except OSError:  # EIO: the command has exited and closed the terminal
            break
        if not piece:
            break
        shown += piece
    os.close(leader)
    returncode = process.wait(timeout=600)
    screen = shown.decode("utf-8", "replace")
    expected = len(_ids_in_sql(many_plants, "p.region_id = 71 AND p.condition IN (1, 2)"))
    assert returncode == 0, screen
    assert "plants → astana.gpkg" in screen and f"{expected}/{expected}" in screen, screen
    assert f"Exported {expected:,} plants" in screen
