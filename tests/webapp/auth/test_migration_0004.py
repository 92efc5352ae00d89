"""Migration 0004: the user_sessions table, up and down, matching the model."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0003(request, tmp_path):
    """An empty database at revision 0003."""
    with database_at("0003", request.param, tmp_path) as url:
        yield url


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
    assert differences_from_models(url_at_0003, "user_sessions") == []
    command.downgrade(alembic_config(url_at_0003), "0003")
    assert "user_sessions" not in tables(url_at_0003)
