"""UBL ingestion into a tenant: stored once, invoice.received starts the flows (E1-E6, E9).

Each test runs on SQLite and PostgreSQL (the db_url fixture), with the shipped
example flows and the sample documents in tests/ubl/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import admin, setup
from procedo.ubl import UblError
from procedo.ubl import ingest as ingest_module
from procedo.ubl.ingest import INVOICE_RECEIVED, ingest, ingest_many
from procedo.ubl.xml import MAX_BYTES
from tests.runtime_helpers import World, make_world
from tests.test_ubl import sample, variant

CONVERSION = "conny@acme.example"


@pytest.fixture
def world(db_url: str) -> World:
    world = make_world(db_url)
    setup.add_user(world.rt, world.tenant, CONVERSION, "Conny")
    setup.add_member(world.rt, world.tenant, "Conversion", CONVERSION)
    return world


def take_in(world: World, name: str | bytes) -> m.Subject:
    data = sample(name) if isinstance(name, str) else name
    subject = ingest(world.rt, world.tenant, data, "peppol access point")
    world.runner.drain()
    return world.subject_row(subject.id)


def count(world: World, model: type[Any]) -> int:
    with world.rt.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def emails(world: World) -> list[tuple[tuple[str, ...], str]]:
    return [(e.recipients, e.subject) for e in world.runner.sender.sent]


def trust(world: World, kvk: str, email: str = "") -> None:
    fields: dict[str, Any] = {"name": "Energie Noord B.V.", "kvk": kvk, "trusted": True}
    if email:
        fields["email"] = email
    world.subject("supplier", kvk, fields)


def instances_of(world: World, subject_id: uuid.UUID) -> list[m.Instance]:
    with world.rt.db.read() as session:
        return list(
            session.scalars(sa.select(m.Instance).where(m.Instance.subject_id == subject_id))
        )


# --- Purchase invoice approval (E1-E5) -----------------------------------------------------


def test_kvk_x_goes_to_management_a_and_kvk_y_to_management_b(world: World) -> None:
    world.publish("invoice-approval")
    x = take_in(world, "invoice-kvk-x.xml")
    y = take_in(world, "invoice-kvk-y.xml")
    assert (x.key, x.status) == ("12345678/INV-2026-0042", "received")
    assert x.fields["supplier"]["kvk"] == "12345678"
    tasks = {t.subject_id: t for t in world.open_tasks()}
    assert (tasks[x.id].role, tasks[x.id].title) == (
        "Management A",
        "Approve invoice INV-2026-0042",
    )
    assert (tasks[y.id].role, tasks[y.id].title) == ("Management B", "Approve invoice 2026-118")


def test_who_approved_and_when_is_in_the_history(world: World) -> None:
    world.publish("invoice-approval")
    subject = take_in(world, "invoice-kvk-x.xml")
    (task,) = world.open_tasks()
    world.runner.clock.advance(dt.timedelta(hours=3))
    admin.complete_task(world.rt, world.tenant, task.id, "approve", [], "anna@acme.example")
    world.runner.drain()
    assert world.subject_row(subject.id).status == "payable"
    history = world.history(task.instance_id)
    assert history[0].actor == "event invoice.received"
    (completed,) = [h for h in history if h.kind == "task_completed"]
    assert (completed.actor, completed.node_id) == ("anna@acme.example", "approve_a")
    assert completed.at == world.runner.clock.now()


def test_a_trusted_small_energy_bill_is_payable_without_anyone(world: World) -> None:
    world.publish("invoice-approval")
    trust(world, "11223344")
    subject = take_in(world, "invoice-energy-trusted.xml")
    assert subject.fields["supplier"]["trusted"] is True
    assert subject.status == "payable"
    assert world.open_tasks() == []


def test_the_same_bill_from_a_sender_not_trusted_goes_to_the_accountant(world: World) -> None:
    world.publish("invoice-approval")
    subject = take_in(world, "invoice-energy-trusted.xml")
    assert subject.fields["supplier"]["trusted"] is False
    (task,) = world.open_tasks()
    assert task.role == "Accountant"


def test_no_order_reference_is_rejected_and_the_supplier_told(world: World) -> None:
    world.publish("invoice-approval")
    subject = take_in(world, "invoice-no-order.xml")
    assert subject.status == "rejected"
    assert emails(world) == [(("factuur@devries.example",), "Invoice INV-2026-0043 rejected")]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("invoice-wrong-tax.xml", "tax category S 21%: 1000.00 x 21% = 210.00, but the invoice"),
        ("invoice-bad-period.xml", "the invoice period starts on 2026-02-01, after its end"),
    ],
)
def test_wrong_tax_or_period_is_rejected(world: World, name: str, problem: str) -> None:
    world.publish("invoice-approval")
    subject = take_in(world, name)
    assert subject.status == "rejected"
    assert subject.fields["checks"]["all_ok"] is False
    assert problem in subject.fields["conversion_problem"]
    assert [to for to, _subject in emails(world)] == [("billing@acme.example",)]


def test_a_wrong_total_including_tax_is_rejected(world: World) -> None:
    """E2 "a wrong total": tax inclusive is not net + tax, though payable agrees with it."""
    world.publish("invoice-approval")
    data = variant(
        "invoice-kvk-x.xml",
        ("1319.00</cbc:TaxInclusiveAmount>", "1391.00</cbc:TaxInclusiveAmount>"),
        ("1319.00</cbc:PayableAmount>", "1391.00</cbc:PayableAmount>"),
    )
    subject = take_in(world, data)
    assert subject.fields["checks"]["failed"] == ["totals_ok"]
    assert subject.status == "rejected"


def test_a_credit_note_is_its_own_subject(world: World) -> None:
    invoice = take_in(world, "invoice-kvk-x.xml")
    credit = take_in(world, "credit-note.xml")
    assert credit.id != invoice.id
    assert (credit.key, credit.status) == ("12345678/credit-note/CN-2026-0007", "received")
    assert credit.fields["billing_reference"] == "INV-2026-0042"


# --- Stored once, nothing stored on error ------------------------------------------------


def test_a_document_sent_twice_starts_one_flow(world: World) -> None:
    world.publish("invoice-approval")
    first = take_in(world, "invoice-kvk-x.xml")
    again = take_in(world, "invoice-kvk-x.xml")
    assert again.id == first.id
    assert again.version == first.version
    assert count(world, m.Event) == 1
    assert len(instances_of(world, first.id)) == 1
    with world.rt.db.read() as session:
        event = session.scalars(sa.select(m.Event)).one()
    assert (event.name, event.data) == (
        INVOICE_RECEIVED,
        {"source": "ubl", "by": "peppol access point"},
    )


def test_a_changed_document_replaces_the_fields_but_starts_nothing_new(world: World) -> None:
    world.publish("invoice-approval")
    first = take_in(world, "invoice-kvk-x.xml")
    changed = variant("invoice-kvk-x.xml", ("AFD-INKOOP", "AFD-FACILITAIR"))
    second = take_in(world, changed)
    assert second.id == first.id
    assert second.fields["buyer_reference"] == "AFD-FACILITAIR"
    assert second.status == "received"  # the approval it waits for is not reset
    assert len(instances_of(world, first.id)) == 1
    assert len(world.open_tasks()) == 1


@pytest.mark.parametrize(
    "name",
    [
        "billion-laughs.xml",
        "xxe-file.xml",
        "malformed.xml",
        "truncated.xml",
        "missing-payable-amount.xml",
    ],
)
def test_a_refused_document_stores_nothing(world: World, name: str) -> None:
    world.publish("invoice-approval")
    before = count(world, m.Subject)
    with pytest.raises(UblError):
        ingest(world.rt, world.tenant, sample(name), "peppol")
    world.runner.drain()
    assert (count(world, m.Subject), count(world, m.Event), count(world, m.Instance)) == (
        before,
        0,
        0,
    )


def test_the_tenants_supplier_email_wins_over_the_documents(world: World) -> None:
    world.publish("invoice-approval")
    world.subject(
        "supplier",
        "55554444",
        {"name": "De Vries", "kvk": "55554444", "email": "ap@devries.example"},
    )
    subject = take_in(world, "invoice-no-order.xml")
    assert subject.fields["supplier"]["email"] == "ap@devries.example"
    assert subject.fields["supplier"]["trusted"] is False
    assert emails(world) == [(("ap@devries.example",), "Invoice INV-2026-0043 rejected")]


def test_invoices_are_kept_per_tenant(world: World) -> None:
    other = setup.create_tenant(world.rt, "Other Office", "other")
    mine = ingest(world.rt, world.tenant, sample("invoice-kvk-x.xml"), "peppol")
    theirs = ingest(world.rt, other.id, sample("invoice-kvk-x.xml"), "peppol")
    assert mine.id != theirs.id
    assert count(world, m.Event) == 2


# --- Conversion check (E6) ------------------------------------------------------------------


def test_a_conversion_problem_mails_the_group_and_gives_it_a_check_task(world: World) -> None:
    world.publish("conversion-check")
    good = take_in(world, "invoice-kvk-x.xml")
    assert instances_of(world, good.id) == []  # the trigger's rule: only failed checks
    bad = take_in(world, "invoice-wrong-tax.xml")
    ((to, subject),) = emails(world)
    assert (to, subject) == (
        (CONVERSION,),
        "Conversion problem in invoice INV-2026-0050 from Acme Kantoorartikelen B.V.",
    )
    assert "210.00, but the invoice says 212.00" in world.runner.sender.sent[0].body_html
    (task,) = world.open_tasks()
    assert (task.role, task.subject_id) == ("Conversion", bad.id)
    assert task.title == "Check the conversion of invoice INV-2026-0050"
    admin.complete_task(
        world.rt, world.tenant, task.id, "confirmed", ["original_compared"], "conny"
    )
    world.runner.drain()
    assert emails(world)[1] == (
        ("billing@acme.example",),
        "Invoice INV-2026-0050: please send a corrected invoice",
    )
    assert world.instance(task.instance_id).status == "completed"


# --- Trusted senders and expense claims (E9) ------------------------------------------------


def test_a_sender_not_trusted_gets_a_sender_check_beside_the_approval(world: World) -> None:
    world.publish("invoice-approval")
    world.publish("trusted-senders")
    trust(world, "11223344")
    energy = take_in(world, "invoice-energy-trusted.xml")
    assert energy.status == "payable"
    assert len(instances_of(world, energy.id)) == 1  # the approval only
    other = take_in(world, "invoice-kvk-y.xml")
    roles = sorted(t.role or "" for t in world.open_tasks() if t.subject_id == other.id)
    assert roles == ["Administratie", "Management B"]
    (check,) = [t for t in world.open_tasks() if t.role == "Administratie"]
    admin.complete_task(world.rt, world.tenant, check.id, "genuine", ["kvk", "iban"], "eva")
    world.runner.drain()
    assert world.instance(check.instance_id).status == "completed"
    assert emails(world) == []


def test_a_sender_that_is_not_genuine_is_reported_before_anyone_pays(world: World) -> None:
    world.publish("trusted-senders")
    subject = take_in(world, "invoice-kvk-y.xml")
    (check,) = world.open_tasks()
    assert check.title == "Check the sender of invoice 2026-118: Bouwbedrijf Ypma B.V."
    admin.complete_task(world.rt, world.tenant, check.id, "not_genuine", ["kvk", "iban"], "eva")
    world.runner.drain()
    warning = "Do not pay invoice 2026-118: sender not genuine"
    assert emails(world) == [
        (("carla@acme.example",), warning),
        (("anna@acme.example",), warning),
    ]
    assert "IBAN NL02RABO0123456789" in world.runner.sender.sent[0].body_html
    assert world.subject_row(subject.id).status == "received"  # the approval decides


CLAIM: dict[str, Any] = {
    "employee": {"name": "Sanne Bakker", "email": "sanne@acme.example"},
    "amount": "42.50",
    "currency": "EUR",
    "category": "travel",
    "description": "Train Utrecht-Zwolle",
    "submitted_on": "2026-01-05",
    "receipt_attached": True,
}


@pytest.mark.parametrize(
    ("changes", "status", "task_role"),
    [
        ({}, "approved", None),
        ({"receipt_attached": False}, "rejected", None),
        ({"amount": "312.00"}, "submitted", "Accountant"),
    ],
)
def test_expense_claims(
    world: World, changes: dict[str, Any], status: str, task_role: str | None
) -> None:
    world.publish("expense-claim")
    claim = world.subject("expense_claim", "EC-1", {**CLAIM, **changes}, "submitted")
    admin.post_event(world.rt, world.tenant, claim.id, "expense_claim.submitted")
    world.runner.drain()
    assert world.subject_row(claim.id).status == status
    assert [t.role for t in world.open_tasks()] == ([task_role] if task_role else [])
    if status == "rejected":
        assert emails(world) == [
            (("sanne@acme.example",), "Expense claim rejected: Train Utrecht-Zwolle")
        ]


def test_a_copy_stored_at_the_same_moment_wins_and_this_one_starts_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two copies at once: the unique key refuses the second insert; it becomes an update."""
    world.publish("invoice-approval")
    real = setup.upsert_subject
    calls: list[str] = []

    def racing(*args: Any, **kwargs: Any) -> m.Subject:
        if not calls:
            calls.append("lost the race")
            real(*args, **kwargs)  # the other copy, committed first
            raise sa.exc.IntegrityError("INSERT INTO subjects", {}, Exception("unique"))
        calls.append("retried")
        return real(*args, **kwargs)

    monkeypatch.setattr(setup, "upsert_subject", racing)
    subject = take_in(world, "invoice-kvk-x.xml")
    assert calls == ["lost the race", "retried"]
    assert subject.status == "received"
    assert count(world, m.Event) == 1
    assert len(instances_of(world, subject.id)) == 1


