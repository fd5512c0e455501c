"""Attachments: an open item's invoice document, its size limit, and M4 end to end.

M4 (copy request): the debtor asks on the portal for a copy of an invoice; the shipped
``copy-request`` flow emails the document when the system has it (the PDF, or the PDF a
UBL invoice embeds), and otherwise opens a task for an employee.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.db import models as m
from procedo.messaging import attachments
from procedo.messaging.sink import MailSink
from tests.api_helpers import Office, ok
from tests.conftest import EXAMPLES
from tests.portal_helpers import Debtor, csrf_of, debtor_with_link
from tests.test_template_library import _server_key

__all__ = ["_server_key"]  # the server key fixture of the library tests

DUE = dt.date(2026, 10, 1)


def _wait_for(found: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("waited in vain")


# -- Documents: what may be stored, what is attached -------------------------------------------


def test_a_ubl_invoice_s_embedded_pdf_is_what_is_attached() -> None:
    pdf = attachments.invoice_pdf("2026-7", "Jansen", "10.00", DUE)
    found = attachments.embedded_pdf(attachments.ubl_with_pdf("2026-7", pdf))
    assert found == attachments.Attachment("2026-7.pdf", "application/pdf", pdf)
    assert attachments.kind_of(pdf) == "application/pdf"


def test_only_pdf_or_ubl_is_stored_and_hostile_xml_is_refused() -> None:
    with pytest.raises(attachments.DocumentError, match="PNG"):
        attachments.kind_of(b"\x89PNG\r\n\x1a\n....")
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Invoice/>'
    with pytest.raises(attachments.DocumentError, match="DOCTYPE"):
        attachments.kind_of(doctype)
    with pytest.raises(attachments.DocumentError, match="not a UBL invoice"):
        attachments.kind_of(b"<?xml version='1.0'?><Order/>")


def test_a_document_over_the_limit_is_not_stored() -> None:
    too_big = b"%PDF-" + b"0" * attachments.MAX_ATTACHMENT_BYTES
    with pytest.raises(attachments.DocumentError, match="at most 10,485,760"):
        attachments.store_document(None, uuid.uuid4(), uuid.uuid4(), too_big)  # type: ignore[arg-type]


# -- Over HTTP and through the portal: M4 ------------------------------------------------------


@pytest.fixture
def portal(backend: Backend, tmp_path: Path) -> Iterator[tuple[Debtor, MailSink, Backend]]:
    """A debtor with a portal link, mail to a local sink, copy-request published; each database."""
    from tests.api_helpers import live_server

    sink = MailSink.start(tmp_path / "sink")
    try:
        with live_server(backend.runtime) as base_url:
            debtor = debtor_with_link(
                backend,
                base_url,
                fields={"name": "Bakkerij De Korst", "email": "boekhouding@korst.example"},
            )
            acme = debtor.acme
            settings = {"host": "127.0.0.1", "port": sink.port, "security": "none"}
            ok(
                acme.http.put(
                    "/settings/email", json={**settings, "sender_address": "d@acme.example"}
                )
            )
            headers = {"Content-Type": "application/json"}
            shipped = (EXAMPLES / "copy-request.json").read_bytes()
            ok(acme.http.post("/flows/import", content=shipped, headers=headers), 201)
            ok(acme.http.post("/flows/copy-request/publish"), 201)
            yield debtor, sink, backend
    finally:
        sink.stop()


def _ask_copy(debtor: Debtor, number: str) -> None:
    csrf = csrf_of(debtor.page.get(f"/portal/{debtor.token}").text)
    item = str(debtor.items[number])
    answer = debtor.page.post(f"/portal/{debtor.token}/copy", data={"csrf": csrf, "item": item})
    assert answer.status_code == 303, answer.text


def _instances(backend: Backend) -> list[m.Instance]:
    with backend.runtime.db.read() as session:
        return list(session.scalars(sa.select(m.Instance).order_by(m.Instance.started_at)))


def test_m4_the_invoice_document_is_emailed_when_the_system_has_it(
    portal: tuple[Debtor, MailSink, Backend],
) -> None:
    debtor, sink, backend = portal
    acme: Office = debtor.acme
    pdf = attachments.invoice_pdf("2026-0002", "Bakkerij De Korst", "250.50", DUE)
    ubl = attachments.ubl_with_pdf("2026-0002", pdf)
    stored = ok(acme.http.put(f"/open-items/{debtor.items['2026-0002']}/document", content=ubl))
    assert stored["media_type"] == "application/xml"
    assert acme.http.get(f"/open-items/{debtor.items['2026-0002']}/document").content == ubl
    _ask_copy(debtor, "2026-0002")
    (eml,) = _wait_for(sink.messages)
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "boekhouding@korst.example"
    assert message["Subject"] == "Kopie van factuur 2026-0002"  # the library's, in Dutch
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "2026-0002.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == pdf  # the PDF the UBL invoice embeds
    [instance] = _wait_for(
        lambda: [i for i in _instances(backend) if i.status == "completed"] or None
    )
    with backend.runtime.db.read() as session:
        tasks = session.scalars(sa.select(m.Task).where(m.Task.instance_id == instance.id)).all()
    assert tasks == []


def test_m4_without_a_document_an_employee_gets_a_task(
    portal: tuple[Debtor, MailSink, Backend],
) -> None:
    debtor, sink, backend = portal
    _ask_copy(debtor, "2026-0003")
    task = _wait_for(lambda: _open_tasks(backend))[0]
    assert task.title == "Send Bakkerij De Korst a copy of invoice 2026-0003"
    assert task.role == "Collections"
    time.sleep(0.5)
    assert sink.messages() == []
    with backend.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Outbox)) == 0


def _open_tasks(backend: Backend) -> list[m.Task]:
    with backend.runtime.db.read() as session:
        return list(session.scalars(sa.select(m.Task).where(m.Task.status == "open")))


def test_a_document_known_too_large_fails_the_step_naming_the_node(
    portal: tuple[Debtor, MailSink, Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    debtor, sink, backend = portal
    pdf = attachments.invoice_pdf("2026-0001", "Bakkerij De Korst", "100.00", DUE)
    ok(debtor.acme.http.put(f"/open-items/{debtor.items['2026-0001']}/document", content=pdf))
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 100)  # lowered since it was stored
    _ask_copy(debtor, "2026-0001")
    [instance] = _wait_for(lambda: [i for i in _instances(backend) if i.status == "failed"])
    assert "node 'send_copy'" in (instance.error or "")
    assert f"has {len(pdf):,} bytes; at most 100 can be attached" in (instance.error or "")
    assert sink.messages() == []


def test_a_document_too_large_when_the_email_leaves_fails_the_email_saying_so(
    portal: tuple[Debtor, MailSink, Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The document grew after the flow decided (replaced by a larger one): the outbox checks."""
    debtor, sink, backend = portal
    pdf = attachments.invoice_pdf("2026-0001", "Bakkerij De Korst", "100.00", DUE)
    ok(debtor.acme.http.put(f"/open-items/{debtor.items['2026-0001']}/document", content=pdf))
    monkeypatch.setattr("procedo.nodes.email.check_size", lambda document, node: None)
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 100)
    _ask_copy(debtor, "2026-0001")

    def failed() -> list[m.Outbox]:
        with backend.runtime.db.read() as session:
            return list(session.scalars(sa.select(m.Outbox).where(m.Outbox.status == "failed")))

    [row] = _wait_for(failed)
    assert f"has {len(pdf):,} bytes; at most 100 can be attached" in (row.last_error or "")
    assert sink.messages() == []


def test_an_upload_over_the_limit_or_of_another_kind_stores_nothing(
    portal: tuple[Debtor, MailSink, Backend],
) -> None:
    debtor, _sink, _backend = portal
    url = f"/open-items/{debtor.items['2026-0001']}/document"
    too_big = b"%PDF-" + b"0" * attachments.MAX_ATTACHMENT_BYTES
    assert debtor.acme.http.put(url, content=too_big).status_code == 413
    refused = debtor.acme.http.put(url, content=b"GIF89a....")
    assert refused.status_code == 422
    assert "neither a PDF nor a UBL invoice" in refused.text
    assert debtor.acme.http.get(url).status_code == 404
