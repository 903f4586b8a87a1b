"""coursera page keys: a program is keyed by its page path, not by the catalog API's id

Programs are now found from the sitemaps (the real hosts' robots.txt forbids the API),
which carry no API id: the stable key is the page path (`/professional-certificates/<slug>`,
`/specializations/<slug>`; `/learn/python` and `/specializations/python` differ). Stored
keys are rewritten from each row's URL so a stored program keeps its timeline: snapshots,
matches and events move to the new key together. Keys can be longer than 64 characters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:30:00
"""
from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PROGRAM_FOLDERS = ("/professional-certificates/", "/specializations/")


def upgrade() -> None:
    for table in ("coursera_program", "program_match"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("program_id", type_=sa.String(length=255), existing_type=sa.String(length=64),
                               existing_nullable=False)
    connection = op.get_bind()
    keys = _new_keys(connection)
    for statement in ("UPDATE coursera_program SET program_id = :new WHERE program_id = :old",
                      "UPDATE program_match SET program_id = :new WHERE program_id = :old",
                      "UPDATE change_event SET subject_key = :new WHERE subject_key = :old"):
        if keys:
            connection.execute(sa.text(statement), [{"old": old, "new": new} for old, new in keys.items()])


def _new_keys(connection) -> dict[str, str]:
    """Old API id -> page path, from the URLs the rows stored (rows without a program URL keep their key)."""
    keys: dict[str, str] = {}
    for program_id, url in connection.execute(sa.text("SELECT DISTINCT program_id, url FROM coursera_program")):
        path = urlsplit(url or "").path.rstrip("/")
        if path.startswith(PROGRAM_FOLDERS) and program_id != path:
            keys[program_id] = path
    return keys


def downgrade() -> None:
    raise NotImplementedError("page keys are not turned back into API ids")
