"""A real SMTP server for the tests (aiosmtpd on a free port) that keeps what it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage

import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.broker import free_port


class Inbox:
    """aiosmtpd's handler: every message accepted, parsed; addresses in ``refuse`` get a 550.

    ``hold_at`` = n makes the n-th message wait, before its reply, until ``release`` is set;
    if the client has gone by then (a killed hub), the message was never accepted, as a real
    server that never sent its 250 has not taken it."""

    def __init__(self, refuse: tuple[str, ...] = (), hold_at: int | None = None):
        self.messages: list[EmailMessage] = []
        self.refuse = refuse
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()
        self.arrivals = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.arrivals += 1
        if self.hold_at is not None and self.arrivals == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)  # the event loop notices a closed connection meanwhile
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 the client went away"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 2.0.0 accepted"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} emails arrived"
        return list(self.messages)


class SMTPServer:
    """``tls``: None (plain), "starttls" (required, with a login) or "smtps" (TLS from the start);
    ``certificate`` is (cert, key) PEM paths for the TLS ones."""

    def __init__(self, inbox: Inbox | None = None, tls: str | None = None,
                 certificate: tuple[str, str] | None = None, login: tuple[str, str] | None = None):
        self.inbox = inbox or Inbox()
        self.port = free_port()
        self.tls = tls
        options: dict = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            options = ({"ssl_context": context} if tls == "smtps" else
                       {"tls_context": context, "require_starttls": True})
        if login:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; smtps is TLS from the first byte anyway
            options.update(authenticator=_only(login), auth_require_tls=tls != "smtps")
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        return f"{'smtps' if self.tls == 'smtps' else 'smtp'}://127.0.0.1:{self.port}"

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.inbox.release.set()
        self.controller.stop()


def _only(login: tuple[str, str]):
    """An aiosmtpd authenticator that lets in this username and password alone."""
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(),
                                                       auth_data.password.decode()) == login
        return AuthResult(success=ok)
    return authenticate
