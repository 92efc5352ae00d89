"""Migration 0007: saved views and the rule indexes of the cockpit, up and down, matching the models."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade

NAMES = ["saved_views", "ix_evaluations_status_due_on", "ix_transitions_status_review_from",
         "ix_measures_status_deadline", "ix_meetings_case_id_held_at"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0006(request, tmp_path):
    with database_at("0006", request.param, tmp_path) as url:
        yield url


def _indexes(engine) -> set[str]:
    inspector = sa.inspect(engine)
    return {ix["name"] for table in ("evaluations", "transitions", "measures", "meetings")
            for ix in inspector.get_indexes(table)}


def test_up_and_down(url_at_0006):
    engine = sa.create_engine(url_at_0006)
    try:
        before = _indexes(engine)
        upgrade(url_at_0006, "0007")
        assert "saved_views" in sa.inspect(engine).get_table_names()
        assert set(NAMES[1:]) <= _indexes(engine)
        assert differences_from_models(url_at_0006, *NAMES) == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0006), "0006")
        assert "saved_views" not in sa.inspect(engine).get_table_names()
        assert _indexes(engine) == before
    finally:
        engine.dispose()
