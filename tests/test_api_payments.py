"""Payments over HTTP, on SQLite and PostgreSQL: record, upload a statement, list, match."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.db.receivables import OpenItem, Payment
from tests.api_helpers import Office, office, ok
from tests.camt_build import Entry, statement
from tests.test_bank_camt import LAUGHS, XXE

OFFICIAL = Path(__file__).parent / "bank" / "official"


def _debtor(acme: Office, key: str, name: str) -> str:
    body = {"type": "debtor", "key": key, "fields": {"name": name}}
    return str(ok(acme.http.post("/subjects", json=body), 201)["id"])


def _item(backend: Backend, acme: Office, debtor: str, number: str, amount: str) -> uuid.UUID:
    ident = uuid.uuid4()
    row = {
        "id": ident,
        "tenant_id": acme.tenant_id,
        "debtor_id": uuid.UUID(debtor),
        "number": number,
        "issue_date": dt.date(2026, 9, 1),
        "due_date": dt.date(2026, 10, 1),
        "amount": Decimal(amount),
        "open_amount": Decimal(amount),
    }
    with backend.runtime.db.transaction() as session:
        session.execute(sa.insert(OpenItem), [row])
    return ident


def _open(backend: Backend, ident: uuid.UUID) -> tuple[str, str]:
    with backend.runtime.db.read() as session:
        item = session.get(OpenItem, ident)
        assert item is not None
        return str(item.open_amount), item.status


def _stored(backend: Backend) -> int:
    with backend.runtime.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Payment)) or 0)


def test_record_list_and_match_by_hand(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Payments")
    debtor = _debtor(acme, "D1", "Bakkerij De Korst")
    item = _item(backend, acme, debtor, "2026-0042", "100.00")
    other = _item(backend, acme, debtor, "2026-0043", "80.00")
    body = {
        "amount": "40.00",
        "paid_on": "2026-11-30",
        "remittance": "Factuur 2026-0042 deel 1",
        "bank_reference": "ERP-7",
    }
    first = ok(acme.http.post("/payments", json=body), 201)
    assert (first["status"], first["open_item"], first["matched_by"]) == (
        "matched",
        "2026-0042",
        "invoice_number",
    )
    again = ok(acme.http.post("/payments", json=body), 200)  # the ERP sent it twice
    assert again["id"] == first["id"]
    assert _open(backend, item) == ("60.00", "open")

    loose = ok(acme.http.post("/payments", json={"amount": "80.00", "paid_on": "2026-12-01"}), 201)
    assert (loose["status"], loose["debtor_id"]) == ("unmatched", None)
    unmatched = ok(acme.http.get("/payments", params={"status": "unmatched"}))
    assert [p["id"] for p in unmatched] == [loose["id"]]
    assert len(ok(acme.http.get("/payments"))) == 2

    matched = ok(acme.http.post(f"/payments/{loose['id']}/match", json={"open_item": str(other)}))
    assert (matched["status"], matched["matched_by"], matched["open_item"]) == (
        "matched",
        "person",
        "2026-0043",
    )
    assert _open(backend, other) == ("0.00", "paid")
    assert ok(acme.http.get("/payments", params={"status": "unmatched"})) == []
    assert ok(acme.http.get(f"/payments/{loose['id']}"))["debtor_id"] == debtor

    twice = acme.http.post(f"/payments/{loose['id']}/match", json={"open_item": "2026-0042"})
    assert twice.status_code == 409
    assert "matched already" in twice.json()["detail"]
    fresh = ok(acme.http.post("/payments", json={"amount": "1.00", "paid_on": "2026-12-01"}), 201)
    missing = acme.http.post(f"/payments/{fresh['id']}/match", json={"open_item": "NOPE"})
    assert missing.status_code == 404
    assert "open_item: no open item 'NOPE'" in missing.json()["detail"]


def test_bad_payments_are_refused_with_the_field(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Bad Payments")
    for body, field in (
        ({"amount": "12,50", "paid_on": "2026-11-30"}, "amount"),
        ({"amount": "0.00", "paid_on": "2026-11-30"}, "amount"),
        ({"amount": "1.00", "paid_on": "30-11-2026"}, "paid_on"),
        ({"amount": "1.00", "paid_on": "2026-11-30", "currency": "eur"}, "currency"),
        ({"amount": "1.00", "paid_on": "2026-11-30", "iban": "x"}, "iban"),
    ):
        refused = acme.http.post("/payments", json=body)
        assert refused.status_code in (400, 422), refused.text
        assert field in refused.text
    status = acme.http.get("/payments", params={"status": "lost"})
    assert status.status_code == 422
    assert _stored(backend) == 0


def test_a_statement_upload_matches_and_is_idempotent(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Statements")
    debtor = _debtor(acme, "D1", "Bakkerij De Korst")
    item = _item(backend, acme, debtor, "2026-0042", "121.00")
    data = statement(
        [
            Entry("121.00", remittance="2026-0042", bank_reference="R1"),
            Entry("9.99", remittance="who?", bank_reference="R2"),
            Entry("50.00", direction="DBIT", bank_reference="R3"),
        ]
    )
    headers = {"Content-Type": "application/xml"}
    first = ok(acme.http.post("/payments/statements", content=data, headers=headers), 201)
    assert {key: first[key] for key in ("stored", "matched", "unmatched", "skipped")} == {
        "stored": 2,
        "matched": 1,
        "unmatched": 1,
        "skipped": 1,
    }
    assert _open(backend, item) == ("0.00", "paid")
    again = ok(acme.http.post("/payments/statements", content=data, headers=headers), 201)
    assert (again["stored"], again["already_stored"]) == (0, 2)
    official = (OFFICIAL / "camt053.v8.xml").read_bytes()
    read = ok(acme.http.post("/payments/statements", content=official, headers=headers), 201)
    assert (read["version"], read["stored"]) == ("camt.053.001.08", 1)
    assert _stored(backend) == 3
    wrong_type = acme.http.post("/payments/statements", content=data)
    assert wrong_type.status_code == 415


def test_hostile_statements_are_refused_with_line_and_nothing_stored(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Hostile")
    headers = {"Content-Type": "application/xml"}
    bad_amount = statement([Entry("10.00"), Entry("1e9")])
    invoice = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    for data, status, code, line, path in (
        (XXE, 400, "camt.doctype", 2, None),
        (LAUGHS, 400, "camt.doctype", 2, None),
        (bad_amount, 422, "camt.invalid", 18, "Stmt[1]/Ntry[2]/Amt"),
        (invoice, 422, "camt.root", 1, "Invoice"),
    ):
        refused = acme.http.post("/payments/statements", content=data, headers=headers)
        assert refused.status_code == status, refused.text
        [problem] = refused.json()["problems"]
        assert (problem["code"], problem["line"], problem.get("path")) == (code, line, path)
        assert refused.json()["detail"].startswith(f"line {line}")
    assert _stored(backend) == 0


def test_another_tenant_sees_and_matches_nothing(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Own")
    other = office(backend.runtime, base_url, "Other Office")
    mine = ok(acme.http.post("/payments", json={"amount": "5.00", "paid_on": "2026-12-01"}), 201)
    assert ok(other.http.get("/payments")) == []
    assert other.http.get(f"/payments/{mine['id']}").status_code == 404
    attempt = other.http.post(f"/payments/{mine['id']}/match", json={"open_item": "X"})
    assert attempt.status_code == 404
