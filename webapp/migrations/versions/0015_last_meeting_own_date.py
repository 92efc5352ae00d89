"""a case's last meeting is the held meeting's own date, as the register shows it

``cases.last_meeting_at`` was when the newest held meeting's minutes were recorded, while the
register showed the meeting's own date (``starts_at``): the register's "meeting due" and the
cockpit's and the case page's could disagree by the days between the meeting and its minutes.
Now both count from the meeting's own date (when the minutes were recorded if it has none), kept
by ``webapp/cases/summary.py``; this fills it, and the day each group falls due, from the rows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 06:10:00
"""
from alembic import op
import sqlalchemy as sa
import webapp.db
from webapp.settings.defaults import DEFINITIONS


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

HELD = "meetings.status IN ('held', 'approved', 'distributed') AND meetings.held_at IS NOT NULL"


def _refill(meeting_date: str) -> None:
    bind = op.get_bind()
    op.execute(f"UPDATE cases SET last_meeting_at = (SELECT max({meeting_date}) FROM meetings "
               f"WHERE meetings.case_id = cases.id AND {HELD})")
    stored = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'meeting_interval_months'")).scalar()
    months = int(DEFINITIONS["meeting_interval_months"].default if stored is None else stored)
    cases = sa.table("cases", sa.column("last_meeting_at", webapp.db.UTCDateTime()),
                     sa.column("activated_at", webapp.db.UTCDateTime()), sa.column("meeting_due_on", sa.Date()))
    op.execute(cases.update().values(meeting_due_on=webapp.db.day_after_months(
        sa.func.coalesce(cases.c.last_meeting_at, cases.c.activated_at), months)))


def upgrade() -> None:
    _refill("coalesce(meetings.starts_at, meetings.held_at)")


def downgrade() -> None:
    _refill("meetings.held_at")
