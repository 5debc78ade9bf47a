"""The results email on its own: every sentence goes through gettext, and the message is
multipart with RFC 8058 headers (pure: no server, no database)."""

from __future__ import annotations

import gettext
import re

from hub.results_email import Reached, ResultsNote, results_message

NOTE = ResultsNote(
    service_name="Turnout", first_name="Ada", event_name="CivicCamp June", event_date="Saturday 14 June 2025",
    event_url="https://hub.example/events/e1", roles=("Attend", "Cake"), points=27, attended=25,
    volunteered=1, next_milestone="volunteer 10 club", to_go=9, next_is_helping=True,
    reached=(Reached("25 club", "https://hub.example/credentials/c.json",
                     "https://hub.example/credentials/c.png", "https://hub.example/verify"),),
    page_url="https://hub.example/people/T13", unsubscribe_url="https://hub.example/unsubscribe/tok")


class Marked(gettext.NullTranslations):
    """A 'language' that wraps every translated message in ⟦ ⟧, to see what went through gettext."""

    def gettext(self, message):
        return f"⟦{message}⟧"

    def ngettext(self, singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"


def words_outside_gettext(text: str) -> list[str]:
    """Words left once translated text, names and values from the note, and URLs are taken out."""
    text = re.sub(r"⟦[^⟧]*⟧", " ", text)
    text = re.sub(r"https?://\S+|<[^>]+>|&[a-z#0-9]+;", " ", text)
    for value in ("Ada", "CivicCamp June", "Saturday 14 June 2025", "Turnout", "Attend", "Cake", "--"):
        text = text.replace(value, " ")
    return re.findall(r"[A-Za-z]{2,}", text)


def test_every_sentence_of_both_parts_goes_through_gettext():
    message = results_message(NOTE, "Turnout <t@hub.example>", "ada@example.org", "<m@hub.example>",
                              translations=Marked())
    assert message["Subject"] == "⟦Thanks for coming to CivicCamp June⟧"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    html_body = html.split("<body", 1)[1].split(">", 1)[1]
    assert words_outside_gettext(plain) == []
    assert words_outside_gettext(html_body) == []


def test_the_message_is_multipart_with_one_click_unsubscribe():
    message = results_message(NOTE, "Turnout <t@hub.example>", "ada@example.org", "<m@hub.example>")
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe"] == "<https://hub.example/unsubscribe/tok>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = message.get_body(("plain",)).get_content()
    assert "You joined the 25 club." in plain and "Help out 9 more times" in plain