# --- Batches ---------------------------------------------------------------------------------


def numbered(n: int) -> bytes:
    return sample("invoice-kvk-x.xml").replace(b"INV-2026-0042", f"INV-B-{n}".encode())


def test_a_batch_stores_the_new_invoices_at_once_and_reports_refusals(world: World) -> None:
    world.publish("invoice-approval")
    before = take_in(world, "invoice-kvk-y.xml")
    documents = [
        numbered(1),
        sample("truncated.xml"),
        numbered(2),
        numbered(1),  # repeated in the batch
        sample("invoice-kvk-y.xml"),  # stored before
        sample("invoice-no-order.xml"),
    ]
    outcomes = ingest_many(world.rt, world.tenant, documents, "peppol")
    world.runner.drain()
    assert [(o.key, o.created, o.error is not None) for o in outcomes] == [
        ("12345678/INV-B-1", True, False),
        ("", False, True),
        ("12345678/INV-B-2", True, False),
        ("12345678/INV-B-1", False, False),
        ("87654321/2026-118", False, False),
        ("55554444/INV-2026-0043", True, False),
    ]
    assert outcomes[3].subject_id == outcomes[0].subject_id
    assert outcomes[4].subject_id == before.id
    error = outcomes[1].error
    assert error is not None
    assert error.problems[0].code == "ubl.malformed"
    assert count(world, m.Event) == 4  # one per new invoice
    assert sorted(t.title for t in world.open_tasks()) == [
        "Approve invoice 2026-118",
        "Approve invoice INV-B-1",
        "Approve invoice INV-B-2",
    ]
    assert world.subject_row(outcomes[5].subject_id).status == "rejected"  # type: ignore[arg-type]


