"""Every setting registry/config.py reads is documented for whoever deploys Jasyl (README
"Deploying") and in config.py's own docstring; no documented setting is one nobody reads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import registry.config

PROJECT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"^(DATABASE_URL|JASYL_[A-Z0-9_]+)$")


def settings_read() -> set[str]:
    """The environment variables config.py reads: every string constant that names one."""
    tree = ast.parse(Path(registry.config.__file__).read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SETTING.match(node.value)
    }


def deploying_section() -> str:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Deploying\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, 'README.md has no "## Deploying" section'
    return match.group(1)


def test_the_settings_are_found() -> None:
    read = settings_read()
    assert {"DATABASE_URL", "JASYL_SECRET_KEY", "JASYL_REPLICA_URL", "JASYL_TILE_CACHE"} <= read


def test_readme_deploying_lists_every_setting() -> None:
    table = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", deploying_section(), re.M))
    missing = settings_read() - table
    assert not missing, f"README 'Deploying' does not list: {sorted(missing)}"
    unknown = {name for name in table if SETTING.match(name)} - settings_read()
    assert not unknown, f"README 'Deploying' lists settings config.py never reads: {unknown}"


def test_config_docstring_lists_every_setting() -> None:
    documented = set(re.findall(r"``([A-Z0-9_]+)``:", registry.config.__doc__ or ""))
    assert settings_read() <= documented
