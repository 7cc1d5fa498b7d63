"""A real SMTP server in the test process (aiosmtpd on a free port), for the email queue's tests."""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from django.test import override_settings

from tests.ports import free_port


class SmtpSink:
    """
    Accepts mail on 127.0.0.1:`port` and keeps what arrived. `delay` seconds
    before answering each message (a slow server); addresses in `refuse` get
    a permanent 550.
    """

    def __init__(self, port: int | None = None, *, delay: float = 0.0, refuse: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.delay = delay
        self.refuse = set(refuse)
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.mail_commands = 0
        self.connections = 0
        self.data_started = threading.Event()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        with self._lock:
            self.mail_commands += 1
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            # Kept before the (slow) answer: a client that dies waiting for it
            # has still handed the message over, as with a real server.
            self.messages.append(message)
            self.envelopes.append(list(envelope.rcpt_tos))
        self.data_started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=5)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]


def smtp_settings(port: int, **extra) -> override_settings:
    """Django's SMTP backend pointed at 127.0.0.1:`port`, as EMAIL_URL=smtp://127.0.0.1:port would."""
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=10,
        **extra,
    )


def database_queue() -> override_settings:
    """As in production: a queued email waits for the worker (`manage.py send_emails`)."""
    return override_settings(SIGNATURES_EMAIL_SEND_ON_COMMIT=False)
