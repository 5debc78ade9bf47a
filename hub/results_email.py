"""The results email: what one person did at one event, as a multipart message (plain text and
accessible HTML, readable with images off), with RFC 8058 one-click unsubscribe headers.

Pure: ``results_message`` turns a ``ResultsNote`` into an ``EmailMessage``; the worker
(``hub.email_worker``) gathers the note and sends the message. Every sentence goes through
gettext, so a catalogue translates the email as it does the pages.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape


@dataclass(frozen=True)
class Reached:
    """A milestone reached at this event, with its credential's downloads."""

    club: str
    credential_url: str  # the credential as JSON
    image_url: str  # the badge image with the credential baked in
    verify_url: str


@dataclass(frozen=True)
class ResultsNote:
    service_name: str
    first_name: str
    event_name: str
    event_date: str  # YYYY-MM-DD
    event_url: str
    roles: tuple[str, ...]
    points: int
    attended: int
    volunteered: int
    next_milestone: str | None  # its name
    to_go: int
    next_is_helping: bool
    reached: tuple[Reached, ...]
    page_url: str
    unsubscribe_url: str  # the page with a button; the List-Unsubscribe header posts to it
    lang: str = "en-GB"  # the HTML part's language tag: the catalogue's language


@lru_cache(maxsize=8)
def _environment(translations: gettext.NullTranslations) -> Environment:
    env = Environment(loader=PackageLoader("hub", "templates/email"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def results_message(note: ResultsNote, sender: str, to: str, message_id: str,
                    translations: gettext.NullTranslations | None = None,
                    now: datetime | None = None) -> EmailMessage:
    translations = translations or gettext.NullTranslations()
    _ = translations.gettext
    env = _environment(translations)
    message = EmailMessage()
    message["Subject"] = _("Thanks for coming to %(event)s") % {"event": note.event_name}
    name, address = parseaddr(sender)
    message["From"] = str(Address(display_name=name, addr_spec=address)) if name else address
    message["To"] = to
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = message_id
    # RFC 8058: a mail provider's "unsubscribe" button posts to this address, no page needed.
    message["List-Unsubscribe"] = f"<{note.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    context = {"note": note}
    message.set_content(env.get_template("results.txt").render(context))
    message.add_alternative(env.get_template("results.html").render(context), subtype="html")
    return message
