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
`attempts` counts every send tried, the successful one included. The
statements themselves (queue, claim, release, mark) are store.outbox's.

Secrets: an alert URL usually carries a token or password. The database
keeps only a sha256 of the URL (`channel`) and a masked label; errors are
built from fixed phrases, never from the URL; and Apprise's own log records
(some of which contain URLs, GET parameters or headers) never reach a log
handler, nor do urllib3's request lines during a send: see `_KeepSecrets`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import apprise

from acewatch.outputs.digest import render_text
from acewatch.text import for_terminal
from monitor.events import Event, grouped
from store import outbox
from store.outbox import NewDelivery, Outgoing
from store.runs import utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

# What happened to one delivery in one run (DeliveryResult.outcome); the row statuses are store.outbox's.
SENT, FAILED, SKIPPED = "sent", "failed", "skipped"
# A claim older than this is taken to be a crashed sender (sends time out well before).
STALE_AFTER = timedelta(minutes=30)
# Upper bound for one Apprise notify() call, all of its network I/O included.
SEND_TIMEOUT = 60.0

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

# The HTTP libraries Apprise's plugins send through; urllib3 logs `POST /path?query` at DEBUG.
_TRANSPORTS = ("urllib3", "requests", "httpx", "httpcore")
# Set (to a list collecting fixed-phrase failure reasons) while one of our sends runs. Apprise
# copies the context into its worker threads, so records logged there see it too.
_send_notes: ContextVar[list[str] | None] = ContextVar("acewatch_send_notes", default=None)


def _reason(message: str) -> str | None:
    """A fixed phrase for an Apprise failure message, never any of its text."""
    code = re.search(r"error=(\d{3})\b", message)
    if code:
        return f"HTTP {code.group(1)}"
    lowered = message.lower()
    if "connection error" in lowered:
        return "connection error"
    if "recipient" in lowered and "refused" in lowered:
        return "recipient refused"
    return None


class _KeepSecrets(logging.Filter):
    """Drops log records that may quote an alert URL before any handler sees them.

    Apprise logs URLs, GET parameters, headers and payloads (its
    `secure_logging` masks passwords only), and urllib3 logs the request line
    with its query string. A logger filter runs before every handler,
    including handlers attached directly to that logger (as pytest and some
    logging setups do), so no configuration can route these records out.
    Apprise's records are always dropped; a transport's only during our sends.
    """

    def __init__(self, always: bool):
        super().__init__()
        self.always = always

    def filter(self, record: logging.LogRecord) -> bool:
        notes = _send_notes.get()
        if notes is None:
            return not self.always
        if self.always:
            try:
                reason = _reason(record.getMessage())
            except Exception:
                reason = None
            if reason:
                notes.append(reason)
        return False


_APPRISE_FILTER, _TRANSPORT_FILTER = _KeepSecrets(always=True), _KeepSecrets(always=False)


def _guard_logs() -> None:
    """Put the filters on Apprise's and the transports' loggers (filters do not inherit).

    Re-run before every use: it is idempotent and cheap, and catches loggers
    created since (a plugin's first import, say).
    """
    for name in ("apprise", *_TRANSPORTS):
        logging.getLogger(name)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        root = name.split(".", 1)[0]
        keeper = _APPRISE_FILTER if root == "apprise" else _TRANSPORT_FILTER if root in _TRANSPORTS else None
        if keeper is not None and keeper not in logger.filters:
            logger.addFilter(keeper)


def _asset() -> apprise.AppriseAsset:
    """Memory-only persistent store: nothing about our channels is written to disk by Apprise."""
    return apprise.AppriseAsset(storage_mode="memory")


def _instantiate(url: str, asset: apprise.AppriseAsset | None = None):
    """The Apprise plugin for `url`, or None when it is not a usable Apprise URL."""
    _guard_logs()
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
    return for_terminal(f"{private.scheme}://{_mask_netloc(unquote(private.netloc))}{path.rstrip('/')}")


def _mask_netloc(netloc: str) -> str:
    """Apprise shows the user name; some webhooks put their token there (`json://TOKEN@host`)."""
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return netloc
    user, colon, password = userinfo.partition(":")
    return f"{_mask_segment(user)}{colon}{'****' if colon else ''}@{hostport}"


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


def _failure_reason(result, notes: list[str]) -> str:
    """A short reason made of fixed phrases (see `_reason`) and the result's status."""
    status = getattr(result, "status", None)
    if status is not None and status.name == "TIMEOUT":
        return "timed out"
    if notes:
        return notes[0]
    return f"not delivered ({status.name.lower() if status is not None else 'unknown status'})"


