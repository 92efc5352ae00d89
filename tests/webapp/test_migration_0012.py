"""Migration 0012: the cockpit's order indexes, up and down on both databases (that each rule
can read from its index: tests/webapp/supervision/test_order_indexes.py)."""

import pytest
import sqlalchemy as sa
from alembic import command
from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade

DATE_INDEXES = {"measures": "ix_measures_open_deadline", "evaluations": "ix_evaluations_scheduled_due_on",
                "plans": "ix_plans_adopted_revision_due_on"}
EXPRESSION_INDEXES = {"ix_open_tasks_due_day", "ix_open_tasks_orphaned_day"}


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0011(request, tmp_path):
    with database_at("0011", request.param, tmp_path) as url:
        yield url


def _indexes(engine, table: str) -> set[str]:
    return {ix["name"] for ix in sa.inspect(engine).get_indexes(table)}


def test_up_and_down(url_at_0011):
    engine = sa.create_engine(url_at_0011)
    try:
        upgrade(url_at_0011, "0012")
        for table, name in DATE_INDEXES.items():
            assert name in _indexes(engine, table)
        expressions = EXPRESSION_INDEXES & _indexes(engine, "open_tasks")
        assert expressions == (EXPRESSION_INDEXES if engine.dialect.name == "postgresql" else set())
        assert differences_from_models(url_at_0011, *DATE_INDEXES.values()) == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0011), "0011")
        for table, name in DATE_INDEXES.items():
            assert name not in _indexes(engine, table)
        assert not EXPRESSION_INDEXES & _indexes(engine, "open_tasks")
    finally:
        engine.dispose()
