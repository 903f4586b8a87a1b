"""What the web app shows, read through the Python API the CLI uses (`acewatch.api.Acewatch`; no SQL of its own).

A web process lives for days and answers many checks, so it keeps what a
finished crawl cannot change: the newest ACE run's names and exhibits (read
whole, once per run) and recent answers with their encoded bodies, all keyed
by the cycle they came from, so a new cycle replaces them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from acewatch.api import Acewatch, StoreFailed
from acewatch.check import stale_warnings
from store.reader import ReaderError, Snapshot, StoreReader

log = logging.getLogger("acewatch.web")


def first_line(exc: Exception) -> str:
    """A failure's first line, for one log line (store errors carry the statement or a traceback below)."""
    return (str(exc).splitlines() or [""])[0]


# A new cycle shows in answers within this many seconds (the newest cycle is looked up at most this often).
SNAPSHOT_TTL = 1.0
ANSWERS_KEPT = 4096
READERS = 1  # checks run at once (CPU-bound: more threads would only queue on the GIL)


class Answer:
    """One check answer as the app serves it: `check --json`'s data, and each body made of it (JSON, the
    page), made once and kept with it, so a popular name is encoded once a cycle, not once a request."""

    __slots__ = ("data", "_bodies")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._bodies: dict[str, bytes] = {}

    def body(self, kind: str, make: Callable[[dict[str, Any]], str]) -> bytes:
        """The body of this `kind`, made by `make(data)` the first time (two threads may both make it:
        the same bytes, one kept)."""
        body = self._bodies.get(kind)
        if body is None:
            body = self._bodies[kind] = make(self.data).encode()
        return body


class AnswerCache:
    """Recent check answers by (cycle, day, query, limit); least recently used dropped first."""

    def __init__(self, size: int = ANSWERS_KEPT) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is not None:
                self._items.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: Answer) -> None:
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Reads:
    """The store as the web app reads it, through one long-lived `Acewatch` (which keeps the name index):
    check answers, changes, history, status, feed, health. API failures reach the routes as raised."""

    def __init__(self, api: Acewatch) -> None:
        self.api = api
        self.api.keep_in_memory()
        self.config = api.config
        self.answers = AnswerCache()
        self._readers: queue.LifoQueue[StoreReader] = queue.LifoQueue()
        self._opened = threading.Semaphore(READERS)
        self._snapshot: tuple[float, Snapshot | None] = (-1e9, None)

    # -- the store ----------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[StoreReader]:
        """One of at most READERS plain-SQL readers (check's fast path), for one thread at a time."""
        with self._opened:
            try:
                reader = self._readers.get_nowait()
            except queue.Empty:
                reader = StoreReader(self.config.db)
            try:
                yield reader
            except (ReaderError, StoreFailed):  # a dropped connection or a replaced file: open a fresh one next time
                reader.close()
                raise
            except BaseException:
                self._readers.put(reader)
                raise
            self._readers.put(reader)

    def snapshot(self) -> Snapshot | None:
        """The newest finished cycle's snapshot pair, looked up at most once per SNAPSHOT_TTL."""
        checked, snapshot = self._snapshot
        if time.monotonic() - checked > SNAPSHOT_TTL:
            with self.reader() as reader:
                reader.check_schema()  # a store upgraded by a newer acewatch is refused, as the CLI refuses it
                snapshot = reader.latest_snapshot()
            self._snapshot = (time.monotonic(), snapshot)
        return snapshot

    def fresh_snapshot(self) -> Snapshot | None:
        """The kept snapshot if it is recent enough, without touching the store (None: ask `snapshot`)."""
        checked, snapshot = self._snapshot
        return snapshot if time.monotonic() - checked <= SNAPSHOT_TTL else None

    def recently_read(self) -> bool:
        """Whether the store answered within SNAPSHOT_TTL (a load balancer's probe need not ask again)."""
        return time.monotonic() - self._snapshot[0] <= SNAPSHOT_TTL

    def warm(self) -> None:
        """Read the newest run's names and exhibits into memory before the first person asks (the web app
        does it at start, in the background: a first check would otherwise wait about a second)."""
        started = time.monotonic()
        try:
            with self.reader() as reader:
                read = self.api.keep_in_memory(reader)
        except (ReaderError, StoreFailed) as exc:  # no store yet, or unreadable: checks will say so
            log.info("nothing read into memory at start: %s", first_line(exc))
            return
        if not read:
            log.info("nothing read into memory at start: no monitor cycle in the store yet")
            return
        log.info("newest ACE run read into memory in %.1f s", time.monotonic() - started)

    # -- check ----------------------------------------------------------------

    def _key(self, snapshot: Snapshot, query: str, limit: int) -> tuple:
        today = datetime.now(UTC).date()
        return (snapshot.cycle_id, snapshot.ace_run_id, today, query, limit)

    def kept_answer(self, query: str, limit: int) -> Answer | None:
        """An answer already made for this cycle and day, or None; never touches the store. Its warnings
        are those of now (the evidence ages while it is kept): when they changed, so does the answer."""
        snapshot = self.fresh_snapshot()
        if snapshot is None:
            return None
        key = self._key(snapshot, query, limit)
        kept = self.answers.get(key)
        if kept is None:
            return None
        warnings = stale_warnings(snapshot.ace_crawled_at, self.config.check.max_age_days)
        if warnings != kept.data["warnings"]:
            kept = Answer({**kept.data, "warnings": warnings})
            self.answers.put(key, kept)
        return kept

    def check(self, query: str, limit: int = 5) -> Answer:
        """`acewatch check --json`'s answer (BadInput, NoEvidence, StoreFailed as the CLI gets them)."""
        self.api.validate_name(query)
        kept = self.kept_answer(query, limit)
        if kept is not None:
            return kept
        snapshot = self.snapshot()
        kept = self.kept_answer(query, limit)  # the kept answers are valid again once the cycle is known
        if kept is not None:
            return kept
        with self.reader() as reader:
            answer = Answer(self.api.check(query, limit, reader=reader, snapshot=snapshot).to_dict())
        if snapshot is not None:
            self.answers.put(self._key(snapshot, query, limit), answer)
        return answer

    # -- the reports ----------------------------------------------------------

    def changes(self, cycle: int | None = None) -> dict[str, Any]:
        return self.api.changes(cycle).to_dict()

    def history(self, query: str) -> dict[str, Any]:
        self.api.validate_name(query)  # the limits of `check`; the API strips the name itself, as the CLI's does
        return self.api.history(query).to_dict()

    def status(self) -> dict[str, Any]:
        return self.api.status(runs=5).to_dict()

    def feed(self) -> bytes:
        """The Atom feed of the newest 200 events, as `[alerts] feed_path` writes it."""
        return self.api.feed(200)

    def healthy(self) -> bool:
        """Whether the store opens and answers (one plain-SQL query)."""
        try:
            self.snapshot()
            return True
        except (ReaderError, OSError):  # the store cannot be opened or read: "unhealthy" to a load balancer
            return False
