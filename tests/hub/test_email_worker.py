"""Results emails end to end: closing an event, the outbox, a real SMTP server (aiosmtpd),
unsubscribing, back-off, the Maildir default, and a hub killed mid-send."""

from __future__ import annotations

import mailbox
from pathlib import Path
from tempfile import mkdtemp
from datetime import date as Date

import pytest
from fastapi.testclient import TestClient

from hub.badges.issuer import Issuer
from hub.badges.keys import IssuerKeys
from hub.config import EmailSettings
from hub.email_worker import EmailWorker, retry_delay
from hub.mailer import MaildirMailer, SMTPMailer
from hub.store import Store
from tests.hub.kiosks import make_scan
from tests.hub.smtp import Inbox, SMTPServer

SENDER = "Turnout <turnout@hub.example>"
TODAY = Date(2025, 6, 14)


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def hub_with_event(path, regulars: int = 24) -> tuple[Store, str, dict[str, str]]:
    """An event attended by: two who opted in (one reaching the 25 club there), one who did
    not, one with an email but no opt-in, and one who opted in and was later erased."""
    store = Store(path)
    past = [store.add_event(f"Camp {n}", f"2025-0{1 + n // 10}-{1 + n % 10:02d}").id
            for n in range(regulars)]
    event = store.add_event("CivicCamp June", "2025-06-14").id
    people = {
        "ada": store.add_person("Ada Lovelace", email="ada@example.org", results_email=True).badge,
        "bo": store.add_person("Bo Diddley", email="bo@example.org", results_email=True).badge,
        "cy": store.add_person("Cy Twombly").badge,
        "di": store.add_person("Di Nash", email="di@example.org").badge,
        "ed": store.add_person("Ed Erased", email="ed@example.org", results_email=True).badge,
    }
    for seq, event_id in enumerate(past):
        store.insert_scan(make_scan("door-1", event_id, people["ada"], seq=seq), "2025-01-01T00:00:00.000Z",
                          "accepted")
    for n, badge in enumerate(people.values()):
        store.insert_scan(make_scan("door-1", event, badge, seq=100 + n), "2025-06-14T10:00:00.000Z",
                          "accepted")
    store.insert_scan(make_scan("door-1", event, people["bo"], "cake", seq=200),
                      "2025-06-14T10:00:00.000Z", "accepted")
    store.recompute()
    store.erase_person(people["ed"])
    for event_id in past:  # held and closed before: their emails went long ago
        store.close_event(event_id)
        store.queue_emails(event_id, [])
    return store, event, people


def worker_for(store: Store, mailer, keys: Path | None = None, **settings) -> EmailWorker:
    keys = keys or Path(mkdtemp()) / "issuer-keys"
    issuer = Issuer(store, "https://hub.example", IssuerKeys(keys))
    return EmailWorker(store, issuer, EmailSettings(sender=SENDER, **settings), mailer,
                       today=lambda: TODAY)


def test_closing_an_event_sends_one_email_to_each_person_present_who_opted_in(hub_db, tmp_path, smtp):
    store, event, people = hub_with_event(hub_db)
    worker = worker_for(store, SMTPMailer(EmailSettings(smtp=smtp.url, starttls=False)))
    assert worker.work_once() == 0  # not closed yet: nothing
    assert store.close_event(event) and not store.close_event(event)
    assert worker.work_once() == 2
    assert worker.work_once() == 0  # and never again
    received = smtp.inbox.wait_for(2)
    assert sorted(m["To"] for m in received) == ["ada@example.org", "bo@example.org"]
    ada = next(m for m in received if m["To"] == "ada@example.org")
    assert ada["Subject"] == "Thanks for coming to CivicCamp June"
    assert ada["From"] == SENDER and ada["Message-ID"].endswith("@hub.example>")
    assert ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ada["List-Unsubscribe"].strip().startswith("<https://hub.example/unsubscribe/")
    assert ada.get_content_type() == "multipart/alternative"
    plain = ada.get_body(("plain",)).get_content()
    html = ada.get_body(("html",)).get_content()
    for text in (plain, html):
        assert "Hello Ada" in text or "Thank you for coming, Ada" in text
        assert "25 club" in text and "25 events" in text and "25 points" in text
        assert "/credentials/" in text and f"https://hub.example/people/{people['ada']}" in text
        assert "https://hub.example/unsubscribe/" in text
    assert '<html lang="en-GB">' in html and "<img" not in html  # nothing needs an image
    bo = next(m for m in received if m["To"] == "bo@example.org")
    bo_text = bo.get_body(("plain",)).get_content()
    assert "- Cake" in bo_text and "Milestone reached" not in bo_text
    assert "Help out 9 more times to reach the volunteer 10 club." in bo_text
    summary = store.email_summary(event)
    assert (summary.sent, summary.queued, summary.failed) == (2, 0, 0)
    kept = store.db.execute(
        "SELECT COUNT(*) FROM email_outbox WHERE address IS NOT NULL OR message IS NOT NULL").fetchone()
    assert kept[0] == 0  # once sent, the outbox forgets the address and the text


