"""Letters for real (issue 15): a PDF on the letterhead, an EPC QR code, print batches.

The PDF is read back with pypdf's text extractor and the QR code decoded with
zxing-cpp, as a bank app would read it.
"""

from __future__ import annotations

import io
import time
from decimal import Decimal
from typing import Any

import pytest
import zxingcpp
from pypdf import PdfReader

from procedo.api.server import Backend
from procedo.db.receivables import OpenItem
from procedo.messaging.epc import EpcError, iban_is_valid, payload
from tests.api_helpers import Office, office, ok
from tests.conftest import dumps, minimal_flow
from tests.portal_helpers import add_item
from tests.test_template_library import _server_key, acme, sqlite_backend

__all__ = ["_server_key", "acme", "sqlite_backend"]  # fixtures shared with the library tests

IBAN = "NL91ABNA0417164300"  # the Dutch example IBAN of the Betaalvereniging
REFERENCE = "RF18539007547034"  # the example of ISO 11649
LETTERHEAD = {
    "name": "Acme Incasso",
    "address": "Keizersgracht 1\n1015 AA Amsterdam",
    "iban": "NL91 ABNA 0417 1643 00",
    "bic": "ABNANL2A",
    "footer": "KvK 12345678",
}


def letter_flow() -> dict[str, Any]:
    return minimal_flow(
        key="dunning-letter",
        name="Dunning letter",
        subject_type="debtor",
        nodes=[
            {"id": "start", "type": "start"},
            {
                "id": "letter",
                "type": "letter",
                "params": {
                    "subject": "Aanmaning {{ subject.name }}",
                    "body": "Geachte {{ subject.name }},\n\nUw betaling is achterstallig.",
                },
            },
            {"id": "end", "type": "end"},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "letter"},
            {"id": "e2", "source": "letter", "source_port": "next", "target": "end"},
        ],
    )


def debtor(acme: Office, key: str, name: str, address: str) -> str:
    fields = {"name": name, "address": address, "language": "nl"}
    made = ok(
        acme.http.post("/subjects", json={"type": "debtor", "key": key, "fields": fields}), 201
    )
    return str(made["id"])


