"""``registry.inventory.rules.is_empty``: what counts as an empty cell ("not measured"), pandas'
nulls included, though the module no longer loads pandas for every command's start-up."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest

from registry.inventory.rules import is_empty, to_decimal


@pytest.mark.parametrize("value", [None, math.nan, pd.NA, pd.NaT, "", "  ", "-", "—", " . "])
def test_empty_cells_are_empty(value) -> None:
    assert is_empty(value)
    assert to_decimal("height", value) is None  # stored as NULL, never 0


@pytest.mark.parametrize("value", [0, 0.0, "0", "I", "a-", False, pd.Timestamp("2024-05-01")])
def test_a_value_is_not_empty(value) -> None:
    assert not is_empty(value)


def test_the_rules_load_without_pandas() -> None:
    """The web app and most commands import the rules; pandas stays unloaded (~0.5 s)."""
    probe = "import sys, registry.inventory.rules; print('pandas' in sys.modules)"
    said = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert said.strip() == "False"
