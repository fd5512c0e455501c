"""Matching payments to open items: references and their check digits, the order of trust,
partial and over-payments, idempotency, a person's match, and the events flows react to."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.receivables import OpenItem, Payment
from procedo.receivables import matching, payments
from procedo.receivables.matching import Candidate, Incoming
from procedo.receivables.payments import NewPayment, match_payment, record_payments
from procedo.receivables.references import (
    is_betalingskenmerk,
    is_rf,
    kenmerk_check_digit,
    structured,
)
from procedo.runtime import setup
from procedo.runtime.context import Refusal
from procedo.runtime.local import LocalRunner

# --- References --------------------------------------------------------------------------


def test_rf_references_are_checked_mod_97() -> None:
    assert is_rf("RF18 5390 0754 7034")  # the example of ISO 11649
    assert is_rf("rf18539007547034")
    assert not is_rf("RF18539007547035")  # one digit off
    assert not is_rf("RF81539007547034")  # check digits swapped
    assert not is_rf("RF18")
    assert not is_rf("RF18" + "1" * 22)  # 25 characters at most


def _with_check_digit(body: str) -> str:
    return str(kenmerk_check_digit(body)) + body


def test_betalingskenmerk_check_digit_is_weighted_modulus_11() -> None:
    # The Betaalvereniging's example: (5)000 0567 8901 2345.
    assert kenmerk_check_digit("000056789012345") == 5
    assert is_betalingskenmerk("5000 0567 8901 2345")
    assert not is_betalingskenmerk("4000056789012345")
    assert not is_betalingskenmerk("500005678901234")  # 15 digits
    # 11 - (A mod 11) is 11 when A is a multiple of 11: then 0; 10 becomes 1.
    assert kenmerk_check_digit("0" * 15) == 0
    assert kenmerk_check_digit("000000000000004") == 3  # A = 4 x 2 = 8: C = 11 - 8
    # A 1 in the tenth place from the right weighs 1: A = 1, C = 10, written 1.
    assert kenmerk_check_digit("000001000000000") == 1


def test_structured_accepts_only_valid_references() -> None:
    assert structured(" rf18 5390 0754 7034 ") == "RF18539007547034"
    assert structured(_with_check_digit("123456789012345")) != ""
    assert structured("INV-2026-0042") == ""


# --- Matching, without a database ---------------------------------------------------------

DEBTOR_A, DEBTOR_B = uuid.UUID(int=1), uuid.UUID(int=2)


def _item(number: str, open_amount: str, **changes: Any) -> Candidate:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "debtor_id": DEBTOR_A,
        "number": number,
        "payment_reference": "",
        "open_amount": Decimal(open_amount),
        "currency": "EUR",
        "status": "open",
        "due_date": dt.date(2026, 10, 1),
    } | changes
    return Candidate(**values)


def _match(payment: Incoming, items: list[Candidate], **debtors: Any) -> matching.Match:
    candidates = matching.index_candidates(
        items, debtors.get("by_iban", {}), debtors.get("by_name", {})
    )
    return matching.match(payment, candidates)


def test_a_structured_reference_wins_over_an_invoice_number_in_the_text() -> None:
    by_ref = _item("INV-1", "100.00", payment_reference="RF18539007547034")
    by_number = _item("INV-2", "100.00")
    payment = Incoming(Decimal("100.00"), "EUR", creditor_reference="RF18539007547034")
    found = _match(payment, [by_ref, by_number])
    assert (found.item, found.how) == (by_ref, matching.BY_REFERENCE)
    typed = Incoming(Decimal("100.00"), "EUR", remittance="INV-2 kenmerk rf18 5390 0754 7034")
    found = _match(typed, [by_ref, by_number])
    assert (found.item, found.how) == (by_ref, matching.BY_REFERENCE)


def test_a_reference_with_a_wrong_check_digit_names_nothing() -> None:
    item = _item("INV-1", "100.00", payment_reference="RF18539007547034")
    found = _match(
        Incoming(Decimal("100.00"), "EUR", creditor_reference="RF18539007547035"), [item]
    )
    assert found.item is None


def test_the_invoice_number_in_the_remittance_text() -> None:
    item = _item("2026-0042", "80.00")
    payment = Incoming(Decimal("50.00"), "EUR", remittance="Factuur 2026-0042, deel 1.")
    found = _match(payment, [item, _item("2026-0043", "80.00")])
    assert (found.item, found.how) == (item, matching.BY_NUMBER)


def test_two_numbers_named_match_the_one_open_for_the_amount_else_none() -> None:
    first, second = _item("A-1", "80.00"), _item("A-2", "95.00")
    text = "A-1 and A-2"
    assert (
        _match(Incoming(Decimal("95.00"), "EUR", remittance=text), [first, second]).item is second
    )
    unclear = _match(Incoming(Decimal("175.00"), "EUR", remittance=text), [first, second])
    assert (unclear.item, unclear.debtor_id) == (None, DEBTOR_A)  # its debtor is still known


def test_amount_and_debtor_pay_the_oldest_item_open_for_that_amount() -> None:
    newer = _item("N", "60.00", due_date=dt.date(2026, 11, 1))
    older = _item("O", "60.00", due_date=dt.date(2026, 9, 1))
    other = _item("X", "60.00", debtor_id=DEBTOR_B, due_date=dt.date(2026, 1, 1))
    payment = Incoming(Decimal("60.00"), "EUR", debtor_iban="NL02RABO0123456789")
    found = _match(payment, [newer, older, other], by_iban={"NL02RABO0123456789": DEBTOR_A})
    assert (found.item, found.how) == (older, matching.BY_AMOUNT)
    by_name = Incoming(Decimal("60.00"), "EUR", debtor_name="  bakkerij   DE Korst ")
    found = _match(by_name, [newer, other], by_name={"bakkerij de korst": DEBTOR_B})
    assert found.item is other
    no_amount = Incoming(Decimal("61.00"), "EUR", debtor_iban="NL02RABO0123456789")
    found = _match(no_amount, [newer], by_iban={"NL02RABO0123456789": DEBTOR_A})
    assert (found.item, found.debtor_id) == (None, DEBTOR_A)


def test_paid_items_and_other_currencies_are_no_candidates() -> None:
    paid = _item("P-1", "0.00", status="paid")
    dollars = _item("P-2", "10.00", currency="USD")
    for item in (paid, dollars):
        assert (
            _match(Incoming(Decimal("10.00"), "EUR", remittance=item.number), [item]).item is None
        )


def test_apply_reduces_the_open_amount_and_keeps_what_is_left_over() -> None:
    item = _item("I", "100.00")
    assert matching.apply(item, Decimal("30.00")) == (Decimal("30.00"), Decimal("0.00"))
    assert (item.open_amount, item.status) == (Decimal("70.00"), "open")
    assert matching.apply(item, Decimal("75.50")) == (Decimal("70.00"), Decimal("5.50"))
    assert (item.open_amount, item.status) == (Decimal("0.00"), "paid")


# --- Stored, on SQLite and PostgreSQL -----------------------------------------------------

KENMERK = "5000056789012345"


class Books:
    """A tenant with two debtors and their open items, on a LocalRunner."""

    def __init__(self, url: str) -> None:
        self.runner = LocalRunner(url)
        self.rt = self.runner.rt
        self.tenant = setup.create_tenant(self.rt, "Acme Finance", "acme").id
        self.debtors = {
            key: setup.upsert_subject(self.rt, self.tenant, "debtor", key, {"name": name}).id
            for key, name in (("D1", "Bakkerij De Korst"), ("D2", "Garage Jansen"))
        }

    def item(self, debtor: str, number: str, amount: str, **changes: Any) -> uuid.UUID:
        row = {
            "id": uuid.uuid4(),
            "tenant_id": self.tenant,
            "debtor_id": self.debtors[debtor],
            "number": number,
            "issue_date": dt.date(2026, 9, 1),
            "due_date": dt.date(2026, 10, 1),
            "amount": Decimal(amount),
            "open_amount": Decimal(amount),
        } | changes
        with self.rt.db.transaction() as session:
            session.execute(sa.insert(OpenItem), [row])
        return uuid.UUID(str(row["id"]))

    def open_item(self, item_id: uuid.UUID) -> tuple[Decimal, str]:
        with self.rt.db.read() as session:
            item = session.get(OpenItem, item_id)
            assert item is not None
            return item.open_amount, item.status

    def events(self) -> list[tuple[str, str, dict[str, Any]]]:
        keys = {ident: key for key, ident in self.debtors.items()}
        with self.rt.db.read() as session:
            rows = session.execute(
                sa.select(m.Event.subject_id, m.Event.name, m.Event.data).order_by(m.Event.id)
            ).all()
        return [(keys[subject], name, data) for subject, name, data in rows]

    def record(self, *payments: NewPayment) -> list[dict[str, Any]]:
        return record_payments(self.rt, self.tenant, list(payments), "test").payments


@pytest.fixture
def books(db_url: str) -> Iterator[Books]:
    made = Books(db_url)
    yield made
    made.rt.db.dispose()


def _payment(amount: str, **changes: Any) -> NewPayment:
    return NewPayment(
        **(
            {"amount": Decimal(amount), "currency": "EUR", "paid_on": dt.date(2026, 11, 30)}
            | changes
        )
    )


def test_a_kenmerk_pays_its_item_and_tells_the_debtor(books: Books) -> None:
    item = books.item("D1", "2026-0042", "121.00", payment_reference=KENMERK)
    [row] = books.record(_payment("121.00", creditor_reference=KENMERK, bank_reference="B1"))
    assert (row["status"], row["matched_by"], row["open_item_id"]) == (
        "matched",
        "creditor_reference",
        item,
    )
    assert books.open_item(item) == (Decimal("0.00"), "paid")
    events = books.events()
    assert [(debtor, name) for debtor, name, _data in events] == [
        ("D1", "payment.received"),
        ("D1", "open_item.paid"),
        ("D1", "subject.changed"),
    ]
    assert events[0][2] | {"payment": "?"} == {
        "payment": "?",
        "amount": "121.00",
        "currency": "EUR",
        "paid_on": "2026-11-30",
        "open_item": "2026-0042",
        "matched_by": "creditor_reference",
    }
    assert events[1][2]["open_amount"] == "0.00"


def test_partial_payments_reduce_the_open_amount_until_paid(books: Books) -> None:
    item = books.item("D1", "2026-0042", "100.00")
    books.record(_payment("40.00", remittance="factuur 2026-0042 deel 1"))
    assert books.open_item(item) == (Decimal("60.00"), "open")
    # Two more in one statement: the second sees what the first left open.
    books.record(
        _payment("50.00", remittance="2026-0042"), _payment("25.00", remittance="2026-0042")
    )
    assert books.open_item(item) == (Decimal("0.00"), "paid")
    names = [name for _debtor, name, _data in books.events() if name.startswith("open_item")]
    assert names == ["open_item.partially_paid", "open_item.partially_paid", "open_item.paid"]
    with books.rt.db.read() as session:
        unapplied = session.scalars(sa.select(Payment.unapplied).order_by(Payment.id)).all()
    assert unapplied == [Decimal("0.00"), Decimal("0.00"), Decimal("15.00")]


def test_amount_and_debtor_by_an_iban_it_paid_from_before(books: Books) -> None:
    first = books.item("D2", "G-1", "80.00")
    second = books.item("D2", "G-2", "35.00", due_date=dt.date(2026, 11, 1))
    iban = "NL02RABO0123456789"
    books.record(_payment("80.00", remittance="G-1", debtor_iban=iban))
    assert books.open_item(first)[1] == "paid"
    [row] = books.record(_payment("35.00", remittance="thanks", debtor_iban=iban))
    assert (row["open_item_id"], row["matched_by"]) == (second, "amount_debtor")


def test_unknown_payments_wait_unmatched_and_raise_nothing(books: Books) -> None:
    books.item("D1", "2026-0042", "100.00")
    [row] = books.record(_payment("12.34", remittance="gift", debtor_name="Someone Else"))
    assert (row["status"], row["debtor_id"]) == ("unmatched", None)
    assert books.events() == []


def test_a_debtor_known_by_name_gets_the_payment_even_unmatched(books: Books) -> None:
    books.item("D2", "G-1", "80.00")
    [row] = books.record(_payment("12.00", debtor_name="GARAGE  jansen"))
    assert (row["status"], row["debtor_id"]) == ("unmatched", books.debtors["D2"])
    assert [(d, n) for d, n, _data in books.events()] == [("D2", "payment.received")]


def test_a_bank_reference_stores_a_payment_once(books: Books) -> None:
    item = books.item("D1", "2026-0042", "100.00")
    payment = _payment("40.00", remittance="2026-0042", bank_reference="NL91/REF-1")
    assert len(books.record(payment, payment)) == 1  # twice in one statement, too
    again = record_payments(books.rt, books.tenant, [payment], "test")
    assert (again.payments, again.already) == ([], 1)
    assert books.open_item(item) == (Decimal("60.00"), "open")


def test_a_statement_imported_twice_at_once_stores_each_payment_once(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = _payment("40.00", remittance="?", bank_reference="NL91/REF-9")
    books.record(payment)
    real = payments._known_references
    calls = []

    def raced(*args: Any) -> set[str]:
        # The first look finds nothing: the other import commits between look and insert.
        calls.append(args)
        return set() if len(calls) == 1 else real(*args)

    monkeypatch.setattr(payments, "_known_references", raced)
    again = record_payments(books.rt, books.tenant, [payment], "test")
    assert (again.payments, again.already, len(calls)) == ([], 1, 2)
    with books.rt.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_a_person_matches_an_unmatched_payment(books: Books) -> None:
    item = books.item("D2", "G-7", "50.00")
    [row] = books.record(_payment("50.00", remittance="see phone call"))
    assert row["status"] == "unmatched"
    matched = match_payment(books.rt, books.tenant, row["id"], "G-7", "carla@acme.example")
    assert (matched["status"], matched["matched_by"], matched["debtor_id"]) == (
        "matched",
        "person",
        books.debtors["D2"],
    )
    assert books.open_item(item) == (Decimal("0.00"), "paid")
    received = [data for _d, name, data in books.events() if name == "payment.received"]
    assert received[0]["by"] == "carla@acme.example"
    with pytest.raises(Refusal, match="matched already"):
        match_payment(books.rt, books.tenant, row["id"], "G-7", "carla@acme.example")
    [other] = books.record(_payment("5.00", remittance="?"))
    with pytest.raises(Refusal, match="it is paid"):
        match_payment(books.rt, books.tenant, other["id"], str(item), "carla@acme.example")


def _flow(key: str, event: str, status: str) -> bytes:
    return json.dumps(
        {
            "format": "procedo.flow/1",
            "key": key,
            "name": key,
            "subject_type": "debtor",
            "trigger": {"kind": "event", "event": event},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "mark", "type": "status_change", "params": {"status": status}},
                {"id": "end", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "source_port": "next", "target": "mark"},
                {"id": "e2", "source": "mark", "source_port": "next", "target": "end"},
            ],
        }
    ).encode()


def test_flows_start_on_the_payment_events(books: Books) -> None:
    setup.publish(books.rt, books.tenant, _flow("thanks", "payment.received", "promised"), "c")
    setup.publish(books.rt, books.tenant, _flow("settled", "open_item.paid", "paid"), "c")
    books.item("D1", "2026-0042", "100.00")
    books.item("D2", "G-1", "80.00")
    books.record(_payment("100.00", remittance="2026-0042"), _payment("20.00", remittance="G-1"))
    books.runner.drain()
    with books.rt.db.read() as session:
        statuses = dict(session.execute(sa.select(m.Subject.key, m.Subject.status)).all())
    # Both debtors paid (statuses of the debtor type); only D1's item is settled in full.
    assert statuses == {"D1": "paid", "D2": "promised"}
