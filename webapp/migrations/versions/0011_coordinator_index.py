"""the cockpit's "no coordinator" rule: a partial index of the active coordinators' groups

The rule asks which open groups have no active coordinator. Without this index PostgreSQL read
every member row (350,000 at 100,000 groups) to build the set of coordinated groups; the partial
index holds only the coordinators' rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 19:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_members_active_coordinator", "case_members", ["case_id"], unique=False,
                    postgresql_where=sa.text("role = 'koordinator' AND active IS true"),
                    sqlite_where=sa.text("role = 'koordinator' AND active = 1"))


def downgrade() -> None:
    op.drop_index("ix_case_members_active_coordinator", table_name="case_members")
