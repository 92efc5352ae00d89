"""Shared fixtures: real SQLite and real PostgreSQL databases, the app, the engine.

Every database test runs on SQLite and on PostgreSQL (``TEST_DATABASE_URL``, default
``postgresql+psycopg://ansvar:ansvar@127.0.0.1:5432/ansvar_test``). Without a reachable server the
PostgreSQL half is skipped locally and fails in CI (``ANSVARSGRUPPE_CI=1``).

The suite must stay fast (DESIGN §11): every test gets an empty database (a copy of a migrated
SQLite file; PostgreSQL emptied with DELETE), the test apps hash passwords at argon2's minimum
cost and share parsed specs and compiled templates, and seed data such as the process library and
its users is built once and copied in (``tests/snapshots.py``).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import jinja2
import pytest
import sqlalchemy as sa

from handlers import REGISTRY
from webapp import create_app
from webapp.clock import Clock
from webapp.engine.library import SpecCache
from webapp.engine.operations import deploy_library
from webapp.migrate import upgrade

TESTS = Path(__file__).parent
DIAGRAMS = TESTS / "diagrams"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://ansvar:ansvar@127.0.0.1:5432/ansvar_test")
IN_CI = os.environ.get("ANSVARSGRUPPE_CI") == "1"

# Handlers only the test diagrams use.
TEST_CALLS: list[str] = []
FAILING = {"on": True}


def _test_count(ctx, **_params):
    TEST_CALLS.append(f"count:{ctx.instance_id}")
    return len(TEST_CALLS)


def _test_explode(ctx, **_params):
    if FAILING["on"]:
        raise RuntimeError("tjenesten svarte ikke")
    ctx.outbox.send("ke@example.org", "Gikk bra", "Etter nytt forsøk")
    return "ok"


def _test_double(ctx, **_params):
    return ctx.data["x"] * 2


TEST_HANDLERS = {**REGISTRY, "test_count": _test_count, "test_explode": _test_explode,
                 "test_double": _test_double}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


_pg_state: dict = {}


def _pg_ready() -> bool:
    """Create a database of this test session's own on the server (so parallel runs never share
    one), migrate it, and remember its URL. Falls back to TEST_DATABASE_URL itself if the role may
    not create databases."""
    if "ok" not in _pg_state:
        try:
            url = sa.engine.make_url(PG_URL)
            own = f"{url.database}_{os.getpid()}"
            admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{own}"'))
                    conn.execute(sa.text(f'CREATE DATABASE "{own}"'))
                _pg_state["url"] = url.set(database=own).render_as_string(hide_password=False)
                _pg_state["admin"], _pg_state["own"] = admin, own
            except sa.exc.DBAPIError:
                admin.dispose()
                _pg_state["url"] = PG_URL
                engine = sa.create_engine(PG_URL)
                with engine.begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                    conn.execute(sa.text("CREATE SCHEMA public"))
                engine.dispose()
            upgrade(_pg_state["url"])
            _pg_state["ok"] = True
        except Exception as exc:  # no server: skipped (locally) or failed (CI)
            _pg_state["ok"] = False
            _pg_state["why"] = f"{type(exc).__name__}: {exc}"
    return _pg_state["ok"]


def require_postgresql() -> None:
    """Skip the PostgreSQL half of a test without a server locally; in CI that is a failure
    (``ANSVARSGRUPPE_CI=1``), and ``.ci/run`` also fails on any skip in the summary."""
    if not _pg_ready():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {_pg_state['why']}")
        pytest.skip(f"no PostgreSQL: {_pg_state['why']}")


def pytest_sessionfinish(session, exitstatus):
    if "engine" in _pg_state:
        _pg_state["engine"].dispose()
    admin = _pg_state.get("admin")
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{_pg_state["own"]}" WITH (FORCE)'))
        admin.dispose()


def _reset_pg() -> None:
    """Empty every table and restart the sequences the previous test used: what TRUNCATE …
    RESTART IDENTITY does, but DELETE of a test's few rows takes milliseconds where TRUNCATE of
    every table takes a tenth of a second or more."""
    if "reset" not in _pg_state:
        engine = sa.create_engine(_pg_state["url"])
        schema = sa.MetaData()
        schema.reflect(engine)  # the migrated schema, foreign keys and all
        tables = [t.name for t in reversed(schema.sorted_tables) if t.name != "alembic_version"]
        _pg_state["engine"] = engine
        _pg_state["reset"] = "; ".join(f'DELETE FROM "{t}"' for t in tables)  # children first
    with _pg_state["engine"].begin() as conn:
        used = conn.execute(sa.text("SELECT sequencename FROM pg_sequences "
                                    "WHERE schemaname = 'public' AND last_value IS NOT NULL")).scalars().all()
        conn.exec_driver_sql(_pg_state["reset"])
        if used:
            conn.exec_driver_sql("; ".join(f'ALTER SEQUENCE "{name}" RESTART' for name in used))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template) -> str:
    return database_url(request.param, tmp_path, sqlite_template)


def database_url(kind: str, tmp_path, sqlite_template) -> str:
    """A fresh migrated database of ``kind``: a copy of the SQLite template, or the worker's
    PostgreSQL database emptied."""
    if kind == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    require_postgresql()
    _reset_pg()
    return _pg_state["url"]


#: Parsed specs are keyed by process id and content hash, so one cache serves every test's app and
#: database, and each diagram is parsed once per session.
SPECS = SpecCache()
#: argon2's minimum cost: hashing a password takes microseconds instead of a tenth of a second.
CHEAP_PASSWORD_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 8,
                          "PASSWORD_HASH_PARALLELISM": 1}


class _CompiledTemplates(jinja2.BytecodeCache):
    """Jinja compiles each template anew in every app; the test apps are configured alike, so they
    share the compiled code (Jinja keys it by template name and checks the source's checksum)."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = _CompiledTemplates()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(db_url, clock, tmp_path):
    apps = []

    def make(**overrides):
        config = {
            "TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False, "HANDLERS": TEST_HANDLERS,
            "SCRIPT_TIME_LIMIT": 1.0, "SPEC_CACHE": SPECS, **CHEAP_PASSWORD_HASHING,
            "ACCESS_LOG_FLUSH_SECONDS": 0,  # rows written at once (tests of batching set it)
            "REGISTER_FIGURES_SECONDS": 0,  # figures computed on every request (tests change data)
            "SUPERVISION_COUNTS_SECONDS": 0,  # likewise the cockpit's counts
        }
        config.update(overrides)
        app = create_app(config, clock=clock)
        app.jinja_env.bytecode_cache = TEMPLATES
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["ansvarsgruppe"].access_log.close()
        app.extensions["ansvarsgruppe"].db.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def services(app):
    return app.extensions["ansvarsgruppe"]


@pytest.fixture(autouse=True)
def _reset_test_handlers():
    TEST_CALLS.clear()
    FAILING["on"] = True
    yield


def deploy_test_diagrams(services, folder: Path = DIAGRAMS, forms: Path | None = None):
    return deploy_library(services.db, services.clock, folder, forms or folder / "forms",
                          services.engine.handlers.keys())


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login_client(app, username: str, password: str = "passord123"):
    """A test client logged in as ``username``; ``client.token`` holds a CSRF token."""
    client = app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"username": username, "password": password,
                                              "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, response.text
    client.token = csrf_token(client.get("/oppgaver", follow_redirects=True).text)  # a citizen lands on /min-side
    return client
