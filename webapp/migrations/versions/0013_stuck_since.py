"""the cockpit's last rules in index order: a case's status since, an incident's case

- ``cases.status_since``: when the case got its current status (filled from the status history);
  "waiting for consent" reads the oldest waiting cases from an index on its Oslo day.
- ``incidents.case_id``: the instance's case, kept on the incident (filled from the instances);
  the open incidents are read in the order of (day, case) from one index.

As in 0012, the day indexes are PostgreSQL expression indexes; SQLite gets plain ones on the
timestamps.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 20:05:00
"""
from alembic import op
import sqlalchemy as sa
import webapp.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _day(column: str) -> str:
    return f"(CAST(({column} AT TIME ZONE 'Europe/Oslo') + make_interval(months => 0) AS DATE))"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_since", webapp.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_incidents_case_id_cases"), "cases", ["case_id"], ["id"],
                                    ondelete="CASCADE")
    op.execute("UPDATE cases SET status_since = (SELECT max(at) FROM case_status_changes "
               "WHERE case_status_changes.case_id = cases.id)")
    op.execute("UPDATE incidents SET case_id = (SELECT case_id FROM process_instances "
               "WHERE process_instances.id = incidents.instance_id)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_cases_awaiting_consent_day ON cases ({_day('status_since')}, id) "
                   "WHERE status = 'awaiting_consent'")
        op.execute(f"CREATE INDEX ix_incidents_open_day ON incidents ({_day('created_at')}, case_id, id) "
                   "WHERE status = 'open'")
    else:
        op.create_index("ix_cases_awaiting_consent_day", "cases", ["status_since", "id"],
                        sqlite_where=sa.text("status = 'awaiting_consent'"))
        op.create_index("ix_incidents_open_day", "incidents", ["created_at", "case_id", "id"],
                        sqlite_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index("ix_incidents_open_day", table_name="incidents")
    op.drop_index("ix_cases_awaiting_consent_day", table_name="cases")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_incidents_case_id_cases"), type_="foreignkey")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("status_since")
