"""Migration 0011: the partial index of the active coordinators' groups (the cockpit's "no
coordinator" rule), up and down on both databases, matching the models."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade

INDEX = "ix_case_members_active_coordinator"


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0010(request, tmp_path):
    with database_at("0010", request.param, tmp_path) as url:
        yield url


def _indexes(engine) -> set[str]:
    return {ix["name"] for ix in sa.inspect(engine).get_indexes("case_members")}


def test_up_and_down(url_at_0010):
    engine = sa.create_engine(url_at_0010)
    try:
        assert INDEX not in _indexes(engine)
        upgrade(url_at_0010, "0011")
        assert INDEX in _indexes(engine)
        assert differences_from_models(url_at_0010, INDEX) == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0010), "0010")
        assert INDEX not in _indexes(engine)
    finally:
        engine.dispose()


def test_the_index_is_partial(url_at_0010):
    """Only the coordinators' rows: the index is what makes the rule cheap."""
    upgrade(url_at_0010, "0011")
    engine = sa.create_engine(url_at_0010)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                definition = conn.scalar(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": INDEX})
            else:
                definition = conn.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": INDEX})
        assert "koordinator" in definition and "WHERE" in definition.upper()
    finally:
        engine.dispose()
