"""procedo.mail against real SMTP servers on 127.0.0.1 (aiosmtpd) and raw sockets."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import smtplib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from procedo.mail import (
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    Delivery,
    HeaderInjection,
    InvalidAddress,
    MessageError,
    OutgoingEmail,
    SmtpSettings,
    SmtpSettingsError,
    backoff,
    build_message,
    deliver,
    html_to_text,
    safe_links,
)
from tests.cluster import free_port

SUBJECT = "Factuur € 12,50 – herinnering"
BODY = (
    "<html><head><style>p { color: red }</style></head><body>"
    "<p>Beste klant,</p>"
    "<p>Bedrag: &euro; 12,50 &amp; meer &lt;script&gt;alert(1)&lt;/script&gt;<br>"
    "Vervaldatum: 1 maart</p>"
    '<p><a href="https://pay.example/123">Betaal nu</a></p>'
    "</body></html>"
)
MESSAGE_ID = "<3f2a9c1e-0001@procedo>"


def settings(port: int, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "Procedo Debiteuren <noreply@procedo.test>",
        "timeout": 1,
        "local_hostname": "client.procedo.test",
    }
    values.update(changes)
    return SmtpSettings.from_dict(values)


def outgoing(**changes: Any) -> OutgoingEmail:
    values: dict[str, Any] = {
        "message_id": MESSAGE_ID,
        "recipients": ("klant@example.com",),
        "subject": SUBJECT,
        "body_html": BODY,
    }
    values.update(changes)
    return OutgoingEmail(**values)


class Sink:
    """Accepts everything and keeps the envelopes; counts the sessions that said EHLO."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.sessions = 0

    async def handle_EHLO(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued as TEST1"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=email.policy.default)
            for e in self.envelopes
        ]


