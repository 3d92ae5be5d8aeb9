"""What a stranger may cost the server: refusals of the public are not audited row by row, the
public's downloads run a few at once, XLSX is refused over its row limit before any work, no
export leaves a file in the temporary folder."""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from tests.factories import make_plant
from tests.web_client import new_user, sign_in
from web import create_app
from web.cli import main

STAFF_PAGES = ("/reports/dashboard", "/api/v1/planting/survival", "/api/v1/care/summary")


def audit_rows(url: str) -> list[AuditEntry]:
    with unit_of_work(url) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "denied")))


@pytest.fixture
def site(clean, tmp_path):
    with unit_of_work(clean) as session:
        for number, address in enumerate(("Абая 50%", "Абая 505", "Кенесары A_1")):
            make_plant(session, inventory_number=f"N_{number}", address=address)
        make_plant(session, inventory_number="NX1", address="Кенесары AB1")
    new_user(clean, "nursery@test.kz", "nursery")
    app = create_app(
        {
            "TESTING": True,
            "EXPORT_LOCKS_DIR": tmp_path / "locks",
            "PUBLIC_EXPORTS_DIR": tmp_path / "public",
        }
    )
    return app, clean, tmp_path / "locks"


def test_the_publics_refusals_leave_the_audit_table_unchanged(site) -> None:
    app, url, _ = site
    public = app.test_client()
    for _ in range(20):
        for page in STAFF_PAGES:
            answer = public.get(page)
            assert answer.status_code in (401, 302), (page, answer.status_code)
    assert audit_rows(url) == []


def test_a_signed_in_refusal_is_audited_with_user_address_and_path(site) -> None:
    app, url, _ = site
    nursery = app.test_client()
    sign_in(nursery, "nursery@test.kz")
    answer = nursery.get("/reports/dashboard")
    assert answer.status_code == 403
    [row] = audit_rows(url)
    assert row.actor == "nursery@test.kz" and row.user_id is not None
    assert row.new_value["address"] == "127.0.0.1"
    assert row.new_value["path"] == "/reports/dashboard"


def take_slot(folder: Path, number: int = 0):
    """What a download running in another worker holds: the slot's lock file."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = (folder / f"public-export-{number}.lock").open("ab")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def test_the_publics_downloads_wait_their_turn_with_retry_after(site) -> None:
    app, _, locks = site
    public, staff = app.test_client(), app.test_client()
    sign_in(staff, "nursery@test.kz")
    held = take_slot(locks)
    busy = public.get("/ogc/collections/plants/download?format=xlsx")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    assert "JASYL_PUBLIC_EXPORTS" in busy.get_data(as_text=True)
    assert staff.get("/ogc/collections/plants/download?format=csv").status_code == 200
    held.close()
    streaming = public.get("/ogc/collections/plants/download?format=csv")
    assert streaming.status_code == 200  # its slot is held until the stream is done
    assert public.get("/ogc/collections/plants/download?format=gpkg").status_code == 503
    assert b"N_0" in b"".join(streaming.response)
    streaming.close()
    done = public.get("/ogc/collections/plants/download?format=gpkg")
    assert done.status_code == 200
    done.close()


@pytest.mark.parametrize("fmt", ["xlsx", "gpkg", "shp"])
def test_an_export_leaves_nothing_in_the_temporary_folder(site, tmp_path, monkeypatch, fmt):
    """Even before the response is closed: a server that never calls ``close`` left them."""
    app, _, _ = site
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    answer = app.test_client().get(f"/ogc/collections/plants/download?format={fmt}")
    assert answer.status_code == 200
    assert sorted(folder.rglob("*")) == []
    assert len(answer.get_data()) > 1000
    answer.close()


def test_xlsx_over_its_row_limit_is_refused_up_front(site, tmp_path, monkeypatch) -> None:
    app, _, _ = site
    monkeypatch.setenv("JASYL_XLSX_MAX_ROWS", "3")
    answer = app.test_client().get(
        "/ogc/collections/plants/download?format=xlsx", headers={"Accept": "application/json"}
    )
    assert answer.status_code in (400, 422)  # the OGC API answers every bad parameter 400
    message = answer.get_json()["message"]
    assert "plants has 4 rows; an XLSX sheet holds at most 3" in message
    assert "GeoPackage (gpkg) or CSV" in message and "JASYL_XLSX_MAX_ROWS" in message
    target = tmp_path / "plants.xlsx"
    cli = CliRunner().invoke(
        main, ["export", "--layer", "plants", "--format", "xlsx", "--output", str(target)]
    )
    assert cli.exit_code != 0 and "GeoPackage (gpkg) or CSV" in cli.output
    assert not target.exists()
    monkeypatch.setenv("JASYL_XLSX_MAX_ROWS", "4")
    assert app.test_client().get("/ogc/collections/plants/download?format=xlsx").status_code == 200
