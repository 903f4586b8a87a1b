"""Alert delivery through real Apprise to a real SMTP server and a real webhook, on SQLite and PostgreSQL.

No mocks: aiosmtpd receives the mail, an http.server thread receives the
webhook posts, and the outbox rows live in the store under test.
"""

from __future__ import annotations

import base64
import logging
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from acewatch.alerts import deliver_pending, digest_title, masked_label, queue_digest, send_test, validate_urls
from acewatch.outputs.digest import event_line
from monitor.events import event
from store.cycles import begin_cycle, finish_cycle
from store.models import Delivery
from store.runs import utcnow
from tests.listeners import Mailbox, Webhook, free_port

SECRET = "s3cr3t"


def sample_events() -> list[dict]:
    return [
        event(
            "lost_ace",
            "ace",
            "cid-1",
            "Google Data Analytics",
            old="12 credits",
            new="removed",
            url="https://www.acenet.edu/x?cid=1",
            reason="exhibit removed from the National Guide",
        ),
        event(
            "lost_ace",
            "ace",
            "cid-2",
            "IBM Data Science",
            old="3 credits",
            new="expired",
            url="https://www.acenet.edu/x?cid=2",
        ),
        event(
            "gained_ace",
            "ace",
            "cid-3",
            "Meta Front-End Developer",
            old=None,
            new="6 credits",
            url="https://www.acenet.edu/x?cid=3",
        ),
    ]


def stored_cycle(engine, events) -> int:
    cycle_id = begin_cycle(engine, None, None, None)
    finish_cycle(engine, cycle_id, [], events)
    return cycle_id


def deliveries(engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(select(Delivery.__table__).order_by(Delivery.id)).mappings()]


# --- real servers ---------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@pytest.fixture
def webhook_factory():
    hooks = []

    def start(statuses=(), delay=0.0) -> Webhook:
        hooks.append(Webhook(statuses, delay).start())
        return hooks[-1]

    yield start
    for hook in hooks:
        hook.stop()


# --- tests ----------------------------------------------------------------------------------------


def test_digest_title_counts_by_type():
    assert digest_title(sample_events()) == "acewatch: 3 changes (2 lost ACE, 1 gained)"
    assert digest_title(sample_events()[:1]) == "acewatch: 1 change (1 lost ACE)"


def test_email_digest_reaches_a_real_smtp_server(engine, smtp_server):
    controller, mailbox = smtp_server
    # mailto:// (not mailtos://) with mode=insecure: plain SMTP, no STARTTLS; no user/password: no AUTH.
    url = (
        f"mailto://{controller.hostname}:{controller.port}"
        "?from=acewatch@example.com&to=ops@example.com&mode=insecure&cto=5"
    )
    events = sample_events()
    cycle_id = stored_cycle(engine, events)
    assert queue_digest(engine, cycle_id, events, [url]) == 1

    report = deliver_pending(engine, [url])

    assert (report.sent, report.failed, report.skipped) == (1, 0, 0)
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["subject"] == "acewatch: 3 changes (2 lost ACE, 1 gained)"
    assert mailbox.envelopes[0].rcpt_tos == ["ops@example.com"]
    body = message.get_body(("plain",)).get_content()
    for item in events:
        assert event_line(item) in body
    [row] = deliveries(engine)
    assert row["status"] == "sent" and row["sent_at"] is not None and row["attempts"] == 1


def test_webhook_failure_is_retried_and_delivered_exactly_once(engine, webhook_factory):
    hook = webhook_factory(statuses=[500])
    url = f"json://127.0.0.1:{hook.port}/hook"
    events = sample_events()
    cycle_id = stored_cycle(engine, events)
    assert queue_digest(engine, cycle_id, events, [url]) == 1

    first = deliver_pending(engine, [url])
    assert (first.sent, first.failed, first.skipped) == (0, 1, 0)
    [row] = deliveries(engine)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["sent_at"] is None
    assert row["last_error"] == "HTTP 500"
    assert first.results[0].error == "HTTP 500" and first.results[0].channel_label == masked_label(url)

    second = deliver_pending(engine, [url])
    assert (second.sent, second.failed) == (1, 0)
    [row] = deliveries(engine)
    assert row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None

    third = deliver_pending(engine, [url])
    assert (third.sent, third.failed, third.skipped) == (0, 0, 0)
    assert queue_digest(engine, cycle_id, events, [url]) == 0  # re-queue of the same cycle: nothing new
    assert deliver_pending(engine, [url]).sent == 0

    assert len(hook.requests) == 2 and len(hook.delivered()) == 1
    payload = hook.delivered()[0]["json"]
    assert payload["title"] == "acewatch: 3 changes (2 lost ACE, 1 gained)"
    assert all(event_line(item) in payload["message"] for item in events)


def test_nothing_queued_without_events(engine, webhook_factory):
    hook = webhook_factory()
    url = f"json://127.0.0.1:{hook.port}/hook"
    cycle_id = stored_cycle(engine, [])
    assert queue_digest(engine, cycle_id, [], [url]) == 0
    assert deliveries(engine) == []
    assert deliver_pending(engine, [url]).sent == 0
    assert hook.requests == []


