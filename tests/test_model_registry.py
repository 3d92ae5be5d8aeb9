"""Every ORM model is registered in one place (``registry.models``) that every door loads.

A CLI command that imported only the planting models ended in ``NoReferencedTableError``
(``plants.import_batch_id`` → ``import_batches``): a mapper resolves its foreign keys against the
tables known when it is first used. The subprocess runs of ``tests/test_cli_subprocess.py``
cover the commands themselves; these check the registry is whole and is loaded by the engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_python(code: str) -> str:
    """Run ``code`` in a new interpreter (nothing of this test process imported) and return its
    last line of output."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_registry_models_lists_every_model_module() -> None:
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "registry").rglob("models.py")
        if path.parent != ROOT / "registry"
    )
    assert len(modules) >= 10
    tables = fresh_python(
        "import importlib, json\n"
        "import registry.models\n"
        "from registry.db import Base\n"
        "registered = sorted(Base.metadata.tables)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps([registered, sorted(Base.metadata.tables)]))\n"
    )
    registered, everything = json.loads(tables)
    assert registered == everything
    assert {"plants", "import_batches", "planting_events"} <= set(registered)


def test_the_first_engine_loads_every_model() -> None:
    """A process that imported one model module and made an engine knows every table."""
    tables = fresh_python(
        "import json\n"
        "from registry.planting.models import PlantingEvent\n"
        "from registry.db import Base, engine_for\n"
        "before = len(Base.metadata.tables)\n"
        "engine_for('postgresql+psycopg://nobody@127.0.0.1:1/none')\n"
        "print(json.dumps([before, sorted(Base.metadata.tables)]))\n"
    )
    before, after = json.loads(tables)
    assert "import_batches" in after and before < len(after)
