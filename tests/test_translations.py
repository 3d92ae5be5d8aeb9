"""The catalogues cover the interface: every message the code and templates ask for has a Kazakh
and a Russian translation, every code the pages name has a label, and numbers are grouped the
reader's way. (English is the source language: its messages are their own translation.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string

from registry.care.models import CareKind, CareUnit
from registry.nursery.models import LossCause, MovementKind, RootSystem, ShipmentStatus, Stage
from registry.planting.models import PlantingUnit
from registry.regions.models import NATURAL_ZONES
from registry.reports.models import ReportStatus
from web import create_app, labels

PROJECT = Path(__file__).resolve().parent.parent
TRANSLATIONS = PROJECT / "web" / "translations"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The messages the sources ask for, extracted as the README says."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
    command += ["-k", "_l", "-o", str(pot), "registry", "web", "importers", "gis"]
    subprocess.run(command, cwd=PROJECT, check=True, capture_output=True)
    with pot.open("rb") as source:
        return read_po(source)


def translated(message) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_message_is_translated(template, language) -> None:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source)
    missing = [m.id for m in template if m.id and not translated(catalogue.get(m.id))]
    assert missing == [], f"{language}: {len(missing)} messages without a translation"


@pytest.mark.parametrize(
    ("names", "codes"),
    [
        (labels.STAGE_NAMES, Stage),
        (labels.ROOT_SYSTEM_NAMES, RootSystem),
        (labels.MOVEMENT_NAMES, MovementKind),
        (labels.LOSS_CAUSE_NAMES, LossCause),
        (labels.SHIPMENT_STATUS_NAMES, ShipmentStatus),
        (labels.ZONE_NAMES, NATURAL_ZONES),
        (labels.CARE_KIND_NAMES, CareKind),
        (labels.UNIT_NAMES, set(CareUnit) | set(PlantingUnit)),
        (labels.REPORT_STATUS_NAMES, ReportStatus),
    ],
)
def test_every_code_has_a_label(names, codes) -> None:
    assert set(names) == set(codes)


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("ru", "4\xa0511\xa0501|3|12,5|30,56|"),
        ("kk", "4\xa0511\xa0501|3|12,5|30,56|"),
        ("en", "4,511,501|3|12.5|30.56|"),
    ],
)
def test_numbers_are_written_the_readers_way(database_url, language, written) -> None:
    app = create_app({"TESTING": True})
    with app.test_request_context(f"/?lang={language}"):
        shown = render_template_string(
            "{{ 4511501|number }}|{{ 2.6|number }}|{{ 12.5|decimal }}|{{ 30.555|decimal(2) }}"
            "|{{ none|decimal }}"
        )
    assert shown == written
