"""Deliver one outgoing email over SMTP and classify the outcome.

This module has no database access. The outbox actor loads an ``Outbox`` row and
the tenant's SMTP settings (``Tenant.smtp``), calls :func:`deliver`, and records
the :class:`Delivery` it gets back:

``sent``
    The server accepted the message (DATA answered 250). Recipients that were
    refused while at least one other was accepted are named in ``detail``; the
    message is *not* retried for them, because a retry would deliver a second
    copy to the recipients who already have it.
``retry``
    A temporary problem: a 4xx reply (including every recipient refused with at
    least one 4xx), connection refused or reset, a timeout, a dropped connection
    or another network error. Nothing is known to have been delivered.
``failed``
    A permanent problem: a 5xx reply, a server that does not offer STARTTLS or
    AUTH when the settings ask for it, or a message that cannot be sent at all
    (a line break in a header value, a malformed address). Messages refused
    before connecting never open a connection.

"Never send twice knowingly": once DATA is answered 250 the outcome is ``sent``,
whatever happens afterwards (a QUIT that times out or a dropped connection). If
the connection is lost *while* waiting for the answer to DATA, nobody knows
whether the message arrived; that is reported as ``retry``, and the retry sends
the same deterministic Message-ID so a receiver can recognise the duplicate.

Retry schedule: after attempt *n* fails with ``retry``, the caller sets
``next_attempt_at = now + backoff(n)``. The waits double from one minute and are
capped at six hours; there is no jitter, so the schedule is predictable:

========  =============
attempt   wait after it
========  =============
1         1 min
2         2 min
3         4 min
4         8 min
5         16 min
6         32 min
7         64 min
8         (none: the caller records ``failed``, ``MAX_ATTEMPTS = 8``)
========  =============

Eight attempts span about two hours (1 + 2 + ... + 64 = 127 minutes). Later
steps, should ``MAX_ATTEMPTS`` be raised, continue 128 min, 256 min and then
stay at the 6-hour cap from attempt 10 on.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
from collections.abc import Mapping
from email import errors as email_errors
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from html import escape as html_escape
from html.parser import HTMLParser
from typing import Annotated, Any, Literal, TypeAlias

import msgspec

__all__ = [
    "MAX_ATTEMPTS",
    "Delivery",
    "HeaderInjection",
    "InvalidAddress",
    "MessageError",
    "Outcome",
    "OutgoingEmail",
    "SmtpSettings",
    "SmtpSettingsError",
    "backoff",
    "build_message",
    "check_address",
    "deliver",
    "html_to_text",
    "safe_links",
]

MAX_ATTEMPTS = 8
BACKOFF_FIRST = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)

# Strict: defects raise instead of being recorded. 7bit: non-ASCII bodies are
# sent quoted-printable or base64, so no server needs 8BITMIME or SMTPUTF8.
POLICY = SMTP_POLICY.clone(raise_on_defect=True, cte_type="7bit")

MAX_DETAIL_CHARS = 2000

Outcome: TypeAlias = Literal["sent", "retry", "failed"]


class MessageError(ValueError):
    """The message cannot be sent as it is; retrying will not help."""


class HeaderInjection(MessageError):
    """A header value contains a line break or another control character."""


class InvalidAddress(MessageError):
    """An address (sender, recipient, Reply-To) is malformed."""


class SmtpSettingsError(ValueError):
    """A tenant's SMTP settings are incomplete or malformed."""


# Characters that end a line for str.splitlines() or for some mail software, and
# the other C0 controls; a tab is ordinary whitespace in a header.
_FORBIDDEN_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII except < > and @
_DISPLAY_FORM = re.compile(r"(?s)(.*?)\s*<([^<>]*)>")
_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+")


def _check_header(name: str, value: str) -> None:
    found = _FORBIDDEN_IN_HEADER.search(value)
    if found is None:
        return
    what = (
        "a line break"
        if found.group() in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
        else f"control character U+{ord(found.group()):04X}"
    )
    raise HeaderInjection(f"{name} may not contain {what} (header injection): {value!r}")


