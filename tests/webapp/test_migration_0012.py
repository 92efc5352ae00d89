"""Migration 0012: the cockpit's order indexes, up and down on both databases; and on PostgreSQL
each rule's query can read its rows from its index in the list's order (the expression in the
index is the one the rule's query compiles to, else PostgreSQL could never use it)."""

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from tests.migrations import database_at, differences_from_models
from webapp.cases.models import Case
from webapp.migrate import alembic_config, upgrade
from webapp.supervision import cockpit
from webapp.supervision.rules import RULES, Context

DATE_INDEXES = {"measures": "ix_measures_open_deadline", "evaluations": "ix_evaluations_scheduled_due_on",
                "plans": "ix_plans_adopted_revision_due_on"}
EXPRESSION_INDEXES = {"ix_open_tasks_due_day", "ix_open_tasks_orphaned_day"}
#: rule -> the index its top rows come from
RULE_INDEXES = {"overdue_step": "ix_open_tasks_due_day", "orphaned_step": "ix_open_tasks_orphaned_day",
                "measure_overdue": "ix_measures_open_deadline", "evaluation_overdue": "ix_evaluations_scheduled_due_on",
                "plan_revision_due": "ix_plans_adopted_revision_due_on"}


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


@pytest.fixture
def postgresql_at_head(tmp_path):
    """The order indexes are PostgreSQL's (the embedded SQLite does not need them)."""
    with database_at("0011", "postgresql", tmp_path) as url:
        upgrade(url, "head")
        yield url


def test_each_rule_can_read_its_top_rows_from_its_index(postgresql_at_head):
    from datetime import date, datetime, timezone
    now, today = datetime(2026, 11, 29, 12, tzinfo=timezone.utc), date(2026, 11, 29)
    engine = sa.create_engine(postgresql_at_head)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_sort = off")
            conn.exec_driver_sql("SET enable_seqscan = off")
            for rule, index in RULE_INDEXES.items():
                rows = RULES[rule].query(Context(now, today, {"meeting_interval_months": 6,
                                                              "consent_waiting_days": 30})).subquery(rule)
                query = (cockpit._filtered(select(rows).join(Case, Case.id == rows.c.case_id), rows, today,
                                           cockpit.Filters())
                         .order_by(*cockpit._keys(rows)).limit(51))
                compiled = query.compile(dialect=conn.dialect)
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
                assert index in plan, (rule, plan)
    finally:
        engine.dispose()
