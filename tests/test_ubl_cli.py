"""``procedo ingest``, run as a user runs it: --dry-run without a database, then for real."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import setup
from procedo.runtime.local import LocalRunner
from tests.conftest import EXAMPLES

UBL = Path(__file__).parent / "ubl"


def procedo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "procedo", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_dry_run_prints_the_fields_as_json() -> None:
    result = procedo(
        "ingest", "--dry-run", str(UBL / "invoice-kvk-x.xml"), str(UBL / "credit-note.xml")
    )
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout)
    assert first["key"] == "12345678/INV-2026-0042"
    assert first["fields"]["payable_amount"] == "1319.00"
    assert first["fields"]["checks"]["all_ok"] is True
    assert second["fields"]["document_type"] == "credit_note"


def test_dry_run_says_what_would_be_recorded_instead_of_an_invoice() -> None:
    result = procedo("ingest", "--dry-run", str(UBL / "logo.png"), str(UBL / "wrong-root.xml"))
    assert result.returncode == 0, result.stdout  # recorded for the conversion check
    logo, order = json.loads(result.stdout)
    assert logo == {
        "file": str(UBL / "logo.png"),
        "not_an_invoice": "a PNG image",
        "conversion_problem": "this is a PNG image, not a UBL invoice",
    }
    assert order["not_an_invoice"] == "an XML document of another kind (Order)"


def test_dry_run_reports_refusals_with_their_place_and_exits_1() -> None:
    result = procedo(
        "ingest", "--dry-run", str(UBL / "missing-payable-amount.xml"), str(UBL / "xxe-file.xml")
    )
    assert result.returncode == 1
    missing, xxe = json.loads(result.stdout)
    assert missing["problems"] == [
        {
            "code": "ubl.missing",
            "message": "missing",
            "path": "cac:LegalMonetaryTotal/cbc:PayableAmount",
            "line": 117,
        }
    ]
    assert xxe["problems"][0]["code"] == "ubl.doctype"


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as out:
        out.truncate(5 * 1024 * 1024 + 1)  # sparse: only the size says it is too big
    result = procedo("ingest", "--dry-run", str(big), str(UBL / "invoice-kvk-x.xml"))
    assert result.returncode == 1
    oversized, fine = json.loads(result.stdout)
    assert oversized["problems"] == [
        {"code": "ubl.too_large", "message": "5,242,881 bytes; at most 5,242,880 are accepted"}
    ]
    assert fine["key"] == "12345678/INV-2026-0042"


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A tenant with the invoice approval flow in an embedded (SQLite) database."""
    url = f"sqlite:///{tmp_path / 'procedo.db'}"
    runner = LocalRunner(url)
    tenant = setup.create_tenant(runner.rt, "Acme Finance", "acme")
    setup.publish(
        runner.rt, tenant.id, (EXAMPLES / "invoice-approval.json").read_bytes(), "consultant"
    )
    runner.rt.db.dispose()
    return url


def test_ingest_stores_the_invoices_and_starts_their_flows(database: str, tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as out:
        out.truncate(5 * 1024 * 1024 + 1)
    result = procedo(
        "ingest",
        "--tenant",
        "acme",
        str(UBL / "invoice-no-order.xml"),
        str(UBL / "invoice-kvk-x.xml"),
        str(UBL / "truncated.xml"),
        str(big),
        str(UBL / "invoice-kvk-x.xml"),
        str(UBL / "logo.png"),
        env={"PROCEDO_DATABASE_URL": database, "PROCEDO_BROKER_URL": ""},
    )
    assert result.returncode == 1  # two files were refused
    logo = hashlib.sha256((UBL / "logo.png").read_bytes()).hexdigest()
    assert result.stdout.splitlines() == [
        f"{UBL / 'invoice-no-order.xml'}: stored as invoice 55554444/INV-2026-0043 "
        "(89.00 EUR), status 'rejected'",
        f"{UBL / 'invoice-kvk-x.xml'}: stored as invoice 12345678/INV-2026-0042 "
        "(1319.00 EUR), status 'received'",
        f"{UBL / 'invoice-kvk-x.xml'}: already stored: invoice 12345678/INV-2026-0042 "
        "(1319.00 EUR), status 'received'",
        # Sent instead of an invoice: recorded; the approval flow rejects it (no order).
        f"{UBL / 'logo.png'}: stored as invoice not-an-invoice/{logo}, status 'rejected'; "
        "conversion problem: this is a PNG image, not a UBL invoice",
    ]
    assert result.stderr.splitlines() == [
        f"{UBL / 'truncated.xml'}: refused, nothing stored: line 84, column 1: not well-formed "
        "XML: Premature end of data in tag AccountingCustomerParty line 53",
        f"{big}: refused, nothing stored: 5,242,881 bytes; at most 5,242,880 are accepted",
    ]
    engine = sa.create_engine(database)
    with engine.connect() as connection:
        tasks = connection.execute(sa.select(m.Task.role, m.Task.title)).all()
        outbox = connection.execute(sa.select(m.Outbox.subject)).scalars().all()
    engine.dispose()
    assert [tuple(t) for t in tasks] == [("Management A", "Approve invoice INV-2026-0042")]
    assert outbox == ["Invoice INV-2026-0043 rejected"]  # sent by the server's scheduler


def test_ingest_needs_a_known_tenant(database: str) -> None:
    result = procedo(
        "ingest",
        "--tenant",
        "nope",
        str(UBL / "invoice-kvk-x.xml"),
        env={"PROCEDO_DATABASE_URL": database, "PROCEDO_BROKER_URL": ""},
    )
    assert result.returncode == 1
    assert "no tenant 'nope'; known: acme" in result.stderr


def test_ingest_has_help() -> None:
    result = procedo("ingest", "--help")
    assert result.returncode == 0
    assert "--dry-run" in result.stdout


def test_a_flow_can_be_tried_on_a_ubl_file() -> None:
    result = procedo(
        "run",
        str(EXAMPLES / "invoice-approval.json"),
        "--subject",
        str(UBL / "invoice-kvk-y.xml"),
        "--complete",
        "approve",
    )
    assert result.returncode == 0, result.stderr
    assert "assignee=role Management B, title=Approve invoice 2026-118" in result.stdout
    assert result.stdout.endswith("subject status 'payable'\n")


def test_trying_a_flow_on_a_broken_ubl_file_names_the_problem() -> None:
    result = procedo(
        "run", str(EXAMPLES / "invoice-approval.json"), "--subject", str(UBL / "wrong-root.xml")
    )
    assert result.returncode == 1
    assert "wrong-root.xml: refused: line 3, Order: the root element is Order" in result.stderr
