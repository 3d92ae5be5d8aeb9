"""The upload page's dry run offers the species proposals as a mapping to download; uploaded
again with the confirmed mapping, the survey stores exactly the confirmed species (issue #17)."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import text

from registry.db import unit_of_work
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app

SURVEY = "\n".join(
    [
        "Инв. №;Порода;Высота, м;Состояние;lon;lat",
        "S-1;Вяз приземистый;8,5;хорошее;71,4310;51,1290",
        "S-2;Acer saccharum;9;усыхающее;71,4320;51,1295",
    ]
).encode("utf-8")


@pytest.fixture
def forester(clean):
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, "les@test.jasyl.kz")
    return client


def upload(client, mapping: bytes | None = None, dry_run: bool = False):
    data = {
        "survey": (io.BytesIO(SURVEY), "опись.csv"),
        "region": "KZ-71",
        "csrf_token": csrf_token(client),
    }
    if mapping is not None:
        data["mapping"] = (io.BytesIO(mapping), "mapping.toml")
    if dry_run:
        data["dry_run"] = "on"
    answer = client.post("/imports/upload", data=data, content_type="multipart/form-data")
    return answer.status_code, answer.get_data(as_text=True)


def stored() -> dict[str, tuple[str, int]]:
    with unit_of_work() as session:
        rows = session.execute(
            text(
                "SELECT p.inventory_number, s.code, p.condition FROM plants p "
                "JOIN species s ON s.id = p.species_id"
            )
        )
        return {number: (code, condition) for number, code, condition in rows.all()}


def test_the_dry_run_offers_the_mapping_and_the_confirmed_one_imports(forester) -> None:
    status, page = upload(forester, dry_run=True)
    assert status == 422 and 'id="species-proposals"' in page
    assert "<td>Acer saccharum</td>" in page and "Acer saccharinum (acer_saccharinum)" in page
    proposed = html.unescape(re.search(r'<pre id="proposed-mapping">(.*?)</pre>', page, re.S)[1])
    assert '# "Acer saccharum" = "acer_saccharinum"' in proposed
    assert 'download="mapping.toml"' in page and stored() == {}

    # Unconfirmed, uploaded as it came: still stopped.
    status, page = upload(forester, proposed.encode("utf-8"))
    assert status == 422 and 'data-status="rejected"' in page and stored() == {}

    # The person knows it is a maple, not which: the genus, as they confirmed it.
    confirmed = proposed.replace(
        '# "Acer saccharum" = "acer_saccharinum"', '"Acer saccharum" = "acer_sp"'
    )
    status, page = upload(forester, confirmed.encode("utf-8"))
    assert status == 200 and 'data-status="done"' in page, page
    assert stored() == {"S-1": ("ulmus_pumila", 1), "S-2": ("acer_sp", 4)}


def test_a_mapping_of_another_kind_is_refused_by_name(forester) -> None:
    data = {
        "survey": (io.BytesIO(SURVEY), "опись.csv"),
        "mapping": (io.BytesIO(b"x"), "mapping.txt"),
        "region": "KZ-71",
        "csrf_token": csrf_token(forester),
    }
    answer = forester.post("/imports/upload", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "Файл сопоставления должен быть .toml или .yaml." in answer.get_data(as_text=True)
    assert stored() == {}