def _send(url: str, title: str, body: str, timeout: float = SEND_TIMEOUT) -> str | None:
    """Send one message to one URL; None on success, else a masked reason."""
    notes: list[str] = []
    token = _send_notes.set(notes)
    try:
        asset = _asset()
        service = _instantiate(url, asset)
        if service is None:
            return "not a valid Apprise URL"
        if "overflow=" not in urlsplit(url).query.lower():
            # A long digest is split into several messages rather than rejected by services
            # with a size limit (Discord, Slack, Telegram...), which would fail on every retry.
            service.overflow_mode = apprise.OverflowMode.SPLIT
        notifier = apprise.Apprise(asset=asset)
        notifier.add(service)
        try:
            result = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT, timeout=timeout)
        except Exception as exc:  # the exception text may quote the URL: keep only its type
            return f"delivery raised {type(exc).__name__}"
        try:
            return None if result else _failure_reason(result, notes)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        _send_notes.reset(token)


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


def digest_title(events: Sequence[Event]) -> str:
    """`acewatch: 3 changes (2 lost ACE, 1 gained)`: the counts a person triages by (monitor.events.KINDS)."""
    summary = ", ".join(f"{len(items)} {for_terminal(kind.short)}" for kind, items in grouped(list(events)))
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


def digest_rows(
    cycle_id: int, events: Sequence[Event], urls: Sequence[str], notes: Sequence[str] = ()
) -> list[NewDelivery]:
    """The outbox rows of a cycle's digest, one per usable channel (none for a cycle without events).

    `store.cycles.finish_cycle(..., deliveries=digest_rows(...))` stores them in the
    transaction that stores the cycle's events, so no crash can leave a cycle whose
    events are committed and whose digest was never queued.
    """
    if not events:
        return []
    title, body, now = digest_title(events), render_text(list(events), notes=notes), utcnow()
    return [
        NewDelivery(cycle_id, channel, masked_label(url), title, body, now)
        for channel, url in _usable_urls(urls).items()
    ]


def queue_digest(engine: Engine, cycle_id: int, events: Sequence[Event], urls: Sequence[str]) -> int:
    """Queue the cycle's digest once per configured channel; returns how many rows were new.

    Nothing is queued for a cycle without events. Re-queueing the same cycle
    inserts nothing, so the caller may call this again after a crash (or after
    `finish_cycle` already stored the rows).
    """
    queued = outbox.queue(engine, digest_rows(cycle_id, events, urls))
    if queued:
        log.info("cycle %s: digest queued for %d channel(s)", cycle_id, queued)
    return queued


# --- Delivering -----------------------------------------------------------------------------------


def _release_stale(engine: Engine, cutoff: datetime) -> int:
    """Claims older than the cutoff belong to a crashed sender: make them pending again."""
    released = outbox.release_stale(engine, cutoff, "interrupted while sending (process stopped?); retrying")
    if released:
        log.warning("%d delivery(ies) left 'sending' by a stopped process were made pending again", released)
    return released


def deliver_pending(
    engine: Engine,
    urls: Sequence[str],
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
    timeout: float = SEND_TIMEOUT,
) -> DeliveryReport:
    """Send every pending delivery whose channel is still configured, oldest cycle first.

    Deliveries for a URL no longer configured stay pending and are reported
    as skipped (putting the URL back sends them). `now` fixes the clock for
    tests; otherwise each step reads the current time.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    channels = {channel_id(url): url for url in _clean(urls)}
    report = DeliveryReport()
    _release_stale(engine, clock() - stale_after)
    for row in outbox.pending(engine):
        report.add(_deliver_one(engine, row, channels.get(row.channel), clock, timeout))
    return report


def _deliver_one(engine: Engine, row: Outgoing, url: str | None, clock, timeout: float) -> DeliveryResult:
    def result(outcome: str, error: str | None = None) -> DeliveryResult:
        return DeliveryResult(row.id, row.cycle_id, row.channel_label, outcome, error)

    if url is None:
        return result(SKIPPED, "alert URL no longer configured")
    if not outbox.claim(engine, row.id, clock()):
        return result(SKIPPED, "claimed by another acewatch process")
    error = _send(url, row.title, row.body, timeout)
    if error is None:
        outbox.mark_sent(engine, row.id, clock())
        log.info("cycle %s: digest sent to %s", row.cycle_id, row.channel_label)
        return result(SENT)
    outbox.mark_failed(engine, row.id, error)
    log.warning("cycle %s: digest to %s failed (%s); will retry", row.cycle_id, row.channel_label, error)
    return result(FAILED, error)
