"""The public's whole-layer files: made once per published version by a low-priority process,
served again while the published data is unchanged, made again after a change, never holding an
unpublished plant, and never given to staff, whose downloads stay their own and fresh."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from registry.db import engine_for, unit_of_work
from registry.opendata import public_files
from registry.opendata.collections import COLLECTIONS
from tests.factories import make_plant
from tests.web_client import new_user, sign_in
from web import create_app

XLSX = "/ogc/collections/plants/download?format=xlsx"
DIRS = ("EXPORT_LOCKS_DIR", "PUBLIC_EXPORTS_DIR")


@pytest.fixture
def site(clean, tmp_path, monkeypatch):
    """Two published plants and an unpublished one; the app keeps its files under tmp_path."""
    monkeypatch.setenv("JASYL_PUBLIC_EXPORT_MINUTES", "10")
    with unit_of_work(clean) as session:
        make_plant(session, inventory_number="PUB-1", notes="staff only")
        make_plant(session, inventory_number="PUB-2")
        make_plant(session, inventory_number="HIDDEN-1", published=False)
    config = {"TESTING": True, "EXPORT_LOCKS_DIR": tmp_path / "locks",
              "PUBLIC_EXPORTS_DIR": tmp_path / "public"}  # fmt: skip
    return create_app(config), clean, tmp_path


def folder(app, fmt: str = "xlsx") -> Path:
    root = app.config["PUBLIC_EXPORTS_DIR"]
    return public_files.folder_for(root, app.config["DATABASE_URL"], "plants", fmt)


def builds(app, fmt: str = "xlsx") -> list[str]:
    log = folder(app, fmt) / "builds.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def numbers(answer) -> list[str]:
    """The inventory numbers in a downloaded XLSX, in its order."""
    sheet = load_workbook(io.BytesIO(answer.get_data()), read_only=True).active
    header, *rows = sheet.iter_rows(values_only=True)
    column = header.index("inventory_number")
    return [row[column] for row in rows]


def sql(url: str, statement: str) -> None:
    with engine_for(url).begin() as connection:
        connection.execute(text(statement))


def wait_for_builds(app, count: int, fmt: str = "xlsx") -> None:
    """Until the background build has written its line (a bound, not a timing assertion)."""
    deadline = time.monotonic() + 120
    while len(builds(app, fmt)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(builds(app, fmt)) == count, builds(app, fmt)


def test_the_second_download_is_the_same_file_not_made_again(site) -> None:
    app, _, _ = site
    public = app.test_client()
    first = public.get(XLSX)
    assert first.status_code == 200 and first.headers["Jasyl-Data-Current"] == "yes"
    assert numbers(first) == ["PUB-1", "PUB-2"]  # the unpublished plant is not in it
    [made] = builds(app)
    assert "made " in made and "2 rows" in made and "at nice 19" in made
    [kept] = folder(app).glob("*.xlsx")
    inode = kept.stat().st_ino
    second = public.get(XLSX)
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert builds(app) == [made] and kept.stat().st_ino == inode
    day = second.headers["Jasyl-Data-As-Of"][:10].replace("-", "")
    assert f"filename=plants-{day}T" in second.headers["Content-Disposition"]
    again = public.get(XLSX, headers={"If-None-Match": second.headers["ETag"]})
    assert again.status_code == 304
    sheet = load_workbook(io.BytesIO(first.get_data()), read_only=True).active
    assert "notes" not in next(sheet.iter_rows(values_only=True))  # staff-only column


def test_an_edit_of_an_unpublished_plant_keeps_the_file(site) -> None:
    app, url, _ = site
    public = app.test_client()
    assert public.get(XLSX).status_code == 200
    sql(url, "UPDATE plants SET height_m = 12 WHERE inventory_number = 'HIDDEN-1'")
    answer = public.get(XLSX)
    assert answer.headers["Jasyl-Data-Current"] == "yes" and len(builds(app)) == 1


def test_after_a_publish_the_older_file_is_said_to_be_older_until_it_is_made_again(
    site, monkeypatch
) -> None:
    app, url, _ = site
    public = app.test_client()
    first = public.get(XLSX)
    sql(url, "UPDATE plants SET published = true WHERE inventory_number = 'HIDDEN-1'")
    # younger than JASYL_PUBLIC_EXPORT_MINUTES (10): the older file, said to be older, not made
    stale = public.get(XLSX)
    assert stale.headers["Jasyl-Data-Current"] == "no" and numbers(stale) == ["PUB-1", "PUB-2"]
    assert stale.headers["Jasyl-Data-As-Of"] == first.headers["Jasyl-Data-As-Of"]
    assert len(builds(app)) == 1
    # old enough (0 minutes): still the older file at once, while a new one is made behind it
    monkeypatch.setenv("JASYL_PUBLIC_EXPORT_MINUTES", "0")
    app = create_app({key: app.config[key] for key in ("TESTING", *DIRS)})
    meanwhile = app.test_client().get(XLSX)
    assert meanwhile.headers["Jasyl-Data-Current"] == "no" and "HIDDEN-1" not in numbers(meanwhile)
    wait_for_builds(app, 2)
    fresh = app.test_client().get(XLSX)
    assert fresh.headers["Jasyl-Data-Current"] == "yes"
    assert numbers(fresh) == ["PUB-1", "PUB-2", "HIDDEN-1"]
    assert len(list(folder(app).glob("*.xlsx"))) == 1  # only the newest file is kept


def test_a_plant_withdrawn_from_the_public_is_never_served_again(site) -> None:
    app, url, _ = site
    public = app.test_client()
    assert numbers(public.get(XLSX)) == ["PUB-1", "PUB-2"]
    sql(url, "UPDATE plants SET published = false WHERE inventory_number = 'PUB-1'")
    # the file is minutes young, but shows a withdrawn plant: made again while the client waits
    answer = public.get(XLSX)
    assert answer.headers["Jasyl-Data-Current"] == "yes" and numbers(answer) == ["PUB-2"]
    assert len(builds(app)) == 2


def test_staff_get_their_own_fresh_export_never_the_publics_file(site) -> None:
    app, url, _ = site
    new_user(url, "astana@test.jasyl.kz", "forester", "KZ-71")
    assert app.test_client().get(XLSX).status_code == 200
    sql(url, "UPDATE plants SET notes = 'just written' WHERE inventory_number = 'PUB-2'")
    forester = app.test_client()
    sign_in(forester, "astana@test.jasyl.kz")
    own = forester.get(XLSX)
    assert own.status_code == 200 and "Jasyl-Data-As-Of" not in own.headers
    assert sorted(numbers(own)) == ["HIDDEN-1", "PUB-1", "PUB-2"]
    sheet = load_workbook(io.BytesIO(own.get_data()), read_only=True).active
    assert "just written" in [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert len(builds(app)) == 1


@pytest.mark.parametrize("fmt", ["xlsx", "gpkg", "shp"])
def test_a_filtered_public_download_is_made_for_it_alone_and_leaves_nothing(
    site, tmp_path, monkeypatch, fmt
) -> None:
    """Made by the low-priority process too (a filter is no way around it), never kept."""
    app, url, _ = site
    sql(url, "UPDATE plants SET condition = 1 WHERE inventory_number = 'PUB-2'")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    answer = app.test_client().get(f"/ogc/collections/plants/download?format={fmt}&condition=2")
    assert answer.status_code == 200 and "Jasyl-Data-As-Of" not in answer.headers
    assert sorted(temporary.rglob("*")) == [] and builds(app, fmt) == []
    if fmt == "xlsx":
        assert numbers(answer) == ["PUB-1"]  # condition 2, published: not PUB-2, not HIDDEN-1
    else:
        assert len(answer.get_data()) > 1000
    answer.close()


def test_a_filtered_public_download_takes_a_slot_and_minds_the_xlsx_limit(
    site, monkeypatch
) -> None:
    app, _, tmp_path = site
    public = app.test_client()
    slot = public_files.take_slot(tmp_path / "locks", 1)
    busy = public.get(XLSX + "&condition=2")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    slot.close()
    monkeypatch.setenv("JASYL_XLSX_MAX_ROWS", "1")
    refused = public.get(XLSX + "&region=KZ-71", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "JASYL_XLSX_MAX_ROWS" in refused.get_json()["message"]


def test_while_a_file_is_being_made_the_public_waits_with_retry_after(site) -> None:
    app, url, tmp_path = site
    public = app.test_client()
    other_build = public_files.lock_build(folder(app))  # another worker's build of this file
    busy = public.get(XLSX, headers={"Accept": "application/json"})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    assert "being made" in busy.get_json()["message"]
    other_build.close()
    assert public.get(XLSX).status_code == 200
    # a file exists: a build running does not stop it being served
    sql(url, "UPDATE plants SET published = true WHERE inventory_number = 'HIDDEN-1'")
    other_build = public_files.lock_build(folder(app))
    assert public.get(XLSX).headers["Jasyl-Data-Current"] == "no"
    other_build.close()
    slot = public_files.take_slot(tmp_path / "locks", 1)  # every slot taken: nothing started
    gpkg = public.get("/ogc/collections/plants/download?format=gpkg")
    assert gpkg.status_code == 503 and "JASYL_PUBLIC_EXPORTS" in gpkg.get_data(as_text=True)
    assert builds(app, "gpkg") == []
    slot.close()


@pytest.mark.parametrize("fmt", ["gpkg", "shp"])
def test_a_build_leaves_only_its_file_and_clears_a_killed_builds_leftovers(site, fmt) -> None:
    app, _, _ = site
    leftover = folder(app, fmt) / ".building-999999"
    leftover.mkdir(parents=True)
    (leftover / "plants.gpkg").write_bytes(b"half a file")
    answer = app.test_client().get(f"/ogc/collections/plants/download?format={fmt}")
    assert answer.status_code == 200 and len(answer.get_data()) > 1000
    made = public_files.newest(folder(app, fmt))
    left = sorted(p.name for p in folder(app, fmt).iterdir())
    suffix = ".zip" if fmt == "shp" else ".gpkg"
    assert left == sorted(["build.lock", "builds.log", f"{made.key}.json", f"{made.key}{suffix}"])


def test_a_file_read_from_another_database_is_never_served(site) -> None:
    """After a restore (or with another server) the same ids may hold other data."""
    app, _, _ = site
    public = app.test_client()
    assert public.get(XLSX).status_code == 200
    [described] = folder(app).glob("*.json")
    restored = described.read_text().replace('"holder": "', '"holder": "before-')
    described.write_text(restored.replace('"key": "', '"key": "before-'))  # its key had it too
    answer = public.get(XLSX)
    assert answer.headers["Jasyl-Data-Current"] == "yes" and len(builds(app)) == 2


@pytest.mark.parametrize("layer", sorted(COLLECTIONS))
def test_every_layers_public_file_is_made_and_kept(site, layer) -> None:
    """Each collection's version SQL runs (its joins, its row versions, no published column)."""
    app, _, _ = site
    url = f"/ogc/collections/{layer}/download?format=gpkg"
    first, second = app.test_client().get(url), app.test_client().get(url)
    assert first.status_code == second.status_code == 200
    assert second.headers["Jasyl-Data-Current"] == "yes"
    log = (
        public_files.folder_for(
            app.config["PUBLIC_EXPORTS_DIR"], app.config["DATABASE_URL"], layer, "gpkg"
        )
        / "builds.log"
    )
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1
