"""Alert delivery: a cycle's digest sent through Apprise URLs, with the `delivery` table as outbox.

Why an outbox: a cycle's events are committed before anyone is told about
them, so a mail server that is down, or a crash between the two, must not
lose the alert. `queue_digest` writes one `Delivery` row per (cycle, channel)
— idempotently, the unique constraint makes re-queueing a no-op — and
`deliver_pending` sends whatever is still pending, oldest cycle first.

Delivery is at-least-once and never twice for a completed send:

* a row is *claimed* (`pending` -> `sending`, committed) before it is sent,
  so two processes (cron, the daemon, a person) never send the same row;
* a successful send is marked `sent` in its own transaction straight after;
* a failed send goes back to `pending` with `attempts` + 1 and a masked
  `last_error`, so the next run retries it;
* a row left `sending` by a crash for longer than `stale_after` goes back to
  `pending`. This is the one at-least-once window: a crash after the service
  accepted the message but before `sent` was committed re-sends it, rarely.

While a row is `sending`, its `sent_at` holds the time of the claim (the
table has no separate column for it); that is how stale claims are found.
`attempts` counts every send tried, the successful one included.

Secrets: an alert URL usually carries a token or password. The database
keeps only a sha256 of the URL (`channel`) and a masked label; errors are
built from fixed phrases, never from the URL; and Apprise's own log records
(some of which contain URLs, GET parameters or headers) are kept away from
the application's logging altogether, see `_silence_apprise`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import apprise
from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.digest import ORDER, render_text
from monitor.text import for_terminal
from store.models import Delivery
from store.runs import utcnow

log = logging.getLogger(__name__)

PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, SKIPPED = "failed", "skipped"
# A claim older than this is taken to be a crashed sender (sends time out well before).
STALE_AFTER = timedelta(minutes=30)
# Upper bound for one Apprise notify() call, all of its network I/O included.
SEND_TIMEOUT = 60.0

# Short words for the digest title, in the digest's own order.
SHORT = {
    "lost_ace": "lost ACE", "gained_ace": "gained", "credits_changed": "credits changed",
    "name_mismatch": "name mismatch", "renamed": "renamed", "recommendation_expiring": "expiring",
    "new_program": "new", "removed_program": "removed", "source_unhealthy": "source unhealthy",
    "source_recovered": "source recovered",
}

TEST_TITLE = "acewatch: test notification"
TEST_BODY = "This is a test from acewatch (acewatch notify --test): alerts to this channel work."


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one delivery in one run; every field is safe to print."""

    delivery_id: int
    cycle_id: int
    channel_label: str
    outcome: str  # sent | failed | skipped
    error: str | None = None