def test_a_batch_applies_the_supplier_records(world: World) -> None:
    world.publish("invoice-approval")
    trust(world, "11223344", email="ap@energienoord.example")
    (outcome,) = ingest_many(world.rt, world.tenant, [sample("invoice-energy-trusted.xml")], "x")
    world.runner.drain()
    assert outcome.subject_id is not None
    subject = world.subject_row(outcome.subject_id)
    assert subject.fields["supplier"]["trusted"] is True
    assert subject.fields["supplier"]["email"] == "ap@energienoord.example"
    assert subject.status == "payable"


def test_a_batch_that_meets_a_copy_stored_meanwhile_falls_back_to_one_by_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database's unique key catches what the first look could not see."""
    world.publish("invoice-approval")
    stored = take_in(world, numbered(1))
    monkeypatch.setattr(ingest_module, "_existing_keys", lambda *args: set())
    outcomes = ingest_many(world.rt, world.tenant, [numbered(2), numbered(1)], "peppol")
    world.runner.drain()
    assert [(o.key, o.created) for o in outcomes] == [
        ("12345678/INV-B-2", True),  # stored one by one: new, with its event
        ("12345678/INV-B-1", False),
    ]
    assert outcomes[1].subject_id == stored.id
    assert count(world, m.Event) == 2
    assert len(world.open_tasks()) == 2


