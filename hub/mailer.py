"""Where emails go: an SMTP server (``[email] smtp`` in hub.toml), or a Maildir to open them from.

``SMTPMailer`` speaks plain SMTP with STARTTLS (``smtp://``, refused in the clear unless
``starttls = false``) or TLS from the first byte (``smtps://``), logging in when given a username.
``MaildirMailer`` writes each message into a Maildir (standard library ``mailbox``), the default
for ``make demo`` and any hub without a mail server: open it with ``mutt -f var/mail``.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from hub.config import EmailSettings

TIMEOUT = 30  # seconds for the server to answer each step


class PermanentFailure(RuntimeError):
    """The server refused the message for good (a 5xx reply): trying again will not help."""


class SMTPMailer:
    def __init__(self, settings: EmailSettings):
        url = urlsplit(settings.smtp)
        if not url.hostname:
            raise ValueError(f"[email] smtp needs a host: {settings.smtp!r}")
        self.settings = settings
        self.tls = url.scheme == "smtps"
        self.host, self.port = url.hostname, url.port or (465 if self.tls else 587)
        self.context = ssl.create_default_context(cafile=settings.ca_file or None)

    def describe(self) -> str:
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"

    def send(self, message: bytes, sender: str, to: str) -> None:
        try:
            if self.tls:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=self.context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
            with client:
                if not self.tls:
                    client.ehlo()
                    if client.has_extn("starttls"):
                        client.starttls(context=self.context)
                        client.ehlo()
                    elif self.settings.starttls:
                        raise PermanentFailure(f"{self.host} offers no STARTTLS: not sending in the clear"
                                               " (set starttls = false in [email] to allow it)")
                if self.settings.username:
                    client.login(self.settings.username, self.settings.password)
                client.sendmail(sender, [to], message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the server refused the address: {_reply(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"the server refused it: {exc.smtp_code} "
                                       f"{exc.smtp_error.decode(errors='replace')}") from exc
            raise


def _reply(recipients: dict) -> str:
    return "; ".join(f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                     for code, text in recipients.values())


class MaildirMailer:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def describe(self) -> str:
        return f"the Maildir {self.path}"

    def send(self, message: bytes, sender: str, to: str) -> None:
        box = mailbox.Maildir(self.path, create=True)
        box.add(mailbox.MaildirMessage(message.replace(b"\r\n", b"\n")))  # files end lines in LF


def mailer_for(settings: EmailSettings, database_path: str | Path):
    """The SMTP server the settings name, else the Maildir ("mail" beside the database)."""
    if settings.smtp:
        return SMTPMailer(settings)
    from hub.config import data_directory

    return MaildirMailer(settings.maildir or data_directory(database_path) / "mail")