@dataclass
class DeliveryReport:
    """Counts for `run`/`notify` output, plus the per-delivery results behind them."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    results: list[DeliveryResult] = field(default_factory=list)

    def add(self, result: DeliveryResult) -> None:
        setattr(self, result.outcome, getattr(self, result.outcome) + 1)
        self.results.append(result)


# --- Apprise, kept quiet and masked -------------------------------------------------------------

def _silence_apprise() -> None:
    """Keep Apprise's log records out of the application's handlers.

    Apprise logs request URLs, GET parameters and payloads at DEBUG and some
    hosts at WARNING; with `secure_logging` it masks passwords but not, for
    instance, `?-token=` parameters or `+Header` values. Its records therefore
    stop at its own logger (where Apprise's per-call capture still sees them,
    and we read only status codes from that). Called before every use rather
    than once, because a later `logging.config.dictConfig` may reset it.
    """
    _stop_at(logging.getLogger("apprise"))


def _stop_at(logger: logging.Logger) -> None:
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        # Without any handler, logging's last resort would print warnings to stderr.
        logger.addHandler(logging.NullHandler())


# The HTTP libraries Apprise's plugins send through log the request line, query string included.
_TRANSPORT_LOGGERS = ("urllib3", "requests", "httpx", "httpcore")
_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_propagate: dict[str, bool] = {}


@contextmanager
def _quiet_transports():
    """While sends run, HTTP library records stop at their own loggers.

    urllib3 logs `POST /hook/<path token>?token=<secret>` at DEBUG. Unlike
    Apprise's logger these are shared with the rest of the process, so they
    are muted only while a send is in flight (nested and concurrent sends
    share one window; records other threads log through them meanwhile are
    dropped too, a price worth paying over leaking a token).
    """
    global _quiet_depth
    with _quiet_lock:
        if _quiet_depth == 0:
            for name in _TRANSPORT_LOGGERS:
                logger = logging.getLogger(name)
                _saved_propagate[name] = logger.propagate
                _stop_at(logger)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                for name, propagate in _saved_propagate.items():
                    logging.getLogger(name).propagate = propagate
                _saved_propagate.clear()


def _asset() -> apprise.AppriseAsset:
    """Memory-only persistent store: nothing about our channels is written to disk by Apprise."""
    return apprise.AppriseAsset(storage_mode="memory")


def _instantiate(url: str, asset: apprise.AppriseAsset | None = None):
    """The Apprise plugin for `url`, or None when it is not a usable Apprise URL."""
    _silence_apprise()
    try:
        return apprise.Apprise.instantiate(url, asset=asset or _asset(), suppress_exceptions=True)
    except Exception:  # a plugin bug must not surface an exception that quotes the URL
        return None


def channel_id(url: str) -> str:
    """The stable, secret-free key of an alert URL: its sha256 (the `channel` column)."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()


def _scheme_only(url: str) -> str:
    scheme = url.strip().split("://", 1)[0] if "://" in url else ""
    return f"{scheme}://..." if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", scheme) else "<unparseable URL>"


def _mask_segment(segment: str) -> str:
    """Hide path parts that look like tokens (generic webhooks keep them in the path)."""
    if "..." in segment or len(segment) < 12:
        return segment
    if len(segment) >= 24 or re.search(r"\d", segment):
        return f"{segment[0]}...{segment[-1]}"
    return segment


def masked_label(url: str) -> str:
    """A label that says which channel a URL is, without its secrets.

    Starts from Apprise's privacy URL (passwords and service tokens masked),
    then drops the whole query string (Apprise leaves `?-param=` and
    `+Header` values visible) and masks token-like path segments.
    """
    service = _instantiate(url)
    if service is None:
        return _scheme_only(url)
    try:
        private = urlsplit(service.url(privacy=True))
    except Exception:
        return _scheme_only(url)
    path = "/".join(_mask_segment(unquote(part)) for part in private.path.split("/"))
    return for_terminal(f"{private.scheme}://{unquote(private.netloc)}{path.rstrip('/')}")


def _clean(urls: Iterable[str]) -> list[str]:
    return [u.strip() for u in urls if u and u.strip()]


def validate_urls(urls: Sequence[str]) -> list[str]:
    """One line per unusable alert URL, naming it by position and masked form only."""
    problems = []
    for number, url in enumerate(urls, start=1):
        if not url or not url.strip():
            problems.append(f"alert URL {number} is empty")
        elif _instantiate(url.strip()) is None:
            problems.append(f"alert URL {number} ({_scheme_only(url)}) is not a valid Apprise URL")
    return problems


def _failure_reason(result) -> str:
    """A short reason from fixed phrases; Apprise's own messages may quote hosts or tokens."""
    status = getattr(result, "status", None)
    if status is not None and status.name == "TIMEOUT":
        return "timed out"
    messages = []
    try:
        messages = [entry.message for entry in result.logs()]
    except Exception:
        pass
    for message in messages:
        code = re.search(r"error=(\d{3})\b", message)
        if code:
            return f"HTTP {code.group(1)}"
    text = " ".join(messages).lower()
    if "connection error" in text or "socket exception" in text:
        return "connection error"
    if "refused" in text:
        return "recipient refused"
    return f"not delivered ({status.name.lower() if status is not None else 'unknown'})"