def _addr_spec(value: str, what: str) -> Address:
    """A bare ``local@domain`` address, validated by the email package's parser."""
    if not value.isascii():
        raise InvalidAddress(
            f"{what} {value!r} is not ASCII; internationalised addresses are not supported"
        )
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError, TypeError, email_errors.MessageError) as exc:
        raise InvalidAddress(f"{what} {value!r} is not a valid email address: {exc}") from exc
    if not address.username or not address.domain or len(value) > 254:
        raise InvalidAddress(
            f"{what} {value!r} is not a valid email address (expected name@domain)"
        )
    if value != address.addr_spec:
        # Quoted or commented forms parse, but we only send what was written.
        raise InvalidAddress(
            f"{what} {value!r} is not a plain email address (expected name@domain)"
        )
    return address


def _parse_address(value: str, what: str, *, display_name: bool = False) -> Address:
    """``name@domain``, or ``Display Name <name@domain>`` where display_name is allowed."""
    _check_header(what, value)
    value = value.strip()
    match = _DISPLAY_FORM.fullmatch(value) if display_name else None
    if match is None:
        return _addr_spec(value, what)
    name = match.group(1).strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    spec = _addr_spec(match.group(2).strip(), what)
    return Address(display_name=name, addr_spec=spec.addr_spec)


def check_address(value: str, what: str, *, display_name: bool = False) -> str:
    """``value`` as it will be sent (``name@domain``, or with a display name where allowed).

    Raises InvalidAddress or HeaderInjection naming ``what``: for settings and forms
    that take an address, so they refuse what the sender would refuse.
    """
    return str(_parse_address(value, what, display_name=display_name))


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant's SMTP server; build it from ``Tenant.smtp`` with :meth:`from_dict`.

    ``ssl`` connects with implicit TLS (usually port 465); ``starttls`` upgrades a
    plain connection (usually port 587) and refuses to continue in plain text if
    the server does not offer it. ``sender`` is the From address, bare or as
    ``Display Name <name@domain>``. ``timeout`` is in seconds, per network
    operation. ``local_hostname`` is the name sent with EHLO (default: this
    machine's fully qualified name).
    """

    host: Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 25
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    password: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    starttls: bool = False
    ssl: bool = False
    sender: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    local_hostname: Annotated[str, msgspec.Meta(min_length=1, max_length=253)] | None = None

    def __post_init__(self) -> None:
        if not _HOST.fullmatch(self.host):
            raise ValueError(f"host {self.host!r} is not a host name or IP address")
        if self.local_hostname is not None and not _HOST.fullmatch(self.local_hostname):
            raise ValueError(f"local_hostname {self.local_hostname!r} is not a host name")
        if self.ssl and self.starttls:
            raise ValueError(
                "ssl and starttls exclude each other: ssl is TLS from the start (port 465), "
                "starttls upgrades a plain connection (port 587)"
            )
        if self.password is not None and self.username is None:
            raise ValueError("a password is set but no username")
        if self.username is not None and self.password is None:
            raise ValueError("a username is set but no password")
        try:
            _parse_address(self.sender, "sender", display_name=True)
        except MessageError as exc:
            raise ValueError(str(exc)) from exc

    def __repr__(self) -> str:
        secret = None if self.password is None else "***"
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"password={secret!r}, starttls={self.starttls}, ssl={self.ssl}, "
            f"sender={self.sender!r}, timeout={self.timeout}, "
            f"local_hostname={self.local_hostname!r})"
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SmtpSettings:
        """Validate a tenant's SMTP JSON; raises SmtpSettingsError naming the problem."""
        if not data:
            raise SmtpSettingsError("SMTP settings are missing: host and sender are required")
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise SmtpSettingsError(f"invalid SMTP settings: {exc}") from exc


class OutgoingEmail(msgspec.Struct, frozen=True, kw_only=True):
    """One email as the outbox holds it; ``message_id`` is e.g. ``<3f2a...@procedo>``."""

    message_id: str
    recipients: tuple[str, ...]
    subject: str
    body_html: str
    reply_to: str | None = None
    # The text/plain part; None: made from the HTML (html_to_text).
    body_text: str | None = None
    # Files sent along (an invoice's PDF): (filename, media type, content).
    attachments: tuple[tuple[str, str, bytes], ...] = ()

    def __repr__(self) -> str:  # never a document's bytes in a log line or traceback
        files = [name for name, _type, _content in self.attachments]
        return f"OutgoingEmail(message_id={self.message_id!r}, attachments={files!r})"


class Delivery(msgspec.Struct, frozen=True):
    """What happened to one delivery attempt; ``smtp_code`` is None without a reply."""

    outcome: Outcome
    detail: str
    smtp_code: int | None = None


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt ``attempt`` (1-based): 1, 2, 4, ... minutes, capped at 6 h."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if attempt > 16:  # long past the cap; avoids computing huge powers
        return BACKOFF_CAP
    return min(BACKOFF_FIRST * (1 << (attempt - 1)), BACKOFF_CAP)


# -- HTML to text -------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "main", "nav", "ol", "p", "pre", "section", "table", "tbody",
        "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})
_HIDDEN_TAGS = frozenset({"head", "script", "style", "template", "title"})
_SPACES = re.compile(r"[ \t\f\v\xa0]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")  # the list's own end tag closes the line
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag in _PARAGRAPH_TAGS else "\n")
        elif tag == "a":
            href = dict(attrs).get("href")
            self._links.append((href, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag in _PARAGRAPH_TAGS else "\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.parts[start:]).strip()
            if href and href.startswith(("http://", "https://")) and href not in text:
                self.parts.append(f" ({href})" if text else href)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A readable text/plain version of an HTML body: tags stripped, line breaks kept.

    ``<br>``, paragraphs and other block elements become line breaks, list items
    start with ``- ``, links keep their address in brackets, entities are
    decoded, and runs of spaces and of blank lines are collapsed.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# -- Links ---------------------------------------------------------------------------------

# Attributes a mail client follows or loads; their values must be web, mail or phone
# addresses (or relative). javascript:, data:, vbscript: and the like are dropped.
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "cite",
     "longdesc", "lowsrc", "dynsrc", "srcset", "data", "codebase", "ping"}
)  # fmt: skip
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
# Browsers ignore these anywhere in a URL (tab, line feed, carriage return) or at its
# start (C0 controls and space), so "java\tscript:" is still javascript:.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def _safe_url(value: str) -> bool:
    scheme = _SCHEME.match(_URL_IGNORED.sub("", value))
    return scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES


