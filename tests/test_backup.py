"""``jasyl backup`` / ``jasyl restore`` end to end against real databases and real files."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from sqlalchemy.engine import make_url

from registry.db import engine_for, unit_of_work
from tests.factories import ALMATY, make_green_space, make_plant, make_user, point_near
from web.cli import main

# The test's own fingerprint, computed differently from the service's (sorted rows, not hashes).
ROWS_DIGEST = (
    "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
)
TABLES = """
    SELECT schemaname, tablename FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'topology', 'tiger')
      AND tablename <> 'spatial_ref_sys' ORDER BY 1, 2
"""


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and the digest of its sorted rows."""
    with psycopg.connect(libpq(url)) as conn:
        tables = conn.execute(TABLES).fetchall()
        return {
            f"{s}.{t}": tuple(
                conn.execute(sql.SQL(ROWS_DIGEST).format(sql.Identifier(s, t))).fetchone()
            )
            for s, t in tables
        }


@pytest.fixture
def empty_database(database_url) -> Iterator[str]:
    name = make_url(database_url).database + "_restored"
    admin = libpq(make_url(database_url).set(database="postgres").render_as_string(False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    yield url
    engine_for(url).dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def registry_with_files(clean, tmp_path, monkeypatch) -> Path:
    """Committed plants, a green space, users and uploaded files (names in Cyrillic)."""
    with unit_of_work(clean) as session:
        make_user(session, "forester", "KZ-75")
        space = make_green_space(session, name="Парк «Жас Қазақстан»")
        for _ in range(25):
            make_plant(session, green_space_id=space.id, address="көшесі Абай, 10")
        make_plant(session, geom=point_near(ALMATY), notes="Қарағай — тексеру")
    home = tmp_path / "home"
    uploads = home / "uploads" / "imports" / "2026"
    uploads.mkdir(parents=True)
    (uploads / "түгендеу.zip").write_bytes(bytes(range(256)) * 40)
    (uploads / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 5000)
    monkeypatch.setenv("JASYL_HOME", str(home))
    return home


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_restore_into_an_empty_database_reproduces_every_record(
    registry_with_files, empty_database, database_url, tmp_path, monkeypatch
) -> None:
    archive = tmp_path / "jasyl.backup"
    made = run("backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "uploaded files" in made.output and archive.stat().st_size > 0
    before = contents(database_url)
    assert before["public.plants"][0] == 26 and before["public.green_spaces"][0] == 1

    monkeypatch.setenv("DATABASE_URL", empty_database)
    monkeypatch.setenv("JASYL_HOME", str(tmp_path / "elsewhere"))
    restored = run("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "every count and checksum matches" in restored.output

    after = contents(empty_database)
    assert after == before  # every table: same rows, same digest
    with psycopg.connect(libpq(empty_database)) as conn:
        notes = conn.execute("SELECT notes FROM plants WHERE notes <> ''").fetchone()[0]
        assert notes == "Қарағай — тексеру"
        assert conn.execute("SELECT PostGIS_Lib_Version()").fetchone()[0]
    source_files = registry_with_files / "uploads"
    target_files = tmp_path / "elsewhere" / "uploads"
    names = sorted(p.relative_to(source_files) for p in source_files.rglob("*") if p.is_file())
    assert names == sorted(
        p.relative_to(target_files) for p in target_files.rglob("*") if p.is_file()
    )
    for name in names:
        assert (source_files / name).read_bytes() == (target_files / name).read_bytes()


def test_restore_over_a_database_with_data_needs_force(
    registry_with_files, empty_database, database_url, tmp_path, monkeypatch
) -> None:
    archive = tmp_path / "jasyl.backup"
    assert run("backup", str(archive)).exit_code == 0
    wanted = contents(database_url)
    monkeypatch.setenv("DATABASE_URL", empty_database)
    refused = CliRunner().invoke(main, ["restore", str(archive)])
    assert refused.exit_code == 1 and "(files in " in refused.output  # uploads are data too
    monkeypatch.setenv("JASYL_HOME", str(tmp_path / "elsewhere"))
    assert run("restore", str(archive)).exit_code == 0
    with psycopg.connect(libpq(empty_database), autocommit=True) as conn:
        conn.execute("UPDATE plants SET address = 'changed after the backup'")
    changed = contents(empty_database)

    refused = CliRunner().invoke(main, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "--force" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert contents(empty_database) == changed  # nothing was touched

    forced = run("restore", str(archive), "--force")
    assert forced.exit_code == 0, forced.output
    assert contents(empty_database) == wanted


def _archive_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    path = tmp_path / "crafted.backup"
    with tarfile.open(path, "w") as archive:
        manifest = b'{"format": "jasyl-backup/1", "tables": {}, "files": {}}'
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest))
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


@pytest.mark.parametrize(
    "name",
    ["../escaped.txt", "uploads/../../escaped.txt", "/tmp/escaped.txt", "uploads\\..\\x"],
)
def test_path_traversal_in_an_archive_is_refused(
    empty_database, tmp_path, monkeypatch, name
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database)
    monkeypatch.setenv("JASYL_HOME", str(tmp_path / "home"))
    archive = _archive_with(tmp_path, tarfile.TarInfo(name), b"owned")
    result = CliRunner().invoke(main, ["restore", str(archive)])
    assert result.exit_code == 1
    assert "points outside the backup; refused" in result.output
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped.txt").exists()
    assert contents(empty_database) == {}


def test_links_in_an_archive_are_refused(empty_database, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database)
    link = tarfile.TarInfo("uploads/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    result = CliRunner().invoke(main, ["restore", str(_archive_with(tmp_path, link))])
    assert result.exit_code == 1 and "is a link or device; refused" in result.output


def test_not_a_backup_is_a_one_line_error(empty_database, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database)
    junk = tmp_path / "junk.backup"
    junk.write_text("not a tar file")
    result = CliRunner().invoke(main, ["restore", str(junk)])
    assert result.exit_code == 1 and "is not a Jasyl backup" in result.output
    missing = CliRunner().invoke(main, ["restore", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "FILE: no such backup file" in missing.output


def test_backup_to_a_missing_folder_is_a_one_line_error(database_url, tmp_path) -> None:
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "no" / "such" / "x.backup")])
    assert result.exit_code == 1 and "FILE: its folder does not exist" in result.output


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_commands_have_help(command) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "FILE" in result.output