class Answer(Sink):
    """Answers one command (MAIL, RCPT or DATA) with a fixed reply."""

    def __init__(self, command: str, reply: str) -> None:
        super().__init__()
        self.command = command
        self.reply = reply

    async def handle_MAIL(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.command == "MAIL":
            return self.reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.command == "RCPT":
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.command == "DATA":
            return self.reply
        return await super().handle_DATA(server, session, envelope)


class RefuseSome(Sink):
    """Refuses the listed recipients with their reply and accepts the others."""

    def __init__(self, refuse: dict[str, str]) -> None:
        super().__init__()
        self.refuse = refuse

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


class HangUpAfterData(Sink):
    """Accepts the message, then drops the connection before QUIT is answered."""

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert server.transport is not None
        asyncio.get_running_loop().call_soon(server.transport.close)
        return await super().handle_DATA(server, session, envelope)


class SlowData(Sink):
    """Takes the message but answers DATA too late: delivery is unknown."""

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(3)
        return "250 OK"


StartServer = Callable[..., int]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Start an aiosmtpd server on a free 127.0.0.1 port; returns the port."""
    controllers: list[Controller] = []

    def start(handler: Any, **kwargs: Any) -> int:
        port = free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            server_hostname="mx.procedo.test",
            ready_timeout=5,
            **kwargs,
        )
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


# -- Settings -----------------------------------------------------------------------------


def test_settings_from_tenant_json() -> None:
    s = SmtpSettings.from_dict(
        {
            "host": "smtp.example.com",
            "port": 587,
            "username": "procedo",
            "password": "hunter2",
            "starttls": True,
            "sender": "Debiteuren <debiteuren@example.com>",
        }
    )
    assert (s.host, s.port, s.starttls, s.ssl, s.timeout) == (
        "smtp.example.com",
        587,
        True,
        False,
        10,
    )
    assert SmtpSettings.from_dict({"host": "h", "sender": "a@b.nl"}).port == 25
    assert "hunter2" not in repr(s)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "host and sender are required"),
        (None, "host and sender are required"),
        ({"sender": "a@b.nl"}, "missing required field `host`"),
        ({"host": "h"}, "missing required field `sender`"),
        (
            {"host": "h", "sender": "a@b.nl", "port": "25"},
            "Expected `int`, got `str` - at `$.port`",
        ),
        ({"host": "h", "sender": "a@b.nl", "port": 0}, "`$.port`"),
        ({"host": "h", "sender": "a@b.nl", "timeout": 0}, "`$.timeout`"),
        ({"host": "h", "sender": "a@b.nl", "pasword": "x"}, "unknown field `pasword`"),
        ({"host": "h", "sender": "a@b.nl", "ssl": True, "starttls": True}, "exclude each other"),
        ({"host": "h", "sender": "a@b.nl", "username": "u"}, "no password"),
        ({"host": "h", "sender": "not an address"}, "not a valid email address"),
        ({"host": "h", "sender": "a@b.nl\r\nBcc: x@evil.test"}, "header injection"),
        ({"host": "h x", "sender": "a@b.nl"}, "not a host name"),
    ],
)
def test_settings_errors_are_clear(data: Any, message: str) -> None:
    with pytest.raises(SmtpSettingsError, match="SMTP settings") as info:
        SmtpSettings.from_dict(data)
    assert message in str(info.value)


# -- Building the message -----------------------------------------------------------------


def test_build_message_headers_and_parts() -> None:
    when = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    message = build_message(
        settings(25),
        outgoing(recipients=("a@example.com", "b@example.com"), reply_to="boekhouding@example.com"),
        date=when,
    )
    assert message["From"] == "Procedo Debiteuren <noreply@procedo.test>"
    assert message["To"] == "a@example.com, b@example.com"
    assert message["Reply-To"] == "boekhouding@example.com"
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == MESSAGE_ID
    assert message["Date"] == "Sat, 01 Mar 2025 09:30:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert "MIME-Version" not in html
    assert html.get_content() == BODY + "\n"
    # 7bit-safe: nothing requires 8BITMIME or SMTPUTF8 from the server.
    assert message.as_bytes().isascii()


def test_html_to_text_strips_tags_and_keeps_line_breaks() -> None:
    assert html_to_text(BODY) == (
        "Beste klant,\n\n"
        "Bedrag: € 12,50 & meer <script>alert(1)</script>\n"
        "Vervaldatum: 1 maart\n\n"
        "Betaal nu (https://pay.example/123)"
    )
    assert html_to_text("Regel 1\nRegel   2<br/>Regel 3") == "Regel 1\nRegel 2\nRegel 3"
    assert html_to_text("<ul><li>een</li><li>twee</li></ul>") == "- een\n- twee"
    assert html_to_text("<script>x()</script><p>  </p>ok") == "ok"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
    ],
)
def test_script_links_are_dropped_from_the_html(url: str) -> None:
    html = f'<p>Pay:</p>\n<a class="button" href="{url}" title="Pay">Pay now</a> <img src="{url}"/>'
    assert safe_links(html) == ('<p>Pay:</p>\n<a class="button" title="Pay">Pay now</a> <img />')
    message = build_message(settings(25), outgoing(body_html=html))
    _plain, part = message.iter_parts()
    assert "script:" not in part.get_content().lower()
    assert "data:" not in part.get_content().lower()


def test_web_mail_phone_and_relative_links_stay_as_written() -> None:
    html = (
        "<p><a href='https://pay.example/1?a=1&amp;b=2'>Pay</a> <a href=mailto:x@example.com>"
        'mail</a> <a href="tel:+31201234567">call</a> <a href="/invoices">list</a> '
        '<img src="cid:logo"> <a name="top">top</a></p>'
    )
    assert safe_links(html) == html


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "Factuur\r\nBcc: victim@evil.test"},
        {"subject": "Factuur\nBcc: victim@evil.test"},
        {"subject": "Factuur\rBcc: victim@evil.test"},
        {"recipients": ("klant@example.com\r\nBcc: victim@evil.test",)},
        {"recipients": ("ok@example.com", "klant@example.com\nBcc: victim@evil.test")},
        {"message_id": "<x@procedo>\r\nBcc: victim@evil.test"},
        {"reply_to": "a@example.com\r\nBcc: victim@evil.test"},
    ],
)
def test_line_breaks_in_headers_are_refused(
    change: dict[str, Any], smtp_server: StartServer
) -> None:
    with pytest.raises(HeaderInjection, match="header injection"):
        build_message(settings(25), outgoing(**change))
    sink = Sink()
    port = smtp_server(sink)
    delivery = deliver(settings(port), outgoing(**change))
    assert delivery.outcome == "failed"
    assert delivery.smtp_code is None
    assert "header injection" in delivery.detail
    assert sink.envelopes == []
    assert sink.sessions == 0  # refused before connecting


@pytest.mark.parametrize(
    "address",
    ["not-an-address", "a@b@example.com", "<a@example.com>", "a b@example.com", "@example.com",
     "a@", "jörg@example.com", "a@example.com, b@example.com"],
)  # fmt: skip
def test_malformed_recipients_are_refused(address: str, smtp_server: StartServer) -> None:
    with pytest.raises(InvalidAddress, match="recipient"):
        build_message(settings(25), outgoing(recipients=(address,)))
    sink = Sink()
    port = smtp_server(sink)
    delivery = deliver(settings(port), outgoing(recipients=("ok@example.com", address)))
    assert delivery.outcome == "failed"
    assert address in delivery.detail
    assert sink.sessions == 0


def test_other_unsendable_messages() -> None:
    with pytest.raises(InvalidAddress, match="no recipients"):
        build_message(settings(25), outgoing(recipients=()))
    with pytest.raises(MessageError, match="Message-ID"):
        build_message(settings(25), outgoing(message_id="no-brackets@procedo"))


# -- Delivering ---------------------------------------------------------------------------


def test_sent_message_arrives_intact(smtp_server: StartServer) -> None:
    sink = Sink()
    port = smtp_server(sink)
    delivery = deliver(
        settings(port),
        outgoing(recipients=("klant@example.com", "KLANT@example.com", "b@example.com")),
    )
    assert delivery == Delivery(
        "sent",
        f"accepted by 127.0.0.1:{port} for 2 recipient(s): 250 2.0.0 Ok: queued as TEST1",
        250,
    )
    [envelope] = sink.envelopes
    assert envelope.mail_from == "noreply@procedo.test"
    assert envelope.rcpt_tos == ["klant@example.com", "b@example.com"]
    [message] = sink.messages()
    assert message["From"] == "Procedo Debiteuren <noreply@procedo.test>"
    assert message["To"] == "klant@example.com, b@example.com"
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == MESSAGE_ID
    assert message["Date"]
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    # Parsed from the wire, decoded parts keep their CRLF line ends.
    assert plain.get_content().replace("\r\n", "\n") == html_to_text(BODY) + "\n"
    assert html.get_content().replace("\r\n", "\n") == BODY + "\n"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.get_content()


def test_login_when_username_set(smtp_server: StartServer) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"secret", handled=False)

    sink = Sink()
    port = smtp_server(sink, authenticator=authenticator, auth_require_tls=False)
    good = deliver(settings(port, username="procedo", password="secret"), outgoing())  # noqa: S106
    assert good.outcome == "sent"
    bad = deliver(settings(port, username="procedo", password="wrong"), outgoing())  # noqa: S106
    assert bad.outcome == "failed"
    assert bad.smtp_code == 535
    assert "login" in bad.detail
    assert logins[0] == (b"procedo", b"secret")
    assert set(logins[1:]) == {(b"procedo", b"wrong")}  # smtplib tries each method
    assert len(sink.envelopes) == 1


def test_no_plain_text_when_starttls_is_missing(smtp_server: StartServer) -> None:
    sink = Sink()
    port = smtp_server(sink)
    delivery = deliver(settings(port, starttls=True), outgoing())
    assert delivery.outcome == "failed"
    assert "STARTTLS" in delivery.detail
    assert sink.envelopes == []


def test_no_login_without_auth(smtp_server: StartServer) -> None:
    sink = Sink()
    port = smtp_server(sink)  # aiosmtpd offers AUTH only over TLS by default
    delivery = deliver(settings(port, username="procedo", password="secret"), outgoing())  # noqa: S106
    assert delivery.outcome == "failed"
    assert "AUTH" in delivery.detail
    assert sink.envelopes == []


@pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("451 4.3.0 Try again later", "retry"),
        ("421 4.7.0 Too busy, closing", "retry"),
        ("550 5.7.1 Rejected", "failed"),
        ("554 5.6.0 Message content refused", "failed"),
    ],
)
def test_replies_are_classified(
    command: str, reply: str, outcome: str, smtp_server: StartServer
) -> None:
    handler = Answer(command, reply)
    port = smtp_server(handler)
    delivery = deliver(settings(port), outgoing())
    assert delivery.outcome == outcome
    assert delivery.smtp_code == int(reply[:3])
    assert reply[4:] in delivery.detail
    assert handler.envelopes == []


def test_one_recipient_refused_permanently_is_still_sent(smtp_server: StartServer) -> None:
    sink = RefuseSome({"weg@example.com": "550 5.1.1 No such user"})
    port = smtp_server(sink)
    delivery = deliver(
        settings(port), outgoing(recipients=("klant@example.com", "weg@example.com"))
    )
    assert delivery.outcome == "sent"
    assert delivery.smtp_code == 250
    assert "weg@example.com (550 5.1.1 No such user)" in delivery.detail
    assert [e.rcpt_tos for e in sink.envelopes] == [["klant@example.com"]]


def test_partial_temporary_refusal_is_not_retried(smtp_server: StartServer) -> None:
    # Retrying would send klant@ a second copy; the refusal is reported instead.
    sink = RefuseSome({"vol@example.com": "452 4.2.2 Mailbox full"})
    port = smtp_server(sink)
    delivery = deliver(
        settings(port), outgoing(recipients=("vol@example.com", "klant@example.com"))
    )
    assert delivery.outcome == "sent"
    assert "vol@example.com (452 4.2.2 Mailbox full)" in delivery.detail


@pytest.mark.parametrize(
    ("refuse", "outcome", "code"),
    [
        ({"a@example.com": "550 5.1.1 No", "b@example.com": "553 5.1.3 No"}, "failed", 550),
        ({"a@example.com": "550 5.1.1 No", "b@example.com": "451 4.3.0 Later"}, "retry", 451),
    ],
)
def test_all_recipients_refused(
    refuse: dict[str, str], outcome: str, code: int, smtp_server: StartServer
) -> None:
    sink = RefuseSome(refuse)
    port = smtp_server(sink)
    delivery = deliver(settings(port), outgoing(recipients=("a@example.com", "b@example.com")))
    assert (delivery.outcome, delivery.smtp_code) == (outcome, code)
    assert "all recipients refused" in delivery.detail
    assert "a@example.com" in delivery.detail
    assert "b@example.com" in delivery.detail
    assert sink.envelopes == []


def test_accepted_then_disconnected_is_sent(smtp_server: StartServer) -> None:
    sink = HangUpAfterData()
    port = smtp_server(sink)
    delivery = deliver(settings(port), outgoing())
    assert delivery.outcome == "sent"
    assert len(sink.envelopes) == 1


def test_quit_failing_after_acceptance_is_sent(
    smtp_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_quit(self: smtplib.SMTP) -> Any:
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(smtplib.SMTP, "quit", broken_quit)
    sink = Sink()
    port = smtp_server(sink)
    assert deliver(settings(port), outgoing()).outcome == "sent"


def test_no_answer_to_data_is_retry(smtp_server: StartServer) -> None:
    # Nobody knows whether it arrived; the retry carries the same Message-ID.
    port = smtp_server(SlowData())
    started = time.monotonic()
    delivery = deliver(settings(port, timeout=0.3), outgoing())
    assert delivery.outcome == "retry"
    assert "no answer" in delivery.detail
    assert time.monotonic() - started < 2


def test_closed_port_is_retry() -> None:
    delivery = deliver(settings(free_port()), outgoing())
    assert delivery.outcome == "retry"
    assert delivery.smtp_code is None
    assert "refused" in delivery.detail.lower()


def test_silent_server_is_retry() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel completes the handshake; nobody ever answers
        port = listener.getsockname()[1]
        started = time.monotonic()
        delivery = deliver(settings(port, timeout=0.3), outgoing())
    assert delivery.outcome == "retry"
    assert "no answer from" in delivery.detail
    assert time.monotonic() - started < 2


def test_reset_connection_is_retry() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def reset() -> None:
            conn, _ = listener.accept()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # RST instead of a greeting

        thread = threading.Thread(target=reset, daemon=True)
        thread.start()
        delivery = deliver(settings(port), outgoing())
        thread.join(2)
    assert delivery.outcome == "retry"


def test_greeting_554_is_failed() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def refuse() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"554 5.7.1 No SMTP service here\r\n")
                conn.recv(1024)

        thread = threading.Thread(target=refuse, daemon=True)
        thread.start()
        delivery = deliver(settings(port), outgoing())
        thread.join(2)
    assert (delivery.outcome, delivery.smtp_code) == ("failed", 554)
    assert "No SMTP service here" in delivery.detail


# -- Retry schedule -----------------------------------------------------------------------


def test_backoff_schedule() -> None:
    minutes = [backoff(n) / dt.timedelta(minutes=1) for n in range(1, 12)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]
    assert backoff(10_000) == BACKOFF_CAP == dt.timedelta(hours=6)
    assert MAX_ATTEMPTS == 8
    with pytest.raises(ValueError, match="from 1"):
        backoff(0)