def _send(url: str, title: str, body: str, timeout: float = SEND_TIMEOUT) -> str | None:
    """Send one message to one URL; None on success, else a masked reason."""
    asset = _asset()
    service = _instantiate(url, asset)
    if service is None:
        return "not a valid Apprise URL"
    notifier = apprise.Apprise(asset=asset)
    notifier.add(service)
    _silence_apprise()
    try:
        with _quiet_transports():
            result = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT,
                                     timeout=timeout)
    except Exception as exc:  # the exception text may quote the URL: keep only its type
        return f"delivery raised {type(exc).__name__}"
    try:
        return None if result else _failure_reason(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()


def send_test(urls: Sequence[str], *, timeout: float = SEND_TIMEOUT) -> list[tuple[str, bool, str | None]]:
    """`acewatch notify --test`: a short message to each URL, as (masked label, ok, error)."""
    outcomes = []
    for url in _clean(urls):
        label = masked_label(url)
        error = _send(url, TEST_TITLE, TEST_BODY, timeout)
        if error:
            log.warning("test notification to %s failed: %s", label, error)
        else:
            log.info("test notification sent to %s", label)
        outcomes.append((label, error is None, error))
    return outcomes


# --- Queueing -------------------------------------------------------------------------------------

def digest_title(events: Sequence[dict[str, Any]]) -> str:
    """`acewatch: 3 changes (2 lost ACE, 1 gained)`: the counts a person triages by."""
    counts = Counter(e["type"] for e in events)
    kinds = [k for k in ORDER if counts.get(k)] + sorted(k for k in counts if k not in SHORT)
    summary = ", ".join(f"{counts[k]} {SHORT.get(k, for_terminal(k))}" for k in kinds)
    noun = "change" if len(events) == 1 else "changes"
    return f"acewatch: {len(events)} {noun}" + (f" ({summary})" if summary else "")


def _usable_urls(urls: Sequence[str]) -> dict[str, str]:
    """channel -> URL for each valid, distinct URL; invalid ones are logged (masked) and left out.

    A row for an invalid URL could never be sent, and fixing the URL changes
    its channel anyway, so queueing it would only leave a row pending forever.
    """
    usable: dict[str, str] = {}
    for number, url in enumerate(_clean(urls), start=1):
        if _instantiate(url) is None:
            log.warning("alert URL %d (%s) is not a valid Apprise URL; not queued", number, _scheme_only(url))
            continue
        usable.setdefault(channel_id(url), url)
    return usable


def _insert_once(connection: Connection, values: dict[str, Any]) -> int:
    """Insert a delivery unless (cycle_id, channel) exists; 1 if inserted, else 0."""
    table = Delivery.__table__
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(connection.dialect.name)
    if dialect is not None:
        # RETURNING, not rowcount: drivers report -1 for an INSERT that returns its key.
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing(
            index_elements=["cycle_id", "channel"]).returning(table.c.id)
        return len(connection.execute(statement).all())
    exists = connection.execute(select(table.c.id).where(
        table.c.cycle_id == values["cycle_id"], table.c.channel == values["channel"])).first()
    if exists:
        return 0
    connection.execute(insert(table).values(**values))
    return 1


def queue_digest(engine: Engine, cycle_id: int, events: list[dict[str, Any]], urls: Sequence[str]) -> int:
    """Queue the cycle's digest once per configured channel; returns how many rows were new.

    Nothing is queued for a cycle without events. Re-queueing the same cycle
    inserts nothing, so the caller may call this again after a crash.
    """
    if not events:
        return 0
    title, body, now = digest_title(events), render_text(list(events)), utcnow()
    queued = 0
    with engine.begin() as connection:
        for channel, url in _usable_urls(urls).items():
            queued += _insert_once(connection, {
                "cycle_id": cycle_id, "channel": channel, "channel_label": masked_label(url),
                "title": title, "body": body, "status": PENDING, "attempts": 0, "last_error": None,
                "created_at": now, "sent_at": None})
    if queued:
        log.info("cycle %s: digest queued for %d channel(s)", cycle_id, queued)
    return queued


# --- Delivering -----------------------------------------------------------------------------------

def _release_stale(engine: Engine, cutoff: datetime) -> int:
    """Claims older than the cutoff belong to a crashed sender: make them pending again."""
    table = Delivery.__table__
    with engine.begin() as connection:
        released = connection.execute(update(table).where(
            table.c.status == SENDING, table.c.sent_at < cutoff).values(
            status=PENDING, sent_at=None, attempts=table.c.attempts + 1,
            last_error="interrupted while sending (process stopped?); retrying")).rowcount
    if released:
        log.warning("%d delivery(ies) left 'sending' by a stopped process were made pending again", released)
    return released


def _pending(engine: Engine) -> list[dict[str, Any]]:
    table = Delivery.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.id, table.c.cycle_id, table.c.channel, table.c.channel_label,
                                         table.c.title, table.c.body)
                                  .where(table.c.status == PENDING)
                                  .order_by(table.c.cycle_id, table.c.id)).mappings()
        return [dict(row) for row in rows]