def test_each_email_is_in_the_language_its_recipient_chose(hub_db, tmp_path, smtp):
    store, event, people = hub_with_event(hub_db)
    store.update_person(people["ada"], language="cy")
    worker = worker_for(store, SMTPMailer(EmailSettings(smtp=smtp.url, starttls=False)))
    store.close_event(event)
    assert worker.work_once() == 2
    received = {m["To"]: m for m in smtp.inbox.wait_for(2)}
    ada, bo = received["ada@example.org"], received["bo@example.org"]
    assert ada["Subject"] == "Diolch am ddod i CivicCamp June"
    assert bo["Subject"] == "Thanks for coming to CivicCamp June"
    for message, day, tag in ((ada, "Dydd Sadwrn 14 Mehefin 2025", "cy"), (bo, "Saturday 14 June 2025", "en-GB")):
        plain = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert day in plain and day in html and f'<html lang="{tag}">' in html
    assert "Clwb 25" in ada.get_body(("plain",)).get_content()  # the milestone's name too
    assert "Mehefin" not in bo.get_body(("plain",)).get_content()


def test_one_click_unsubscribe_stops_the_emails(hub_db, tmp_path, smtp):
    from hub.web import WebSettings, create_web_app

    store, event, people = hub_with_event(hub_db)
    worker = worker_for(store, SMTPMailer(EmailSettings(smtp=smtp.url, starttls=False)))
    store.close_event(event)
    worker.work_once()
    ada = next(m for m in smtp.inbox.wait_for(2) if m["To"] == "ada@example.org")
    link = ada["List-Unsubscribe"].strip().strip("<>").removeprefix("https://hub.example")
    client = TestClient(create_web_app(store, settings=WebSettings(base_url="https://hub.example")))
    assert "Stop results emails?" in client.get(link).text
    # RFC 8058: the provider POSTs this body, with no cookie and no form token
    answer = client.post(link, content="List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 204
    assert not store.person(people["ada"]).results_email
    assert client.post(link[:-3] + "xyz").status_code == 404  # a link we did not sign
    # the next event's email goes to Bo alone
    later = store.add_event("CivicCamp July", "2025-07-12").id
    for n, badge in enumerate((people["ada"], people["bo"])):
        store.insert_scan(make_scan("door-1", later, badge, seq=300 + n), "2025-07-12T10:00:00.000Z",
                          "accepted")
    store.close_event(later)
    assert worker.work_once() == 1
    assert smtp.inbox.wait_for(3)[-1]["To"] == "bo@example.org"


def test_a_server_that_is_down_is_tried_again_later_and_a_refusal_is_given_up(hub_db, tmp_path, smtp):
    store, event, people = hub_with_event(hub_db)
    now = [1000.0]
    down = SMTPMailer(EmailSettings(smtp="smtp://127.0.0.1:1", starttls=False))
    worker = worker_for(store, down)
    worker.clock = lambda: now[0]
    store.close_event(event)
    assert worker.work_once() == 0 and worker.work_once() == 0  # one try per email per round
    summary = store.email_summary(event)
    assert summary.queued == 2 and all("ConnectionRefusedError" in e for _, e in summary.failures)
    assert store.next_email_due() == pytest.approx(1000 + retry_delay(1))
    assert [retry_delay(n) for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]
    worker.mailer = SMTPMailer(EmailSettings(smtp=smtp.url, starttls=False))
    assert worker.work_once() == 0  # not due yet
    now[0] += 31
    smtp.inbox.refuse = ("bo@example.org",)
    assert worker.work_once() == 1
    assert [m["To"] for m in smtp.inbox.wait_for(1)] == ["ada@example.org"]
    summary = store.email_summary(event)
    assert (summary.sent, summary.failed, summary.queued) == (1, 1, 0)
    assert "550" in dict(summary.failures)[people["bo"]]


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_the_server_is_reached_over_tls_with_a_login_and_never_in_the_clear(hub_db, tmp_path, tls):
    from hub.broker.tls import self_signed

    files = self_signed(tmp_path / "tls", ["127.0.0.1"])
    server = SMTPServer(tls=tls, certificate=(str(files.cert), str(files.key)),
                        login=("turnout", "s3cret")).start()
    try:
        store, event, people = hub_with_event(hub_db)
        settings = dict(smtp=server.url, username="turnout", password="s3cret", ca_file=str(files.ca))
        worker = worker_for(store, SMTPMailer(EmailSettings(**settings)))
        store.close_event(event)
        assert worker.work_once() == 2
        assert len(server.inbox.wait_for(2)) == 2
    finally:
        server.stop()
    store.close()
    plain = SMTPServer().start()
    try:
        second = tmp_path / "second.sqlite"  # a fresh hub, as the first has sent its emails
        store, event, people = hub_with_event(second)
        worker = worker_for(store, SMTPMailer(EmailSettings(smtp=plain.url)))  # starttls required
        store.close_event(event)
        assert worker.work_once() == 0
        summary = store.email_summary(event)
        assert summary.failed == 2 and "offers no STARTTLS" in summary.failures[0][1]
        assert plain.inbox.messages == []
    finally:
        plain.stop()


def test_without_a_server_the_emails_go_to_a_maildir(hub_db, tmp_path):
    store, event, people = hub_with_event(hub_db)
    worker = worker_for(store, MaildirMailer(tmp_path / "mail"))
    store.close_event(event)
    assert worker.work_once() == 2
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    assert sorted(m["To"] for m in box) == ["ada@example.org", "bo@example.org"]


def test_events_close_by_themselves_when_their_day_is_over(hub_db, tmp_path):
    store, event, people = hub_with_event(hub_db)
    worker = worker_for(store, MaildirMailer(tmp_path / "mail"))
    worker.today = lambda: Date(2025, 6, 14)
    assert worker.work_once() == 0 and store.event(event).closed_at is None  # its day is not over
    worker.today = lambda: Date(2025, 6, 15)
    assert worker.work_once() == 2 and store.event(event).closed_at


def test_erasure_after_queueing_drops_the_email(hub_db, tmp_path):
    store, event, people = hub_with_event(hub_db)
    down = SMTPMailer(EmailSettings(smtp="smtp://127.0.0.1:1", starttls=False))
    worker = worker_for(store, down)
    store.close_event(event)
    worker.work_once()
    store.erase_person(people["bo"])
    assert store.email_summary(event).dropped == 1
    worker.mailer = MaildirMailer(tmp_path / "mail")
    worker.clock = lambda: 10**10
    assert worker.work_once() == 1
    assert [m["To"] for m in mailbox.Maildir(tmp_path / "mail")] == ["ada@example.org"]


@pytest.mark.slow
def test_a_hub_killed_mid_send_neither_loses_nor_repeats_an_email(tmp_path, broker):
    from tests.hub.hubproc import HubProcess, cli

    db = tmp_path / "hub.sqlite"
    store, event, people = hub_with_event(db)
    for n in range(3):  # three more who opted in: five emails in all
        badge = store.add_person(f"Extra {n}", email=f"extra{n}@example.org", results_email=True).badge
        store.insert_scan(make_scan("door-1", event, badge, seq=400 + n), "2025-06-14T10:00:00.000Z",
                          "accepted")
    store.update_event(event, date=Date.today().isoformat())  # not over: only `event close` ends it
    store.close()
    server = SMTPServer(Inbox(hold_at=3)).start()
    config = tmp_path / "hub.toml"
    config.write_text(f'public_url = "https://hub.example"\n[email]\nsmtp = "{server.url}"\n'
                      f'starttls = false\nsender = "{SENDER}"\n')
    hub = HubProcess(db, broker.url, tmp_path / "hub.log", config=config).start()
    try:
        assert server.inbox.messages == []
        assert "Closed" in cli(db, "event", "close", event).stdout
        assert server.inbox.holding.wait(30), "the hub never sent the third email"
        hub.kill()  # SIGKILL while the server holds the third message's reply
        server.inbox.release.set()
        assert len(server.inbox.messages) == 2
        hub = HubProcess(db, broker.url, tmp_path / "hub.log", config=config).start()
        received = server.inbox.wait_for(5)
        hub.stop()
    finally:
        hub.kill()
        server.stop()
    addresses = sorted(m["To"] for m in received)
    assert addresses == sorted({"ada@example.org", "bo@example.org",
                                *(f"extra{n}@example.org" for n in range(3))})
    assert len({m["Message-ID"] for m in received}) == 5
    store = Store(db)
    assert store.email_summary(event).sent == 5
    store.close()
