"""Settings come from the environment, read in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.config import DEFAULT_PG_PORT, DEV_SECRET_KEY, load_settings, normalise_database_url
from registry.errors import InvalidValue


def test_defaults_use_the_local_cluster() -> None:
    settings = load_settings({})
    assert settings.uses_local_cluster and settings.pg_port == DEFAULT_PG_PORT
    assert (
        settings.database_url == f"postgresql+psycopg://postgres@127.0.0.1:{DEFAULT_PG_PORT}/jasyl"
    )
    assert settings.home.name == ".jasyl" and not settings.production


def test_external_urls_get_the_psycopg3_driver() -> None:
    for given in (
        "postgres://u:p@h:5/db",
        "postgresql://u:p@h:5/db",
        "postgresql+psycopg2://u:p@h:5/db",
    ):
        assert normalise_database_url(given) == "postgresql+psycopg://u:p@h:5/db"
    settings = load_settings(
        {"DATABASE_URL": "postgres://u@h/db", "JASYL_HOME": "/srv/j", "JASYL_PG_PORT": "6000"}
    )
    assert not settings.uses_local_cluster and settings.home == Path("/srv/j")
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_only_development_and_tests_have_a_default_secret() -> None:
    assert load_settings({"JASYL_PRODUCTION": "1"}).secret_key == ""
    assert load_settings({}).secret_key == "", "a server started on the factory has no key"
    assert load_settings({"JASYL_ENV": "development"}).secret_key == DEV_SECRET_KEY
    assert load_settings({"JASYL_ENV": "test"}).secret_key == DEV_SECRET_KEY
    production = load_settings({"JASYL_ENV": "test", "JASYL_PRODUCTION": "1"})
    assert production.secret_key == "" and not production.development
    with pytest.raises(InvalidValue, match="JASYL_ENV"):
        load_settings({"JASYL_ENV": "staging"})
