"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 01:33:20.197076
"""
from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('crawl_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('base_url', sa.String(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('finish_reason', sa.String(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('unknown', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('healthy', sa.Boolean(), nullable=True),
    sa.Column('health_report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_run_source'), ['source'], unique=False)

    op.create_table('run_lock',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('ace_exhibit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('cid', sa.String(length=64), nullable=False),
    sa.Column('ace_id', sa.String(length=32), nullable=True),
    sa.Column('organization', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('url', sa.String(), nullable=False),
    sa.Column('periods', sa.JSON(), nullable=False),
    sa.Column('parse_status', sa.String(length=16), nullable=False),
    sa.Column('problem', sa.String(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'cid')
    )
    with op.batch_alter_table('ace_exhibit', schema=None) as batch_op:
        batch_op.create_index('ix_ace_exhibit_run_title', ['run_id', 'title'], unique=False)

    op.create_table('coursera_program',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.String(length=64), nullable=False),
    sa.Column('slug', sa.String(length=255), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('api_name', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('partner', sa.String(), nullable=False),
    sa.Column('url', sa.String(), nullable=False),
    sa.Column('ace_claim', sa.String(length=16), nullable=False),
    sa.Column('ace_credits', sa.Integer(), nullable=True),
    sa.Column('claim_text', sa.String(), nullable=True),
    sa.Column('parse_status', sa.String(length=16), nullable=False),
    sa.Column('problem', sa.String(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'program_id')
    )
    with op.batch_alter_table('coursera_program', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coursera_program_slug'), ['slug'], unique=False)

    op.create_table('cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ace_run_id', sa.Integer(), nullable=True),
    sa.Column('coursera_run_id', sa.Integer(), nullable=True),
    sa.Column('previous_cycle_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['ace_run_id'], ['crawl_run.id'], ),
    sa.ForeignKeyConstraint(['coursera_run_id'], ['crawl_run.id'], ),
    sa.ForeignKeyConstraint(['previous_cycle_id'], ['cycle.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('change_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('subject_key', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('old', sa.String(), nullable=True),
    sa.Column('new', sa.String(), nullable=True),
    sa.Column('evidence_url', sa.String(), nullable=True),
    sa.Column('from_run_id', sa.Integer(), nullable=True),
    sa.Column('to_run_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_event_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_subject_key'), ['subject_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_type'), ['type'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('channel_label', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('body', sa.String(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'channel')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_status'), ['status'], unique=False)

    op.create_table('program_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.String(length=64), nullable=False),
    sa.Column('cid', sa.String(length=64), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('credits', sa.Float(), nullable=True),
    sa.Column('differences', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'program_id')
    )
    with op.batch_alter_table('program_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_program_match_cycle_id'), ['cycle_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('program_match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_program_match_cycle_id'))

    op.drop_table('program_match')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_delivery_cycle_id'))

    op.drop_table('delivery')
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_event_type'))
        batch_op.drop_index(batch_op.f('ix_change_event_subject_key'))
        batch_op.drop_index(batch_op.f('ix_change_event_cycle_id'))

    op.drop_table('change_event')
    op.drop_table('cycle')
    with op.batch_alter_table('coursera_program', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coursera_program_slug'))

    op.drop_table('coursera_program')
    with op.batch_alter_table('ace_exhibit', schema=None) as batch_op:
        batch_op.drop_index('ix_ace_exhibit_run_title')

    op.drop_table('ace_exhibit')
    op.drop_table('run_lock')
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_run_source'))

    op.drop_table('crawl_run')

