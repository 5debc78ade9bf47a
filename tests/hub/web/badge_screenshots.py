"""Screenshots of a results email (HTML and plain text), the verify page with a genuine and a
tampered credential, and a person's badges, for docs/screenshots/ (run: python -m
tests.hub.web.badge_screenshots). Prints axe-core's findings for each, for the closing notes."""

from __future__ import annotations

import email
import email.policy
import sys
import tempfile
from datetime import date as Date
from html import escape
from pathlib import Path

from playwright.sync_api import sync_playwright

from hub.badges.issuer import Issuer
from hub.badges.keys import IssuerKeys
from hub.config import EmailSettings
from hub.email_worker import EmailWorker
from hub.mailer import MaildirMailer
from hub.store import Store
from hub.web import WebSettings, create_web_app
from tests.hub.kiosks import make_scan
from tests.hub.web.browser import CHROMIUM, CHROMIUM_ARGS, axe_source, run_axe, serve

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
BASE = "https://turnout.example.org"


def sample(directory: Path) -> tuple[Store, str, str]:
    store = Store(directory / "hub.sqlite")
    ada = store.add_person("Ada Lovelace", email="ada@example.org", consent="full",
                           results_email=True).badge
    for n in range(25):
        name = "LocalGovCamp North June 2025" if n == 24 else f"Camp {n}"
        event = store.add_event(name, f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}" if n < 24
                                else "2025-06-14").id
        store.insert_scan(make_scan("door-1", event, ada, seq=n), "2025-06-14T10:00:00.000Z", "accepted")
        if n == 24:
            store.insert_scan(make_scan("door-1", event, ada, "cake", seq=99), "2025-06-14T10:00:00.000Z",
                              "accepted")
        if n < 24:
            store.close_event(event)
            store.queue_emails(event, [])
    store.recompute()
    return store, ada, event


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    store, ada, event = sample(work)
    issuer = Issuer(store, BASE, IssuerKeys.beside(store.db.location))
    worker = EmailWorker(store, issuer, EmailSettings(sender="Turnout <turnout@example.org>"),
                         MaildirMailer(work / "mail"), today=lambda: Date(2025, 6, 15))
    worker.work_once()
    raw = next(iter(__import__("mailbox").Maildir(work / "mail"))).as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    plain = message.get_body(("plain",)).get_content()
    headers = "\n".join(f"{k}: {v}" for k, v in message.items() if k in (
        "From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"))
    token = issuer.credentials_for(store.person(ada))[0].jws
    app = create_web_app(store, settings=WebSettings(base_url=BASE, stats_background=False),
                         issuer=issuer)
    axe = axe_source()
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def shot(stem: str, width: int = 800, url: str | None = None, content: str | None = None,
                 credential: str | None = None) -> None:
            page = browser.new_page(viewport={"width": width, "height": 900})
            if content is not None:
                page.set_content(content)
            else:
                page.goto(url)
            if credential is not None:
                page.fill("#credential", credential)
                page.click("button[type=submit]")
                page.wait_for_load_state()
            page.screenshot(path=str(out / f"{stem}.png"), full_page=True)
            found = run_axe(page, axe)
            print(f"{stem:26} axe: " + (", ".join(f"{v['impact']} {v['id']}" for v in found)
                                         or "no violations"))
            page.close()

        shot("results-email-html", content=html)
        shot("results-email-text", content="<!DOCTYPE html><html lang='en-GB'><title>Results email, "
             "plain text</title><main><h1 style='font:bold 15px sans-serif;margin:16px'>The plain-text part</h1><pre style='font:15px/1.4 monospace;white-space:pre-wrap;"
             f"margin:16px'>{escape(headers)}\n\n{escape(plain)}</pre></main></html>")
        shot("verify-genuine", 1024, base + "/verify", credential=token)
        head, payload, signature = token.split(".")
        shot("verify-tampered", 1024, base + "/verify",
             credential=f"{head}.{payload[:40]}{'A' if payload[40] != 'A' else 'B'}{payload[41:]}.{signature}")
        shot("person-badges", 1024, base + f"/people/{ada}")
        browser.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
