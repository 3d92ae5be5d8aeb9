"""Security checks over the whole app and tree: auth on every route, CSRF, SQL, upload limits.

Routes are enumerated from the app's URL map, so a route added later is checked without anyone
remembering to: it is protected unless it is named in the public allow-lists below.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import uuid
from pathlib import Path

import pytest
from werkzeug.routing import Rule

from registry.db import unit_of_work
from tests.factories import make_user
from web import create_app

PROJECT = Path(__file__).resolve().parent.parent
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# What the public (not signed in) may read: the published map, tiles, reference data and open
# data (OGC API), the sign-in page and the health probes. Every other GET needs a sign-in.
PUBLIC_READS = {
    "static",
    "vendor.asset",
    "map.index",
    "tiles.tile",
    "basemap.tile",  # the self-hosted basemap under the public map
    "health.healthz",
    "health.readyz",
    "auth.login",
    "api.at",
    "api.find",
    "api.plant",
    "api.plants",
    "api.green_space",
    "api.green_spaces",
    "api.inspections",
    "api.region",
    "api.regions",
    "api.species",
    "api.openapi",  # the API's description
    "map.regions",  # the public region pages of the map
    "map.region",
    "raster.images",  # NDVI overlays and per-green-space history: open environmental data
    "raster.overlay",
    "raster.history",
    "photos.image",  # photos of published plants (of any plant for staff)
    "photos.thumbnail",
    "photos_api.photos",
    "public_reports.new_report",  # residents report a tree and follow it by number (#21)
    "public_reports.status_page",
    "public_reports.open_data",
    "public_reports_api.status",
}
PUBLIC_READ_BLUEPRINTS = {"ogcapi", "field"}  # open data; the field app's shell (no records in it)
# Writes the public may make: signing in and out, choosing the interface language.
PUBLIC_WRITES = {"auth.login", "auth.logout", "i18n.choose_language"}
PUBLIC_WRITES |= {"public_reports.send_report", "public_reports_api.submit"}  # a report (#21)
# The one write without a CSRF token: a resident's report through the API comes from any client
# without a session to ride on (throttled, size-bound, with a honeypot instead).
CSRF_EXEMPT = {"public_reports_api.submit"}
SAMPLE_VALUES = {"layer": "plants", "collection_id": "plants", "reference": "KZ-71"}


def sample_url(rule: Rule) -> str:
    """The rule with a plausible value in every variable part (ids of records that may exist)."""
    url = rule.rule
    for name in rule.arguments:
        value = SAMPLE_VALUES.get(name, "1")
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
    return url


def is_public_read(endpoint: str) -> bool:
    return endpoint in PUBLIC_READS or endpoint.split(".")[0] in PUBLIC_READ_BLUEPRINTS


def _app(**config):
    return create_app({"TESTING": True, **config})


def _routes() -> list[tuple[str, str, str]]:
    app = _app()
    return sorted(
        (rule.endpoint, method, sample_url(rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


ROUTES = _routes()
PROTECTED = [
    r
    for r in ROUTES
    if not (r[1] == "GET" and is_public_read(r[0]))
    and not (r[1] in WRITE_METHODS and r[0] in PUBLIC_WRITES)
]
WRITES = [r for r in ROUTES if r[1] in WRITE_METHODS and r[0] not in CSRF_EXEMPT]


def test_the_url_map_is_enumerated() -> None:
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert {"map.index", "tiles.tile", "health.healthz"} <= endpoints
    stale = {e for e in PUBLIC_READS | PUBLIC_WRITES if e not in endpoints}
    assert not stale, f"allow-listed endpoints that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize(("endpoint", "method", "url"), PROTECTED)
def test_every_non_public_route_needs_a_sign_in(database_url, endpoint, method, url) -> None:
    """Anonymous clients get 401 (JSON) or a redirect to the sign-in page, before anything else."""
    client = _app(WTF_CSRF_ENABLED=False).test_client()
    answer = client.open(url, method=method, json={} if method in WRITE_METHODS else None)
    if answer.status_code == 302:
        assert "/login" in answer.headers["Location"], f"{method} {url} redirects elsewhere"
    else:
        assert answer.status_code == 401, (
            f"{method} {url} ({endpoint}) answered an anonymous client with "
            f"{answer.status_code}, not 401 or a redirect to /login"
        )


@pytest.fixture
def signed_in(clean):
    """A client signed in as an administrator through the real sign-in form."""
    with unit_of_work(clean) as session:
        email = make_user(session, "admin", None, password="security-test-pass").email
    app = _app(JASYL_LOGIN_LIMIT="1000 per minute")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"email": email, "password": "security-test-pass", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302
    assert client.get("/plants/new").status_code == 200  # really signed in
    return app, client


@pytest.mark.parametrize(("endpoint", "method", "url"), WRITES)
def test_every_write_needs_a_csrf_token(signed_in, endpoint, method, url) -> None:
    app, client = signed_in
    assert app.config.get("WTF_CSRF_ENABLED", True) and "csrf" in app.extensions
    answer = client.open(url, method=method, data={"field": "value"})
    assert answer.status_code == 400, f"{method} {url} accepted a request without a CSRF token"
    assert b"CSRF" in answer.data


@pytest.mark.parametrize(("endpoint", "method", "url"), WRITES)
def test_request_bodies_are_limited_in_size(signed_in, endpoint, method, url) -> None:
    """Every write refuses a body over ``MAX_CONTENT_LENGTH`` with 413 before looking at it."""
    app, client = signed_in
    app.config["MAX_CONTENT_LENGTH"] = 4096
    body = {"file": (io.BytesIO(b"x" * 10_000), "survey.zip")}
    answer = client.open(url, method=method, data=body, content_type="multipart/form-data")
    assert answer.status_code == 413, f"{method} {url} took a body over the limit"


def test_the_production_body_limit_is_set() -> None:
    assert 0 < _app().config["MAX_CONTENT_LENGTH"] <= 512 * 1024 * 1024


# -- SQL built from strings ---------------------------------------------------------------------
# The code that handles input. Migrations and benchmarks take none (they build scratch
# databases and DDL from their own constants), so they are not scanned.
SCANNED = ("registry", "web", "gis", "importers")
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executemany", "scalar", "scalars", "copy"}
CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# (file, why): reviewed modules that assemble SQL from a fixed catalogue, binding every value.
ALLOWED_FILES = {
    "registry/opendata/services.py": "columns and tables from the fixed Collection catalogue",
}
# (file, interpolated expression): each checked against a fixed list before it reaches SQL.
ALLOWED = {
    # next_id: callers pass a model's table name; binding it (:table) would be better still.
    ("registry/nursery/services.py", "table"),
}
STRING_METHODS = {"format", "join", "replace"}


def _is_string(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _interpolated(node: ast.expr) -> list[ast.expr]:
    """The parts spliced into a string built by f-string, ``+``, ``%`` or ``str.format``."""
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        parts = [node.left, node.right]
        if any(_is_string(p) or isinstance(p, ast.BinOp) for p in parts):
            return [p for p in parts if not isinstance(p, ast.Constant)]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in STRING_METHODS
        and _is_string(node.func.value)  # "...".format(x), not sql.SQL(...).format(Identifier)
    ):
        return [node.func.value, *node.args, *(k.value for k in node.keywords)]
    return []


def _unsafe(parts: list[ast.expr], constants: set[str]) -> list[ast.expr]:
    """The parts that may carry input: not literals, not constants, not built from them."""

    def constant(p: ast.expr) -> bool:
        if isinstance(p, ast.Name):
            return bool(CONSTANT_NAME.match(p.id)) or p.id in constants
        if isinstance(p, ast.Attribute):
            return bool(CONSTANT_NAME.match(p.attr))
        if isinstance(p, ast.Constant):
            return True
        if isinstance(p, ast.Starred):
            return constant(p.value)
        return bool(_interpolated(p)) and not _unsafe(_interpolated(p), constants)

    return [p for p in parts if not constant(p)]


def sql_built_from_input(source: str, relative: str) -> list[str]:
    """Calls that pass SQL with spliced-in non-constant values, directly or through a variable.

    Names bound at module level count as constants: they are computed at import time, before
    any request or file exists, so they cannot carry input.
    """
    if relative in ALLOWED_FILES:
        return []
    tree = ast.parse(source)
    constants = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for scope in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        built = {
            target.id: node.value
            for node in ast.walk(scope)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name) and _unsafe(_interpolated(node.value), constants)
        }
        for node in ast.walk(scope):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name not in SQL_CALLS:
                continue
            argument = node.args[0]
            if isinstance(argument, ast.Name) and argument.id in built:
                argument = built[argument.id]
            bad = [
                p
                for p in _unsafe(_interpolated(argument), constants)
                if (relative, ast.unparse(p)) not in ALLOWED
            ]
            if bad:
                found.append(f"{relative}:{node.lineno}: {ast.unparse(node)[:100]}")
    return sorted(set(found))


def test_no_sql_is_built_by_concatenating_input() -> None:
    offenders = []
    for folder in SCANNED:
        for path in sorted((PROJECT / folder).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            relative = path.relative_to(PROJECT).as_posix()
            offenders += sql_built_from_input(path.read_text(encoding="utf-8"), relative)
    assert not offenders, "SQL built from non-constant strings:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        "def f(s, name):\n    s.execute(text(f'SELECT * FROM plants WHERE name = {name}'))",
        "def f(s, name):\n    s.execute(text('SELECT * FROM t WHERE a = ' + name))",
        "def f(s, name):\n    s.execute('SELECT %s' % name)",
        "def f(s, name):\n    q = 'DELETE FROM t WHERE id = {}'.format(name)\n    s.execute(q)",
        "def f(c, name):\n    q = f'DROP TABLE {name}'\n    c.exec_driver_sql(q)",
    ],
)
def test_the_sql_check_catches_concatenation(source) -> None:
    assert sql_built_from_input(source, "example.py")


@pytest.mark.parametrize(
    "source",
    [
        "def f(s, name):\n    s.execute(text('SELECT * FROM t WHERE a = :a'), {'a': name})",
        "COLS = ('a', 'b')\ndef f(c):\n    c.copy(f\"COPY t ({', '.join(COLS)}) FROM STDIN\")",
        "Q = f'SELECT {1}'\ndef f(s):\n    s.execute(text(Q))",
        "def f(s, keys):\n    q = select(*keys).join(t).where(t.a == 1)\n    s.execute(q)",
        "def f(s):\n    s.execute(text(f'SELECT * FROM {TABLE}'))",
        "def f(c, n):\n    c.execute(sql.SQL('DROP DATABASE {}').format(sql.Identifier(n)))",
    ],
)
def test_the_sql_check_passes_parameters_and_constants(source) -> None:
    assert not sql_built_from_input(source, "example.py")


# -- uploads --------------------------------------------------------------------------------------
def _upload_routes() -> list[tuple[str, str, str]]:
    """Every POST view that reads ``request.files``, with the form field it reads."""
    app = _app()
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        source = inspect.getsource(app.view_functions[rule.endpoint])
        for field_name in re.findall(r"request\.files\.get\(\"(\w+)\"\)", source):
            found.append((rule.endpoint, sample_url(rule), field_name))
    return sorted(found)


UPLOADS = _upload_routes()
ESCAPES = [
    "../../../../../../tmp/{marker}.csv",
    "..\\..\\..\\..\\tmp\\{marker}.csv",
    "/tmp/{marker}",
]


def test_upload_routes_are_found() -> None:
    assert UPLOADS, "no upload route found; the checks below would be empty"


@pytest.mark.parametrize(("endpoint", "url", "field_name"), UPLOADS)
@pytest.mark.parametrize("escape", [*ESCAPES, ".."])
def test_path_traversal_in_upload_names_is_refused(
    signed_in, endpoint, url, field_name, escape
) -> None:
    app, client = signed_in
    app.config["WTF_CSRF_ENABLED"] = False
    marker = f"jasyl-escape-{uuid.uuid4().hex}"
    name = escape.format(marker=marker)
    data = {field_name: (io.BytesIO(b"id;species\n1;Ulmus pumila\n"), name), "region": "KZ-71"}
    answer = client.post(url, data=data, content_type="multipart/form-data")
    assert answer.status_code in (200, 400, 413, 415, 422), (
        f"{endpoint} answered {answer.status_code} to an upload named {name!r}"
    )
    assert not list(Path("/tmp").glob(f"{marker}*")), f"{endpoint} wrote outside its folder"
    assert not (Path("/tmp") / "..").joinpath(marker).exists()


@pytest.mark.parametrize(("endpoint", "url", "field_name"), UPLOADS)
def test_uploads_of_the_wrong_type_are_refused_clearly(
    signed_in, endpoint, url, field_name
) -> None:
    app, client = signed_in
    app.config["WTF_CSRF_ENABLED"] = False
    program = io.BytesIO(b"MZ\x90\x00" + bytes(range(256)) * 8)
    data = {field_name: (program, "setup.exe"), "region": "KZ-71"}
    answer = client.post(url, data=data, content_type="multipart/form-data")
    assert answer.status_code in (400, 415, 422), (
        f"{endpoint} answered {answer.status_code} to a Windows program"
    )
