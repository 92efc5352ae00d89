"""The cockpit's rules read their oldest rows from an index in the list's order (migrations 0012 to
0014), on PostgreSQL: the expression in each index is the one the rule's query compiles to, else
PostgreSQL could never use it (checked with sorting and sequential scans switched off, on an
empty database: the plan shows whether the index can serve the query at all)."""
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.migrations import database_at
from webapp.cases.models import Case
from webapp.migrate import upgrade
from webapp.supervision import cockpit
from webapp.supervision.rules import RULES, Context

#: rule -> the index its top rows come from
RULE_INDEXES = {"overdue_step": "ix_open_tasks_due_day", "orphaned_step": "ix_open_tasks_orphaned_day",
                "measure_overdue": "ix_measures_open_deadline", "evaluation_overdue": "ix_evaluations_scheduled_due_on",
                "plan_revision_due": "ix_plans_adopted_revision_due_on", "incident": "ix_incidents_open_day",
                "consent_waiting": "ix_cases_awaiting_consent_day", "no_coordinator": "ix_cases_no_coordinator_day",
                "meeting_due": "ix_cases_meeting_due_on", "consent_due": "ix_consents_renewal_day"}


@pytest.fixture
def postgresql_at_head(tmp_path):
    """The order indexes are PostgreSQL's (the embedded SQLite does not need them)."""
    with database_at("0011", "postgresql", tmp_path) as url:
        upgrade(url, "head")
        yield url


def test_each_rule_can_read_its_top_rows_from_its_index(postgresql_at_head):
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
                compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
                assert index in plan, (rule, plan)
    finally:
        engine.dispose()
