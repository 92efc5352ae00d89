"""individual plans and relay logs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 16:32:09

* ``plans``, ``plan_goals``, ``plan_versions``, ``relay_handovers``: the plans domain;
* ``measure_notes``: progress on a measure, per meeting or revision;
* ``measures``: a measure may belong to the plan (``goal_id``, ``scope``, ``how``) without a
  meeting, so ``meeting_id`` becomes nullable.
"""
from alembic import op
import sqlalchemy as sa
import webapp.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('consent_signed_by', sa.String(length=200), nullable=True),
    sa.Column('consent_how', sa.String(length=20), nullable=True),
    sa.Column('consent_signed_on', sa.Date(), nullable=True),
    sa.Column('consent_refusal_reason', sa.Text(), nullable=True),
    sa.Column('participant_ids', sa.JSON(), nullable=False),
    sa.Column('secretary_member_id', sa.Integer(), nullable=True),
    sa.Column('holder_member_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=True),
    sa.Column('period_to', sa.Date(), nullable=True),
    sa.Column('revision_due_on', sa.Date(), nullable=True),
    sa.Column('adopted_at', webapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', webapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_plans_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['holder_member_id'], ['case_members.id'], name=op.f('fk_plans_holder_member_id_case_members')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_plans_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['secretary_member_id'], ['case_members.id'], name=op.f('fk_plans_secretary_member_id_case_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_plans_status_revision_due_on', ['status', 'revision_due_on'], unique=False)

    op.create_table('plan_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_goals_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_goals'))
    )
    with op.batch_alter_table('plan_goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_goals_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.Column('made_by_name', sa.String(length=200), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('approved_at', webapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('archived_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['made_by_id'], ['users.id'], name=op.f('fk_plan_versions_made_by_id_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_plan_versions_meeting_id_meetings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_versions_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_plan_versions_plan_id_number'))
    )
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_versions_plan_id'), ['plan_id'], unique=False)

    op.create_table('relay_handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('from_member_id', sa.Integer(), nullable=True),
    sa.Column('to_member_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_relay_handovers_by_id_users')),
    sa.ForeignKeyConstraint(['from_member_id'], ['case_members.id'], name=op.f('fk_relay_handovers_from_member_id_case_members')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_relay_handovers_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_member_id'], ['case_members.id'], name=op.f('fk_relay_handovers_to_member_id_case_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relay_handovers'))
    )
    with op.batch_alter_table('relay_handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_handovers_plan_id'), ['plan_id'], unique=False)

    op.create_table('measure_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_name', sa.String(length=200), nullable=True),
    sa.Column('at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_notes_measure_id_measures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_measure_notes_meeting_id_meetings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_notes'))
    )
    with op.batch_alter_table('measure_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_notes_measure_id'), ['measure_id'], unique=False)

    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goal_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('scope', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('how', sa.Text(), nullable=True))
        batch_op.alter_column('meeting_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_measures_goal_id'), ['goal_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_measures_goal_id_plan_goals'), 'plan_goals', ['goal_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    # measures written into a plan have no meeting; they cannot exist without the plans tables
    op.execute("DELETE FROM measures WHERE meeting_id IS NULL")
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_measures_goal_id_plan_goals'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_measures_goal_id'))
        batch_op.alter_column('meeting_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('how')
        batch_op.drop_column('scope')
        batch_op.drop_column('goal_id')

    with op.batch_alter_table('measure_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_notes_measure_id'))

    op.drop_table('measure_notes')
    with op.batch_alter_table('relay_handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_handovers_plan_id'))

    op.drop_table('relay_handovers')
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_versions_plan_id'))

    op.drop_table('plan_versions')
    with op.batch_alter_table('plan_goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_goals_plan_id'))

    op.drop_table('plan_goals')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('ix_plans_status_revision_due_on')
        batch_op.drop_index(batch_op.f('ix_plans_case_id'))

    op.drop_table('plans')
