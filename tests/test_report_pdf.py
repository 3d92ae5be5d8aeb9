"""A region's yearly report as a PDF: from the command line (a real process) and over HTTP, in
three languages; its text (pdftotext) names the region and the people who signed it off, and
carries the same totals as the JSON report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point

from registry.access import Actor
from registry.accounts.services import actor_for, add_user
from registry.care.services import add_care_work
from registry.db import unit_of_work
from registry.planting.services import record_planting, record_survival_check
from registry.reports.services import approve_report, build_report, submit_report
from tests.web_client import PASSWORD, sign_in
from web.app import create_app

JASYL = str(Path(sys.executable).with_name("jasyl"))
REGION_NAMES = {"kk": "Астана", "ru": "Астана", "en": "Astana"}
APPROVED = {"kk": "Бекітті", "ru": "Утвердил", "en": "Approved"}


def pdf_text(data: bytes, layout: bool = True) -> str:
    """The PDF's text: laid out as printed, or in reading order (a table cell's wrapped lines
    together)."""
    command = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout.decode()


def page_count(data: bytes) -> int:
    result = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", result.stdout.decode()).group(1))


def grouped(number: int, language: str) -> str:
    """A pattern of a whole number as the PDF writes it: 1 234 in kk and ru (a no-break space,
    which pdftotext may give as a plain one), 1,234 in en."""
    return f"{number:,}".replace(",", "," if language == "en" else "[ \xa0]")


@pytest.fixture
def approved_report(clean) -> dict:
    """Astana's 2024: 37 elms and 12 pines planted, a first-season check, watering, and the
    report built and submitted by the akimat, approved by the ministry (all committed)."""
    with unit_of_work(clean) as session:
        system = Actor.system("test")
        akimat = add_user(
            session, system, "akimat@astana.kz", "forester", "KZ-71", PASSWORD, "Айгерім Сәрсенова"
        )
        ministry = add_user(
            session, system, "ministry@gov.kz", "ministry", None, PASSWORD, "Ерлан Мұхамедов"
        )
        forester, reviewer = actor_for(akimat), actor_for(ministry)
        for species, count in (("Ulmus pumila", 37), ("Pinus sylvestris", 12)):
            points = [Point(71.43 + i * 1e-4, 51.128) for i in range(count)]
            event = record_planting(
                session, forester, species, date(2024, 4, 20), geometries=points
            )
            record_survival_check(session, forester, event.id, 1, date(2024, 10, 1), count - 2, 2)
        add_care_work(
            session,
            forester,
            "watering",
            "m3",
            year=2024,
            done_volume=120,
            done_on=date(2024, 6, 1),
            done_cost=36000,
            area=Point(71.43, 51.128).buffer(0.0005),
        )
        build_report(session, forester, "KZ-71", 2024)
        submit_report(session, forester, "KZ-71", 2024)
        report = approve_report(session, reviewer, "KZ-71", 2024)
        return {"content": report.content, "forester": "akimat@astana.kz"}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_command_writes_a_pdf_whose_text_carries_the_reports_figures(
    approved_report, tmp_path, language
) -> None:
    target = tmp_path / f"report-{language}.pdf"
    command = [JASYL, "report", "show", "--region", "KZ-71", "--year", "2024"]
    command += ["--format", "pdf", "--output", str(target), "--language", language]
    command += ["--as", approved_report["forester"]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    totals = approved_report["content"]["planting_totals_pieces"]
    assert totals["planted"] == 49
    assert REGION_NAMES[language] in text
    assert "Ерлан Мұхамедов" in text and "Айгерім Сәрсенова" in text
    assert APPROVED[language] in text
    assert re.search(rf"\b{grouped(int(totals['planted']), language)}\b", text)
    assert re.search(rf"\b{grouped(36000, language)}\b", text), "the watering's cost"
    pages = page_count(data)
    assert pages >= 2
    assert re.search(rf"\b1 ?/ ?{pages}\b", text) and re.search(rf"\b{pages} ?/ ?{pages}\b", text)
    assert "KZ-71" not in text and "ulmus_pumila" not in text, "names, not codes"


def test_pdf_without_an_output_file_is_a_usage_error(approved_report) -> None:
    command = [JASYL, "report", "show", "--region", "KZ-71", "--year", "2024", "--format", "pdf"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--format pdf needs --output FILE" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_report_page_links_a_pdf_that_says_what_the_json_says(approved_report) -> None:
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, approved_report["forester"])
    page = client.get("/reports/KZ-71/2024").get_data(as_text=True)
    assert 'id="download-pdf"' in page
    answer = client.get("/api/v1/reports/KZ-71/2024?format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    words = " ".join(pdf_text(answer.data, layout=False).split())
    as_json = client.get("/api/v1/reports/KZ-71/2024").json["content"]
    assert json.loads(json.dumps(as_json)) == approved_report["content"]
    for row in as_json["planting"]:
        assert f"{row['latin']} · {row['name_ru']}" in words, "the reader's (Russian) name"
    assert "Годовой отчёт" in words
    assert client.get("/api/v1/reports/KZ-71/2024?format=docx").status_code == 422


def test_a_process_that_makes_pdfs_still_refuses_a_photo_cut_short() -> None:
    """WeasyPrint's import sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process; the web
    app imports it, and a phone's interrupted upload must still be refused, not stored."""
    import io

    from PIL import Image

    import web.reports.pdf  # noqa: F401  (what every web worker imports)
    from registry.errors import InvalidValue
    from registry.photos.rules import check_photo

    jpeg = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 40)).save(jpeg, "JPEG")
    whole = jpeg.getvalue()
    assert check_photo(whole, "берёза.jpg").width == 800
    with pytest.raises(InvalidValue, match="truncated"):
        check_photo(whole[: len(whole) // 2], "берёза.jpg")