def test_older_cycles_go_first_and_unconfigured_channels_wait(engine, webhook_factory):
    hook = webhook_factory()
    url, other = f"json://127.0.0.1:{hook.port}/hook", f"json://127.0.0.1:{hook.port}/other"
    events = sample_events()
    first, second = stored_cycle(engine, events[:1]), stored_cycle(engine, events[1:])
    assert queue_digest(engine, second, events[1:], [url, url, other]) == 2  # duplicates collapse
    assert queue_digest(engine, first, events[:1], [url]) == 1

    report = deliver_pending(engine, [url])  # `other` is no longer configured

    assert (report.sent, report.failed, report.skipped) == (2, 0, 1)
    assert [r["json"]["title"] for r in hook.requests] == [digest_title(events[:1]), digest_title(events[1:])]
    skipped = [r for r in report.results if r.outcome == "skipped"]
    assert skipped[0].error == "alert URL no longer configured"
    assert {r["channel_label"]: r["status"] for r in deliveries(engine)}[masked_label(other)] == "pending"
    assert deliver_pending(engine, [url, other]).sent == 1  # putting the URL back sends it


def test_stale_claim_is_retried_but_a_live_claim_is_left_alone(engine, webhook_factory):
    hook = webhook_factory()
    url = f"json://127.0.0.1:{hook.port}/hook"
    events = sample_events()
    cycle_id = stored_cycle(engine, events)
    queue_digest(engine, cycle_id, events, [url])
    now = utcnow()
    with engine.begin() as connection:  # another process claimed it a minute ago and is still sending
        connection.execute(update(Delivery.__table__).values(status="sending", sent_at=now - timedelta(minutes=1)))

    assert deliver_pending(engine, [url], now=now).sent == 0
    assert hook.requests == []

    later = now + timedelta(hours=1)  # that process never came back: its claim is stale
    report = deliver_pending(engine, [url], now=later)
    assert report.sent == 1 and len(hook.delivered()) == 1
    [row] = deliveries(engine)
    assert row["status"] == "sent" and row["attempts"] == 2


def test_two_processes_never_send_the_same_delivery(engine, webhook_factory):
    hook = webhook_factory(delay=0.3)
    url = f"json://127.0.0.1:{hook.port}/hook"
    events = sample_events()
    cycle_id = stored_cycle(engine, events)
    queue_digest(engine, cycle_id, events, [url])
    reports = []
    workers = [threading.Thread(target=lambda: reports.append(deliver_pending(engine, [url]))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=20)

    assert sum(r.sent for r in reports) == 1 and sum(r.failed for r in reports) == 0
    assert len(hook.requests) == 1


def _secret_free(value: object) -> bool:
    return SECRET not in str(value)


def test_tokens_never_reach_rows_reports_errors_or_logs(engine, webhook_factory, caplog):
    caplog.set_level(logging.DEBUG)
    hook = webhook_factory(statuses=[500])
    # A password, a GET-parameter token, a header token and a token-like path segment:
    # Apprise's own privacy URL masks only the first of these.
    url = (
        f"json://user:{SECRET}TOKEN@127.0.0.1:{hook.port}/hook/{SECRET}PATH42token"
        f"?-token={SECRET}PARAM&+X-Token={SECRET}HEADER&token={SECRET}QUERY"
    )
    events = sample_events()
    cycle_id = stored_cycle(engine, events)

    queued = queue_digest(engine, cycle_id, events, [url])
    failed = deliver_pending(engine, [url])
    sent = deliver_pending(engine, [url])
    problems = validate_urls([url, f"notaservice://{SECRET}@x"])
    tested = send_test([url, f"notaservice://{SECRET}@x"])

    assert queued == 1 and failed.failed == 1 and sent.sent == 1
    assert [ok for _, ok, _ in tested] == [True, False]
    # The secrets were really used: the listener saw them.
    request = hook.delivered()[0]
    assert f"/hook/{SECRET}PATH42token?token={SECRET}PARAM" in request["path"]
    assert request["headers"]["X-Token"] == f"{SECRET}HEADER"
    assert base64.b64decode(request["headers"]["Authorization"].split()[1]).decode() == f"user:{SECRET}TOKEN"
    # ...and nowhere else.
    [row] = deliveries(engine)
    assert all(_secret_free(value) for value in row.values())
    assert len(row["channel"]) == 64 and row["channel_label"].startswith("json://user:")
    assert _secret_free(failed) and _secret_free(sent) and _secret_free(problems) and _secret_free(tested)
    assert problems == ["alert URL 2 (notaservice://...) is not a valid Apprise URL"]
    assert caplog.records, "the sends should have logged something"
    for record in caplog.records:
        assert _secret_free(record.getMessage()) and _secret_free(record.args) and _secret_free(record.name)
    assert _secret_free(caplog.text)


def test_validate_urls_masks_invalid_urls():
    assert validate_urls(["json://127.0.0.1/hook", "notaservice://x", ""]) == [
        "alert URL 2 (notaservice://...) is not a valid Apprise URL",
        "alert URL 3 is empty",
    ]
    assert validate_urls(["mailto://127.0.0.1?from=a@example.com&to=b@example.com"]) == []


def test_send_test_reports_each_channel(webhook_factory):
    hook = webhook_factory(statuses=[503])
    url = f"json://127.0.0.1:{hook.port}/hook"
    assert send_test([url]) == [(masked_label(url), False, "HTTP 503")]
    assert send_test([url, "notaservice://x"]) == [
        (masked_label(url), True, None),
        ("notaservice://...", False, "not a valid Apprise URL"),
    ]
    assert masked_label(url) == f"json://127.0.0.1:{hook.port}/hook"