# --- A document sent instead of an invoice (E6) ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (sample("logo.png"), "this is a PNG image, not a UBL invoice"),
        (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "this is a PDF document, not a UBL invoice"),
        (sample("wrong-root.xml"), "the root element is Order; expected a UBL 2.1 Invoice"),
    ],
    ids=["logo", "pdf", "order"],
)
def test_a_document_sent_instead_of_an_invoice_goes_to_the_conversion_group(
    world: World, data: bytes, problem: str
) -> None:
    world.publish("invoice-approval")
    world.publish("conversion-check")
    record = take_in(world, data)
    digest = hashlib.sha256(data).hexdigest()
    assert record.key == f"not-an-invoice/{digest}"
    assert record.fields["document_type"] == "not_an_invoice"
    assert record.fields["conversion_problem"].startswith(problem)
    assert record.fields["checks"]["all_ok"] is False
    assert f"{len(data):,} bytes, SHA-256 {digest}" in record.fields["note"]
    # The conversion group is mailed and gets the check task; the approval flow rejects
    # it (no order number) without a mail, as there is no supplier address to write to.
    ((to, subject),) = emails(world)
    assert (to, subject) == (
        (CONVERSION,),
        "Conversion problem in a document received instead of an invoice",
    )
    assert problem in world.runner.sender.sent[0].body_html
    (task,) = world.open_tasks()
    assert (task.role, task.subject_id) == ("Conversion", record.id)
    assert task.title == "Check the conversion of a document received instead of an invoice"
    assert world.subject_row(record.id).status == "rejected"
    # The same file again is the same record and starts nothing.
    again = take_in(world, data)
    assert again.id == record.id
    assert (count(world, m.Event), len(world.open_tasks())) == (1, 1)