def letters_ready(acme: Office, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        found: list[dict[str, Any]] = ok(acme.http.get("/letters", params={"status": "ready"}))
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, found
            return found
        time.sleep(0.05)


def publish_and_start(acme: Office, *subject_ids: str) -> None:
    headers = {"Content-Type": "application/json"}
    ok(acme.http.post("/flows", content=dumps(letter_flow()), headers=headers), 201)
    ok(acme.http.post("/flows/dunning-letter/publish"), 201)
    for subject_id in subject_ids:
        body = {"flow": "dunning-letter", "subject_id": subject_id}
        ok(acme.http.post("/instances", json=body), 201)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_codes(pdf: bytes) -> list[str]:
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


def test_a_dunning_letter_is_a_pdf_with_address_amount_reference_and_a_valid_epc_code(
    acme: Office, sqlite_backend: Backend
) -> None:
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    korst = debtor(acme, "D-17", "Bakkerij De Korst", "Dorpsstraat 5\n1234 AB Ergenshuizen")
    item = add_item(sqlite_backend, acme, korst, "2026-0001", "250.50")
    with sqlite_backend.runtime.db.transaction() as session:
        session.get_one(OpenItem, item).payment_reference = REFERENCE
    publish_and_start(acme, korst)
    (letter,) = letters_ready(acme, 1)
    assert letter["subject_key"] == "D-17"

    answer = acme.http.get(f"/letters/{letter['id']}/pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = text_of(answer.content)
    for expected in ("Bakkerij De Korst", "Dorpsstraat 5", "1234 AB Ergenshuizen"):
        assert expected in text
    assert "€ 250,50" in text
    assert "RF18 5390 0754 7034" in text or REFERENCE in text
    assert "Aanmaning Bakkerij De Korst" in text
    assert "Pagina 1 van 1" in text

    (code,) = qr_codes(answer.content)
    lines = code.split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert lines[4:8] == ["ABNANL2A", "Acme Incasso", IBAN, "EUR250.50"]
    assert lines[9] == REFERENCE  # structured: an ISO 11649 reference
    assert iban_is_valid(lines[6])
    assert len(code.encode()) <= 331

    # Drawn once and kept: a second download is the same document.
    assert acme.http.get(f"/letters/{letter['id']}/pdf").content == answer.content


def test_letters_collect_in_a_batch_printed_as_one_pdf(
    acme: Office, sqlite_backend: Backend
) -> None:
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    a = debtor(acme, "D-1", "Alpha BV", "Straat 1\n1000 AA Amsterdam")
    b = debtor(acme, "D-2", "Beta GmbH", "Weg 2\n10115 Berlin")
    add_item(sqlite_backend, acme, a, "A-1", "100.00")
    publish_and_start(acme, a, b)
    letters_ready(acme, 2)

    batch = ok(acme.http.post("/letters/batches"), 201)
    assert batch["letters"] == 2
    assert batch["printed_at"] is None
    merged = acme.http.get(f"/letters/batches/{batch['id']}/pdf")
    assert merged.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(merged.content)).pages
    assert len(pages) == 2
    assert "Alpha BV" in pages[0].extract_text()
    assert "Beta GmbH" in pages[1].extract_text()
    # Only the debtor with an open debt gets a code to pay with.
    (code,) = qr_codes(merged.content)
    assert "EUR100.00" in code

    nothing = acme.http.post("/letters/batches")
    assert nothing.status_code == 422
    assert "no letters are waiting" in nothing.text
    printed = ok(acme.http.post(f"/letters/batches/{batch['id']}/printed"))
    assert printed["printed_at"] is not None
    assert ok(acme.http.get("/letters", params={"status": "ready"})) == []
    sent = ok(acme.http.get("/letters", params={"status": "sent"}))
    assert {s["subject_key"] for s in sent} == {"D-1", "D-2"}
    assert all(s["batch_id"] == batch["id"] for s in sent)


def test_a_bad_iban_is_refused_naming_the_field_and_nothing_is_stored(acme: Office) -> None:
    answer = acme.http.put(
        "/settings/letterhead", json={**LETTERHEAD, "iban": "NL91ABNA0417164301"}
    )
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "$.iban"
    assert ok(acme.http.get("/settings/letterhead"))["configured"] is False


def test_another_tenant_sees_no_letter(acme: Office, sqlite_backend: Backend) -> None:
    a = debtor(acme, "D-1", "Alpha BV", "Straat 1")
    publish_and_start(acme, a)
    (letter,) = letters_ready(acme, 1)
    base_url = str(acme.http.base_url).removesuffix("/").removesuffix("/api/v1")
    other = office(sqlite_backend.runtime, base_url, "Other")
    assert other.http.get(f"/letters/{letter['id']}/pdf").status_code == 404
    assert ok(other.http.get("/letters")) == []


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("NL91ABNA0417164300", True),
        ("DE89 3704 0044 0532 0130 00", True),  # the German example IBAN
        ("BE71 0961 2345 6769", True),
        ("DE89370400440532013001", False),  # one digit off
        ("XX00", False),
    ],
)
def test_iban_check_digits(iban: str, valid: bool) -> None:
    assert iban_is_valid(iban) is valid


def test_epc_payload_follows_the_standard() -> None:
    # EPC069-12's own example, in version 002 (the BIC optional).
    data = payload("Red Cross of Belgium", "BE72000000001616", Decimal("1"), text="Urgency fund")
    assert data.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "",
        "Red Cross of Belgium",
        "BE72000000001616",
        "EUR1.00",
        "",
        "",
        "Urgency fund",
    ]
    with pytest.raises(EpcError, match="IBAN"):
        payload("X", "BE72000000001617", Decimal("1"))
    with pytest.raises(EpcError, match="amount"):
        payload("X", "BE72000000001616", Decimal("0"))
    with pytest.raises(EpcError, match="1 to 70"):
        payload("X" * 71, "BE72000000001616", Decimal("1"))
