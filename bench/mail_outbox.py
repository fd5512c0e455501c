"""The email outbox to a local SMTP sink (issue 15), against plain smtplib, in the same run.

``python -m bench.mail_outbox [--messages 1000] [--runs 3]``. The same messages, to the
same local sink (aiosmtpd, saving each as a file):

- outbox: ``runtime.outbox.deliver_all`` as a worker runs it: per message, a claiming
  transaction (the tenant's settings read there), the SMTP conversation on a
  connection of its own, and a transaction recording the result and its history;
- smtplib, one connection per message: the same conversations, nothing recorded;
- smtplib, one connection for all: what a bulk mailer without durability would do.

SQLite in a temporary folder; medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa

from procedo.db import models as m
from procedo.messaging import channel
from procedo.messaging.sink import MailSink
from procedo.runtime import outbox, setup
from procedo.runtime.local import LocalRunner

SENDER = "office@bench.example"


def _message(n: int) -> tuple[str, str, str]:
    return (
        f"debtor{n}@bench.example",
        f"Payment reminder {n}",
        f"<p>Dear debtor {n}, please pay.</p>",
    )


def _queue(runner: LocalRunner, tenant_id: uuid.UUID, messages: int) -> list[uuid.UUID]:
    rows: list[dict[str, object]] = []
    idents: list[uuid.UUID] = []
    for n in range(messages):
        to, subject, body = _message(n)
        ident = uuid.uuid4()
        idents.append(ident)
        rows.append(
            {
                "id": ident,
                "tenant_id": tenant_id,
                "kind": "email",
                "message_id": f"<{ident}@bench>",
                "recipients": [to],
                "subject": subject,
                "body": body,
                "status": "pending",
            }
        )
    with runner.rt.db.transaction() as session:
        session.execute(sa.insert(m.Outbox), rows)
    return idents


def _plain(sink: MailSink, messages: int, one_connection: bool) -> None:
    def letter(n: int) -> EmailMessage:
        to, subject, body = _message(n)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = SENDER, to, subject
        msg.set_content(body, subtype="html")
        return msg

    if one_connection:
        with smtplib.SMTP(sink.host, sink.port) as smtp:
            for n in range(messages):
                smtp.send_message(letter(n))
        return
    for n in range(messages):
        with smtplib.SMTP(sink.host, sink.port) as smtp:
            smtp.send_message(letter(n))


def _median(
    work: Callable[[], None], runs: int, before: Callable[[], None] = lambda: None
) -> float:
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.messages
    with tempfile.TemporaryDirectory() as folder:
        sink = MailSink.start(Path(folder) / "sink")
        try:
            runner = LocalRunner(f"sqlite:///{Path(folder) / 'bench.db'}")
            tenant = setup.create_tenant(runner.rt, "Bench Mail", "bench-mail")
            settings = channel.EmailSettingsIn(
                host=sink.host, port=sink.port, security="none", sender_address=SENDER
            )
            channel.save_settings(runner.rt, tenant.id, settings, "bench")
            queued: list[uuid.UUID] = []

            def queue() -> None:
                queued[:] = _queue(runner, tenant.id, n)

            durable = _median(lambda: outbox.deliver_all(runner.rt, queued), args.runs, queue)
            with runner.rt.db.read() as session:
                sent = session.scalar(sa.select(sa.func.count()).where(m.Outbox.status == "sent"))
            assert sent == n * args.runs, f"{sent} of {n * args.runs} sent"
            each = _median(lambda: _plain(sink, n, one_connection=False), args.runs)
            one = _median(lambda: _plain(sink, n, one_connection=True), args.runs)
        finally:
            sink.stop()
    print(f"{n:,} emails to a local sink, median of {args.runs} runs")
    for name, seconds in (
        ("outbox (durable, recorded)", durable),
        ("smtplib, a connection each", each),
        ("smtplib, one connection", one),
    ):
        print(f"{name:28} {n / seconds:8.0f} messages/s  ({seconds:.2f} s)")
    print(f"outbox / smtplib a connection each: {durable / each:.1f}x the time")


if __name__ == "__main__":
    main()
