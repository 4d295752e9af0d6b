"""A real SMTP server on loopback for tests that send mail.

Django's locmem outbox shows what a view *meant* to send; this shows what an SMTP
server received: the envelope, the headers after encoding, the MIME parts, a message
sent by a real worker process. It is aiosmtpd in a thread of the test process,
started once per session on a free port of 127.0.0.1.

    def test_…(smtp_inbox):              # Django now sends through the server
        …
        (message,) = smtp_inbox.wait_for(1)
        assert message["Subject"] == "…"

The real Celery worker of the `worker` tests sends through the same server.
"""

import email
import socket
import threading
import time
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """What the server received, in order; safe to read while the server appends."""

    def __init__(self):
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    def append(self, message: EmailMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """The messages once `count` have arrived (a worker sends in its own time);
        fails the test if they have not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        pytest.fail(f"expected {count} message(s) on the SMTP server, got {len(self.messages)}")


class _Handler:
    def __init__(self, inbox: Inbox):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        # The envelope, which is who really gets it (Bcc has no header), travels along.
        message["X-Envelope-From"] = envelope.mail_from
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.inbox.append(message)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self):
        self.inbox = Inbox()
        self.host, self.port = "127.0.0.1", _free_port()
        self._controller = Controller(_Handler(self.inbox), hostname=self.host, port=self.port)

    @property
    def url(self) -> str:
        """For EMAIL_URL (django-environ): plain SMTP, no TLS, no login."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_inbox(smtp_server, settings) -> Inbox:
    """Django sends through the loopback server for this test; its inbox starts empty."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    smtp_server.inbox.clear()
    return smtp_server.inbox