def _claim(engine: Engine, delivery_id: int, now: datetime) -> bool:
    """pending -> sending, committed; False if another process claimed (or finished) it first."""
    table = Delivery.__table__
    with engine.begin() as connection:
        return connection.execute(update(table).where(
            table.c.id == delivery_id, table.c.status == PENDING).values(status=SENDING, sent_at=now)).rowcount == 1


def _mark_sent(engine: Engine, delivery_id: int, now: datetime) -> None:
    table = Delivery.__table__
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == delivery_id, table.c.status != SENT).values(
            status=SENT, sent_at=now, attempts=table.c.attempts + 1, last_error=None))


def _mark_failed(engine: Engine, delivery_id: int, error: str) -> None:
    table = Delivery.__table__
    with engine.begin() as connection:
        connection.execute(update(table).where(and_(table.c.id == delivery_id, table.c.status == SENDING)).values(
            status=PENDING, sent_at=None, attempts=table.c.attempts + 1, last_error=error))


def deliver_pending(engine: Engine, urls: Sequence[str], *, now: datetime | None = None,
                    stale_after: timedelta = STALE_AFTER, timeout: float = SEND_TIMEOUT) -> DeliveryReport:
    """Send every pending delivery whose channel is still configured, oldest cycle first.

    Deliveries for a URL no longer configured stay pending and are reported
    as skipped (putting the URL back sends them). `now` fixes the clock for
    tests; otherwise each step reads the current time.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    channels = {channel_id(url): url for url in _clean(urls)}
    report = DeliveryReport()
    _release_stale(engine, clock() - stale_after)
    for row in _pending(engine):
        report.add(_deliver_one(engine, row, channels.get(row["channel"]), clock, timeout))
    return report


def _deliver_one(engine: Engine, row: dict[str, Any], url: str | None, clock, timeout: float) -> DeliveryResult:
    def result(outcome: str, error: str | None = None) -> DeliveryResult:
        return DeliveryResult(row["id"], row["cycle_id"], row["channel_label"], outcome, error)

    if url is None:
        return result(SKIPPED, "alert URL no longer configured")
    if not _claim(engine, row["id"], clock()):
        return result(SKIPPED, "claimed by another acewatch process")
    error = _send(url, row["title"], row["body"], timeout)
    if error is None:
        _mark_sent(engine, row["id"], clock())
        log.info("cycle %s: digest sent to %s", row["cycle_id"], row["channel_label"])
        return result(SENT)
    _mark_failed(engine, row["id"], error)
    log.warning("cycle %s: digest to %s failed (%s); will retry", row["cycle_id"], row["channel_label"], error)
    return result(FAILED, error)
