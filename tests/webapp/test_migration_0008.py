"""Migrations 0008 (individual plans and relay logs) and 0009 (the language on the account), up and
down on both databases, matching the models."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade

PLAN_TABLES = {"plans", "plan_goals", "plan_versions", "relay_handovers", "measure_notes"}


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0007(request, tmp_path):
    with database_at("0007", request.param, tmp_path) as url:
        yield url


def _columns(engine, table: str) -> dict[str, dict]:
    return {c["name"]: c for c in sa.inspect(engine).get_columns(table)}


def test_up_and_down(url_at_0007):
    engine = sa.create_engine(url_at_0007)
    try:
        upgrade(url_at_0007, "0009")
        assert PLAN_TABLES <= set(sa.inspect(engine).get_table_names())
        measures = _columns(engine, "measures")
        assert {"goal_id", "scope", "how"} <= set(measures) and measures["meeting_id"]["nullable"]
        assert "language" in _columns(engine, "users")
        assert "ix_plans_status_revision_due_on" in {ix["name"] for ix in sa.inspect(engine).get_indexes("plans")}
        # (users: only its language column is 0009's; migration 0010 adds more, checked there)
        later = ("ix_measures_open_deadline", "ix_plans_adopted_revision_due_on")  # migration 0012's
        assert [d for d in differences_from_models(url_at_0007, *PLAN_TABLES, "measures")
                if not any(name in repr(d) for name in later)] == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0007), "0007")
        assert not PLAN_TABLES & set(sa.inspect(engine).get_table_names())
        measures = _columns(engine, "measures")
        assert not {"goal_id", "scope", "how"} & set(measures) and not measures["meeting_id"]["nullable"]
        assert "language" not in _columns(engine, "users")
    finally:
        engine.dispose()
