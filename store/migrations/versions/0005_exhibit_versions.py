"""exhibit versions: ace_exhibit.version, and an index to read every version of an ACE ID

One ACE ID sits behind several `cid`s, one per version, each with its own period and
credits. The diff judges an ACE ID's versions together (monitor.versions), so a run's rows
are read by (run_id, ace_id). Stored rows keep their history: their version is NULL (the
page's version was read but not kept before), which the judge orders below any numbered
version, as it does for an old-layout page that names none. A number is never guessed.

The rows the next diff reads (the newest cycle's ACE run) are rehashed with the new
column, so an unchanged exhibit whose page names no version does not look changed once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("ace_exhibit") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.create_index("ix_ace_exhibit_run_ace_id", ["run_id", "ace_id"], unique=False)
    connection = op.get_bind()
    run_id = connection.execute(sa.text("SELECT ace_run_id FROM cycle ORDER BY id DESC LIMIT 1")).scalar()
    if run_id is not None:
        _rehash(connection, sa.Table("ace_exhibit", sa.MetaData(), autoload_with=connection), run_id)


def _rehash(connection, table, run_id: int) -> None:
    """A page of rows at a time (by id), so a 100k-row snapshot never sits in memory whole."""
    from store.runs import content_hash

    update = (sa.update(table).where(table.c.id == sa.bindparam("row_id"))
              .values(content_hash=sa.bindparam("new_hash")))
    last_id = 0
    while True:
        rows = connection.execute(sa.select(table).where(table.c.run_id == run_id, table.c.id > last_id)
                                  .order_by(table.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        connection.execute(update, [{"row_id": row["id"], "new_hash": content_hash(_plain(row))} for row in rows])
        last_id = rows[-1]["id"]


def _plain(row) -> dict:
    """The row as the snapshot writer hashes it: a reflected table names its columns by `quoted_name`,
    a str subclass orjson refuses as a key."""
    return {str(key): value for key, value in row.items()}


def downgrade() -> None:
    with op.batch_alter_table("ace_exhibit") as batch:
        batch.drop_index("ix_ace_exhibit_run_ace_id")
        batch.drop_column("version")
