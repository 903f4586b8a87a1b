"""claim verdicts: each cycle's match also says how the program page's ACE claim stands

`program_match.claim` holds monitor.claims.ClaimVerdict (supported, credits_differ,
name_differs, expired, not_yet_active, no_exhibit, unclaimed, none, unknown) and
`claim_credits` the credits the page claims. Matches stored before this revision keep
NULL: they were never judged, so the first judged cycle announces no change against them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("program_match") as batch:
        batch.add_column(sa.Column("claim", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("claim_credits", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("program_match") as batch:
        batch.drop_column("claim_credits")
        batch.drop_column("claim")