class _LinkFinder(HTMLParser):
    """Finds start tags with an unsafe URL attribute, and their place in the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.unsafe: list[tuple[tuple[int, int], str, str]] = []  # ((line, column), raw, new)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs, closed=True)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        kept = [
            (name, value)
            for name, value in attrs
            if name not in _URL_ATTRIBUTES
            or value is None
            or all(_safe_url(part) for part in _candidates(name, value))
        ]
        if len(kept) == len(attrs):
            return
        raw = self.get_starttag_text() or ""
        text = "".join(
            f" {name}" if value is None else f' {name}="{html_escape(value, quote=True)}"'
            for name, value in kept
        )
        self.unsafe.append((self.getpos(), raw, f"<{tag}{text}{' /' if closed else ''}>"))


def _candidates(name: str, value: str) -> list[str]:
    """The URLs in an attribute: srcset and ping hold several."""
    if name == "srcset":
        return [c.strip().split(" ")[0] for c in value.split(",")]
    if name == "ping":
        return value.split()
    return [value]


def safe_links(html: str) -> str:
    """``html`` with every link or source that is not http(s), mailto, tel or cid removed.

    A template escapes subject data, but an escaped ``javascript:alert(1)`` in
    ``href="{{ subject.portal_url }}"`` is still a script link. The tag keeps its
    other attributes and its text; everything else stays as written.
    """
    finder = _LinkFinder()
    finder.feed(html)
    finder.close()
    if not finder.unsafe:
        return html
    line_starts = [0]
    line_starts += [i + 1 for i, char in enumerate(html) if char == "\n"]
    parts: list[str] = []
    done = 0
    for (line, column), raw, new in finder.unsafe:
        start = line_starts[line - 1] + column
        if html.startswith(raw, start):  # always, unless the parser disagrees with itself
            parts += [html[done:start], new]
            done = start + len(raw)
    parts.append(html[done:])
    return "".join(parts)


# -- Building the message ----------------------------------------------------------------


def _recipients(email: OutgoingEmail) -> list[Address]:
    if not email.recipients:
        raise InvalidAddress("the email has no recipients")
    found: dict[str, Address] = {}
    for value in email.recipients:
        address = _parse_address(value, "recipient")
        found.setdefault(address.addr_spec.lower(), address)
    return list(found.values())


def build_message(
    settings: SmtpSettings, email: OutgoingEmail, *, date: dt.datetime | None = None
) -> EmailMessage:
    """The MIME message: multipart/alternative with a text part derived from the HTML.

    Raises HeaderInjection for a line break in any header value and
    InvalidAddress for a malformed address, before anything is sent.
    """
    _check_header("the subject", email.subject)
    _check_header("the Message-ID", email.message_id)
    for value in email.recipients:
        _check_header("a recipient", value)
    if email.reply_to is not None:
        _check_header("Reply-To", email.reply_to)
    if not _MESSAGE_ID.fullmatch(email.message_id):
        raise MessageError(
            f"Message-ID {email.message_id!r} is not of the form <unique@domain> in ASCII"
        )
    sender = _parse_address(settings.sender, "the sender", display_name=True)
    recipients = _recipients(email)
    reply_to = (
        None
        if email.reply_to is None
        else _parse_address(email.reply_to, "Reply-To", display_name=True)
    )

    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipients
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = email.message_id
    body_html = safe_links(email.body_html)
    message.set_content(html_to_text(body_html) if email.body_text is None else email.body_text)
    message.make_alternative()
    # Not add_alternative(): that leaves a MIME-Version header on the part.
    html = EmailMessage(policy=POLICY)
    html.set_content(body_html, subtype="html")
    del html["MIME-Version"]
    message.attach(html)
    for filename, media_type, content in email.attachments:
        _check_header("an attachment's name", filename)
        maintype, _slash, subtype = media_type.partition("/")
        # multipart/mixed around the alternative parts; the file base64-encoded.
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


# -- Delivering ---------------------------------------------------------------------------


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _clip(detail: str) -> str:
    return detail if len(detail) <= MAX_DETAIL_CHARS else detail[: MAX_DETAIL_CHARS - 1] + "…"


def _by_code(code: int, reply: bytes | str, during: str) -> Delivery:
    """4xx is temporary, 5xx permanent; anything else is a protocol oddity worth a retry."""
    outcome: Outcome = "failed" if 500 <= code <= 599 else "retry"
    kind = {"failed": "permanent", "retry": "temporary"}[outcome]
    return Delivery(outcome, _clip(f"{during}: {kind} error {code} {_text(reply)}"), code)


def _timed_out(settings: SmtpSettings, server: str, exc: BaseException) -> Delivery:
    detail = f"no answer from {server} within {settings.timeout:g} s ({exc})"
    return Delivery("retry", _clip(detail), None)


def _connect(settings: SmtpSettings, context: ssl.SSLContext | None) -> smtplib.SMTP:
    if settings.ssl:
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=settings.local_hostname,
            timeout=settings.timeout,
            context=context or ssl.create_default_context(),
        )
    return smtplib.SMTP(
        settings.host,
        settings.port,
        local_hostname=settings.local_hostname,
        timeout=settings.timeout,
    )


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except Exception:  # whatever QUIT does cannot change the outcome
        smtp.close()


def _transact(
    smtp: smtplib.SMTP,
    settings: SmtpSettings,
    sender: str,
    recipients: list[str],
    payload: bytes,
    context: ssl.SSLContext | None,
    server: str,
) -> Delivery:
    if settings.starttls:
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            return Delivery(
                "failed",
                f"{server} does not offer STARTTLS; not sending in plain text",
                None,
            )
        smtp.starttls(context=context or ssl.create_default_context())
        smtp.ehlo()
    if settings.username is not None:
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn("auth"):
            return Delivery("failed", f"{server} does not offer AUTH; cannot log in", None)
        try:
            smtp.login(settings.username, settings.password or "")
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, exc.smtp_error, "login")

    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        return _by_code(code, reply, f"MAIL FROM:<{sender}>")

    accepted: list[str] = []
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code in (250, 251):
            accepted.append(recipient)
            continue
        if code == 421:  # the server is closing the connection; nothing was sent
            return _by_code(code, reply, f"RCPT TO:<{recipient}>")
        refused[recipient] = (code, reply)
    named = "; ".join(f"{r} ({c} {_text(m)})" for r, (c, m) in refused.items())
    if not accepted:
        # Retry if any refusal was temporary: nobody has the message yet.
        codes = [c for c, _ in refused.values()]
        code = next((c for c in codes if not 500 <= c <= 599), codes[0])
        return _by_code(code, f"all recipients refused: {named}", "RCPT TO")

    code, reply = smtp.data(payload)
    if code != 250:
        return _by_code(code, reply, "DATA")
    # Accepted: from here on nothing may turn this into a retry.
    detail = f"accepted by {server} for {len(accepted)} recipient(s): {code} {_text(reply)}"
    if refused:
        detail += f"; refused, not retried: {named}"
    return Delivery("sent", _clip(detail), code)


def deliver(
    settings: SmtpSettings,
    email: OutgoingEmail,
    *,
    tls_context: ssl.SSLContext | None = None,
) -> Delivery:
    """Send ``email`` through the tenant's SMTP server once and classify the outcome.

    Never raises for a delivery problem: the outcome is in the returned Delivery.
    ``tls_context`` replaces the default (system trust store, hostname checked)
    for ``ssl`` and ``starttls``, e.g. to trust a private CA.
    """
    try:
        message = build_message(settings, email)
    except MessageError as exc:
        return Delivery("failed", _clip(f"not sent: {exc}"), None)
    payload = message.as_bytes(policy=POLICY)
    sender = _parse_address(settings.sender, "the sender", display_name=True).addr_spec
    recipients = [a.addr_spec for a in _recipients(email)]
    server = f"{settings.host}:{settings.port}"

    smtp: smtplib.SMTP | None = None
    try:
        smtp = _connect(settings, tls_context)
        return _transact(smtp, settings, sender, recipients, payload, tls_context, server)
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib wraps a read timeout
            return _timed_out(settings, server, exc.__context__)
        return Delivery("retry", _clip(f"{server} closed the connection: {exc}"), None)
    except smtplib.SMTPNotSupportedError as exc:
        return Delivery("failed", _clip(f"{server}: {exc}"), None)
    except smtplib.SMTPResponseException as exc:
        during = "connecting" if isinstance(exc, smtplib.SMTPConnectError) else "SMTP"
        return _by_code(exc.smtp_code, exc.smtp_error, f"{server} {during}")
    except smtplib.SMTPException as exc:
        return Delivery("failed", _clip(f"{server}: {exc}"), None)
    except TimeoutError as exc:
        return _timed_out(settings, server, exc)
    except ConnectionError as exc:
        return Delivery("retry", _clip(f"connection to {server} failed: {exc}"), None)
    except OSError as exc:  # DNS, unreachable network, TLS handshake
        return Delivery("retry", _clip(f"cannot reach {server}: {exc}"), None)
    except UnicodeError as exc:  # a non-ASCII user name or password
        return Delivery("failed", _clip(f"{server}: cannot encode the login: {exc}"), None)
    finally:
        if smtp is not None:
            _close(smtp)
