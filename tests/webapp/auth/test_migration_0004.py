"""Migration 0004: the user_sessions table, up and down, matching the model."""
import os

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import IN_CI, _pg_ready, _pg_state
from webapp.db import Base
from webapp.migrate import alembic_config, upgrade
import webapp.models  # noqa: F401  (every table in Base.metadata)


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0003(request, tmp_path):
    """An empty database at revision 0003 (PostgreSQL: a schema of its own in the test database)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migration.db'}"
        upgrade(url, "0003")
        yield url
        return
    if not _pg_ready():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {_pg_state['why']}")
        pytest.skip(f"no PostgreSQL: {_pg_state['why']}")
    schema = f"migration_0004_{os.getpid()}"
    admin = sa.create_engine(_pg_state["url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{_pg_state['url']}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url, "0003")
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def tables(url) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_user_sessions_up_and_down(url_at_0003):
    assert "user_sessions" not in tables(url_at_0003)
    upgrade(url_at_0003, "0004")
    assert "user_sessions" in tables(url_at_0003)
    engine = sa.create_engine(url_at_0003)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if "user_sessions" in repr(d)] == []
    command.downgrade(alembic_config(url_at_0003), "0003")
    assert "user_sessions" not in tables(url_at_0003)
