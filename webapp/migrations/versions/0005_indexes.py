"""indexes for the pages that must stay fast at the size of a country (issue 11)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 11:30:00

* ``access_log(case_id, at DESC, id DESC)``: a case's access log, newest first, paginated by
  (at, id) — without it PostgreSQL filters the whole log through the ``at`` index;
* ``cases(previous_case_id)``: the case page looks up the group that re-establishes this one;
* ``case_status_changes(to_status, at)``: the yearly figures count changes to a status in a year;
* ``persons(national_id)``: the case page and the wish look for open cases of the same person;
* ``open_tasks(due_at)`` and ``open_tasks(orphaned)``: /tilsyn lists steps that are overdue or
  that nobody can do.

Checked with ``EXPLAIN`` on PostgreSQL for the case page, the access log, the inbox, the register
and /tilsyn.

The models declare the same indexes (webapp/audit/models.py, webapp/cases/models.py,
webapp/engine/models.py).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_access_log_case_id_at_id', 'access_log',
                    ['case_id', sa.text('at DESC'), sa.text('id DESC')], unique=False)
    op.create_index('ix_cases_previous_case_id', 'cases', ['previous_case_id'], unique=False)
    op.create_index('ix_case_status_changes_to_status_at', 'case_status_changes', ['to_status', 'at'],
                    unique=False)
    op.create_index('ix_persons_national_id', 'persons', ['national_id'], unique=False)
    op.create_index('ix_open_tasks_due_at', 'open_tasks', ['due_at'], unique=False)
    op.create_index('ix_open_tasks_orphaned', 'open_tasks', ['orphaned'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_open_tasks_orphaned', table_name='open_tasks')
    op.drop_index('ix_open_tasks_due_at', table_name='open_tasks')
    op.drop_index('ix_persons_national_id', table_name='persons')
    op.drop_index('ix_case_status_changes_to_status_at', table_name='case_status_changes')
    op.drop_index('ix_cases_previous_case_id', table_name='cases')
    op.drop_index('ix_access_log_case_id_at_id', table_name='access_log')
