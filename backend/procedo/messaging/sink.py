"""A local SMTP sink for the demo and the tests: every message accepted, kept as an .eml file.

`procedo serve --demo` points the demo tenant at it, so what the demo's flows send
can be read in ``<data dir>/sent-mail/`` (one file per message, any mail program
opens them). It listens on 127.0.0.1 only and needs ``aiosmtpd`` (a development
dependency): without it the demo says so and its mail waits in the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procedo.ids import new_id

SINK_FOLDER = "sent-mail"
_SAFE = re.compile(r"[^A-Za-z0-9@._-]+")


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        first = _SAFE.sub("_", envelope.rcpt_tos[0] if envelope.rcpt_tos else "nobody")[:80]
        path = self.folder / f"{stamp}-{first}-{new_id()}.eml"
        content = envelope.original_content or envelope.content
        # Written under another name, then renamed: a reader never sees half a message.
        partial = path.with_suffix(".partial")
        partial.write_bytes(content if isinstance(content, bytes) else content.encode())
        partial.rename(path)
        return "250 OK: kept in " + path.name


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.login = (user.encode(), password.encode())

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(data, LoginPassword) and (data.login, data.password) == self.login
        return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MailSink:
    """A running sink; ``stop()`` ends it."""

    folder: Path
    host: str = "127.0.0.1"
    port: int = 0
    _controller: Any = field(default=None, repr=False)

    @classmethod
    def start(cls, folder: Path, port: int = 0, login: tuple[str, str] | None = None) -> MailSink:
        """Listen on 127.0.0.1; ``login``: require AUTH with this user and password."""
        from aiosmtpd.controller import Controller  # development dependency: imported late

        # aiosmtpd logs every SMTP command at INFO: on the demo's terminal that buries the
        # address and logins under hundreds of lines. Its warnings still show, and a level
        # set on purpose (a test tracing the protocol) is kept.
        trace = logging.getLogger("mail.log")
        if trace.level == logging.NOTSET:
            trace.setLevel(logging.WARNING)
        folder.mkdir(parents=True, exist_ok=True)
        sink = cls(folder=folder, port=port or _free_port())
        options: dict[str, Any] = {}
        if login is not None:
            options = {
                "authenticator": _Authenticator(*login),
                "auth_required": True,
                "auth_require_tls": False,  # loopback only: nothing to overhear
            }
        controller = Controller(
            _SaveToFolder(folder), hostname=sink.host, port=sink.port, **options
        )
        controller.start()
        sink._controller = controller
        return sink

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))
