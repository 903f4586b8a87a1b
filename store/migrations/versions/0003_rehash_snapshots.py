"""rehash snapshots: content hashes by orjson (sorted-key JSON of the row with its defaults)

The content hash changed definition (store.runs.content_hash). Hashes are only
compared by the next diff, between the newest cycle's runs and the next crawl,
so only those two runs' rows are rehashed; older runs are never diffed again.
A row left with an old hash would only look changed once (compared field by
field, no false event): this saves that one diff from reading whole snapshots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 04:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from store.runs import content_hash

    connection = op.get_bind()
    cycle = connection.execute(sa.text(
        "SELECT ace_run_id, coursera_run_id FROM cycle ORDER BY id DESC LIMIT 1")).first()
    for name, run_id in zip(("ace_exhibit", "coursera_program"), cycle or ()):
        if run_id is not None:
            # The table as it is at this revision, not today's model: a later revision's columns
            # (0005: ace_exhibit.version) do not exist yet when a store upgrades through 0003.
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            _rehash(connection, table, run_id, content_hash)


def _rehash(connection, table, run_id: int, content_hash) -> None:
    """A page of rows at a time (by id), so a 100k-row snapshot never sits in memory whole."""
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
    """Nothing to undo: an older acewatch sees the new hashes as changes once, with no false events."""
