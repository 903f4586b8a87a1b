"""The digest of a real day-1 -> day-2 cycle, as a real SMTP server receives it, exactly once."""

from __future__ import annotations

from dataclasses import replace

from aiosmtpd.controller import Controller

from acewatch.cycle import run_cycle
from fixtures.server import FixtureSite
from store.database import open_engine
from tests.listeners import Mailbox, free_port
from tests.support import EXPECTED_CHANGES, acewatch, site_config


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=acewatch@example.com&to=adviser@example.com&mode=insecure&cto=5"


def test_day_two_digest_reaches_the_mailbox_once(tmp_path):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    feed = tmp_path / "feed.atom"
    try:
        with FixtureSite(day="day1") as site:
            config = site_config(db_url, site, tmp_path)
            config = replace(config, alerts=replace(config.alerts, urls=(mail_url(smtp.port),), feed_path=str(feed)))
            day1 = run_cycle(config, engine, progress="off")
            assert mailbox.messages == []  # nothing changed: nothing sent
            site.set_day("day2")
            day2 = run_cycle(config, engine, progress="off")
            again = run_cycle(config, engine, progress="off")
    finally:
        smtp.stop()
    assert day1.deliveries.sent == 0 and day2.deliveries.sent == 1 and again.deliveries.sent == 0
    (message,) = mailbox.messages
    body = message.get_body(preferencelist=("plain",)).get_content()
    (tmp_path / "digest.eml").write_bytes(mailbox.envelopes[0].content)
    assert "lost ACE" in message["Subject"]
    for change in EXPECTED_CHANGES:
        assert change["ace_title"].split(" Professional")[0] in body
    assert "Lost ACE recommendation (2)" in body and "Development -> Developer" in body
    assert "<entry>" in feed.read_text() or "entry" in feed.read_text()
    engine.dispose()


def test_notify_test_sends_to_every_channel_and_hides_tokens(tmp_path):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        url = mail_url(smtp.port).replace("mailto://", "mailto://user:hunter2token@")
        result = acewatch(
            "notify",
            "--test",
            db=f"sqlite:///{tmp_path}/a.db",
            home=tmp_path,
            ACEWATCH_ALERT_URLS=url.replace("user:hunter2token@", ""),
        )
        refused = acewatch(
            "notify",
            "--test",
            db=f"sqlite:///{tmp_path}/a.db",
            home=tmp_path,
            ACEWATCH_ALERT_URLS="notaservice://hunter2token@x",
        )
    finally:
        smtp.stop()
    assert result.returncode == 0, result.stderr
    assert len(mailbox.messages) == 1
    assert refused.returncode == 6 and "not a valid Apprise URL" in refused.stderr
    assert "hunter2token" not in refused.stderr + refused.stdout
