"""The project's own PostGIS cluster under ``.jasyl/``, for machines without a database server.

It uses the Debian packages ``postgresql`` and ``postgis``: ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/<version>/bin``. As root the server runs as the ``postgres`` user, because
PostgreSQL refuses to run as root. It listens on loopback only and trusts local connections: it is
a workstation and test database; deployments point ``DATABASE_URL`` at a managed server instead.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from registry.config import LOCAL_DATABASE, Settings
from registry.errors import ClusterError

PG_ROOT = Path("/usr/lib/postgresql")
FALLBACK_ROOT = Path("/var/lib/postgresql")


@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    port: int
    data_dir: Path
    version: str | None


def find_bindir() -> Path:
    """The newest installed PostgreSQL server's ``bin`` folder."""
    candidates = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise ClusterError(
            "PostgreSQL server is not installed (no initdb under /usr/lib/postgresql); "
            "install it with: apt-get install postgresql postgis"
        )
    return candidates[-1]


def _reachable_by(user: str, path: Path) -> bool:
    """Can ``user`` traverse every folder down to ``path`` (or its nearest existing parent)?"""
    probe = path
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-x", str(probe)], capture_output=True
    )
    return result.returncode == 0


def check_postgis(bindir: Path) -> None:
    version = bindir.parent.name
    control = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
    if not control.exists():
        raise ClusterError(
            f"the PostGIS extension is not installed for PostgreSQL {version}; "
            f"install it with: apt-get install postgresql-{version}-postgis-3 (package 'postgis')"
        )


class LocalCluster:
    """Initialise, start, stop and inspect the cluster in ``settings.home / 'pgdata'``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        self.port = settings.pg_port
        server_home = self._server_home()
        self.data_dir = server_home / "pgdata"
        self.run_dir = server_home / "run"
        self.log_file = server_home / "log" / "postgresql.log"

    def _server_home(self) -> Path:
        """``.jasyl/`` itself, unless the server user cannot reach it (a clone under /root).

        PostgreSQL runs as ``postgres`` when we are root; a checkout inside a private home
        folder is out of its reach, so its files then live in PostgreSQL's own folder, one per
        checkout, and ``.jasyl/pgdata-location`` says where.
        """
        if self._server_user() is None or _reachable_by("postgres", self.home):
            return self.home
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]
        fallback = FALLBACK_ROOT / f"jasyl-{digest}"
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "pgdata-location").write_text(f"{fallback}\n")
        return fallback

    # -- running commands as the right user ---------------------------------------------------
    def _server_user(self) -> str | None:
        """``postgres`` when we are root (the server refuses root), else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ClusterError(
                "running as root needs the 'postgres' system user: apt-get install postgresql"
            ) from exc
        return "postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        bindir = find_bindir()
        command = [str(bindir / args[0]), *args[1:]]
        user = self._server_user()
        if user:
            command = ["runuser", "-u", user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()
            raise ClusterError(f"{args[0]} failed: {output[-1] if output else 'no output'}")
        return result

    def _prepare_dirs(self) -> None:
        for path in (self.home, self.data_dir, self.run_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        user = self._server_user()
        if user:
            for path in (self.data_dir, self.run_dir, self.log_file.parent):
                shutil.chown(path, user, user)

    # -- the public verbs ---------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        initialised = (self.data_dir / "PG_VERSION").exists()
        running = (
            initialised
            and self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0
        )
        version = (self.data_dir / "PG_VERSION").read_text().strip() if initialised else None
        port = self._listening_port() if running else None
        return ClusterStatus(initialised, running, port or self.port, self.data_dir, version)

    def up(self) -> ClusterStatus:
        """Initialise if needed, start if stopped, create the database: safe to call twice."""
        bindir = find_bindir()
        check_postgis(bindir)
        state = self.status()
        moving = state.running and state.port != self.port
        if moving or not state.running:
            # A taken port is refused before anything stops. A server started on another port
            # (JASYL_PG_PORT changed since) moves here: the app would look for its database on
            # whatever else listens on this one.
            self._ensure_port_free()
        if moving:
            state = self.down()
        if not state.initialised:
            self._prepare_dirs()
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        elif state.version != bindir.parent.name:
            raise ClusterError(
                f"{self.data_dir} was made by PostgreSQL {state.version}, but {bindir.parent.name} "
                "is installed; `jasyl db reset --yes` recreates it (the local data is lost)"
            )
        if not state.running:
            self._prepare_dirs()
            self._start()
        self._ensure_database()
        return self.status()

    def down(self) -> ClusterStatus:
        if self.status().running:
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")
        return self.status()

    def destroy(self) -> None:
        """Stop the server and remove its data directory."""
        self.down()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------
    def _listening_port(self) -> int | None:
        """The port the running server listens on: the fourth line of its ``postmaster.pid``."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, IndexError, ValueError):
            return None

    def _ensure_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise ClusterError(
                    f"port {self.port} on 127.0.0.1 is taken by another program; "
                    "stop it or choose another port with JASYL_PG_PORT=<port>"
                ) from exc

    def _start(self) -> None:
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.run_dir}",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
        ]
        if self.settings.pg_fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        result = self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.log_file),
            "-o",
            " ".join(options),
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise ClusterError("PostgreSQL did not start: " + " | ".join(tail))

    def _ensure_database(self) -> None:
        with psycopg.connect(self.admin_dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (LOCAL_DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{LOCAL_DATABASE}"')

    def admin_dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"
