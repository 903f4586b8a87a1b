"""The scheduler's job table (`apscheduler_jobs`) in the store's own database.

APScheduler's SQLAlchemyJobStore creates and writes the table (`job_store`
hands it to the daemon in acewatch.schedule); `status` only needs the
persisted next run, and reads it without loading APScheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, column, inspect, select, table

JOBS_TABLE = "apscheduler_jobs"


def job_store(engine: Engine) -> Any:
    """APScheduler's job store over our table (APScheduler is imported only here, for the daemon)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)


def next_run_time(engine: Engine, job_id: str) -> datetime | None:
    """The job's persisted next run (a float epoch in APScheduler's table), or None if none is stored."""
    if JOBS_TABLE not in inspect(engine).get_table_names():
        return None
    jobs = table(JOBS_TABLE, column("id"), column("next_run_time"))
    with engine.connect() as connection:
        value = connection.execute(select(jobs.c.next_run_time).where(jobs.c.id == job_id)).scalar()
    return datetime.fromtimestamp(float(value), UTC) if value is not None else None
