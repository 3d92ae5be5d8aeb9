"""The local cluster's refusals: a taken port, missing packages. Real sockets and folders."""

from __future__ import annotations

import os
import socket
from dataclasses import replace

import psycopg
import pytest

from registry import cluster
from registry.cluster import LocalCluster, check_postgis, find_bindir
from registry.config import load_settings
from registry.errors import ClusterError
from tests.conftest import ORIGINAL_DATABASE_URL
from tests.serving import PrivateCluster, free_port


def test_a_taken_port_is_named_with_the_way_out(tmp_path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = replace(load_settings(), home=tmp_path, pg_port=port, external_database_url=None)
        with pytest.raises(ClusterError) as caught:
            LocalCluster(settings).up()
    assert f"port {port} on 127.0.0.1 is taken" in str(caught.value)
    assert "JASYL_PG_PORT" in str(caught.value)


def test_missing_postgis_names_the_package(tmp_path) -> None:
    fake = tmp_path / "99" / "bin"
    fake.mkdir(parents=True)
    (fake / "initdb").touch()
    with pytest.raises(ClusterError, match="apt-get install postgresql-99-postgis-3"):
        check_postgis(fake)


def test_missing_postgresql_names_the_package(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cluster, "PG_ROOT", tmp_path)
    with pytest.raises(ClusterError, match="apt-get install postgresql postgis"):
        find_bindir()


def test_up_is_idempotent_on_the_running_cluster() -> None:
    if ORIGINAL_DATABASE_URL:
        pytest.skip("DATABASE_URL points at an external server")
    settings = replace(load_settings(), external_database_url=None)
    first = LocalCluster(settings).up()
    second = LocalCluster(settings).up()
    assert first.running and second.running and first.port == second.port


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_a_checkout_the_server_user_cannot_reach_keeps_its_data_elsewhere(tmp_path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    settings = replace(load_settings(), home=private / ".jasyl", external_database_url=None)
    local = LocalCluster(settings)
    assert str(local.data_dir).startswith("/var/lib/postgresql/jasyl-")
    assert (private / ".jasyl" / "pgdata-location").read_text().strip() == str(
        local.data_dir.parent
    )


def test_a_cluster_started_on_another_port_moves_to_the_configured_one() -> None:
    """JASYL_PG_PORT changed while the cluster ran: ``up`` must not report the new port while
    the server listens on the old one (the app would then look for its database on whatever
    else listens there), but move the server to the port configured now."""
    private = PrivateCluster().up()
    try:
        moved_to = free_port()
        env = {"JASYL_HOME": str(private.home), "JASYL_PG_PORT": str(moved_to)}
        state = LocalCluster(load_settings(env)).up()
        assert state.running and state.port == moved_to
        with psycopg.connect(f"host=127.0.0.1 port={moved_to} user=postgres dbname=jasyl") as c:
            assert c.execute("SELECT current_setting('port')").fetchone() == (str(moved_to),)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(f"host=127.0.0.1 port={private.port} user=postgres", connect_timeout=3)
    finally:
        private.destroy()
