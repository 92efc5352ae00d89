"""Shared fixtures: real SQLite and real PostgreSQL databases, the app, the engine.

Every database test runs on SQLite and on PostgreSQL (``TEST_DATABASE_URL``, default
``postgresql+psycopg://ansvar:ansvar@127.0.0.1:5432/ansvar_test``). Without a reachable server the
PostgreSQL half is skipped locally and fails in CI (``ANSVARSGRUPPE_CI=1``).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from handlers import REGISTRY
from webapp import create_app
from webapp.clock import Clock
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


def pytest_sessionfinish(session, exitstatus):
    admin = _pg_state.get("admin")
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{_pg_state["own"]}" WITH (FORCE)'))
        admin.dispose()


def _truncate_pg() -> None:
    engine = sa.create_engine(_pg_state["url"])
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if not _pg_ready():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {_pg_state['why']}")
        pytest.skip(f"no PostgreSQL: {_pg_state['why']}")
    _truncate_pg()
    return _pg_state["url"]


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
            "SCRIPT_TIME_LIMIT": 1.0,
        }
        config.update(overrides)
        app = create_app(config, clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
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
    client.token = csrf_token(client.get("/oppgaver").text)
    return client