def test_a_batch_records_what_was_sent_instead_of_an_invoice(world: World) -> None:
    world.publish("conversion-check")
    logo, invoice, hostile = sample("logo.png"), sample("invoice-kvk-x.xml"), sample("xxe-file.xml")
    outcomes = ingest_many(world.rt, world.tenant, [logo, invoice, hostile, logo], "peppol")
    world.runner.drain()
    assert [(o.created, o.error is None) for o in outcomes] == [
        (True, True),
        (True, True),
        (False, False),
        (False, True),
    ]
    assert outcomes[3].subject_id == outcomes[0].subject_id
    (task,) = world.open_tasks()
    assert task.subject_id == outcomes[0].subject_id


@pytest.mark.parametrize(
    "data",
    [
        sample("billion-laughs.xml"),
        sample("xxe-file.xml"),
        b"\x89PNG" + b"\x00" * MAX_BYTES,  # over the size limit, whatever it looks like
        b"",
        "<Invoice/>".encode("utf-16"),
    ],
    ids=["billion-laughs", "xxe", "oversized-png", "empty", "utf-16"],
)
def test_hostile_or_unreadable_input_is_still_refused_and_stores_nothing(
    world: World, data: bytes
) -> None:
    world.publish("conversion-check")
    with pytest.raises(UblError) as refused:
        ingest(world.rt, world.tenant, data, "peppol")
    assert refused.value.kind == ""
    world.runner.drain()
    assert (count(world, m.Subject), count(world, m.Event), emails(world)) == (0, 0, [])
