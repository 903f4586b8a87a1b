"""name index: a run's ACE names prepared once for `acewatch check`

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 02:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('name_index',
    sa.Column('ace_run_id', sa.Integer(), nullable=False),
    sa.Column('key_version', sa.String(length=64), nullable=False),
    sa.Column('names', sa.Integer(), nullable=False),
    sa.Column('cores', sa.String(), nullable=False),
    sa.Column('orgs', sa.String(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ace_run_id'], ['crawl_run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ace_run_id')
    )
    op.create_table('name_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ace_run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('cid', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('organization', sa.String(), nullable=False),
    sa.Column('norm', sa.String(), nullable=False),
    sa.Column('applied', sa.String(), nullable=False),
    sa.Column('core_words', sa.String(), nullable=False),
    sa.Column('core', sa.String(), nullable=False),
    sa.Column('org', sa.String(), nullable=True),
    sa.Column('vendor', sa.String(), nullable=True),
    sa.Column('org_label', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['ace_run_id'], ['name_index.ace_run_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ace_run_id', 'cid')
    )
    with op.batch_alter_table('name_key', schema=None) as batch_op:
        batch_op.create_index('ix_name_key_ace_run_id', ['ace_run_id', 'position'], unique=True)
        batch_op.create_index('ix_name_key_run_norm', ['ace_run_id', 'norm'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('name_key', schema=None) as batch_op:
        batch_op.drop_index('ix_name_key_run_norm')
        batch_op.drop_index('ix_name_key_ace_run_id')

    op.drop_table('name_key')
    op.drop_table('name_index')
