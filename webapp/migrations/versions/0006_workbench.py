"""the process owners' workbench: drafts, migration reports, a note on each version

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:30:00

* ``process_drafts``: editable copies of a process (diagram files and changed forms), with a
  revision number that detects concurrent saves;
* ``migration_runs``: the report of each migration or dry run;
* ``process_definitions.note`` and ``published_by_id``: what changed and why, and who published;
* the unique (process_id, content_hash) becomes a plain index: restoring an old version publishes
  its content again as a new version.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import webapp.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('main_file', sa.String(length=255), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_process_drafts_created_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_process_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_drafts'))
    )
    with op.batch_alter_table('process_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_drafts_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_drafts_status'), ['status'], unique=False)
    op.create_table('migration_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('to_version', sa.Integer(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('moved', sa.Integer(), nullable=False),
    sa.Column('stayed', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_migration_runs_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_runs'))
    )
    with op.batch_alter_table('migration_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_migration_runs_process_id'), ['process_id'], unique=False)
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('published_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_process_definitions_published_by_id_users'), 'users',
                                    ['published_by_id'], ['id'])
        batch_op.drop_constraint('uq_process_definitions_process_id_content_hash', type_='unique')
        batch_op.create_index('ix_process_definitions_process_id_content_hash', ['process_id', 'content_hash'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_process_definitions_process_id_content_hash')
        batch_op.create_unique_constraint('uq_process_definitions_process_id_content_hash',
                                          ['process_id', 'content_hash'])
        batch_op.drop_constraint(batch_op.f('fk_process_definitions_published_by_id_users'), type_='foreignkey')
        batch_op.drop_column('published_by_id')
        batch_op.drop_column('note')
    with op.batch_alter_table('migration_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_migration_runs_process_id'))
    op.drop_table('migration_runs')
    with op.batch_alter_table('process_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_drafts_status'))
        batch_op.drop_index(batch_op.f('ix_process_drafts_process_id'))
    op.drop_table('process_drafts')
