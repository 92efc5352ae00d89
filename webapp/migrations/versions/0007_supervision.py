"""the supervisors' cockpit: saved views, and indexes for the stuck-case rules

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00

* ``saved_views``: a supervisor's named set of cockpit filters;
* ``evaluations(status, due_on)``, ``transitions(status, review_from)``, ``measures(status,
  deadline)`` and ``meetings(case_id, held_at)``: the rules "evaluation overdue", "review not
  started", "measure overdue" and "no meeting within the interval" read only the rows they need.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import webapp.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_evaluations_status_due_on", "evaluations", ["status", "due_on"]),
    ("ix_transitions_status_review_from", "transitions", ["status", "review_from"]),
    ("ix_measures_status_deadline", "measures", ["status", "deadline"]),
    ("ix_meetings_case_id_held_at", "meetings", ["case_id", "held_at"]),
]


def upgrade() -> None:
    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.Column('created_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_views_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views'))
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_user_id'), ['user_id'], unique=False)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_views_user_id'))
    op.drop_table('saved_views')
