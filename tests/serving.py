"""Real processes for operations tests: the production server and private PostgreSQL clusters.

A private cluster lives in its own folder under /tmp (reachable by the ``postgres`` user), on its
own port, so tests may stop, restart, fill or replicate it without touching the shared cluster.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

from registry import migrate
from registry.cluster import LocalCluster, find_bindir
from registry.config import load_settings, local_database_url

PROJECT = Path(__file__).resolve().parent.parent
JASYL = PROJECT / ".venv" / "bin" / "jasyl"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class PrivateCluster:
    """A throw-away PostGIS cluster: ``LocalCluster`` pointed at a temporary home and port."""

    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jasyl-ops-")))
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.home.chmod(0o755)
        env = {"JASYL_HOME": str(self.home), "JASYL_PG_PORT": str(self.port), "JASYL_PG_FAST": "1"}
        self.cluster = LocalCluster(load_settings(env))

    def up(self) -> PrivateCluster:
        self.cluster.up()
        return self

    def url(self, database: str = "jasyl") -> str:
        return local_database_url(self.port, database)

    def migrated_url(self, database: str = "jasyl") -> str:
        self.sql("postgres", f'CREATE DATABASE "{database}"', ignore_errors=True)
        url = self.url(database)
        migrate.upgrade(url)
        return url

    def sql(self, database: str, statement: str, ignore_errors: bool = False) -> None:
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(statement)
        except psycopg.Error:
            if not ignore_errors:
                raise

    def pg_ctl(self, *args: str) -> None:
        self.cluster._run("pg_ctl", *args, "-D", str(self.cluster.data_dir))

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast", "-w")

    def start(self) -> None:
        self.cluster._start()

    def destroy(self) -> None:
        try:
            self.cluster.destroy()
        finally:
            shutil.rmtree(self.home, ignore_errors=True)


def start_replica(primary: PrivateCluster) -> PrivateCluster:
    """A hot standby of ``primary`` made by ``pg_basebackup -R``, streaming on its own port."""
    replica = PrivateCluster()
    data_dir = replica.cluster.data_dir
    replica.cluster._prepare_dirs()  # an empty data folder owned by the server's user
    command = [
        str(find_bindir() / "pg_basebackup"),
        "-h",
        "127.0.0.1",
        "-p",
        str(primary.port),
        "-U",
        "postgres",
        "-D",
        str(data_dir),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
    ]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise RuntimeError(f"pg_basebackup failed: {result.stderr.strip()}")
    replica.start()
    return replica


@dataclass
class ProductionServer:
    """``jasyl serve --production`` as a real process group on a loopback port."""

    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 2
    threads: int = 4
    port: int = field(default_factory=free_port)

    def start(self, timeout: float = 30.0) -> ProductionServer:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "JASYL_SECRET_KEY": "ops-test-secret-key-0123456789",
            **self.extra_env,
        }
        handle, name = tempfile.mkstemp(prefix="jasyl-serve-", suffix=".log")
        self.log_path = Path(name)
        self.process = subprocess.Popen(
            [
                str(JASYL),
                "serve",
                "--production",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
            ],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        os.close(handle)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                # Ready, and every worker booted: granian answers once one worker is up, and a
                # server told to stop while a worker boots waits 30 s for it (measured).
                booted = self.output().count("Started worker") >= self.workers
                if booted and http_get(self.url("/readyz"), timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        output = self.output()
        self.kill()  # a server that never became ready must not outlive the test that gave up
        raise RuntimeError(f"server did not become ready: {output}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the arbiter and its workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        self.log_path.unlink(missing_ok=True)


def python_process(code: str, env: dict[str, str]) -> subprocess.Popen:
    """A separate Python process running ``code`` in the project (a writer to kill mid-work)."""
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


class Client:
    """A browser-like keep-alive HTTP client that keeps its cookies (even ``Secure`` ones, which
    the production server sets: TLS ends at the proxy, these tests speak plain HTTP)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # a keep-alive connection the server closed: reopen
                if attempt == 2:
                    raise
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return answer.status, data, answer

    def sign_in(self, email: str, password: str) -> str:
        """Sign in through the form like a browser; returns the CSRF token for API writes."""
        _, page, _ = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if not match:
            raise RuntimeError("no CSRF token on /login")
        token = match.group(1).decode()
        form = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        status, _, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"sign-in failed with {status}")
        return token
