"""A real local SMTP server (aiosmtpd) that keeps the messages it receives; tests start it themselves.

On a free port of 127.0.0.1, plain SMTP (no TLS) with AUTH LOGIN/PLAIN for one login and password
(``logins`` counts the good ones): what the Airflow Connection of a test points at. Each message is kept parsed, with the envelope's recipients (the Bcc-proof truth of who
got it).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any


@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html", "plain"))
        assert part is not None, "the message has no body"
        return str(part.get_content())


@dataclass
class Mailbox:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    logins: int = 0


def free_port() -> int:
    """A port nothing listens on (bound, then released): also the "unreachable server" of a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(login: str, password: str) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            box.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (login.encode(), password.encode())
        box.logins += ok
        return AuthResult(success=ok)

    # AUTH without TLS: acceptable on 127.0.0.1 in a test, and it lets the Connection's login be exercised.
    controller = Controller(Handler(), hostname=box.host, port=box.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
