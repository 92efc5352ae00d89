"""what a case keeps for the cockpit's last rules: a coordinator, its last meeting, the newest consent

- ``cases.has_coordinator``: an active member is the coordinator ("no coordinator");
- ``cases.last_meeting_at``: when the newest held meeting was held, and ``cases.meeting_due_on``:
  that day (or the activation's) plus the meeting interval ("meeting due");
- ``consents.superseded``: a newer consent exists ("consent due" reads only the newest).

All are filled from the data here and kept by ``webapp/cases/summary.py`` on every flush. On
PostgreSQL "no coordinator" and "consent due" get expression indexes on the Oslo day they sort by
(as 0012 and 0013), SQLite plain ones; "meeting due" a partial index on its day on both.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 21:30:00
"""
from alembic import op
import sqlalchemy as sa
import webapp.db
from webapp.settings.defaults import DEFINITIONS


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OPEN_GROUP = "('awaiting_consent', 'establishing', 'active')"


def _day(column: str) -> str:
    return f"(CAST(({column} AT TIME ZONE 'Europe/Oslo') + make_interval(months => 0) AS DATE))"


CONSENT_IN_FORCE = "superseded IS false AND withdrawn_at IS NULL AND ended_at IS NULL AND valid_until IS NOT NULL"


def _meeting_interval(bind) -> int:
    stored = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'meeting_interval_months'")).scalar()
    return int(DEFINITIONS["meeting_interval_months"].default if stored is None else stored)


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("has_coordinator", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("last_meeting_at", webapp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("meeting_due_on", sa.Date(), nullable=True))
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False))
    truth = "true" if bind.dialect.name == "postgresql" else "1"
    op.execute("UPDATE cases SET has_coordinator = EXISTS (SELECT 1 FROM case_members WHERE "
               f"case_members.case_id = cases.id AND case_members.role = 'koordinator' AND case_members.active = {truth})")
    op.execute("UPDATE cases SET last_meeting_at = (SELECT max(held_at) FROM meetings WHERE meetings.case_id = cases.id "
               "AND meetings.status IN ('held', 'approved', 'distributed') AND meetings.held_at IS NOT NULL)")
    op.execute("UPDATE consents SET superseded = EXISTS (SELECT 1 FROM consents newer "
               "WHERE newer.case_id = consents.case_id AND newer.id > consents.id)")
    cases = sa.table("cases", sa.column("last_meeting_at", webapp.db.UTCDateTime()),
                     sa.column("activated_at", webapp.db.UTCDateTime()), sa.column("meeting_due_on", sa.Date()))
    op.execute(cases.update().values(meeting_due_on=webapp.db.day_after_months(
        sa.func.coalesce(cases.c.last_meeting_at, cases.c.activated_at), _meeting_interval(bind))))
    op.create_index("ix_cases_meeting_due_on", "cases", ["meeting_due_on", "id"],
                    postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_cases_no_coordinator_day ON cases "
                   f"({_day('coalesce(activated_at, created_at)')}, id) "
                   f"WHERE status IN {OPEN_GROUP} AND has_coordinator IS false")
        op.execute("CREATE INDEX ix_consents_renewal_day ON consents "
                   "((CAST(valid_until + make_interval(months => -1) AS DATE)), case_id, id) "
                   f"WHERE given IS true AND {CONSENT_IN_FORCE}")
    else:
        op.create_index("ix_cases_no_coordinator_day", "cases", ["activated_at", "created_at", "id"],
                        sqlite_where=sa.text(f"status IN {OPEN_GROUP} AND has_coordinator = 0"))
        op.create_index("ix_consents_renewal_day", "consents", ["valid_until", "case_id", "id"],
                        sqlite_where=sa.text(f"given = 1 AND {CONSENT_IN_FORCE.replace('IS false', '= 0')}"))


def downgrade() -> None:
    op.drop_index("ix_consents_renewal_day", table_name="consents")
    op.drop_index("ix_cases_no_coordinator_day", table_name="cases")
    op.drop_index("ix_cases_meeting_due_on", table_name="cases")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("superseded")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("meeting_due_on")
        batch_op.drop_column("last_meeting_at")
        batch_op.drop_column("has_coordinator")
