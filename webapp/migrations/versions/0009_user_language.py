"""language on the account

``users.language``: the user's choice of bokmål, nynorsk or English, kept across logins.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 17:19:11
"""
from alembic import op
import sqlalchemy as sa
import webapp.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')

