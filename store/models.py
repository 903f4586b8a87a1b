"""The tables acewatch keeps.

A crawl of one source is a `CrawlRun`; the records it saw are its snapshot
(`AceExhibit` or `CourseraProgram` rows carrying the run id). A snapshot is
written whole in the transaction that marks the run finished, so a crash can
leave a run `running` but never a half snapshot that looks complete.

A `Cycle` is one pass of the monitor: the ACE and Coursera runs it used, the
matches it computed between them and the change events it found against the
previous cycle. Events are kept forever; deliveries are the alert outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class CrawlRun(SQLModel, table=True):
    """One crawl of one source, with the figures the health gate judges."""

    __tablename__ = "crawl_run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True, max_length=32)
    base_url: str = ""
    started_at: datetime
    finished_at: datetime | None = None
    # running -> finished | failed; a run left `running` by a crash is never used.
    outcome: str = Field(default="running", max_length=16)
    finish_reason: str | None = None
    pages: int = 0
    records: int = 0
    unknown: int = 0
    errors: int = 0
    retries: int = 0
    # Decided by the health gate after the crawl; only healthy runs are diffed.
    healthy: bool | None = None
    health_report: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AceExhibit(SQLModel, table=True):
    """An ACE National Guide course exhibit as one run saw it."""

    __tablename__ = "ace_exhibit"
    __table_args__ = (
        UniqueConstraint("run_id", "cid"),
        Index("ix_ace_exhibit_run_title", "run_id", "title"),
        Index("ix_ace_exhibit_run_ace_id", "run_id", "ace_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="crawl_run.id", ondelete="CASCADE")
    cid: str = Field(max_length=64)
    ace_id: str | None = Field(default=None, max_length=32)
    # The page's "Version" (migration 0005): one ACE ID has one cid per version. None: the page
    # names none (old layout) or the row was stored before versions were kept.
    version: int | None = None
    organization: str = ""
    title: str = ""
    url: str = ""
    # [{"start": "2024-10-01", "end": "2034-09-30", "credits": [{"level", "hours", "subject"}]}]
    periods: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # ok | unknown: an unreadable page is `unknown`, never "not recommended".
    parse_status: str = Field(default="ok", max_length=16)
    problem: str | None = None
    content_hash: str = Field(default="", max_length=64)


class CourseraProgram(SQLModel, table=True):
    """A Coursera specialization or professional certificate as one run saw it."""

    __tablename__ = "coursera_program"
    __table_args__ = (UniqueConstraint("run_id", "program_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="crawl_run.id", ondelete="CASCADE")
    program_id: str = Field(max_length=255)  # the program page path (migration 0004)
    slug: str = Field(default="", index=True, max_length=255)
    variant: str = Field(default="", max_length=64)
    api_name: str = ""
    title: str = ""
    partner: str = ""
    url: str = ""
    # yes | no | unknown: what the program page itself says about ACE credit.
    ace_claim: str = Field(default="unknown", max_length=16)
    ace_credits: int | None = None
    claim_text: str | None = None
    parse_status: str = Field(default="ok", max_length=16)
    problem: str | None = None
    content_hash: str = Field(default="", max_length=64)


class Cycle(SQLModel, table=True):
    """One monitor pass: the snapshot pair it judged and what it concluded."""

    __tablename__ = "cycle"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    ace_run_id: int | None = Field(default=None, foreign_key="crawl_run.id")
    coursera_run_id: int | None = Field(default=None, foreign_key="crawl_run.id")
    # The cycle this one was diffed against (None for the first).
    previous_cycle_id: int | None = Field(default=None, foreign_key="cycle.id")
    outcome: str = Field(default="running", max_length=16)


class ProgramMatch(SQLModel, table=True):
    """The best ACE exhibit for a Coursera program within one cycle."""

    __tablename__ = "program_match"
    __table_args__ = (UniqueConstraint("cycle_id", "program_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", index=True)
    program_id: str = Field(max_length=255)  # the program page path (migration 0004)
    cid: str | None = Field(default=None, max_length=64)
    verdict: str = Field(max_length=16)
    score: float = 0.0
    # recommended | not_recommended | unknown, decided from verdict + period.
    status: str = Field(default="unknown", max_length=20)
    credits: float | None = None
    differences: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The program page's own ACE claim judged against this match (monitor.claims.ClaimVerdict),
    # and the credits the page claims; None in cycles stored before migration 0006.
    claim: str | None = Field(default=None, max_length=16)
    claim_credits: float | None = None


class ChangeEvent(SQLModel, table=True):
    """A typed change between two cycles, kept forever with its evidence."""

    __tablename__ = "change_event"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    detected_at: datetime
    type: str = Field(index=True, max_length=32)
    source: str = Field(max_length=32)
    subject_key: str = Field(max_length=255, index=True)
    subject: str = ""
    old: str | None = None
    new: str | None = None
    evidence_url: str | None = None
    from_run_id: int | None = None
    to_run_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Delivery(SQLModel, table=True):
    """The alert outbox: one digest for one channel, sent at least once, never twice.

    `channel` is a hash of the alert URL so that tokens never reach the database.
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("cycle_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    channel: str = Field(max_length=64)
    channel_label: str = ""
    title: str = ""
    body: str = ""
    # pending -> sent; failures stay pending with attempts and last_error.
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class RunLock(SQLModel, table=True):
    """A named lock row so cron, the daemon and a person never run at once."""

    __tablename__ = "run_lock"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = ""
    acquired_at: datetime
    expires_at: datetime


class NameIndex(SQLModel, table=True):
    """A run's ACE names prepared once for matching by the nightly cycle: what `acewatch check` searches.

    One row per indexed ACE run, written in the same transaction as its
    `NameKey` rows (`store.names_index.write_name_index`). `cores` and `orgs`
    are the search columns of every name, newline-joined in `position` order,
    so a check reads them as two strings instead of 40k rows. `key_version`
    fingerprints the code that prepared the names; an index of another
    fingerprint is ignored (check then prepares the names itself).
    """

    __tablename__ = "name_index"

    ace_run_id: int = Field(primary_key=True, foreign_key="crawl_run.id", ondelete="CASCADE")
    key_version: str = Field(max_length=64)
    names: int = 0
    cores: str = ""  # content-word keys (monitor.names.PreparedName.core), one a line
    orgs: str = ""  # canonical organization keys, one a line ("" for unknown)
    written_at: datetime


class NameKey(SQLModel, table=True):
    """One ACE exhibit name of an indexed run: a `monitor.names.PreparedName`, stored.

    `position` is the order `check` searches the run's names in (by cid);
    only the names a check shortlists are read whole.
    """

    __tablename__ = "name_key"
    __table_args__ = (
        Index("ix_name_key_ace_run_id", "ace_run_id", "position", unique=True),
        UniqueConstraint("ace_run_id", "cid"),
        Index("ix_name_key_run_norm", "ace_run_id", "norm"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ace_run_id: int = Field(foreign_key="name_index.ace_run_id", ondelete="CASCADE")
    position: int
    cid: str = Field(max_length=64)
    title: str
    organization: str = ""
    # The fields of monitor.names.PreparedName (words = norm.split()).
    norm: str
    applied: str = ""  # normalisation rules that changed the title, comma-joined
    core_words: str  # content words, space-joined
    core: str  # content words sorted: the shortlist key
    org: str | None = None  # canonical organization (given, else the leading vendor)
    vendor: str | None = None
    org_label: str | None = None
