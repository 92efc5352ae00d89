"""the cockpit's list in the order of its rows: indexes per rule on (the day stuck, case, row)

Each rule of the supervisors' cockpit gives its oldest rows first (``supervision/cockpit.py``,
ordered by the day the case got stuck, then the case and the row). Without an index in that order
PostgreSQL computed and sorted every row of a rule to give its first 51; with one it reads the
first rows of the index and stops.

- overdue steps and orphaned steps: the Oslo day of the step's due time / its creation, an
  expression index in PostgreSQL's own date arithmetic (the expression ``day_after_months(…, 0)``
  compiles to; SQLite, the embedded database, has no need of it and does not get it);
- overdue measures, overdue evaluations, plans past their revision date: their date column,
  partial indexes on both databases.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

#: name, table, the day expression (PostgreSQL), the rest of the key, and the partial condition
EXPRESSION_INDEXES = [
    ("ix_open_tasks_due_day", "open_tasks", "due_at", "case_id, id", None),
    ("ix_open_tasks_orphaned_day", "open_tasks", "created_at", "case_id, id", "orphaned IS true"),
]
#: name, table, columns, partial condition (both databases)
DATE_INDEXES = [
    ("ix_measures_open_deadline", "measures", ["deadline", "case_id", "id"], "status = 'open'"),
    ("ix_evaluations_scheduled_due_on", "evaluations", ["due_on", "case_id", "id"], "status = 'scheduled'"),
    ("ix_plans_adopted_revision_due_on", "plans", ["revision_due_on", "case_id", "id"], "status = 'adopted'"),
]


def _day(column: str) -> str:
    return f"(CAST(({column} AT TIME ZONE 'Europe/Oslo') + make_interval(months => 0) AS DATE))"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, column, rest, where in EXPRESSION_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} ({_day(column)}, {rest})"
                       + (f" WHERE {where}" if where else ""))
    for name, table, columns, where in DATE_INDEXES:
        op.create_index(name, table, columns, unique=False, postgresql_where=sa.text(where),
                        sqlite_where=sa.text(where))


def downgrade() -> None:
    for name, table, _columns, _where in DATE_INDEXES:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _column, _rest, _where in EXPRESSION_INDEXES:
            op.execute(f"DROP INDEX {name}")
